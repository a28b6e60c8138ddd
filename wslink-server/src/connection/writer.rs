//! The outbound stage: the connection's writer task drains its [`Outbox`] into the sink.

use std::sync::Arc;
use std::time::Duration;

use wslink_core::ping::PingTicker;
use wslink_core::{Close, CloseCode, FrameSink};

use crate::outbox::Outbox;

/// Writes everything the outbox hands over, one flush per batch; pings every
/// `keepalive`.
pub(super) async fn write_loop<S: FrameSink>(
    mut sink: S,
    outbox: Arc<Outbox>,
    keepalive: Option<Duration>,
) {
    let mut batch = Vec::new();
    let mut ticker = PingTicker::new(keepalive);
    loop {
        let next = tokio::select! {
            // `next_batch` loses nothing when the ping branch wins.
            close = outbox.next_batch(&mut batch) => close,
            _ = ticker.tick() => {
                if let Err(e) = sink.ping().await {
                    tracing::debug!(error = %e, "ping failed");
                    outbox.abort(Close::new(CloseCode::NORMAL, ""));
                    return;
                }
                continue;
            }
        };
        if let Some(close) = next {
            let _ = sink.close(close).await;
            return;
        }
        for encoded in batch.drain(..) {
            for frame in encoded.frames() {
                if let Err(e) = sink.feed(frame.clone()).await {
                    tracing::debug!(error = %e, "write failed");
                    outbox.abort(Close::new(CloseCode::NORMAL, ""));
                    return;
                }
            }
        }
        if let Err(e) = sink.flush().await {
            tracing::debug!(error = %e, "flush failed");
            outbox.abort(Close::new(CloseCode::NORMAL, ""));
            return;
        }
    }
}
