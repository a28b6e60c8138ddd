//! The outbound stage: what the outbox holds goes to the sink, from one of two places.
//!
//! The sink is shared ([`SharedSink`]) by the connection's loop and its writer task.
//! Replies that a burst of frames answered inline are written by the loop itself, before
//! it waits for the next frame ([`write_now`]): no other task is woken for them, which is
//! what a client that sends one message at a time costs most. Everything else
//! (publications, replies of calls that ran on their own task, the close) is written by
//! the writer task ([`write_loop`]). Whoever writes takes the outbox's batch while
//! holding the sink, so nothing is reordered; when the loop finds the sink busy, it wakes
//! the writer instead.
//!
//! The writer task is started the first time it has work ([`Writer`]): a connection that
//! only makes calls answered inline, and every short-lived one (connect, hello, close),
//! never spawns it. Until then the loop sends the keepalive pings and, at the end, the
//! close itself.

use std::sync::Arc;
use std::time::Duration;

use tokio::task::JoinHandle;
use tracing::Instrument;
use wslink_core::ping::PingTicker;
use wslink_core::{Close, CloseCode, Encoded, FrameSink};

use crate::outbox::Outbox;

/// The connection's writer task, started when first needed.
pub(super) struct Writer<S> {
    sink: SharedSink<S>,
    outbox: Arc<Outbox>,
    state: State,
}

enum State {
    /// Not started: the loop pings on this ticker.
    NotStarted(PingTicker),
    Running(JoinHandle<()>),
    /// Nothing left to watch: the task ended, or [`Writer::finish`] took it over.
    Done,
}

/// What [`Writer::watch`] saw.
pub(super) enum Seen {
    /// Something was done (the writer started, a ping went out): keep waiting.
    Handled,
    /// The writer ended (the peer stopped reading, a write failed): close.
    Ended,
}

impl<S: FrameSink> Writer<S> {
    pub(super) fn new(
        sink: SharedSink<S>,
        outbox: Arc<Outbox>,
        keepalive: Option<Duration>,
    ) -> Self {
        Writer {
            sink,
            outbox,
            state: State::NotStarted(PingTicker::new(keepalive)),
        }
    }

    /// Waits for the writer's work while the loop waits for a frame: before the task is
    /// started, for something queued (which starts it) or a ping due (sent here); after,
    /// for the task's end. Cancel-safe (a ping interrupted may be skipped).
    pub(super) async fn watch(&mut self) -> Seen {
        match &mut self.state {
            State::NotStarted(ticker) => {
                let ping_due = tokio::select! {
                    () = self.outbox.ready() => false,
                    _ = ticker.tick() => true,
                };
                if !ping_due {
                    self.start();
                    return Seen::Handled;
                }
                let pinged = self.sink.lock().await.ping().await;
                match pinged {
                    Ok(()) => Seen::Handled,
                    Err(e) => {
                        tracing::debug!(error = %e, "ping failed");
                        self.state = State::Done;
                        Seen::Ended
                    }
                }
            }
            State::Running(task) => {
                let _ = task.await;
                self.state = State::Done;
                Seen::Ended
            }
            State::Done => std::future::pending().await,
        }
    }

    fn start(&mut self) {
        let State::NotStarted(ticker) = std::mem::replace(&mut self.state, State::Done) else {
            return;
        };
        let task = write_loop(self.sink.clone(), self.outbox.clone(), ticker);
        self.state = State::Running(tokio::spawn(task.in_current_span()));
    }

    /// Sends what is still queued and the close (the outbox is closing), giving up
    /// after `limit`: in the writer task if it runs, else here.
    pub(super) async fn finish(mut self, limit: Duration) {
        match std::mem::replace(&mut self.state, State::Done) {
            State::Running(mut task) => {
                if tokio::time::timeout(limit, &mut task).await.is_err() {
                    task.abort();
                }
            }
            State::NotStarted(ticker) => {
                let task = write_loop(self.sink, self.outbox, ticker);
                let _ = tokio::time::timeout(limit, task).await;
            }
            State::Done => {}
        }
    }
}

/// The connection's sink, shared by its loop and its writer task.
pub(super) type SharedSink<S> = Arc<tokio::sync::Mutex<S>>;

/// Writes what the outbox holds, from the connection's loop, if the writer is not
/// writing; else wakes the writer. A failed write aborts the outbox (the writer then
/// ends, and with it the connection).
pub(super) async fn write_now<S: FrameSink>(
    sink: &SharedSink<S>,
    outbox: &Outbox,
    batch: &mut Vec<Encoded>,
) {
    let Ok(mut sink) = sink.try_lock() else {
        outbox.wake();
        return;
    };
    if outbox.take_batch(batch).is_some() || batch.is_empty() {
        // Closing (the writer sends the close) or nothing to write.
        return;
    }
    if write_batch(&mut *sink, batch).await.is_err() {
        outbox.abort(Close::new(CloseCode::NORMAL, ""));
    }
}

/// Writes everything the outbox hands over, one flush per batch; pings when `ticker`
/// ticks; sends the close once the outbox is closing and drained.
async fn write_loop<S: FrameSink>(
    sink: SharedSink<S>,
    outbox: Arc<Outbox>,
    mut ticker: PingTicker,
) {
    let mut batch = Vec::new();
    loop {
        tokio::select! {
            () = outbox.ready() => {}
            _ = ticker.tick() => {
                if let Err(e) = sink.lock().await.ping().await {
                    tracing::debug!(error = %e, "ping failed");
                    outbox.abort(Close::new(CloseCode::NORMAL, ""));
                    return;
                }
                continue;
            }
        }
        let mut sink = sink.lock().await;
        if let Some(close) = outbox.take_batch(&mut batch) {
            let _ = sink.close(close).await;
            return;
        }
        if batch.is_empty() {
            continue; // the connection's loop wrote it meanwhile
        }
        if write_batch(&mut *sink, &mut batch).await.is_err() {
            outbox.abort(Close::new(CloseCode::NORMAL, ""));
            return;
        }
    }
}

/// Feeds every frame of `batch` (emptying it), then flushes once. Frames made of several
/// buffers (large binaries) go to the sink as they are, so a large result is not copied
/// into a frame of its own here ([`FrameSink::feed_encoded`]).
async fn write_batch<S: FrameSink>(sink: &mut S, batch: &mut Vec<Encoded>) -> Result<(), ()> {
    for encoded in batch.drain(..) {
        if let Err(e) = sink.feed_encoded(&encoded).await {
            tracing::debug!(error = %e, "write failed");
            return Err(());
        }
    }
    sink.flush().await.map_err(|e| {
        tracing::debug!(error = %e, "flush failed");
    })
}
