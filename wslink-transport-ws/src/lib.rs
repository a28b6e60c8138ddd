//! WebSockets for wslink: the server's HTTP side and the client connector.
//!
//! * [`WsListener`] — an HTTP/1.1 server (hyper) that upgrades its endpoint (default
//!   `/ws`) to WebSocket connections for a wslink server, and serves static files
//!   (tower-http) on other paths.
//! * [`connect`] — opens a `ws://` (or `wss://`) connection for a wslink client.
//!
//! * [`WsService`] — the same upgrade as a tower `Service`, to mount in an application's
//!   own axum or hyper router; its [`WsAcceptor`] is the wslink `Listener`.
//!
//! Both sides run on [yawc](https://docs.rs/yawc) and yield [`WsTransport`]s: binary and
//! text messages go to the codec whole, pings are answered, close frames carry the close
//! code, unmasked frames from a client are refused (1002), and the size limit and
//! keepalive hold. permessage-deflate (RFC 7692, [`Deflate`]) is on by default on both
//! sides, without context takeover and with a shared pool of zlib states so that idle
//! connections hold none; inflating is bounded by the same size limit (1009).
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

mod connect;
mod deflate;
mod fragments;
mod handshake;
mod http;
mod keepalive;
pub mod relay;
mod static_files;
mod stream;
#[cfg(feature = "tls")]
pub mod tls;
mod upgrade;

pub use crate::connect::{connect, connect_with, ClientTransport, ConnectOptions};
pub use crate::deflate::Deflate;
pub use crate::http::{HttpOptions, WsListener};
pub use crate::static_files::{StaticBody, StaticFiles};
pub use crate::stream::{WsSink, WsStream, WsTransport};
pub use crate::upgrade::{WsAcceptor, WsService};

/// A connection accepted by a [`WsListener`] or a [`WsService`].
pub type ServerTransport = WsTransport;
/// The writing half of a [`ServerTransport`].
pub type ServerSink = WsSink;
/// The reading half of a [`ServerTransport`].
pub type ServerStream = WsStream;
#[cfg(feature = "tls")]
pub use crate::tls::{TlsConfig, TlsError};
/// The rustls crate this transport is built with (feature `tls`), for
/// [`TlsConfig::from_server_config`] and [`ConnectOptions::tls_config`].
#[cfg(feature = "tls")]
pub use rustls;
