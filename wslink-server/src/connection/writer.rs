//! The outbound stage: what the outbox holds goes to the sink, from one of two places.
//!
//! The sink is shared ([`SharedSink`]) by the connection's loop and its writer task.
//! Replies that a burst of frames answered inline are written by the loop itself, before
//! it waits for the next frame ([`write_now`]): no other task is woken for them, which is
//! what a client that sends one message at a time costs most. Everything else
//! (publications, replies of calls that ran on their own task, pings, the close) is
//! written by the writer task ([`write_loop`]). Whoever writes takes the outbox's batch
//! while holding the sink, so nothing is reordered; when the loop finds the sink busy,
//! it wakes the writer instead.

use std::sync::Arc;
use std::time::Duration;

use wslink_core::ping::PingTicker;
use wslink_core::{Close, CloseCode, Encoded, FrameSink};

use crate::outbox::Outbox;

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

/// Writes everything the outbox hands over, one flush per batch; pings every
/// `keepalive`; sends the close once the outbox is closing and drained.
pub(super) async fn write_loop<S: FrameSink>(
    sink: SharedSink<S>,
    outbox: Arc<Outbox>,
    keepalive: Option<Duration>,
) {
    let mut batch = Vec::new();
    let mut ticker = PingTicker::new(keepalive);
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
