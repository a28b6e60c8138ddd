//! wslink mounted in an axum application: the application keeps its own routes and
//! middleware, and serves a wslink server at `/ws` beside them.
//!
//! `WsService::new` gives the upgrade as a tower service, which the router mounts with
//! `route_service`, and a `WsAcceptor`, which the wslink server serves. The middleware
//! here stamps every answer (the upgrade's included) with a header; the peer address
//! reaches wslink through `ConnectInfo`, copied into the request by a second middleware.
//!
//! Run: `cargo run --example axum_mount`, then open a wslink client on
//! `ws://127.0.0.1:8080/ws` (secret `s3cret`); `curl 127.0.0.1:8080/health` answers `ok`.

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, Request};
use axum::http::HeaderValue;
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use wslink::server::Server;
use wslink::ws::{HttpOptions, WsAcceptor, WsService};

/// The application's router: its own `/health`, wslink at `/ws`, and its middleware on
/// both.
pub(crate) fn app(ws: WsService) -> Router {
    Router::new()
        .route("/health", get(|| async { "ok" }))
        .route_service("/ws", ws)
        .layer(middleware::from_fn(peer_address))
        .layer(middleware::from_fn(stamp))
}

/// The application's own middleware: a header on every answer.
async fn stamp(request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    response
        .headers_mut()
        .insert("x-served-by", HeaderValue::from_static("axum-app"));
    response
}

/// Copies axum's `ConnectInfo` into the `SocketAddr` extension that `WsService` reads
/// for `PeerInfo::remote_addr`.
async fn peer_address(mut request: Request, next: Next) -> Response {
    if let Some(ConnectInfo(addr)) = request.extensions().get::<ConnectInfo<SocketAddr>>() {
        let addr = *addr;
        request.extensions_mut().insert(addr);
    }
    next.run(request).await
}

/// The wslink side: a server with one method, serving what the service upgrades.
pub(crate) fn wslink_server(acceptor: WsAcceptor) -> impl std::future::Future<Output = ()> {
    Server::builder()
        .secret("s3cret")
        .rpc("demo.add", |a: f64, b: f64| async move { Ok(a + b) })
        .build()
        .serve(acceptor)
}

/// Serves the application on `listener` until the task is dropped.
pub(crate) async fn run(listener: tokio::net::TcpListener) -> std::io::Result<()> {
    let (ws, acceptor) = WsService::new(HttpOptions::default());
    tokio::spawn(wslink_server(acceptor));
    let service = app(ws).into_make_service_with_connect_info::<SocketAddr>();
    axum::serve(listener, service).await
}

#[allow(dead_code)] // the test includes this file for `run`, without calling `main`
#[tokio::main]
async fn main() -> std::io::Result<()> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:8080").await?;
    println!(
        "serving http://{}/health and ws://{0}/ws",
        listener.local_addr()?
    );
    run(listener).await
}
