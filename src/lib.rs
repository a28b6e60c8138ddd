//! wslink for Rust: RPC and publish/subscribe over WebSockets, wire-compatible with the
//! wslink peers that ParaView Web, VTK and trame applications use.
//!
//! This crate re-exports the workspace's crates; pick them with features:
//!
//! | feature | default | brings |
//! |---|---|---|
//! | `server` | yes | [`server`]: routers of typed handlers, hello auth, publishing |
//! | `client` | yes | [`client`]: calls and subscriptions |
//! | `msgpack` | yes | [`msgpack`]: the 2.x codec |
//! | `json` | yes | [`json`]: the 1.x codec (JSON text frames with binary attachments) |
//! | `ws` | yes | [`ws`]: WebSocket transport (server side and `ws://`/`wss://` connector) |
//! | `macros` | yes | [`protocol`]: `#[wslink::protocol]`, a server's methods and a typed client from one `impl` block |
//! | `cli` | no | `cli`: the reference server's flags, and the `wslink`, `wslink-relay` and `wslink-test-server` commands (clap, tracing-subscriber, `--ssl adhoc` certificates) |
//! | `interop` | no | nothing in the library: turns on the tests against the real peers (`interop/setup.sh`) |
//! | `nats` | no | [`nats`]: publications across server nodes through NATS, and `--pubsub nats://…` in `cli` servers |
//! | `redis` | no | [`redis`]: the same through Redis pub/sub, and `--pubsub redis://…` |
//!
//! The message model and the traits ([`Value`], [`Codec`], [`Transport`], …) are always
//! here, from `wslink-core`.
//!
//! ```
//! use wslink::client::Client;
//! use wslink::memory;
//! use wslink::server::{Context, Server};
//!
//! # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
//! let server = Server::builder()
//!     .rpc("chat.say", |ctx: Context, text: String| async move {
//!         ctx.publish("chat.lines", text).await?;
//!         Ok(())
//!     })
//!     .build();
//! let (listener, connector) = memory::listener(16);
//! tokio::spawn(server.serve(listener));
//!
//! let client = Client::connect(connector.connect().await.unwrap(), wslink::client::DEFAULT_SECRET).await.unwrap();
//! let mut lines = client.subscribe("chat.lines").unwrap();
//! client.call("chat.say", vec!["hi".into()], Default::default()).await.unwrap();
//! assert_eq!(lines.recv().await.unwrap(), wslink::Value::from("hi"));
//! # });
//! ```

pub use wslink_core as core;
pub use wslink_core::*;

/// The server (feature `server`).
#[cfg(feature = "server")]
pub use wslink_server as server;

/// The client (feature `client`).
#[cfg(feature = "client")]
pub use wslink_client as client;

/// The 2.x msgpack codec (feature `msgpack`).
#[cfg(feature = "msgpack")]
pub use wslink_codec_msgpack as msgpack;

/// The 1.x JSON codec (feature `json`).
#[cfg(feature = "json")]
pub use wslink_codec_json as json;

/// WebSocket transport: the HTTP server side and the client connector (feature `ws`).
#[cfg(feature = "ws")]
pub use wslink_transport_ws as ws;

/// `#[wslink::protocol]`: exported methods on an impl block give the server's methods and
/// a typed client (feature `macros`); see [`server::protocol`].
#[cfg(feature = "macros")]
pub use wslink_macros::protocol;

/// Publications across server nodes through NATS (feature `nats`); see
/// [`server::cluster`].
#[cfg(feature = "nats")]
pub use wslink_pubsub_nats as nats;

/// Publications across server nodes through Redis pub/sub (feature `redis`); see
/// [`server::cluster`].
#[cfg(feature = "redis")]
pub use wslink_pubsub_redis as redis;

#[cfg(feature = "cli")]
mod broker;
#[cfg(feature = "cli")]
pub mod cli;
