//! A wslink client: hello with a secret, many calls in flight matched by id, and
//! subscriptions as streams.
//!
//! Works over any [`Transport`](wslink_core::Transport): WebSockets to a real server
//! (crate `wslink-transport-ws`), or the in-process transport in tests.
//!
//! ```
//! use wslink_client::Client;
//! use wslink_core::{memory, Map};
//! use wslink_server::Server;
//!
//! # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
//! let server = Server::builder()
//!     .rpc("demo.add", |a: i64, b: i64| async move { Ok(a + b) })
//!     .build();
//! let (listener, connector) = memory::listener(16);
//! tokio::spawn(server.serve(listener));
//!
//! let client = Client::connect(connector.connect().await.unwrap(), wslink_client::DEFAULT_SECRET).await.unwrap();
//! let sum: i64 = client.call_as("demo.add", vec![2.into(), 3.into()]).await.unwrap();
//! assert_eq!(sum, 5);
//! # });
//! ```
//!
//! # Features
//!
//! * `msgpack` (default): [`Client::builder`] and [`Client::connect`] with the 2.x codec.

mod client;
mod error;
mod server_subs;
mod subscription;
mod typed;

pub use client::{
    Client, ClientBuilder, ClientConfig, ReconnectPolicy, DEFAULT_SECRET, PRE_HELLO_FRAME_SIZE,
};
pub use error::ClientError;
pub use subscription::Subscription;
pub use typed::{Arguments, TypedSubscription};

/// What the typed clients that `#[wslink::protocol]` writes refer to; not a public API.
#[doc(hidden)]
pub mod __private {
    pub use crate::{Arguments, Client, ClientError, TypedSubscription};
    pub use wslink_core::{Map, Value};
}
