//! The server side: an HTTP/1.1 server that upgrades its WebSocket endpoint and serves
//! static files everywhere else.
//!
//! [`WsListener::bind`] listens on an address; each successful upgrade on the endpoint
//! path (default `/ws`) becomes a [`ServerTransport`] that [`Listener::accept`] hands to a
//! wslink server. Other paths are served from the content folder (`index.html` at `/`) and
//! from extra static mounts; a plain GET on the endpoint gets 400 (the reference answers
//! 500 and leaks a connection entry).
//!
//! The upgrade itself is [`WsService`]'s, the tower service an application can also mount
//! in its own router: the listener is that service behind its own hyper server, with
//! static files and TLS beside it. [`HttpOptions::extra_headers`] go on every answer,
//! upgrades and files alike.
//!
//! With [`HttpOptions::tls`] set (feature `tls`), every accepted TCP connection first does
//! a TLS handshake, in its own task and bounded by the configuration's handshake timeout;
//! the listener then serves `https://` and `wss://` only. A failed handshake (a plain
//! `ws://` client, a client that does not trust the certificate, a scanner) is logged and
//! closes that connection alone.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use async_trait::async_trait;
use bytes::Bytes;
use http::{Request, Response, StatusCode};
use http_body_util::combinators::UnsyncBoxBody;
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use wslink_core::defaults::{DEFAULT_MAX_FRAME_SIZE, MESSAGE_OVERHEAD};
use wslink_core::Listener;

use crate::deflate::Deflate;
use crate::static_files::StaticFiles;
use crate::stream::WsTransport;
#[cfg(feature = "tls")]
use crate::tls::TlsConfig;
use crate::upgrade::PendingUpgrade;
use crate::upgrade::{add_headers, plain, WsAcceptor, WsService};

type Body = UnsyncBoxBody<Bytes, std::io::Error>;

/// What the HTTP server serves.
#[derive(Debug, Clone)]
pub struct HttpOptions {
    /// The WebSocket endpoint path (default `/ws`); `None` serves no WebSocket.
    pub ws_endpoint: Option<String>,
    /// Upgrade every path under the endpoint (`/proxy` takes `/proxy/a/b` too), not only
    /// the endpoint itself; the transport's `PeerInfo::path` tells which (default false;
    /// the relay uses it).
    pub ws_prefix: bool,
    /// Static files served at `/` (`index.html` for directories).
    pub content: Option<PathBuf>,
    /// Extra static mounts: `(name, folder)` served at `/name/…`.
    pub fs_endpoints: Vec<(String, PathBuf)>,
    /// permessage-deflate (RFC 7692), accepted when a client offers it (default on, as
    /// the reference's aiohttp server does; [`Deflate::off`] is its `--no-ws-compress`).
    pub deflate: Deflate,
    /// Largest WebSocket message (and frame) accepted from a client. Default 4 MiB +
    /// 4096, the reference's `WSLINK_MAX_MSG_SIZE + WSLINK_MSG_OVERHEAD`: clients send
    /// chunks of at most the announced `maxMsgSize`.
    pub max_message_size: usize,
    /// The read buffer each connection starts with (default 8 KiB); it grows to fit a
    /// larger frame and shrinks back after it.
    pub read_buffer_size: usize,
    /// How many bytes of outgoing frames a connection gathers before it writes them to
    /// the socket without waiting for the end of the batch (default 64 KiB): a burst of
    /// small publications leaves in few writes. The buffer grows to this size only
    /// while a burst lasts.
    pub write_batch_size: usize,
    /// A client connection whose peer sent nothing at all (data, ping or pong) for this
    /// long is considered gone (noticed within twice that): its reads fail and the server
    /// closes it (default 45 s, with the server pinging every 30 s as the reference does;
    /// `None` never).
    pub dead_after: Option<std::time::Duration>,
    /// Time allowed for an HTTP request's headers (default 10 s): a client that trickles
    /// its upgrade request (slowloris) is disconnected.
    pub header_read_timeout: std::time::Duration,
    /// Headers added to every HTTP response, static files and upgrades alike (e.g.
    /// `Cross-Origin-Opener-Policy: same-origin` and `Cross-Origin-Embedder-Policy:
    /// require-corp` for pages that need `SharedArrayBuffer`), as the reference's
    /// `WSLINK_HTTP_HEADERS` does (the `wslink` command line reads that variable's JSON
    /// file, and takes `--http-header`).
    pub extra_headers: Vec<(http::HeaderName, http::HeaderValue)>,
    /// If set, only upgrades whose `Origin` is listed are accepted (403 otherwise).
    /// Requests without an `Origin` (non-browser clients) are accepted.
    pub allowed_origins: Option<Vec<String>>,
    /// Connections waiting to be accepted by the wslink server.
    pub backlog: usize,
    /// Serve `https://` and `wss://` with this certificate (default: none, plain
    /// `http://` and `ws://`). Feature `tls`.
    #[cfg(feature = "tls")]
    pub tls: Option<TlsConfig>,
    /// Serve static files through symbolic links that lead out of their folder (the
    /// reference's `WSLINK_FOLLOW_SYMLINKS`). Default `false`: such a link is a 404.
    pub follow_symlinks: bool,
}

impl Default for HttpOptions {
    fn default() -> Self {
        HttpOptions {
            ws_endpoint: Some("/ws".into()),
            ws_prefix: false,
            deflate: Deflate::default(),
            content: None,
            fs_endpoints: Vec::new(),
            max_message_size: DEFAULT_MAX_FRAME_SIZE + MESSAGE_OVERHEAD,
            read_buffer_size: 8 * 1024,
            write_batch_size: 64 * 1024,
            dead_after: Some(std::time::Duration::from_secs(45)),
            header_read_timeout: std::time::Duration::from_secs(10),
            extra_headers: Vec::new(),
            allowed_origins: None,
            backlog: 128,
            #[cfg(feature = "tls")]
            tls: None,
            follow_symlinks: false,
        }
    }
}

impl HttpOptions {
    /// Normalises an endpoint name as the reference does (`ws` → `/ws`).
    pub fn endpoint_path(name: &str) -> String {
        format!("/{}", name.trim_start_matches('/'))
    }
}

struct HttpState {
    options: HttpOptions,
    content: Option<StaticFiles>,
    mounts: Vec<(String, StaticFiles)>,
    ws: WsService,
    #[cfg(feature = "tls")]
    tls: Option<(tokio_rustls::TlsAcceptor, std::time::Duration)>,
}

/// Listens for HTTP connections and yields WebSocket upgrades as transports.
#[derive(Debug)]
pub struct WsListener {
    incoming: WsAcceptor,
    local_addr: SocketAddr,
    tls: bool,
    http: JoinHandle<()>,
}

impl WsListener {
    /// Binds `addr` (port 0 picks a free port) and starts serving HTTP.
    pub async fn bind(
        addr: impl tokio::net::ToSocketAddrs,
        options: HttpOptions,
    ) -> std::io::Result<WsListener> {
        let tcp = TcpListener::bind(addr).await?;
        Ok(Self::from_tcp(tcp, options))
    }

    /// Serves HTTP on an already bound listener.
    pub fn from_tcp(tcp: TcpListener, options: HttpOptions) -> WsListener {
        let local_addr = tcp.local_addr().expect("a bound listener has an address");
        let (ws, incoming) = WsService::new(options.clone());
        let state = Arc::new(HttpState {
            #[cfg(feature = "tls")]
            tls: options
                .tls
                .as_ref()
                .map(|tls| (tls.acceptor(), tls.handshake_timeout())),
            content: options
                .content
                .as_ref()
                .map(|dir| StaticFiles::new(dir).follow_symlinks(options.follow_symlinks)),
            mounts: options
                .fs_endpoints
                .iter()
                .map(|(name, dir)| {
                    let files = StaticFiles::new(dir).follow_symlinks(options.follow_symlinks);
                    (HttpOptions::endpoint_path(name), files)
                })
                .collect(),
            options,
            ws,
        });
        #[cfg(feature = "tls")]
        let tls = state.tls.is_some();
        #[cfg(not(feature = "tls"))]
        let tls = false;
        let http = tokio::spawn(accept_loop(tcp, state));
        WsListener {
            incoming,
            local_addr,
            tls,
            http,
        }
    }

    /// The bound address.
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// Whether connections are served over TLS (`https://`, `wss://`).
    pub fn is_tls(&self) -> bool {
        self.tls
    }
}

impl Drop for WsListener {
    fn drop(&mut self) {
        self.http.abort();
    }
}

#[async_trait]
impl Listener for WsListener {
    type Transport = WsTransport;

    async fn accept(&mut self) -> Option<WsTransport> {
        self.incoming.accept().await
    }

    fn serve_inline(&mut self, serve: wslink_core::ServeConnection<WsTransport>) -> bool {
        self.incoming.serve_inline(serve)
    }
}

/// The upgrade a connection's request was answered with, kept until hyper is done with
/// the connection: the WebSocket then runs in the same task (no task spawned for it).
type UpgradeSlot = Arc<std::sync::Mutex<Option<PendingUpgrade>>>;

async fn accept_loop(tcp: TcpListener, state: Arc<HttpState>) {
    loop {
        let (stream, remote) = match tcp.accept().await {
            Ok(accepted) => accepted,
            Err(e) => {
                // Out of file descriptors and the like: wait a little, keep serving.
                tracing::warn!(error = %e, "accept failed");
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        let state = state.clone();
        // Each connection's task goes on as its WebSocket connection, for as long as
        // that lasts, so what the task holds is per-connection memory: the HTTP part
        // (and the TLS handshake) is boxed and given back before the WebSocket runs.
        tokio::spawn(async move {
            #[cfg(feature = "tls")]
            if let Some((acceptor, timeout)) = state.tls.clone() {
                let upgrade = Box::pin(serve_tls(acceptor, timeout, stream, state, remote)).await;
                if let Some(upgrade) = upgrade {
                    upgrade.finish().await;
                }
                return;
            }
            if let Some(upgrade) = Box::pin(serve_http(stream, state, remote)).await {
                upgrade.finish().await;
            }
        });
    }
}

/// The TLS handshake, in the connection's own task (a slow or broken client never holds
/// up the accept loop), then HTTP.
#[cfg(feature = "tls")]
async fn serve_tls(
    acceptor: tokio_rustls::TlsAcceptor,
    timeout: std::time::Duration,
    stream: tokio::net::TcpStream,
    state: Arc<HttpState>,
    remote: SocketAddr,
) -> Option<PendingUpgrade> {
    match tokio::time::timeout(timeout, acceptor.accept(stream)).await {
        Ok(Ok(tls)) => serve_http(tls, state, remote).await,
        Ok(Err(e)) => {
            tracing::info!(error = %e, %remote, "TLS handshake failed");
            None
        }
        Err(_) => {
            tracing::info!(?timeout, %remote, "TLS handshake timed out");
            None
        }
    }
}

/// Serves HTTP on one connection until hyper is done with it; returns the WebSocket
/// upgrade it ended with, if any, for the caller to [finish](PendingUpgrade::finish).
async fn serve_http<S>(
    stream: S,
    state: Arc<HttpState>,
    remote: SocketAddr,
) -> Option<PendingUpgrade>
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let header_read_timeout = state.options.header_read_timeout;
    let slot = UpgradeSlot::default();
    let upgrade = slot.clone();
    let service =
        hyper::service::service_fn(move |req| handle(req, state.clone(), remote, slot.clone()));
    let conn = hyper::server::conn::http1::Builder::new()
        .timer(hyper_util::rt::TokioTimer::new())
        .header_read_timeout(header_read_timeout)
        .serve_connection(TokioIo::new(stream), service)
        .with_upgrades();
    if let Err(e) = conn.await {
        tracing::debug!(error = %e, %remote, "http connection ended with an error");
    }
    let pending = upgrade.lock().unwrap_or_else(|e| e.into_inner()).take();
    pending
}

async fn handle(
    req: Request<Incoming>,
    state: Arc<HttpState>,
    remote: SocketAddr,
    slot: UpgradeSlot,
) -> Result<Response<Body>, Infallible> {
    let mut response = route(req, &state, remote, &slot).await;
    add_headers(&mut response, &state.options.extra_headers);
    Ok(response)
}

async fn route(
    req: Request<Incoming>,
    state: &Arc<HttpState>,
    remote: SocketAddr,
    slot: &UpgradeSlot,
) -> Response<Body> {
    let path = req.uri().path().to_owned();
    if let Some(endpoint) = state.options.ws_endpoint.as_deref() {
        let under = state.options.ws_prefix
            && path
                .strip_prefix(endpoint.trim_end_matches('/'))
                .is_some_and(|rest| rest.starts_with('/'));
        if path == endpoint || under {
            // The service adds the extra headers itself; `handle` sets them again.
            let (response, pending) = state.ws.answer_deferred(req, Some(remote));
            if pending.is_some() {
                *slot.lock().unwrap_or_else(|e| e.into_inner()) = pending;
            }
            return response;
        }
    }
    for (prefix, dir) in &state.mounts {
        if let Some(rest) = path.strip_prefix(prefix.as_str()) {
            if rest.is_empty() || rest.starts_with('/') {
                let mut req = req;
                let rest = if rest.is_empty() { "/" } else { rest };
                let query = req
                    .uri()
                    .query()
                    .map(|q| format!("?{q}"))
                    .unwrap_or_default();
                *req.uri_mut() = format!("{rest}{query}").parse().unwrap_or_default();
                return dir.serve(req).await;
            }
        }
    }
    match &state.content {
        Some(dir) => dir.serve(req).await,
        None => plain(StatusCode::NOT_FOUND, "not found\n"),
    }
}
