//! The server side of the WebSocket upgrade, as a tower [`Service`]: [`WsService`].
//!
//! [`WsService::new`] makes a service and its [`WsAcceptor`]. The service answers HTTP
//! upgrade requests (`101 Switching Protocols`, or a clear 4xx for a request that is not
//! one), and every upgraded connection comes out of the acceptor, a wslink
//! [`Listener`]: hand it to a wslink server (`server.serve(acceptor)`). Mount the service
//! in an application's own router — with axum,
//! `Router::new().route_service("/ws", service)` — beside its own routes, middleware and
//! TLS. [`WsListener`](crate::WsListener) is the same service behind its own hyper
//! server.
//!
//! Checks, in order: `Upgrade: websocket` and `Connection: upgrade` (400 otherwise),
//! `Sec-WebSocket-Version: 13` (426), a `Sec-WebSocket-Key` (400), the `Origin` against
//! [`HttpOptions::allowed_origins`] (403). permessage-deflate is accepted when the client
//! offers it and [`HttpOptions::deflate`] is on. The peer address of
//! [`PeerInfo::remote_addr`] is the request's `SocketAddr` extension, if it has one
//! (`WsListener` adds it; in axum, copy `ConnectInfo<SocketAddr>` into one with a
//! `map_request` layer).

use std::convert::Infallible;
use std::future::{ready, Future, Ready};
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::{Arc, OnceLock};
use std::task::{Context, Poll};

use async_trait::async_trait;
use bytes::Bytes;
use http::header::{
    CONNECTION, CONTENT_TYPE, ORIGIN, SEC_WEBSOCKET_KEY, SEC_WEBSOCKET_VERSION, UPGRADE,
};
use http::{HeaderName, HeaderValue, Request, Response, StatusCode};
use http_body_util::{BodyExt, Full};
use tokio::sync::mpsc;
use tower::Service;
use wslink_core::{Listener, PeerInfo, ServeConnection};
use yawc::{DeflatePool, WebSocket};

use crate::http::HttpOptions;
use crate::static_files::StaticBody;
use crate::stream::WsTransport;

/// A tower [`Service`] that upgrades HTTP requests to WebSocket connections for a
/// wslink server; cheap to clone. Mount it (axum: `Router::route_service("/ws", service)`)
/// and serve its [`WsAcceptor`]. It answers 400 to a request that is not an upgrade, 426
/// to a WebSocket version other than 13, 403 to an `Origin` not allowed.
///
/// ```no_run
/// use wslink_transport_ws::{HttpOptions, WsService};
///
/// let (service, acceptor) = WsService::new(HttpOptions::default());
/// // axum: Router::new().route_service("/ws", service)
/// // wslink: server.serve(acceptor)
/// # drop((service, acceptor));
/// ```
#[derive(Debug, Clone)]
pub struct WsService {
    upgrader: Arc<Upgrader>,
}

/// Where the connections a [`WsService`] upgraded arrive: a wslink [`Listener`].
#[derive(Debug)]
pub struct WsAcceptor {
    incoming: mpsc::Receiver<WsTransport>,
    upgrader: Arc<Upgrader>,
}

impl WsService {
    /// A service with the WebSocket settings of `options` (`max_message_size`,
    /// `read_buffer_size`, `dead_after`, `deflate`, `allowed_origins`, `extra_headers`,
    /// `backlog`; the others belong to `WsListener`), and the acceptor of its
    /// connections.
    pub fn new(options: HttpOptions) -> (WsService, WsAcceptor) {
        let (tx, rx) = mpsc::channel(options.backlog.max(1));
        let upgrader = Arc::new(Upgrader {
            pool: options.deflate.pool(),
            options,
            accepted: tx,
            inline: OnceLock::new(),
        });
        (
            WsService {
                upgrader: upgrader.clone(),
            },
            WsAcceptor {
                incoming: rx,
                upgrader,
            },
        )
    }

    /// Answers one request (the work of [`Service::call`]); an upgrade is finished by a
    /// task of its own once hyper hands the connection over.
    pub(crate) fn answer<B>(
        &self,
        req: Request<B>,
        remote: Option<SocketAddr>,
    ) -> Response<StaticBody>
    where
        B: Send + 'static,
    {
        let (response, pending) = self.answer_deferred(req, remote);
        if let Some(pending) = pending {
            tokio::spawn(pending.finish());
        }
        response
    }

    /// Answers one request, leaving an accepted upgrade to the caller: it is to be
    /// [finished](PendingUpgrade::finish) once hyper is done with the connection.
    pub(crate) fn answer_deferred<B>(
        &self,
        req: Request<B>,
        remote: Option<SocketAddr>,
    ) -> (Response<StaticBody>, Option<PendingUpgrade>)
    where
        B: Send + 'static,
    {
        let (mut response, pending) = self.upgrader.upgrade(req, remote);
        add_headers(&mut response, &self.upgrader.options.extra_headers);
        (response, pending)
    }
}

/// Adds the configured headers ([`HttpOptions::extra_headers`]) to a response.
pub(crate) fn add_headers<B>(response: &mut Response<B>, headers: &[(HeaderName, HeaderValue)]) {
    for (name, value) in headers {
        response.headers_mut().insert(name.clone(), value.clone());
    }
}

impl<B: Send + 'static> Service<Request<B>> for WsService {
    type Response = Response<StaticBody>;
    type Error = Infallible;
    type Future = Ready<Result<Response<StaticBody>, Infallible>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: Request<B>) -> Self::Future {
        let remote = req.extensions().get::<SocketAddr>().copied();
        ready(Ok(self.answer(req, remote)))
    }
}

#[async_trait]
impl Listener for WsAcceptor {
    type Transport = WsTransport;

    async fn accept(&mut self) -> Option<WsTransport> {
        self.incoming.recv().await
    }

    fn serve_inline(&mut self, serve: ServeConnection<WsTransport>) -> bool {
        self.upgrader.inline.set(serve).is_ok()
    }
}

struct Upgrader {
    options: HttpOptions,
    pool: DeflatePool,
    /// Where upgraded connections go, unless the server runs them inline.
    accepted: mpsc::Sender<WsTransport>,
    /// The server's connection loop, once it asked to run connections inline
    /// ([`Listener::serve_inline`]).
    inline: OnceLock<ServeConnection<WsTransport>>,
}

impl std::fmt::Debug for Upgrader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Upgrader")
            .field("options", &self.options)
            .field("inline", &self.inline.get().is_some())
            .finish_non_exhaustive()
    }
}

/// An upgrade answered (`101`) but not yet handed over by hyper.
pub(crate) struct PendingUpgrade {
    upgraded: yawc::UpgradeFut,
    peer: PeerInfo,
    extensions: Option<String>,
    upgrader: Arc<Upgrader>,
}

impl PendingUpgrade {
    /// Waits for hyper to hand the connection over (at once when hyper is done with it),
    /// then runs it with the server's loop, in this task, if the server asked for that;
    /// else queues it for [`WsAcceptor::accept`].
    pub(crate) async fn finish(self) {
        // Boxed, so that what the upgrade needed is given back before the connection
        // runs in this task for as long as it lasts: only the connection's own (boxed)
        // future stays.
        if let Some(connection) = Box::pin(self.open()).await {
            connection.await;
        }
    }

    /// The upgraded connection, as the future that serves it.
    async fn open(self) -> Option<Pin<Box<dyn Future<Output = ()> + Send>>> {
        let ws = match self.upgraded.await {
            Ok(ws) => ws,
            Err(e) => {
                tracing::debug!(error = %e, "upgrade failed");
                return None;
            }
        };
        let options = &self.upgrader.options;
        let transport = WsTransport::new(ws, self.peer, self.extensions)
            .dead_after(options.dead_after)
            .max_message_size(options.max_message_size);
        if let Some(serve) = self.upgrader.inline.get() {
            return Some(serve(transport));
        }
        let accepted = self.upgrader.accepted.clone();
        Some(Box::pin(async move {
            if accepted.send(transport).await.is_err() {
                tracing::debug!("upgrade dropped: the server is not accepting");
            }
        }))
    }
}

/// A plain-text answer.
pub(crate) fn plain(status: StatusCode, text: &'static str) -> Response<StaticBody> {
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

fn header_has<B>(req: &Request<B>, name: HeaderName, token: &str) -> bool {
    req.headers()
        .get_all(name)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|t| t.trim().eq_ignore_ascii_case(token))
}

impl Upgrader {
    fn ws_options(&self) -> yawc::Options {
        let limit = crate::stream::yawc_limit(self.options.max_message_size);
        yawc::Options {
            max_payload_read: Some(limit),
            max_read_buffer: Some(limit),
            read_buffer_capacity: Some(self.options.read_buffer_size),
            max_backpressure_write_boundary: Some(self.options.write_batch_size.max(1)),
            compression: self.options.deflate.options(Some(&self.pool)),
            check_utf8: true,
            ..yawc::Options::default()
        }
    }

    /// The answer refusing `req`, if it is not an acceptable upgrade request.
    fn refusal<B>(&self, req: &Request<B>) -> Option<Response<StaticBody>> {
        if !header_has(req, UPGRADE, "websocket") || !header_has(req, CONNECTION, "upgrade") {
            return Some(plain(
                StatusCode::BAD_REQUEST,
                "this is a WebSocket endpoint: upgrade expected\n",
            ));
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
                .insert(SEC_WEBSOCKET_VERSION, HeaderValue::from_static("13"));
            return Some(response);
        }
        if req.headers().get(SEC_WEBSOCKET_KEY).is_none() {
            return Some(plain(
                StatusCode::BAD_REQUEST,
                "Sec-WebSocket-Key missing\n",
            ));
        }
        let origin = req.headers().get(ORIGIN).and_then(|o| o.to_str().ok());
        if let (Some(allowed), Some(origin)) = (&self.options.allowed_origins, origin) {
            if !allowed.iter().any(|a| a == origin) {
                tracing::warn!(%origin, "upgrade refused: origin not allowed");
                return Some(plain(StatusCode::FORBIDDEN, "origin not allowed\n"));
            }
        }
        None
    }

    fn upgrade<B>(
        self: &Arc<Self>,
        mut req: Request<B>,
        remote: Option<SocketAddr>,
    ) -> (Response<StaticBody>, Option<PendingUpgrade>)
    where
        B: Send + 'static,
    {
        if let Some(refused) = self.refusal(&req) {
            return (refused, None);
        }
        let peer = PeerInfo {
            remote_addr: remote,
            origin: req
                .headers()
                .get(ORIGIN)
                .and_then(|o| o.to_str().ok())
                .map(str::to_owned),
            path: Some(req.uri().path().to_owned()),
            query: req.uri().query().map(str::to_owned),
        };
        let (response, upgraded) =
            match WebSocket::upgrade_with_options(&mut req, self.ws_options()) {
                Ok(upgrade) => upgrade,
                Err(e) => {
                    tracing::info!(error = %e, "upgrade refused");
                    let refused = plain(StatusCode::BAD_REQUEST, "bad WebSocket upgrade request\n");
                    return (refused, None);
                }
            };
        let extensions = response
            .headers()
            .get(http::header::SEC_WEBSOCKET_EXTENSIONS)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let pending = PendingUpgrade {
            upgraded,
            peer,
            extensions,
            upgrader: self.clone(),
        };
        let response = response.map(|body| body.map_err(|never| match never {}).boxed_unsync());
        (response, Some(pending))
    }
}
