//! Publications across wslink server nodes through [Redis](https://redis.io) pub/sub.
//!
//! Every node of an application connects to the same Redis server; a publication made
//! on any node reaches the matching clients of every node. See
//! [`wslink_server::cluster`] for the design and the delivery guarantee (at most once,
//! in order per publishing node and topic).
//!
//! ```no_run
//! use wslink_pubsub_redis::RedisBackend;
//! use wslink_server::Server;
//!
//! # fn run() -> Result<(), wslink_pubsub_redis::RedisError> {
//! let server = Server::builder()
//!     .pubsub(RedisBackend::new("redis://127.0.0.1:6379", "myapp")?)
//!     .build();
//! # drop(server);
//! # Ok(())
//! # }
//! ```
//!
//! Channels are `NS.b.TOPIC` for ordinary topics (every node pattern-subscribes to
//! `NS.b.*`) and `NS.s.TOPIC` for subscribers-only topics, subscribed to by a node only
//! while one of its connections subscribes to them. Redis sends a node its own
//! publications too; the node recognises and skips them.
//!
//! Each node holds two connections: one subscribed, one to publish. While Redis is
//! unreachable (at start too), the node retries, waiting at most
//! [`RedisBackend::max_retry_delay`] between attempts, and publications reach its own
//! clients only. Redis closes a subscriber that falls too far behind
//! (`client-output-buffer-limit pubsub`); that node reconnects and misses what was sent
//! meanwhile, and the others never wait for it.

mod backend;
mod listen;

pub use backend::{RedisBackend, RedisError};
