//! Subscriptions: publications of one topic, as a stream.
//!
//! wslink has no subscribe message: the server broadcasts and the client routes each
//! publication to the local subscribers of its topic. A [`Subscription`] receives the
//! publications of its topic in arrival order; dropping it unsubscribes. Each holds at most
//! `capacity` unread publications: when its reader falls that far behind, newer ones are
//! dropped for it and counted in [`Subscription::lagged`] (the connection and other
//! subscribers are not held up).

use std::collections::HashMap;

use foldhash::fast::RandomState as FastHash;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::task::{Context, Poll};

use tokio::sync::mpsc;
use wslink_core::Value;

#[derive(Debug)]
struct Slot {
    key: u64,
    tx: mpsc::Sender<Value>,
    lagged: Arc<AtomicU64>,
}

/// Subscribers by topic.
#[derive(Debug, Default)]
pub(crate) struct Topics {
    slots: Mutex<HashMap<String, Vec<Slot>, FastHash>>,
    next_key: AtomicU64,
}

impl Topics {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Vec<Slot>, FastHash>> {
        self.slots.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub(crate) fn subscribe(self: &Arc<Self>, topic: &str, capacity: usize) -> Subscription {
        let (tx, rx) = mpsc::channel(capacity.max(1));
        let key = self.next_key.fetch_add(1, Ordering::Relaxed);
        let lagged = Arc::new(AtomicU64::new(0));
        self.lock().entry(topic.to_owned()).or_default().push(Slot {
            key,
            tx,
            lagged: lagged.clone(),
        });
        Subscription {
            topic: topic.to_owned(),
            key,
            rx,
            lagged,
            topics: Arc::downgrade(self),
        }
    }

    /// Hands a publication to the subscribers of `topic`; returns how many got it, or
    /// `None` when nobody subscribed to it.
    pub(crate) fn deliver(&self, topic: &str, data: Value) -> Option<usize> {
        let slots = self.lock();
        // Each subscriber but the last gets a copy; the last gets the value itself.
        let (last, others) = slots.get(topic)?.split_last()?;
        let offer = |slot: &Slot, value: Value| match slot.tx.try_send(value) {
            Ok(()) => true,
            Err(mpsc::error::TrySendError::Full(_)) => {
                slot.lagged.fetch_add(1, Ordering::Relaxed);
                tracing::warn!(topic, "subscriber too slow: publication dropped for it");
                false
            }
            Err(mpsc::error::TrySendError::Closed(_)) => false,
        };
        let copies: usize = others
            .iter()
            .map(|slot| usize::from(offer(slot, data.clone())))
            .sum();
        Some(copies + usize::from(offer(last, data)))
    }

    /// Ends every subscription (their streams return `None` once drained).
    pub(crate) fn close_all(&self) {
        self.lock().clear();
    }

    fn remove(&self, topic: &str, key: u64) {
        let mut slots = self.lock();
        if let Some(list) = slots.get_mut(topic) {
            list.retain(|s| s.key != key);
            if list.is_empty() {
                slots.remove(topic);
            }
        }
    }
}

/// The publications of one topic. Dropping it unsubscribes.
#[derive(Debug)]
pub struct Subscription {
    topic: String,
    key: u64,
    rx: mpsc::Receiver<Value>,
    lagged: Arc<AtomicU64>,
    topics: Weak<Topics>,
}

impl Subscription {
    /// The topic.
    pub fn topic(&self) -> &str {
        &self.topic
    }

    /// The next publication; `None` once the connection is closed.
    pub async fn recv(&mut self) -> Option<Value> {
        self.rx.recv().await
    }

    /// Publications dropped because this subscriber was too far behind.
    pub fn lagged(&self) -> u64 {
        self.lagged.load(Ordering::Relaxed)
    }
}

impl futures_util::Stream for Subscription {
    type Item = Value;
    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Value>> {
        self.rx.poll_recv(cx)
    }
}

impl Drop for Subscription {
    fn drop(&mut self) {
        if let Some(topics) = self.topics.upgrade() {
            topics.remove(&self.topic, self.key);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn delivery_order_lag_and_unsubscribe() {
        let topics = Arc::new(Topics::default());
        let mut a = topics.subscribe("t", 2);
        let b = topics.subscribe("t", 8);
        for i in 0..3 {
            topics.deliver("t", Value::from(i));
        }
        assert_eq!(a.recv().await, Some(Value::from(0)));
        assert_eq!(a.recv().await, Some(Value::from(1)));
        assert_eq!(a.lagged(), 1);
        assert_eq!(b.lagged(), 0);
        drop(b);
        assert_eq!(topics.deliver("t", Value::Nil), Some(1));
        drop(a);
        assert_eq!(topics.deliver("t", Value::Nil), None);
        assert!(topics.lock().is_empty());
    }

    #[tokio::test]
    async fn close_all_ends_streams() {
        let topics = Arc::new(Topics::default());
        let mut a = topics.subscribe("t", 2);
        topics.deliver("t", Value::from(1));
        topics.close_all();
        assert_eq!(a.recv().await, Some(Value::from(1)));
        assert_eq!(a.recv().await, None);
    }
}
