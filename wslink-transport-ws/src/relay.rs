//! A WebSocket relay: bridges browsers to wslink servers that cannot accept connections.
//!
//! Two modes, as the reference relay has:
//!
//! * **relay** — the key is the request path. A wslink server started with
//!   `--reverse-url ws://relay/<path>` keeps one or more *spare* connections waiting on
//!   the relay, each marked as a server's by the query parameter [`SERVER_MARK`]
//!   ([`server_url`] adds it). Every other connection on the path is a browser: it is
//!   paired with a waiting server connection, and their frames are piped both ways.
//!   Each pair is a separate connection of the server, so each browser has its own
//!   session and says its own hello; publications reach every attached browser, as they
//!   reach every connection of that server. When a browser finds no server connection
//!   waiting it waits up to [`RelayLimits::browser_wait`] for one, then is closed with
//!   1013 `no server connected on this path`.
//! * **forward** — a browser connecting to `<prefix>/<port>[/<path>]` is bridged to its
//!   own connection to `ws://<upstream host>:<port>/<path>` (path default `ws`); an
//!   unreachable upstream closes the browser with 1013.
//!
//! Data frames are forwarded verbatim and in order (text and binary, up to the relay's
//! WebSocket limit). A close frame, with its code and reason, is passed on to the other
//! side; the relay then waits (at most [`RelayLimits::close_timeout`]) for that side's
//! answer before it answers the closing side and drops the pair, so both ends see a clean
//! close. Each side answers its own pings. Every queue and wait is bounded by a
//! [`RelayLimits`] field.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use tokio::sync::{oneshot, OwnedSemaphorePermit, Semaphore};
use wslink_core::{
    Close, CloseCode, Frame, FrameSink, FrameStream, Listener, PeerInfo, Transport, TransportError,
};

use crate::connect::{connect_with, ConnectOptions};
use crate::http::WsListener;
use crate::{ServerStream, ServerTransport};

/// The query parameter (`name=value`) that marks a connection on a relay path as a
/// server's (the spare connections of `--reverse-url`); every other one is a browser.
pub const SERVER_MARK: &str = "wslink-relay=server";

/// `url` with [`SERVER_MARK`] added to its query, as a reverse-mode server connects.
pub fn server_url(url: &str) -> String {
    let (base, fragment) = url.split_once('#').unwrap_or((url, ""));
    let joiner = if base.contains('?') { '&' } else { '?' };
    let mut marked = format!("{base}{joiner}{SERVER_MARK}");
    if !fragment.is_empty() {
        marked = format!("{marked}#{fragment}");
    }
    marked
}

/// Whether a connection carries [`SERVER_MARK`].
fn is_server(peer: &PeerInfo) -> bool {
    peer.query
        .as_deref()
        .is_some_and(|q| q.split('&').any(|param| param == SERVER_MARK))
}

/// How the relay pairs connections.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RelayMode {
    /// Marked connections on a path are servers, the others browsers.
    Relay,
    /// Browsers on `<prefix>/<port>[/<path>]` are bridged to `ws://host:port/<path>`.
    Forward {
        /// The upstream host (default `localhost`).
        host: String,
        /// The endpoint prefix browsers connect under (e.g. `/proxy`).
        prefix: String,
    },
}

/// The relay's bounds. Frame sizes are the listener's
/// ([`HttpOptions::max_message_size`](crate::HttpOptions::max_message_size)) and, in
/// forward mode, the upstream's ([`ConnectOptions::max_message_size`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RelayLimits {
    /// Server connections waiting, unpaired, on one path (default 8); one more is closed
    /// with 1013.
    pub max_waiting_servers: usize,
    /// How long an unpaired server connection waits for a browser (default 300 s); it is
    /// then closed with 1000 (a reverse-mode server connects again).
    pub server_wait: Duration,
    /// Browsers waiting for a server connection on one path (default 16); one more is
    /// closed with 1013 at once.
    pub max_waiting_browsers: usize,
    /// How long a browser waits for a server connection, or in forward mode for the
    /// upstream connection (default 5 s); it is then closed with 1013.
    pub browser_wait: Duration,
    /// Paths with someone waiting on them (default 1024); a connection on one more path
    /// is closed with 1013.
    pub max_paths: usize,
    /// Pairs relayed at once, both modes (default 1024); one more browser is closed with
    /// 1013.
    pub max_pairs: usize,
    /// How long a close handshake through the relay may take (default 5 s).
    pub close_timeout: Duration,
    /// How long a browser paired with a server connection may stay silent (default 30 s,
    /// as a server's hello timeout); both sides are then closed with 1008. The server
    /// learns of its browser from that first message only.
    pub first_message_wait: Duration,
}

impl Default for RelayLimits {
    fn default() -> Self {
        RelayLimits {
            max_waiting_servers: 8,
            server_wait: Duration::from_secs(300),
            max_waiting_browsers: 16,
            browser_wait: Duration::from_secs(5),
            max_paths: 1024,
            max_pairs: 1024,
            close_timeout: Duration::from_secs(5),
            first_message_wait: Duration::from_secs(30),
        }
    }
}

/// Everything [`run_relay`] needs besides its listener.
#[derive(Debug, Clone)]
pub struct RelayConfig {
    /// How connections are paired.
    pub mode: RelayMode,
    /// How forward mode connects upstream.
    pub upstream: ConnectOptions,
    /// The bounds.
    pub limits: RelayLimits,
}

impl RelayConfig {
    /// `mode` with default upstream options and limits.
    pub fn new(mode: RelayMode) -> Self {
        RelayConfig {
            mode,
            upstream: ConnectOptions::default(),
            limits: RelayLimits::default(),
        }
    }
}

struct Waiting {
    id: u64,
    tx: oneshot::Sender<ServerTransport>,
}

#[derive(Default)]
struct PathQueue {
    servers: VecDeque<Waiting>,
    browsers: VecDeque<Waiting>,
}

struct Relay {
    limits: RelayLimits,
    paths: Mutex<HashMap<String, PathQueue>>,
    pairs: Arc<Semaphore>,
    next_id: AtomicU64,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Role {
    Server,
    Browser,
}

/// Runs the relay on `listener` until it is shut. Bind the listener with
/// `HttpOptions { ws_endpoint: Some("/proxy".into()), ws_prefix: true, .. }` and a
/// `max_message_size` at least the servers' chunk size plus 12.
pub async fn run_relay(mut listener: WsListener, config: RelayConfig) {
    let relay = Arc::new(Relay {
        pairs: Arc::new(Semaphore::new(config.limits.max_pairs)),
        limits: config.limits,
        paths: Mutex::default(),
        next_id: AtomicU64::new(0),
    });
    while let Some(transport) = listener.accept().await {
        let peer = transport.peer();
        let path = peer.path.clone().unwrap_or_default();
        match &config.mode {
            RelayMode::Relay if is_server(&peer) => relay.arrives(Role::Server, path, transport),
            RelayMode::Relay => relay.arrives(Role::Browser, path, transport),
            RelayMode::Forward { host, prefix } => match forward_url(host, prefix, &path) {
                Some(url) => {
                    tokio::spawn(forward(
                        relay.clone(),
                        transport,
                        url,
                        config.upstream.clone(),
                    ));
                }
                None => {
                    tracing::warn!(%path, "relay: no port in the path");
                    let close = Close::new(
                        CloseCode::POLICY_VIOLATION,
                        "expected <prefix>/<port>[/<path>]",
                    );
                    tokio::spawn(refuse(transport, close, relay.limits.close_timeout));
                }
            },
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

fn try_again(reason: &str) -> Close {
    Close::new(CloseCode::TRY_AGAIN_LATER, reason)
}

async fn forward(relay: Arc<Relay>, browser: ServerTransport, url: String, up: ConnectOptions) {
    let Ok(permit) = relay.pairs.clone().try_acquire_owned() else {
        tracing::warn!(%url, "relay: too many pairs");
        return refuse(browser, try_again("relay full"), relay.limits.close_timeout).await;
    };
    let limits = &relay.limits;
    match tokio::time::timeout(limits.browser_wait, connect_with(&url, &up)).await {
        Ok(Ok(server)) => {
            tracing::info!(%url, "relay: browser forwarded");
            bridge(browser.split(), server.split(), limits.close_timeout).await;
        }
        Ok(Err(e)) => {
            tracing::warn!(%url, error = %e, "relay: upstream unreachable");
            let close = try_again("no server listening on that port");
            refuse(browser, close, limits.close_timeout).await;
        }
        Err(_) => {
            tracing::warn!(%url, "relay: upstream did not answer in time");
            let close = try_again("no server answered on that port");
            refuse(browser, close, limits.close_timeout).await;
        }
    }
    drop(permit);
}

impl Relay {
    /// A connection of `role` arrived on `path`: pair it with one of the other role
    /// waiting there, or let it wait (bounded), or turn it away.
    fn arrives(self: &Arc<Self>, role: Role, path: String, transport: ServerTransport) {
        let mut paths = self.paths.lock().unwrap_or_else(|e| e.into_inner());
        if !paths.contains_key(&path) && paths.len() >= self.limits.max_paths {
            drop(paths);
            tracing::warn!(%path, ?role, "relay: too many paths");
            let close = try_again("too many relayed paths");
            tokio::spawn(refuse(transport, close, self.limits.close_timeout));
            return;
        }
        let queue = paths.entry(path.clone()).or_default();
        let (others, mine, limit) = match role {
            Role::Server => (
                &mut queue.browsers,
                &mut queue.servers,
                self.limits.max_waiting_servers,
            ),
            Role::Browser => (
                &mut queue.servers,
                &mut queue.browsers,
                self.limits.max_waiting_browsers,
            ),
        };
        let mut transport = transport;
        while let Some(waiting) = others.pop_front() {
            match waiting.tx.send(transport) {
                Ok(()) => {
                    Self::forget_empty(&mut paths, &path);
                    return;
                }
                // That one left meanwhile: try the next.
                Err(back) => transport = back,
            }
        }
        if mine.len() >= limit {
            Self::forget_empty(&mut paths, &path);
            drop(paths);
            tracing::warn!(%path, ?role, "relay: too many waiting on this path");
            let reason = match role {
                Role::Server => "enough server connections wait on this path",
                Role::Browser => "no server connected on this path",
            };
            tokio::spawn(refuse(
                transport,
                try_again(reason),
                self.limits.close_timeout,
            ));
            return;
        }
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let (tx, rx) = oneshot::channel();
        mine.push_back(Waiting { id, tx });
        drop(paths);
        tracing::debug!(%path, ?role, id, "relay: waiting for a partner");
        let relay = self.clone();
        match role {
            Role::Server => tokio::spawn(relay.server_waits(path, id, transport, rx)),
            Role::Browser => tokio::spawn(relay.browser_waits(path, id, transport, rx)),
        };
    }

    fn forget_empty(paths: &mut HashMap<String, PathQueue>, path: &str) {
        if paths
            .get(path)
            .is_some_and(|q| q.servers.is_empty() && q.browsers.is_empty())
        {
            paths.remove(path);
        }
    }

    /// Takes a waiting connection off its queue; false when a partner already took it
    /// (its transport is then in the receiver).
    fn withdraw(&self, path: &str, id: u64, role: Role) -> bool {
        let mut paths = self.paths.lock().unwrap_or_else(|e| e.into_inner());
        let Some(queue) = paths.get_mut(path) else {
            return false;
        };
        let list = match role {
            Role::Server => &mut queue.servers,
            Role::Browser => &mut queue.browsers,
        };
        let before = list.len();
        list.retain(|w| w.id != id);
        let found = list.len() != before;
        Self::forget_empty(&mut paths, path);
        found
    }

    /// A server connection waits for its browser, for a bounded time; it must stay
    /// silent meanwhile (a wslink server speaks only when spoken to).
    async fn server_waits(
        self: Arc<Self>,
        path: String,
        id: u64,
        server: ServerTransport,
        mut rx: oneshot::Receiver<ServerTransport>,
    ) {
        let (sink, mut stream) = server.split();
        let close = tokio::select! {
            browser = &mut rx => match browser {
                Ok(browser) => return self.pair(&path, browser, (sink, stream)).await,
                Err(_) => try_again("relay shutting down"),
            },
            frame = stream.recv() => match frame {
                None => Close::new(CloseCode::NORMAL, ""),
                Some(_) => Close::new(CloseCode::POLICY_VIOLATION, "a server spoke before its browser attached"),
            },
            _ = tokio::time::sleep(self.limits.server_wait) => Close::new(CloseCode::NORMAL, "no browser came in time"),
        };
        if !self.withdraw(&path, id, Role::Server) {
            if let Ok(browser) = rx.try_recv() {
                // A browser took this connection as it was ending: find it another.
                self.arrives(Role::Browser, path.clone(), browser);
            }
        }
        tracing::debug!(%path, id, code = %close.code, reason = %close.reason, "relay: server connection not paired");
        close_politely(sink, stream, close, self.limits.close_timeout).await;
    }

    /// A browser waits (bounded) for a server connection on its path.
    async fn browser_waits(
        self: Arc<Self>,
        path: String,
        id: u64,
        browser: ServerTransport,
        mut rx: oneshot::Receiver<ServerTransport>,
    ) {
        let server = tokio::time::timeout(self.limits.browser_wait, &mut rx).await;
        let server = match server {
            Ok(Ok(server)) => Some(server),
            Ok(Err(_)) => None,
            Err(_) if self.withdraw(&path, id, Role::Browser) => None,
            Err(_) => rx.try_recv().ok(),
        };
        match server {
            Some(server) => self.pair(&path, browser, server.split()).await,
            None => {
                tracing::warn!(%path, "relay: no server connection for a browser");
                let close = try_again("no server connected on this path");
                refuse(browser, close, self.limits.close_timeout).await;
            }
        }
    }

    async fn pair(
        &self,
        path: &str,
        browser: ServerTransport,
        server: (crate::ServerSink, ServerStream),
    ) {
        let Ok(permit) = self.pairs.clone().try_acquire_owned() else {
            tracing::warn!(%path, "relay: too many pairs");
            let (sink, stream) = server;
            let timeout = self.limits.close_timeout;
            close_politely(sink, stream, try_again("relay full"), timeout).await;
            return refuse(browser, try_again("relay full"), timeout).await;
        };
        tracing::info!(%path, "relay: browser attached");
        let (browser_sink, mut browser_stream) = browser.split();
        let (mut server_sink, server_stream) = server;
        let timeout = self.limits.close_timeout;
        let refused = self
            .first_message(path, &mut browser_stream, &mut server_sink)
            .await;
        if let Some(close) = refused {
            let browser = close_politely(browser_sink, browser_stream, close.clone(), timeout);
            let server = close_politely(server_sink, server_stream, close, timeout);
            tokio::join!(browser, server);
            return;
        }
        bridge(
            (browser_sink, browser_stream),
            (server_sink, server_stream),
            timeout,
        )
        .await;
        tracing::info!(%path, "relay: session over");
        drop::<OwnedSemaphorePermit>(permit);
    }

    /// Passes the browser's first message on. The server learns of its browser from it,
    /// so a browser that says nothing must not hold the server connection for ever: the
    /// close for both sides when the wait ends, or when the message cannot be read.
    async fn first_message(
        &self,
        path: &str,
        browser: &mut ServerStream,
        server: &mut crate::ServerSink,
    ) -> Option<Close> {
        let wait = self.limits.first_message_wait;
        match tokio::time::timeout(wait, browser.recv()).await {
            Ok(Some(Ok(frame))) => {
                if let Err(e) = server.send(frame).await {
                    // The server left: the bridge reads its close and tells the browser.
                    tracing::debug!(%path, error = %e, "relay: the server left before the first message");
                }
                None
            }
            // The browser left: the bridge reads its close again and tells the server.
            Ok(None) => None,
            Ok(Some(Err(e))) => Some(End::Failed(e).close_for_other_side()),
            Err(_) => {
                tracing::warn!(%path, "relay: the browser said nothing in time");
                Some(Close::new(
                    CloseCode::POLICY_VIOLATION,
                    "no message in time",
                ))
            }
        }
    }
}

/// Closes `transport` with `close`, and waits (at most `timeout`) for the answer.
async fn refuse<T: Transport>(transport: T, close: Close, timeout: Duration) {
    let (sink, stream) = transport.split();
    close_politely(sink, stream, close, timeout).await;
}

async fn close_politely<K: FrameSink, S: FrameStream>(
    mut sink: K,
    mut stream: S,
    close: Close,
    timeout: Duration,
) {
    let _ = sink.close(close).await;
    let _ = tokio::time::timeout(timeout, async { while stream.recv().await.is_some() {} }).await;
}

/// How one direction of a pair ended.
#[derive(Debug)]
enum End {
    /// The sender closed, with this close frame (`None`: no frame, or one without code).
    Closed(Option<Close>),
    /// Reading from the sender failed.
    Failed(TransportError),
}

impl End {
    /// What the other side is told.
    fn close_for_other_side(&self) -> Close {
        match self {
            End::Closed(Some(close)) => close.clone(),
            End::Closed(None) => Close::new(CloseCode::GOING_AWAY, "the other side left"),
            End::Failed(TransportError::TooLarge(_)) => {
                Close::new(CloseCode::TOO_BIG, "message too big for the relay")
            }
            End::Failed(TransportError::Protocol(_)) => Close::new(
                CloseCode::PROTOCOL_ERROR,
                "the other side broke the protocol",
            ),
            End::Failed(_) => Close::new(CloseCode::GOING_AWAY, "the other side left"),
        }
    }
}

/// Pipes frames both ways between a browser and a server until one side closes; passes
/// that close on, waits (at most `close_timeout`) for the other side's answer, and then
/// answers the side that closed first.
pub async fn bridge<K1, S1, K2, S2>(browser: (K1, S1), server: (K2, S2), close_timeout: Duration)
where
    K1: FrameSink,
    K2: FrameSink,
    S1: FrameStream,
    S2: FrameStream,
{
    let (browser_sink, browser_stream) = browser;
    let (server_sink, server_stream) = server;
    let mut up = tokio::spawn(pump(browser_stream, server_sink));
    let mut down = tokio::spawn(pump(server_stream, browser_sink));
    let (first, rest) = tokio::select! {
        end = &mut up => (("browser", end), down),
        end = &mut down => (("server", end), up),
    };
    let (side, end) = first;
    tracing::debug!(side, end = ?end.ok(), "relay: one side ended");
    let mut rest = rest;
    if tokio::time::timeout(close_timeout, &mut rest)
        .await
        .is_err()
    {
        tracing::warn!(
            side,
            "relay: the other side did not answer the close in time"
        );
        rest.abort();
    }
}

/// Forwards frames from `from` to `to` in order; once `from` ends, tells `to` (or, when
/// `to` closed first, flushes the answer to its close).
async fn pump<S, K>(mut from: S, mut to: K) -> End
where
    S: FrameStream,
    K: FrameSink,
{
    let mut forwarding = true;
    let end = loop {
        match from.recv().await {
            Some(Ok(frame)) if forwarding => {
                if let Err(e) = to.send(frame).await {
                    // The other side is closing: what still comes is dropped.
                    tracing::debug!(error = %e, "relay: the other side stopped taking frames");
                    forwarding = false;
                }
            }
            Some(Ok(_)) => {}
            Some(Err(e)) => break End::Failed(e),
            None => break End::Closed(from.close_frame().cloned()),
        }
    };
    let _ = to.close(end.close_for_other_side()).await;
    end
}

/// A connection whose first data frame was already read, put back in front: a
/// reverse-mode server reads its spare connection's first frame (the browser speaks
/// first) to learn that a browser came, then serves the connection whole, with its hello
/// timer starting from the browser's arrival.
#[derive(Debug)]
pub struct Replay<K, S> {
    sink: K,
    stream: S,
    first: Frame,
    peer: PeerInfo,
}

impl<K: FrameSink, S: FrameStream> Replay<K, S> {
    /// The halves of a connection, and the frame already read from `stream`.
    pub fn new(sink: K, stream: S, first: Frame, peer: PeerInfo) -> Self {
        Replay {
            sink,
            stream,
            first,
            peer,
        }
    }
}

impl<K: FrameSink, S: FrameStream> Transport for Replay<K, S> {
    type Sink = K;
    type Stream = ReplayStream<S>;

    fn peer(&self) -> PeerInfo {
        self.peer.clone()
    }

    fn split(self) -> (K, ReplayStream<S>) {
        let stream = ReplayStream {
            first: Some(self.first),
            inner: self.stream,
        };
        (self.sink, stream)
    }
}

/// The reading half of a [`Replay`]: the frame put back, then the rest.
#[derive(Debug)]
pub struct ReplayStream<S> {
    first: Option<Frame>,
    inner: S,
}

#[async_trait]
impl<S: FrameStream> FrameStream for ReplayStream<S> {
    async fn recv(&mut self) -> Option<Result<Frame, TransportError>> {
        match self.first.take() {
            Some(frame) => Some(Ok(frame)),
            None => self.inner.recv().await,
        }
    }
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

    #[test]
    fn server_urls_carry_the_mark() {
        assert_eq!(server_url("ws://r/p/s1"), "ws://r/p/s1?wslink-relay=server");
        assert_eq!(
            server_url("ws://r/p?a=1"),
            "ws://r/p?a=1&wslink-relay=server"
        );
        let peer = |q: &str| PeerInfo {
            query: Some(q.to_owned()),
            ..PeerInfo::default()
        };
        assert!(is_server(&peer("a=1&wslink-relay=server")));
        assert!(!is_server(&peer("wslink-relay=servers")));
        assert!(!is_server(&PeerInfo::default()));
    }
}
