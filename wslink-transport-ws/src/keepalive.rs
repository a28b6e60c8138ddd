//! The keepalive watch of a reading half: a peer silent for too long is declared gone.
//!
//! One long-lived timer per connection, not one per frame: arrivals only set a flag, and
//! the timer, when it fires, either finds the flag (and re-arms) or declares the peer gone
//! — after between one and two limits of silence. Both backends read through it.

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use tokio::time::{Instant, Sleep};
use wslink_core::TransportError;

/// Watches a reading half for silence (see the module docs).
#[derive(Debug)]
pub(crate) struct Keepalive {
    limit: Option<Duration>,
    timer: Option<Pin<Box<Sleep>>>,
    heard: bool,
}

impl Keepalive {
    /// A watch for `limit` of silence; `None` never fires.
    pub(crate) fn new(limit: Option<Duration>) -> Self {
        Keepalive {
            limit,
            timer: None,
            heard: false,
        }
    }

    /// Waits for `next` (anything arriving from the peer), or fails once the peer has been
    /// silent for the limit. Cancel-safe when `next` is.
    pub(crate) async fn watch<F: Future>(&mut self, next: F) -> Result<F::Output, TransportError> {
        let Some(limit) = self.limit else {
            return Ok(next.await);
        };
        tokio::pin!(next);
        loop {
            let idle = self
                .timer
                .get_or_insert_with(|| Box::pin(tokio::time::sleep(limit)));
            tokio::select! {
                arrived = &mut next => {
                    self.heard = true;
                    return Ok(arrived);
                }
                _ = idle.as_mut() => {
                    if std::mem::take(&mut self.heard) {
                        idle.as_mut().reset(Instant::now() + limit);
                        continue;
                    }
                    return Err(TransportError::Protocol(format!(
                        "keepalive: nothing received for {limit:?}"
                    )));
                }
            }
        }
    }
}
