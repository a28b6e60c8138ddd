//! A WebSocket relay: bridges a browser to a wslink server that cannot accept connections.
//!
//! Two modes, as the reference relay has:
//!
//! * **relay** — the key is the request path. The first WebSocket on a path is the wslink
//!   server (started with `--reverse-url ws://relay/<path>`), the second is the browser;
//!   their frames are piped both ways. One browser at a time per path: another one is
//!   closed with 1008. When the browser leaves, the server side is closed too, so the
//!   server connects again with a fresh, unauthenticated session: every browser session
//!   must say its own hello (the reference keeps the server side, and with it the first
//!   browser's authentication, for every later browser).
//! * **forward** — a browser connecting to `<prefix>/<port>[/<path>]` is bridged to
//!   `ws://<upstream host>:<port>/<path>` (path default `ws`); one browser per target at a
//!   time.
//!
//! Data frames are forwarded verbatim (text and binary, any size up to the relay's
//! WebSocket limit, which should be at least a server's chunk size plus its 12-byte
//! header); when one side leaves, the other is closed (1000); each side answers its own
//! pings.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use tokio::sync::oneshot;
use wslink_core::{Close, CloseCode, FrameSink, FrameStream, Listener, Transport, TransportError};

use crate::backend::ServerTransport;
use crate::connect::{connect_with, ConnectOptions};
use crate::http::WsListener;

/// How the relay pairs connections.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RelayMode {
    /// The first connection on a path is the server, the next the browser.
    Relay,
    /// Browsers on `<prefix>/<port>[/<path>]` are bridged to `ws://host:port/<path>`.
    Forward {
        /// The upstream host (default `localhost`).
        host: String,
        /// The endpoint prefix browsers connect under (e.g. `/proxy`).
        prefix: String,
    },
}

enum Slot {
    /// A server waiting for its browser; the sender hands the browser over.
    Waiting(oneshot::Sender<ServerTransport>),
    /// A browser is being served.
    Busy,
}

type Slots = Arc<Mutex<HashMap<String, Slot>>>;

/// Runs the relay on `listener` until it is shut. Bind the listener with
/// `HttpOptions { ws_endpoint: Some("/proxy".into()), ws_prefix: true, .. }` and a
/// `max_message_size` at least the servers' chunk size plus 12.
pub async fn run_relay(mut listener: WsListener, mode: RelayMode, upstream: ConnectOptions) {
    let slots: Slots = Arc::default();
    while let Some(transport) = listener.accept().await {
        let path = transport.peer().path.unwrap_or_default();
        match &mode {
            RelayMode::Relay => pair(&slots, path, transport),
            RelayMode::Forward { host, prefix } => {
                let Some(url) = forward_url(host, prefix, &path) else {
                    tracing::warn!(%path, "relay: no port in the path");
                    tokio::spawn(refuse(transport, "expected <prefix>/<port>[/<path>]"));
                    continue;
                };
                let busy = {
                    let mut slots = slots.lock().unwrap_or_else(|e| e.into_inner());
                    if slots.contains_key(&url) {
                        true
                    } else {
                        slots.insert(url.clone(), Slot::Busy);
                        false
                    }
                };
                if busy {
                    tokio::spawn(refuse(transport, "this target already has a client"));
                    continue;
                }
                let (slots, upstream) = (slots.clone(), upstream.clone());
                tokio::spawn(async move {
                    match connect_with(&url, &upstream).await {
                        Ok(server) => bridge(transport, server).await,
                        Err(e) => {
                            tracing::warn!(%url, error = %e, "relay: upstream unreachable");
                            refuse(transport, "upstream unreachable").await;
                        }
                    }
                    slots.lock().unwrap_or_else(|e| e.into_inner()).remove(&url);
                });
            }
        }
    }
}

/// `ws://host:port/path` for a browser that asked for `<prefix>/<port>[/<path>]`.
fn forward_url(host: &str, prefix: &str, path: &str) -> Option<String> {
    let rest = path
        .strip_prefix(prefix.trim_end_matches('/'))?
        .strip_prefix('/')?;
    let (port, tail) = rest.split_once('/').unwrap_or((rest, "ws"));
    let port: u16 = port.parse().ok()?;
    let tail = if tail.is_empty() { "ws" } else { tail };
    Some(format!("ws://{host}:{port}/{tail}"))
}

fn pair(slots: &Slots, path: String, transport: ServerTransport) {
    let mut map = slots.lock().unwrap_or_else(|e| e.into_inner());
    match map.remove(&path) {
        None => {
            // The first on this path: a server, waiting for its browser.
            let (tx, rx) = oneshot::channel();
            map.insert(path.clone(), Slot::Waiting(tx));
            drop(map);
            tracing::info!(%path, "relay: server waiting for a browser");
            let slots = slots.clone();
            tokio::spawn(async move {
                let server = transport;
                if let Ok(browser) = rx.await {
                    tracing::info!(%path, "relay: browser attached");
                    bridge(browser, server).await;
                    tracing::info!(%path, "relay: session over");
                }
                slots
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .remove(&path);
            });
        }
        Some(Slot::Waiting(tx)) => {
            map.insert(path, Slot::Busy);
            if let Err(browser) = tx.send(transport) {
                // The server went away meanwhile.
                tokio::spawn(refuse(browser, "no server on this path"));
            }
        }
        Some(Slot::Busy) => {
            map.insert(path, Slot::Busy);
            drop(map);
            tokio::spawn(refuse(
                transport,
                "a browser is already connected on this path",
            ));
        }
    }
}

async fn refuse<T: Transport>(transport: T, reason: &str) {
    let (mut sink, _stream) = transport.split();
    let _ = sink
        .close(Close::new(CloseCode::POLICY_VIOLATION, reason))
        .await;
}

/// Pipes frames both ways until either side ends, then closes the other.
pub async fn bridge<A: Transport, B: Transport>(a: A, b: B) {
    let (a_sink, a_stream) = a.split();
    let (b_sink, b_stream) = b.split();
    let mut a_to_b = tokio::spawn(pump(a_stream, b_sink));
    let mut b_to_a = tokio::spawn(pump(b_stream, a_sink));
    tokio::select! {
        _ = &mut a_to_b => b_to_a.abort(),
        _ = &mut b_to_a => a_to_b.abort(),
    }
}

async fn pump<S: FrameStream, K: FrameSink>(mut from: S, mut to: K) -> Result<(), TransportError> {
    let result = loop {
        match from.recv().await {
            Some(Ok(frame)) => {
                if let Err(e) = to.send(frame).await {
                    break Err(e);
                }
            }
            Some(Err(e)) => break Err(e),
            None => break Ok(()),
        }
    };
    match from.close_frame() {
        Some(close) => tracing::debug!(
            code = %close.code,
            reason = %close.reason,
            "relay: one side closed"
        ),
        None => tracing::debug!(outcome = ?result, "relay: one side ended without a close frame"),
    }
    let _ = to.close(Close::new(CloseCode::NORMAL, "peer left")).await;
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forward_urls() {
        assert_eq!(
            forward_url("localhost", "/proxy", "/proxy/9000").as_deref(),
            Some("ws://localhost:9000/ws")
        );
        assert_eq!(
            forward_url("h", "/proxy/", "/proxy/9000/a/ws").as_deref(),
            Some("ws://h:9000/a/ws")
        );
        assert_eq!(forward_url("h", "/proxy", "/proxy/x"), None);
        assert_eq!(forward_url("h", "/proxy", "/other/9000"), None);
    }
}
