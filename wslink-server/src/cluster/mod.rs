//! Publications across server nodes: the seam between the local fan-out and a broker.
//!
//! One server process only reaches its own connections. Several processes serving one
//! application (a *cluster* of nodes) share publications through a broker: NATS
//! (crate `wslink-pubsub-nats`), Redis pub/sub (crate `wslink-pubsub-redis`), or any
//! [`Backend`]. Give the builder one with
//! [`ServerBuilder::pubsub`](crate::ServerBuilder::pubsub); without it a server is a
//! single node and nothing here runs.
//!
//! # How a publication travels
//!
//! ```text
//! publish(topic, data, target)            on node B
//!   ├─ encoded once as a Packet ──► Backend ──► broker ──► Backend on node A
//!   │                                                        └─ Incoming::deliver
//!   │                                                             └─ local fan-out on A
//!   └─ local fan-out on B (B's own clients, never through the broker)
//! ```
//!
//! The *local fan-out* (the registry of connections, their queues, encoding once per
//! wire generation and projection) is the same on every node; a backend only moves
//! opaque [`Packet`]s. Each node applies [`Target`](wslink_core::Target), the
//! subscriptions and their filters to its own connections, so `Target::Client(id)`
//! reaches that client wherever it is connected (client ids are 128 random bits,
//! unique across nodes) and `Target::AllExcept(id)` skips it wherever it is. A
//! `Target::Client` of a client connected to the publishing node stays on that node.
//!
//! # Channels
//!
//! Packets go on one channel per topic, named by [`Channels`] under the application's
//! namespace: `NS.b.TOPIC` for ordinary topics, which every node listens to, and
//! `NS.s.TOPIC` for subscribers-only topics
//! ([`ServerBuilder::subscribers_only`](crate::ServerBuilder::subscribers_only)), which
//! a node listens to only while one of its connections subscribes to a topic covering
//! them ([`Incoming::interest`]). So a node without a subscriber is not sent such a
//! publication at all. Two applications share a broker by using different namespaces.
//! Every node of one application must declare the same subscribers-only topics.
//!
//! # Delivery guarantee
//!
//! **At most once, in order per publishing node and topic.** A publication reaches each
//! node's connections at most once; none is stored or retried. While the broker is
//! unreachable, publications still reach the publishing node's own clients; packets for
//! the other nodes wait in a bounded queue ([`ClusterLimits::queue`]); a publisher
//! that finds it full waits a bounded time for room ([`ClusterLimits::wait`]), after
//! which packets are dropped (and logged) until it drains. A node that falls behind the broker is the broker's
//! to cut off (NATS drops a slow consumer's messages, Redis closes it): the other nodes
//! never wait for it. Publications made while a node is away are not replayed to it.

mod channels;
mod incoming;
mod node;
mod packet;
mod wire;

use std::time::Duration;

use async_trait::async_trait;

pub use channels::{Channels, InvalidNamespace};
pub use incoming::Incoming;
pub use packet::{Outgoing, Packet, PacketKind};

pub(crate) use node::{interest_hook, ClusterPubSub, Pending};

/// Bounds of a node's link to its broker.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClusterLimits {
    /// Packets waiting for the backend (default 4096).
    pub queue: usize,
    /// How long a publication waits for room in a full queue (default 1 s) before it is
    /// not sent to the other nodes (it reaches this node's clients first, whatever
    /// happens). After such a wait runs out, publications are not sent on, without
    /// waiting, until the queue has room again.
    pub wait: Duration,
    /// Largest packet accepted from the broker (default 256 MiB, as a message from a
    /// client); larger ones are dropped with a warning.
    pub max_packet: usize,
}

impl Default for ClusterLimits {
    fn default() -> Self {
        ClusterLimits {
            queue: 4096,
            wait: Duration::from_secs(1),
            max_packet: wslink_core::DecodeLimits::DEFAULT_MESSAGE_SIZE,
        }
    }
}

/// What moves [`Packet`]s between the nodes of an application: a broker client.
///
/// [`Backend::run`] is spawned once, when the server starts serving. It must:
///
/// * send every packet of [`Outgoing::recv`] on [`Channels::of`] its packet;
/// * listen to [`Channels::broadcast`] (with the broker's wildcard) and to the channel
///   of each pattern of [`Incoming::interest`], following its changes;
/// * hand every payload it receives to [`Incoming::deliver`], in the order received;
/// * keep retrying while the broker is unreachable (at start too), saying so in the
///   logs, without ever blocking the server: packets it cannot send may be dropped;
/// * return once [`Incoming::stopped`] resolves.
#[async_trait]
pub trait Backend: Send + 'static {
    /// The broker, for logs (e.g. `nats://127.0.0.1:4222`).
    fn describe(&self) -> String;

    /// Moves packets until the server stops.
    async fn run(self: Box<Self>, outgoing: Outgoing, incoming: Incoming);
}

#[async_trait]
impl Backend for Box<dyn Backend> {
    fn describe(&self) -> String {
        (**self).describe()
    }

    async fn run(self: Box<Self>, outgoing: Outgoing, incoming: Incoming) {
        (*self).run(outgoing, incoming).await
    }
}

impl std::fmt::Debug for dyn Backend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Backend({})", self.describe())
    }
}

/// How long a backend waits before its next attempt to reach the broker after `failures`
/// failed ones: 50 ms, doubling each time, at most `max`. The one back-off of every
/// backend, so that they all retry alike.
pub fn retry_delay(failures: u32, max: Duration) -> Duration {
    Duration::from_millis(50)
        .saturating_mul(1 << failures.min(16))
        .min(max)
}

#[cfg(test)]
mod retry_tests {
    use super::*;

    #[test]
    fn retries_back_off_up_to_the_limit() {
        let max = Duration::from_secs(1);
        assert_eq!(retry_delay(0, max), Duration::from_millis(50));
        assert_eq!(retry_delay(2, max), Duration::from_millis(200));
        assert_eq!(retry_delay(3, max), Duration::from_millis(400));
        assert_eq!(retry_delay(100, max), max);
    }
}
