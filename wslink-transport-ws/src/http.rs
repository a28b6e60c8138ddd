//! The server side: an HTTP/1.1 server that upgrades its WebSocket endpoint and serves
//! static files everywhere else.
//!
//! [`WsListener::bind`] listens on an address; each successful upgrade on the endpoint
//! path (default `/ws`) becomes a [`ServerTransport`] that [`Listener::accept`] hands to a
//! wslink server. Other paths are served from the content folder (`index.html` at `/`) and
//! from extra static mounts; a plain GET on the endpoint gets 400 (the reference answers
//! 500 and leaks a connection entry).
//!
//! [`HttpOptions::backend`] picks the WebSocket implementation of the upgraded
//! connections (tokio-tungstenite by default, or fastwebsockets with the
//! `fastwebsockets` feature); the HTTP side, the handshake and its checks are the same.
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
use http::header::{
    CONNECTION, CONTENT_TYPE, ORIGIN, SEC_WEBSOCKET_ACCEPT, SEC_WEBSOCKET_KEY,
    SEC_WEBSOCKET_VERSION, UPGRADE,
};
use http::{Request, Response, StatusCode};
use http_body_util::combinators::UnsyncBoxBody;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpListener;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio_tungstenite::tungstenite::handshake::derive_accept_key;
use tokio_tungstenite::tungstenite::protocol::{Role, WebSocketConfig};
use tokio_tungstenite::WebSocketStream;
use wslink_core::defaults::{DEFAULT_MAX_FRAME_SIZE, MESSAGE_OVERHEAD};
use wslink_core::{Listener, PeerInfo};

use crate::backend::{ServerTransport, WsBackend};
#[cfg(feature = "fastwebsockets")]
use crate::fast::FastTransport;
use crate::static_files::StaticFiles;
use crate::stream::WsTransport;
#[cfg(feature = "tls")]
use crate::tls::TlsConfig;

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
    /// The WebSocket implementation of the connections (default
    /// [`WsBackend::Tungstenite`]). [`WsBackend::FastWebSockets`] needs the
    /// `fastwebsockets` feature: without it [`WsListener::bind`] fails (and a listener
    /// made by [`WsListener::from_tcp`] answers upgrades with 501). Every other option
    /// applies to both, except [`read_buffer_size`](Self::read_buffer_size).
    pub backend: WsBackend,
    /// Largest WebSocket message (and frame) accepted from a client. Default 4 MiB +
    /// 4096, the reference's `WSLINK_MAX_MSG_SIZE + WSLINK_MSG_OVERHEAD`: clients send
    /// chunks of at most the announced `maxMsgSize`.
    pub max_message_size: usize,
    /// Bytes read from a client socket at a time (default 8 KiB; tungstenite's own
    /// default, 128 KiB per connection, dominates the memory of idle connections).
    /// Tungstenite only: fastwebsockets always starts with 8 KiB and grows to fit a frame.
    pub read_buffer_size: usize,
    /// A client connection whose peer sent nothing at all (data, ping or pong) for this
    /// long is considered gone (noticed within twice that): its reads fail and the server
    /// closes it (default 45 s, with the server pinging every 30 s as the reference does;
    /// `None` never).
    pub dead_after: Option<std::time::Duration>,
    /// Time allowed for an HTTP request's headers (default 10 s): a client that trickles
    /// its upgrade request (slowloris) is disconnected.
    pub header_read_timeout: std::time::Duration,
    /// Headers added to every HTTP response (e.g. `Cross-Origin-Opener-Policy` and
    /// `Cross-Origin-Embedder-Policy` for pages that need `SharedArrayBuffer`; what the
    /// reference's `WSLINK_HTTP_HEADERS` is meant to do).
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
            backend: WsBackend::default(),
            content: None,
            fs_endpoints: Vec::new(),
            max_message_size: DEFAULT_MAX_FRAME_SIZE + MESSAGE_OVERHEAD,
            read_buffer_size: 8 * 1024,
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
    accepted: mpsc::Sender<ServerTransport>,
    #[cfg(feature = "tls")]
    tls: Option<(tokio_rustls::TlsAcceptor, std::time::Duration)>,
}

/// Listens for HTTP connections and yields WebSocket upgrades as transports.
#[derive(Debug)]
pub struct WsListener {
    incoming: mpsc::Receiver<ServerTransport>,
    local_addr: SocketAddr,
    tls: bool,
    http: JoinHandle<()>,
}

impl WsListener {
    /// Binds `addr` (port 0 picks a free port) and starts serving HTTP. Fails with
    /// [`std::io::ErrorKind::Unsupported`] if [`HttpOptions::backend`] is not in this
    /// build.
    pub async fn bind(
        addr: impl tokio::net::ToSocketAddrs,
        options: HttpOptions,
    ) -> std::io::Result<WsListener> {
        if !options.backend.is_available() {
            return Err(unavailable(options.backend));
        }
        let tcp = TcpListener::bind(addr).await?;
        Ok(Self::from_tcp(tcp, options))
    }

    /// Serves HTTP on an already bound listener. If [`HttpOptions::backend`] is not in
    /// this build, every upgrade is answered 501 (and an error logged here).
    pub fn from_tcp(tcp: TcpListener, options: HttpOptions) -> WsListener {
        if !options.backend.is_available() {
            let error = unavailable(options.backend);
            tracing::error!(%error, "WebSocket upgrades will fail");
        }
        let local_addr = tcp.local_addr().expect("a bound listener has an address");
        let (tx, rx) = mpsc::channel(options.backlog.max(1));
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
            accepted: tx,
        });
        #[cfg(feature = "tls")]
        let tls = state.tls.is_some();
        #[cfg(not(feature = "tls"))]
        let tls = false;
        let http = tokio::spawn(accept_loop(tcp, state));
        WsListener {
            incoming: rx,
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

fn unavailable(backend: WsBackend) -> std::io::Error {
    std::io::Error::new(
        std::io::ErrorKind::Unsupported,
        format!("WebSocket backend `{backend}` is not in this build (Cargo feature `{backend}`)"),
    )
}

impl Drop for WsListener {
    fn drop(&mut self) {
        self.http.abort();
    }
}

#[async_trait]
impl Listener for WsListener {
    type Transport = ServerTransport;

    async fn accept(&mut self) -> Option<ServerTransport> {
        self.incoming.recv().await
    }
}

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
        tokio::spawn(async move {
            #[cfg(feature = "tls")]
            if let Some((acceptor, timeout)) = state.tls.clone() {
                // The handshake runs here, in the connection's own task: a slow or broken
                // client never holds up the accept loop.
                match tokio::time::timeout(timeout, acceptor.accept(stream)).await {
                    Ok(Ok(tls)) => serve_http(tls, state, remote).await,
                    Ok(Err(e)) => tracing::info!(error = %e, %remote, "TLS handshake failed"),
                    Err(_) => tracing::info!(?timeout, %remote, "TLS handshake timed out"),
                }
                return;
            }
            serve_http(stream, state, remote).await;
        });
    }
}

async fn serve_http<S>(stream: S, state: Arc<HttpState>, remote: SocketAddr)
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let header_read_timeout = state.options.header_read_timeout;
    let service = hyper::service::service_fn(move |req| handle(req, state.clone(), remote));
    let conn = hyper::server::conn::http1::Builder::new()
        .timer(hyper_util::rt::TokioTimer::new())
        .header_read_timeout(header_read_timeout)
        .serve_connection(TokioIo::new(stream), service)
        .with_upgrades();
    if let Err(e) = conn.await {
        tracing::debug!(error = %e, %remote, "http connection ended with an error");
    }
}

fn plain(status: StatusCode, text: &'static str) -> Response<Body> {
    Response::builder()
        .status(status)
        .header(CONTENT_TYPE, "text/plain; charset=utf-8")
        .body(
            Full::new(Bytes::from_static(text.as_bytes()))
                .map_err(|never| match never {})
                .boxed_unsync(),
        )
        .expect("static response")
}

async fn handle(
    req: Request<Incoming>,
    state: Arc<HttpState>,
    remote: SocketAddr,
) -> Result<Response<Body>, Infallible> {
    let mut response = route(req, &state, remote).await;
    for (name, value) in &state.options.extra_headers {
        response.headers_mut().insert(name.clone(), value.clone());
    }
    Ok(response)
}

async fn route(
    req: Request<Incoming>,
    state: &Arc<HttpState>,
    remote: SocketAddr,
) -> Response<Body> {
    let path = req.uri().path().to_owned();
    if let Some(endpoint) = state.options.ws_endpoint.as_deref() {
        let under = state.options.ws_prefix
            && path
                .strip_prefix(endpoint.trim_end_matches('/'))
                .is_some_and(|rest| rest.starts_with('/'));
        if path == endpoint || under {
            return upgrade(req, state, remote);
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

fn header_has(req: &Request<Incoming>, name: http::HeaderName, token: &str) -> bool {
    req.headers()
        .get_all(name)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|t| t.trim().eq_ignore_ascii_case(token))
}

fn upgrade(req: Request<Incoming>, state: &HttpState, remote: SocketAddr) -> Response<Body> {
    if !header_has(&req, UPGRADE, "websocket") || !header_has(&req, CONNECTION, "upgrade") {
        return plain(
            StatusCode::BAD_REQUEST,
            "this is a WebSocket endpoint: upgrade expected\n",
        );
    }
    if req
        .headers()
        .get(SEC_WEBSOCKET_VERSION)
        .map(|v| v.as_bytes())
        != Some(b"13")
    {
        let mut response = plain(
            StatusCode::UPGRADE_REQUIRED,
            "WebSocket version 13 expected\n",
        );
        response
            .headers_mut()
            .insert(SEC_WEBSOCKET_VERSION, http::HeaderValue::from_static("13"));
        return response;
    }
    let Some(key) = req.headers().get(SEC_WEBSOCKET_KEY) else {
        return plain(StatusCode::BAD_REQUEST, "Sec-WebSocket-Key missing\n");
    };
    let accept = derive_accept_key(key.as_bytes());
    let origin = req
        .headers()
        .get(ORIGIN)
        .and_then(|o| o.to_str().ok())
        .map(str::to_owned);
    if let (Some(allowed), Some(origin)) = (&state.options.allowed_origins, &origin) {
        if !allowed.iter().any(|a| a == origin) {
            tracing::warn!(%origin, %remote, "upgrade refused: origin not allowed");
            return plain(StatusCode::FORBIDDEN, "origin not allowed\n");
        }
    }
    let backend = state.options.backend;
    if !backend.is_available() {
        tracing::error!(%backend, "upgrade refused: backend not in this build");
        return plain(
            StatusCode::NOT_IMPLEMENTED,
            "WebSocket backend not in this build\n",
        );
    }
    let peer = PeerInfo {
        remote_addr: Some(remote),
        origin,
        path: Some(req.uri().path().to_owned()),
        query: req.uri().query().map(str::to_owned),
    };
    let config = WebSocketConfig::default()
        .read_buffer_size(state.options.read_buffer_size)
        .max_message_size(Some(state.options.max_message_size))
        .max_frame_size(Some(state.options.max_message_size));
    let accepted = state.accepted.clone();
    let dead_after = state.options.dead_after;
    #[cfg(feature = "fastwebsockets")]
    let max_message_size = state.options.max_message_size;
    tokio::spawn(async move {
        match hyper::upgrade::on(req).await {
            Ok(upgraded) => {
                let transport = match backend {
                    #[cfg(feature = "fastwebsockets")]
                    WsBackend::FastWebSockets => ServerTransport::fast(FastTransport::new(
                        upgraded,
                        peer,
                        max_message_size,
                        dead_after,
                    )),
                    // Without the feature, `FastWebSockets` was refused above.
                    _ => {
                        let ws = WebSocketStream::from_raw_socket(
                            TokioIo::new(upgraded),
                            Role::Server,
                            Some(config),
                        )
                        .await;
                        ServerTransport::tungstenite(
                            WsTransport::new(ws, peer).dead_after(dead_after),
                        )
                    }
                };
                if accepted.send(transport).await.is_err() {
                    tracing::debug!("upgrade dropped: the server is not accepting");
                }
            }
            Err(e) => tracing::debug!(error = %e, "upgrade failed"),
        }
    });
    Response::builder()
        .status(StatusCode::SWITCHING_PROTOCOLS)
        .header(CONNECTION, "Upgrade")
        .header(UPGRADE, "websocket")
        .header(SEC_WEBSOCKET_ACCEPT, accept)
        .body(
            Full::new(Bytes::new())
                .map_err(|never| match never {})
                .boxed_unsync(),
        )
        .expect("static response")
}
