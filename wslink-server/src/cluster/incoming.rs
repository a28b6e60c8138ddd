//! What a backend hands received packets to, and what it listens to.

use std::collections::BTreeSet;
use std::sync::Arc;

use bytes::Bytes;
use tokio::sync::watch;
use wslink_core::PubSub;

use super::wire;
use crate::hub::Hub;

/// This node's side of the broker: deliver what arrives, follow what to listen to, know
/// when to stop. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Incoming {
    hub: Arc<Hub>,
    origin: Arc<str>,
    interest: watch::Receiver<BTreeSet<String>>,
    shutdown: watch::Receiver<bool>,
    max_packet: usize,
    max_depth: usize,
}

impl Incoming {
    pub(crate) fn new(
        hub: Arc<Hub>,
        origin: Arc<str>,
        interest: watch::Receiver<BTreeSet<String>>,
        shutdown: watch::Receiver<bool>,
        max_packet: usize,
        max_depth: usize,
    ) -> Incoming {
        Incoming {
            hub,
            origin,
            interest,
            shutdown,
            max_packet,
            max_depth,
        }
    }

    /// Delivers a payload received from the broker to this node's clients; returns how
    /// many it was queued for. A packet this node published itself (a broker echoing it)
    /// is skipped: its clients had it already. A malformed one is dropped with a warning.
    pub async fn deliver(&self, payload: Bytes) -> usize {
        let remote = match wire::decode(&payload, self.max_packet, self.max_depth) {
            Ok(remote) => remote,
            Err(e) => {
                tracing::warn!(error = %e, "pub/sub: dropping a packet from the broker");
                return 0;
            }
        };
        if *remote.origin == *self.origin {
            return 0;
        }
        let (topic, data, target) = (remote.topic, remote.data, remote.target);
        match self.hub.publish(&topic, data, target).await {
            Ok(n) => n,
            Err(e) => {
                tracing::warn!(error = %e, topic, "pub/sub: cannot deliver a packet");
                0
            }
        }
    }

    /// The topics (as subscribed: `a.b`, `a.*`) that connections of this node hold
    /// server-side subscriptions on, among those that may carry subscribers-only
    /// publications; listen to their [`Channels::interest`] channels.
    ///
    /// [`Channels::interest`]: super::Channels::interest
    pub fn interest(&self) -> watch::Receiver<BTreeSet<String>> {
        self.interest.clone()
    }

    /// Resolves once the server stops.
    pub async fn stopped(&self) {
        let mut shutdown = self.shutdown.clone();
        let _ = shutdown.wait_for(|stop| *stop).await;
    }

    /// This node's id, unique per server (it marks the packets it sends).
    pub fn node_id(&self) -> &str {
        &self.origin
    }
}
