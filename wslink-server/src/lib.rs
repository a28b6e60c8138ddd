//! A wslink server: methods as typed async handlers, tower layers around them, the hello
//! handshake, and publishing to clients.
//!
//! A server is a [`Router`] of [`Handler`]s — plain async functions whose parameters are
//! [extractors](extract) — wrapped in tower layers, with [`HelloAuth`]
//! outermost. Each connection reads frames through the codec, runs its calls
//! concurrently, and writes replies and publications through its own queue, so a slow
//! client never holds up the others. Any [`Transport`](wslink_core::Transport) works: the
//! in-process one for tests, WebSockets (crate `wslink-transport-ws`) for real.
//!
//! ```
//! use wslink_core::memory;
//! use wslink_server::{Context, Server};
//!
//! # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
//! let server = Server::builder()
//!     .secret("s3cret")
//!     .rpc("demo.add", |a: i64, b: i64| async move { Ok(a + b) })
//!     .rpc("demo.shout", |ctx: Context, text: String| async move {
//!         ctx.publish("demo.news", text.to_uppercase()).await?;
//!         Ok(())
//!     })
//!     .build();
//! let handle = server.handle();
//! let (listener, _connector) = memory::listener(16);
//! let running = tokio::spawn(server.serve(listener));
//! handle.shutdown();
//! running.await.unwrap();
//! # });
//! ```
//!
//! # Features
//!
//! * `msgpack` (default): [`Server::builder`] with the 2.x codec.

pub mod cluster;
mod codecs;
mod connection;
pub mod extract;
pub mod handler;
pub mod hello;
mod hub;
mod outbox;
mod projections;
pub mod protocol;
pub mod router;
pub mod server;
mod subscribe_methods;
pub mod subscriptions;

pub use extract::{Args, Auth, Context, Extension, FromCall, Kwargs, State};
pub use handler::Handler;
pub use hello::{Authenticate, HelloAuth, HelloAuthLayer, SharedSecret};
pub use outbox::SlowClientPolicy;
pub use protocol::Protocol;
pub use router::Router;
pub use server::{
    BuildError, ExitPolicy, Server, ServerBuilder, ServerConfig, ServerHandle, DEFAULT_SECRET,
};

/// What the code that `#[wslink::protocol]` writes refers to; not a public API.
#[doc(hidden)]
pub mod __private {
    pub use crate::extract::CallParts;
    pub use crate::handler::CallFuture;
    pub use crate::protocol::{reply_plain, reply_result, FromParam, Presence, Protocol};
    pub use crate::router::Router;
    pub use std::boxed::Box;
    pub use std::sync::Arc;
    pub use wslink_core::{Call, RpcError};
}
pub use subscriptions::{SubscribeError, SubscriberEvent, SubscriptionLimits};

#[cfg(feature = "msgpack")]
impl Server {
    /// A builder for a 2.x (msgpack) server; see [`ServerBuilder`].
    pub fn builder() -> ServerBuilder {
        ServerBuilder::new()
    }
}
