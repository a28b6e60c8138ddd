//! Publications across wslink server nodes through [NATS](https://nats.io).
//!
//! Every node of an application connects to the same NATS server (or cluster) and
//! listens to its application's subjects; a publication made on any node reaches the
//! matching clients of every node. See [`wslink_server::cluster`] for the design and
//! the delivery guarantee (at most once, in order per publishing node and topic).
//!
//! ```no_run
//! use wslink_pubsub_nats::NatsBackend;
//! use wslink_server::Server;
//!
//! # async fn run() -> Result<(), wslink_pubsub_nats::NatsError> {
//! let server = Server::builder()
//!     .pubsub(NatsBackend::new("nats://127.0.0.1:4222", "myapp")?)
//!     .build();
//! # drop(server);
//! # Ok(())
//! # }
//! ```
//!
//! Subjects are `NS.b.TOPIC` for ordinary topics (every node subscribes to `NS.b.>`) and
//! `NS.s.TOPIC` for subscribers-only topics, subscribed to by a node only while one of
//! its connections subscribes to them, so NATS does not send them to the others. The
//! connection is made with *no echo*: NATS never sends a node its own publications.
//!
//! NATS refuses messages above its `max_payload` (1 MiB by default; up to 64 MiB in the
//! server's configuration): a larger publication reaches the publishing node's own
//! clients only, and a warning is logged.
//!
//! While the NATS server is unreachable (at start too) the client retries forever,
//! waiting at most [`NatsBackend::max_retry_delay`] between attempts, and logs each
//! change of state; subscriptions are renewed on reconnection.

mod backend;
mod listen;

pub use backend::{NatsBackend, NatsError};
