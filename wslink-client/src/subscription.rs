//! Subscriptions: publications of one topic, as a stream.
//!
//! The client routes each publication to the local subscribers of its topic, each with
//! its own [`Filter`] (checked and applied here, whatever the server did). A server
//! that says `"subscriptions": true` in its hello is also told (see
//! [`crate::server_subs`]), so it sends only what some subscriber wants; other servers
//! broadcast. A [`Subscription`] receives the publications of its topic in arrival
//! order; dropping it unsubscribes. Each holds at most
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
use wslink_core::{Filter, Value};

use crate::server_subs::{Command, Done};

#[derive(Debug)]
struct Slot {
    key: u64,
    tx: mpsc::Sender<Value>,
    lagged: Arc<AtomicU64>,
    filter: Filter,
}

impl Slot {
    /// What this subscriber receives of `data`, if anything.
    fn view(&self, data: &Value) -> Option<Value> {
        if !self.filter.matches(data) {
            return None;
        }
        Some(match self.filter.kept() {
            None => data.clone(),
            Some(_) => self.filter.project(data),
        })
    }

    /// As [`Slot::view`], moving `data` when it is kept whole.
    fn take(&self, data: Value) -> Option<Value> {
        if !self.filter.matches(&data) {
            return None;
        }
        Some(match self.filter.kept() {
            None => data,
            Some(_) => self.filter.project(&data),
        })
    }
}

/// Subscribers by topic.
#[derive(Debug, Default)]
pub(crate) struct Topics {
    slots: Mutex<HashMap<String, Vec<Slot>, FastHash>>,
    next_key: AtomicU64,
    /// Tells the server about subscriptions (see [`crate::server_subs`]).
    commands: Mutex<Option<mpsc::UnboundedSender<Command>>>,
}

impl Topics {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Vec<Slot>, FastHash>> {
        self.slots.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Sends server-side subscription changes to `commands` from now on.
    pub(crate) fn set_commands(&self, commands: mpsc::UnboundedSender<Command>) {
        *self.commands.lock().unwrap_or_else(|e| e.into_inner()) = Some(commands);
    }

    /// Queues a command for the server side; without anybody to run it, a waiting
    /// caller hears `Ok` (local routing works alone).
    pub(crate) fn command(&self, command: Command) {
        let commands = self.commands.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(Err(mpsc::error::SendError(Command::Add {
            done: Some(done), ..
        }))) = commands.as_ref().map(|c| c.send(command))
        {
            let _ = done.send(Ok(()));
        }
    }

    /// Every subscription's topic and filter, to tell a new link's server.
    pub(crate) fn snapshot(&self) -> Vec<(u64, String, Filter)> {
        self.lock()
            .iter()
            .flat_map(|(topic, slots)| {
                slots
                    .iter()
                    .map(|s| (s.key, topic.clone(), s.filter.clone()))
            })
            .collect()
    }

    /// Adds a local subscriber and tells the server side (`done` hears how that went).
    pub(crate) fn subscribe(
        self: &Arc<Self>,
        topic: &str,
        capacity: usize,
        filter: Filter,
        done: Option<Done>,
    ) -> Subscription {
        let (tx, rx) = mpsc::channel(capacity.max(1));
        let key = self.next_key.fetch_add(1, Ordering::Relaxed);
        let lagged = Arc::new(AtomicU64::new(0));
        {
            // The command is queued under the lock, so commands follow the order in
            // which subscribers come and go.
            let mut slots = self.lock();
            let add = Command::Add {
                key,
                topic: topic.to_owned(),
                filter: filter.clone(),
                done,
            };
            slots.entry(topic.to_owned()).or_default().push(Slot {
                key,
                tx,
                lagged: lagged.clone(),
                filter,
            });
            self.command(add);
        }
        Subscription {
            topic: topic.to_owned(),
            key,
            rx,
            lagged,
            topics: Arc::downgrade(self),
        }
    }

    /// Hands a publication to the subscribers of `topic` whose filter it passes; returns
    /// how many got it, or `None` when nobody subscribed to it.
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
            .filter_map(|slot| slot.view(&data).map(|v| offer(slot, v)))
            .map(usize::from)
            .sum();
        let last = last.take(data).is_some_and(|v| offer(last, v));
        Some(copies + usize::from(last))
    }

    /// Ends every subscription (their streams return `None` once drained).
    pub(crate) fn close_all(&self) {
        self.lock().clear();
    }

    fn remove(&self, topic: &str, key: u64) {
        let mut slots = self.lock();
        let Some(list) = slots.get_mut(topic) else {
            return;
        };
        list.retain(|s| s.key != key);
        let last = list.is_empty();
        if last {
            slots.remove(topic);
        }
        self.command(Command::Remove {
            key,
            topic: topic.to_owned(),
            last,
        });
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
        let mut a = topics.subscribe("t", 2, Filter::all(), None);
        let b = topics.subscribe("t", 8, Filter::all(), None);
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
    async fn each_subscriber_gets_what_its_filter_lets_through() {
        use wslink_core::map;
        let topics = Arc::new(Topics::default());
        let mut hot = topics.subscribe(
            "t",
            8,
            Filter::all().where_eq("room", 1).fields(["v"]),
            None,
        );
        let mut all = topics.subscribe("t", 8, Filter::all(), None);
        assert_eq!(topics.deliver("t", map! { "room" => 2, "v" => 1 }), Some(1));
        assert_eq!(topics.deliver("t", map! { "room" => 1, "v" => 2 }), Some(2));
        assert_eq!(hot.recv().await, Some(map! { "v" => 2 }));
        assert_eq!(all.recv().await, Some(map! { "room" => 2, "v" => 1 }));
        assert_eq!(all.recv().await, Some(map! { "room" => 1, "v" => 2 }));
    }

    #[tokio::test]
    async fn close_all_ends_streams() {
        let topics = Arc::new(Topics::default());
        let mut a = topics.subscribe("t", 2, Filter::all(), None);
        topics.deliver("t", Value::from(1));
        topics.close_all();
        assert_eq!(a.recv().await, Some(Value::from(1)));
        assert_eq!(a.recv().await, None);
    }
}
