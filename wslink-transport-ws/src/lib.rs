//! WebSockets for wslink: the server's HTTP side and the client connector.
//!
//! * [`WsListener`] — an HTTP/1.1 server (hyper) that upgrades its endpoint (default
//!   `/ws`) to WebSocket connections for a wslink server, and serves static files
//!   (tower-http) on other paths.
//! * [`connect`] — opens a `ws://` (or `wss://`) connection for a wslink client.
//!
//! The client yields [`WsTransport`]s (tokio-tungstenite framing); the listener yields
//! [`ServerTransport`]s, on tokio-tungstenite too unless [`HttpOptions::backend`] picks
//! fastwebsockets ([`WsBackend`]). Either way binary and text messages go to the codec
//! whole, pings are answered, close frames carry the close code, and the size limit and
//! keepalive of [`HttpOptions`] hold.
//!
//! # Features
//!
//! * `tls` (on by default) — TLS with rustls and its `ring` crypto provider (aws-lc-rs is
//!   never pulled in): `HttpOptions::tls` takes a `TlsConfig` (a PEM certificate chain
//!   and key, like the reference's `--ssl cert.pem,key.pem`) and the listener serves
//!   `https://` and `wss://`; [`connect`] accepts `wss://` URLs, checking the server against
//!   the platform's root certificates plus `ConnectOptions::extra_roots`. Turn default
//!   features off to build without any TLS code.
//! * `tls-adhoc` — `TlsConfig::self_signed`: a throw-away self-signed certificate made in
//!   memory (rcgen), like the reference's `--ssl adhoc`.
//! * `fastwebsockets` — a second server-side WebSocket implementation,
//!   [fastwebsockets](https://docs.rs/fastwebsockets), chosen per listener with
//!   `HttpOptions { backend: WsBackend::FastWebSockets, ..Default::default() }` (the
//!   default stays [`WsBackend::Tungstenite`]). Same HTTP side and handshake, same
//!   limits, keepalive and close codes; writes are batched until `flush` and go out
//!   with vectored writes, and a plain TCP connection is read and written from its two
//!   tasks without a lock. The client ([`connect()`]) always uses tokio-tungstenite.
//!   Without the feature, [`WsBackend::FastWebSockets`] still exists (so flags and
//!   configurations naming it build) but binding a listener with it fails.
//!
//! ```no_run
//! use wslink_transport_ws::{connect, HttpOptions, WsListener};
//!
//! # async fn demo() -> std::io::Result<()> {
//! let listener = WsListener::bind("127.0.0.1:0", HttpOptions::default()).await?;
//! let url = format!("ws://{}/ws", listener.local_addr());
//! // hand `listener` to a wslink server: `server.serve(listener)`
//! let transport = connect(&url).await.expect("connects");
//! # drop(transport);
//! # Ok(()) }
//! ```

mod backend;
mod connect;
#[cfg(feature = "fastwebsockets")]
mod fast;
mod http;
mod keepalive;
pub mod relay;
mod static_files;
mod stream;
#[cfg(feature = "tls")]
pub mod tls;

pub use crate::backend::{
    ParseWsBackendError, ServerSink, ServerStream, ServerTransport, WsBackend,
};
pub use crate::connect::{connect, connect_with, ClientTransport, ConnectOptions};
pub use crate::http::{HttpOptions, WsListener};
pub use crate::static_files::{StaticBody, StaticFiles};
pub use crate::stream::{WsSink, WsStream, WsTransport};
#[cfg(feature = "tls")]
pub use crate::tls::{TlsConfig, TlsError};
/// The rustls crate this transport is built with (feature `tls`), for
/// [`TlsConfig::from_server_config`] and [`ConnectOptions::tls_config`].
#[cfg(feature = "tls")]
pub use rustls;
