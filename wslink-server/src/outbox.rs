//! One connection's outgoing queue.
//!
//! Every connection has its own [`Outbox`], drained by its own writer task, so a client
//! that reads slowly only fills its own queue: nobody else waits for it. Responses are
//! always queued (their number is bounded by the in-flight call limit); publications
//! respect the queue's capacity and the [`SlowClientPolicy`].
//!
//! A call's reply goes out before the publications its handler made in the same stretch
//! of work, as in the reference (whose publishes are scheduled and run when the handler
//! yields, after the reply of a handler that returns at once). The connection
//! [`hold`](Outbox::hold)s the outbox while it polls a handler: publications queued
//! meanwhile wait behind the hold; if the poll completes, the reply is queued first and
//! then the hold is [`release`](Outbox::release)d; if the handler yields, the hold is
//! released at once and what it published leaves before its reply.

use std::collections::VecDeque;
use std::sync::Mutex;
use std::time::Duration;

use tokio::sync::Notify;
use wslink_core::{Close, Encoded};

/// What to do with a publication for a client whose queue is full.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SlowClientPolicy {
    /// Wait up to this long for room, then drop the publication for this client. A
    /// client that made a publication wait this long is marked stalled: publications are
    /// dropped for it at once, without waiting, until its writer catches up.
    Wait(Duration),
    /// Drop the oldest queued publication to make room.
    DropOldest,
    /// Close the client's connection (1008).
    Disconnect,
}

impl Default for SlowClientPolicy {
    fn default() -> Self {
        SlowClientPolicy::Wait(Duration::from_secs(1))
    }
}

#[derive(Debug)]
enum Entry {
    Reply(Encoded),
    Publication(Encoded),
}

impl Entry {
    fn into_encoded(self) -> Encoded {
        match self {
            Entry::Reply(e) | Entry::Publication(e) => e,
        }
    }
}

impl State {
    /// Puts a publication in the queue, or behind the holds; `true` if it went in the
    /// queue (the writer has something to write).
    fn queue_publication(&mut self, encoded: &Encoded) -> bool {
        if self.holds > 0 {
            self.held.push_back(encoded.clone());
            false
        } else {
            self.queue.push_back(Entry::Publication(encoded.clone()));
            true
        }
    }
}

#[derive(Debug, Default)]
struct State {
    queue: VecDeque<Entry>,
    /// Publications queued while a handler is being polled (see [`Outbox::hold`]).
    held: VecDeque<Encoded>,
    /// Handler polls in progress.
    holds: usize,
    /// Publications queued or held (bounded by the capacity).
    publications: usize,
    stalled: bool,
    close: Option<Close>,
}

/// What happened to a publication offered to an [`Outbox`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Offer {
    /// Queued.
    Queued,
    /// Not queued: the queue stayed full.
    Dropped,
    /// Not queued: the connection is closing.
    Closed,
    /// Queued after dropping the oldest queued publication.
    ReplacedOldest,
    /// Not queued, and the policy asks to disconnect the client.
    Disconnect,
}

/// A bounded queue of encoded messages for one connection.
#[derive(Debug)]
pub(crate) struct Outbox {
    state: Mutex<State>,
    capacity: usize,
    readable: Notify,
    writable: Notify,
}

impl Outbox {
    /// A queue that holds up to `capacity` publications (responses are not counted).
    pub(crate) fn new(capacity: usize) -> Self {
        Outbox {
            state: Mutex::new(State::default()),
            capacity: capacity.max(1),
            readable: Notify::new(),
            writable: Notify::new(),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Queues a response. Returns `false` if the connection is closing. With `wake`
    /// false the writer is not woken yet: call [`Outbox::wake`] after a burst, so the
    /// burst leaves in one write.
    pub(crate) fn push_reply(&self, encoded: Encoded, wake: bool) -> bool {
        {
            let mut state = self.lock();
            if state.close.is_some() {
                return false;
            }
            state.queue.push_back(Entry::Reply(encoded));
        }
        if wake {
            self.readable.notify_one();
        }
        true
    }

    /// Wakes the writer if anything is queued.
    pub(crate) fn wake(&self) {
        if !self.lock().queue.is_empty() {
            self.readable.notify_one();
        }
    }

    /// Queues (or holds) a publication if the policy lets it in now. The flag says
    /// whether the writer has something new to write: not when the publication is held
    /// behind a handler's poll (its release wakes the writer), so that a handler
    /// publishing in a loop does not wake the writer for nothing each time.
    fn try_push_publication(
        &self,
        encoded: &Encoded,
        policy: SlowClientPolicy,
    ) -> Option<(Offer, bool)> {
        let mut state = self.lock();
        if state.close.is_some() {
            return Some((Offer::Closed, false));
        }
        if state.publications < self.capacity {
            state.publications += 1;
            return Some((Offer::Queued, state.queue_publication(encoded)));
        }
        match policy {
            SlowClientPolicy::Wait(_) if state.stalled => Some((Offer::Dropped, false)),
            SlowClientPolicy::Wait(_) => None,
            SlowClientPolicy::Disconnect => Some((Offer::Disconnect, false)),
            SlowClientPolicy::DropOldest => {
                let oldest = state
                    .queue
                    .iter()
                    .position(|e| matches!(e, Entry::Publication(_)));
                match oldest {
                    Some(i) => {
                        state.queue.remove(i);
                    }
                    None => {
                        state.held.pop_front();
                    }
                }
                Some((Offer::ReplacedOldest, state.queue_publication(encoded)))
            }
        }
    }

    /// Offers a publication without waiting: `None` when the policy says to wait for room
    /// (then use [`Outbox::push_publication`]).
    pub(crate) fn offer_now(&self, encoded: &Encoded, policy: SlowClientPolicy) -> Option<Offer> {
        let (offer, wake) = self.try_push_publication(encoded, policy)?;
        if wake {
            self.readable.notify_one();
        }
        Some(offer)
    }

    /// Offers a publication under `policy`.
    pub(crate) async fn push_publication(
        &self,
        encoded: &Encoded,
        policy: SlowClientPolicy,
    ) -> Offer {
        let deadline = match policy {
            SlowClientPolicy::Wait(d) => tokio::time::Instant::now() + d,
            _ => tokio::time::Instant::now(),
        };
        loop {
            let writable = self.writable.notified();
            if let Some((offer, wake)) = self.try_push_publication(encoded, policy) {
                if wake {
                    self.readable.notify_one();
                }
                return offer;
            }
            if tokio::time::timeout_at(deadline, writable).await.is_err() {
                self.lock().stalled = true;
                return Offer::Dropped;
            }
        }
    }

    /// Waits until something is queued or the connection is closing (then
    /// [`Outbox::take_batch`] says which). Whoever writes takes the batch while holding
    /// the sink, so that two writers never reorder what they took.
    pub(crate) async fn ready(&self) {
        loop {
            let readable = self.readable.notified();
            {
                let state = self.lock();
                if !state.queue.is_empty() || state.close.is_some() {
                    return;
                }
            }
            readable.await;
        }
    }

    /// Moves all queued messages into `batch`, without waiting. Returns the close to send
    /// once the queue is empty and the connection is closing.
    pub(crate) fn take_batch(&self, batch: &mut Vec<Encoded>) -> Option<Close> {
        let mut state = self.lock();
        if !state.queue.is_empty() {
            batch.extend(state.queue.drain(..).map(Entry::into_encoded));
            state.publications = state.held.len();
            state.stalled = false;
            drop(state);
            self.writable.notify_waiters();
            return None;
        }
        state.close.clone()
    }

    /// Waits for messages and moves all queued ones into `batch`; see
    /// [`Outbox::ready`] and [`Outbox::take_batch`].
    #[cfg(test)]
    pub(crate) async fn next_batch(&self, batch: &mut Vec<Encoded>) -> Option<Close> {
        loop {
            self.ready().await;
            let close = self.take_batch(batch);
            if close.is_some() || !batch.is_empty() {
                return close;
            }
        }
    }

    /// Holds back the publications queued from now on until [`Outbox::release`], so
    /// that a reply queued meanwhile goes out before them. Holds nest (concurrent
    /// handler polls); each lasts one poll of a handler, so a hold is short.
    pub(crate) fn hold(&self) {
        self.lock().holds += 1;
    }

    /// Ends a [`hold`](Outbox::hold): once none is left, the publications held back are
    /// queued, in order, after everything queued before (the reply among it).
    pub(crate) fn release(&self) {
        let moved = {
            let mut state = self.lock();
            state.holds = state.holds.saturating_sub(1);
            if state.holds > 0 || state.held.is_empty() {
                return;
            }
            let held = std::mem::take(&mut state.held);
            state.queue.extend(held.into_iter().map(Entry::Publication));
            true
        };
        if moved {
            self.readable.notify_one();
        }
    }

    /// Starts closing: nothing more is queued; what is queued is still sent, then `close`.
    pub(crate) fn close(&self, close: Close) {
        {
            let mut state = self.lock();
            if state.close.is_none() {
                state.close = Some(close);
            }
        }
        self.readable.notify_one();
        self.writable.notify_waiters();
    }

    /// Closes at once, dropping what is queued.
    pub(crate) fn abort(&self, close: Close) {
        {
            let mut state = self.lock();
            state.queue.clear();
            state.held.clear();
            state.publications = 0;
            state.close = Some(close);
        }
        self.readable.notify_one();
        self.writable.notify_waiters();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use wslink_core::{CloseCode, Frame};

    fn msg(n: u8) -> Encoded {
        Encoded::One(Frame::Binary(vec![n].into()))
    }

    fn first_byte(e: &Encoded) -> u8 {
        match &e.to_frames()[0] {
            Frame::Binary(b) => b[0],
            Frame::Text(_) => unreachable!(),
        }
    }

    #[tokio::test]
    async fn replies_are_never_refused_while_open() {
        let outbox = Outbox::new(1);
        for i in 0..10 {
            assert!(outbox.push_reply(msg(i), true));
        }
        let mut batch = Vec::new();
        assert_eq!(outbox.next_batch(&mut batch).await, None);
        assert_eq!(
            batch.iter().map(first_byte).collect::<Vec<_>>(),
            (0..10).collect::<Vec<_>>()
        );
    }

    #[tokio::test(start_paused = true)]
    async fn full_queue_waits_then_drops() {
        let outbox = Outbox::new(1);
        let policy = SlowClientPolicy::Wait(Duration::from_millis(100));
        assert_eq!(
            outbox.push_publication(&msg(1), policy).await,
            Offer::Queued
        );
        let started = tokio::time::Instant::now();
        assert_eq!(
            outbox.push_publication(&msg(2), policy).await,
            Offer::Dropped
        );
        assert_eq!(
            started.elapsed(),
            Duration::from_millis(100),
            "waited the deadline"
        );
        // Stalled now: the next publication is dropped without waiting.
        let started = tokio::time::Instant::now();
        assert_eq!(
            outbox.push_publication(&msg(3), policy).await,
            Offer::Dropped
        );
        assert_eq!(started.elapsed(), Duration::ZERO);
        // Once the writer drains, waiting applies again.
        outbox.next_batch(&mut Vec::new()).await;
        assert_eq!(
            outbox.push_publication(&msg(4), policy).await,
            Offer::Queued
        );
    }

    #[tokio::test]
    async fn waiting_publication_gets_in_when_the_writer_drains() {
        let outbox = std::sync::Arc::new(Outbox::new(1));
        let policy = SlowClientPolicy::Wait(Duration::from_secs(10));
        outbox.push_publication(&msg(1), policy).await;
        let o = outbox.clone();
        let pending = tokio::spawn(async move { o.push_publication(&msg(2), policy).await });
        let mut batch = Vec::new();
        outbox.next_batch(&mut batch).await;
        assert_eq!(pending.await.unwrap(), Offer::Queued);
        outbox.next_batch(&mut batch).await;
        assert_eq!(batch.iter().map(first_byte).collect::<Vec<_>>(), vec![1, 2]);
    }

    #[tokio::test]
    async fn drop_oldest_and_disconnect_policies() {
        let outbox = Outbox::new(2);
        for i in 0..4 {
            outbox
                .push_publication(&msg(i), SlowClientPolicy::DropOldest)
                .await;
        }
        outbox.push_reply(msg(9), true);
        let mut batch = Vec::new();
        outbox.next_batch(&mut batch).await;
        assert_eq!(
            batch.iter().map(first_byte).collect::<Vec<_>>(),
            vec![2, 3, 9]
        );

        let outbox = Outbox::new(1);
        outbox
            .push_publication(&msg(0), SlowClientPolicy::Disconnect)
            .await;
        assert_eq!(
            outbox
                .push_publication(&msg(1), SlowClientPolicy::Disconnect)
                .await,
            Offer::Disconnect
        );
    }

    #[tokio::test]
    async fn a_reply_goes_before_the_publications_of_its_poll() {
        let outbox = Outbox::new(8);
        let policy = SlowClientPolicy::default();
        outbox.offer_now(&msg(1), policy); // before the call: first
        outbox.hold();
        outbox.offer_now(&msg(2), policy); // during the handler's poll: held
        outbox.hold(); // a second call polled at the same time
        outbox.offer_now(&msg(3), policy);
        outbox.push_reply(msg(8), true); // the first call's reply
        outbox.release();
        outbox.push_reply(msg(9), true); // the second's
        let mut batch = Vec::new();
        outbox.next_batch(&mut batch).await;
        assert_eq!(
            batch.iter().map(first_byte).collect::<Vec<_>>(),
            vec![1, 8, 9]
        );
        outbox.release();
        outbox.next_batch(&mut batch).await;
        assert_eq!(
            batch.iter().map(first_byte).collect::<Vec<_>>(),
            vec![1, 8, 9, 2, 3]
        );
    }

    #[tokio::test]
    async fn held_publications_count_against_the_capacity() {
        let outbox = Outbox::new(2);
        outbox.hold();
        let policy = SlowClientPolicy::DropOldest;
        for i in 0..3 {
            outbox.offer_now(&msg(i), policy);
        }
        outbox.release();
        let mut batch = Vec::new();
        outbox.next_batch(&mut batch).await;
        assert_eq!(batch.iter().map(first_byte).collect::<Vec<_>>(), vec![1, 2]);
    }

    #[tokio::test]
    async fn close_flushes_then_reports_close() {
        let outbox = Outbox::new(4);
        outbox.push_reply(msg(1), true);
        outbox.close(Close::new(CloseCode::GOING_AWAY, "bye"));
        assert!(!outbox.push_reply(msg(2), true));
        let mut batch = Vec::new();
        assert_eq!(outbox.next_batch(&mut batch).await, None);
        assert_eq!(batch.len(), 1);
        assert_eq!(
            outbox.next_batch(&mut batch).await.unwrap().code,
            CloseCode::GOING_AWAY
        );
    }
}
