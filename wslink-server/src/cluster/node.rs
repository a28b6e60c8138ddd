//! A node's publishing: its own clients directly, the other nodes through the backend.

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use tokio::sync::{mpsc, watch};
use tracing::Instrument;
use wslink_core::id::is_valid_topic;
use wslink_core::{ClientId, PubSub, PublishError, Target, TopicPattern, Value};

use super::packet::{Outgoing, Packet, PacketKind};
use super::{wire, Backend, ClusterLimits, Incoming};
use crate::hub::Hub;
use crate::subscriptions::{SubscriberEvent, SubscriberHook};

/// The [`PubSub`] of a node in a cluster.
pub(crate) struct ClusterPubSub {
    hub: Arc<Hub>,
    origin: Arc<str>,
    tx: mpsc::Sender<Packet>,
    /// How long a publication waits for room in a full queue.
    wait: Duration,
    /// Packets dropped on a full queue so far.
    dropped: AtomicU64,
    /// Whether the last packet was dropped (to log the start of a run of drops once).
    dropping: AtomicBool,
}

impl std::fmt::Debug for ClusterPubSub {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClusterPubSub")
            .field("origin", &self.origin)
            .field("dropped", &self.dropped.load(Ordering::Relaxed))
            .finish()
    }
}

/// A backend waiting for the server to start serving.
pub(crate) struct Pending {
    backend: Box<dyn Backend>,
    outgoing: Outgoing,
    incoming: Incoming,
}

impl std::fmt::Debug for Pending {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pending")
            .field("backend", &self.backend)
            .finish()
    }
}

impl Pending {
    /// Spawns the backend.
    pub(crate) fn start(self) {
        let span = tracing::info_span!("pubsub", broker = %self.backend.describe(), node = %self.incoming.node_id());
        tracing::info!(parent: &span, "pub/sub: connecting (publications stay on this node until the broker answers)");
        tokio::spawn(
            self.backend
                .run(self.outgoing, self.incoming)
                .instrument(span),
        );
    }
}

/// Keeps the set of subscribed topics (as written) that may carry subscribers-only
/// publications: the channels a backend listens to beyond the broadcast ones.
pub(crate) fn interest_hook(
    subscribers_only: &[TopicPattern],
) -> (SubscriberHook, watch::Receiver<BTreeSet<String>>) {
    let (tx, rx) = watch::channel(BTreeSet::new());
    let only = subscribers_only.to_vec();
    let hook = move |event: &SubscriberEvent| {
        let (SubscriberEvent::First(topic) | SubscriberEvent::Last(topic)) = event;
        let relevant = TopicPattern::parse(topic)
            .is_some_and(|subscribed| only.iter().any(|p| overlaps(p, &subscribed)));
        if !relevant {
            return;
        }
        tx.send_modify(|topics| match event {
            SubscriberEvent::First(t) => {
                topics.insert(t.clone());
            }
            SubscriberEvent::Last(t) => {
                topics.remove(t);
            }
        });
    };
    (Arc::new(hook), rx)
}

/// `true` if some topic falls under both patterns.
fn overlaps(a: &TopicPattern, b: &TopicPattern) -> bool {
    match (a, b) {
        (TopicPattern::Exact(x), TopicPattern::Exact(y)) => x == y,
        (TopicPattern::Exact(t), p) | (p, TopicPattern::Exact(t)) => p.covers(t),
        (TopicPattern::Prefix(x), TopicPattern::Prefix(y)) => {
            x.starts_with(y.as_str()) || y.starts_with(x.as_str())
        }
    }
}

impl ClusterPubSub {
    /// The node's publishing and its backend, not started yet.
    pub(crate) fn new(
        hub: Arc<Hub>,
        backend: Box<dyn Backend>,
        limits: &ClusterLimits,
        max_depth: usize,
        interest: watch::Receiver<BTreeSet<String>>,
        shutdown: watch::Receiver<bool>,
    ) -> (Arc<ClusterPubSub>, Pending) {
        // 128 random bits, as a client id has.
        let origin: Arc<str> = format!("n{}", &ClientId::random().as_str()[1..]).into();
        let (tx, rx) = mpsc::channel(limits.queue.max(1));
        let incoming = Incoming::new(
            hub.clone(),
            origin.clone(),
            interest,
            shutdown,
            limits.max_packet,
            max_depth,
        );
        let node = Arc::new(ClusterPubSub {
            hub,
            origin,
            tx,
            wait: limits.wait,
            dropped: AtomicU64::new(0),
            dropping: AtomicBool::new(false),
        });
        let pending = Pending {
            backend,
            outgoing: Outgoing::new(rx),
            incoming,
        };
        (node, pending)
    }

    /// The packet of a publication, encoded once for every other node.
    fn packet(&self, topic: &str, data: &Value, target: &Target) -> Result<Packet, PublishError> {
        let payload = wire::encode(&self.origin, topic, target, data)?;
        let kind = match self.hub.subscriptions().is_subscribers_only(topic) {
            true => PacketKind::SubscribersOnly,
            false => PacketKind::Broadcast,
        };
        Ok(Packet::new(kind, topic.to_owned(), payload))
    }

    /// Queues a packet for the backend. A full queue is waited for, up to
    /// [`ClusterLimits::wait`]; after a wait that ran out, packets are dropped at once
    /// until the queue has room again (so a broker that is down costs one wait, not one
    /// per publication).
    async fn forward(&self, packet: Packet) {
        let packet = match self.tx.try_send(packet) {
            Ok(()) => {
                if self.dropping.swap(false, Ordering::Relaxed) {
                    tracing::info!("pub/sub: the broker queue has room again");
                }
                return;
            }
            Err(mpsc::error::TrySendError::Closed(_)) => {
                tracing::debug!("pub/sub: backend stopped, publication stays local");
                return;
            }
            Err(mpsc::error::TrySendError::Full(packet)) => packet,
        };
        if !self.dropping.load(Ordering::Relaxed) {
            match tokio::time::timeout(self.wait, self.tx.send(packet)).await {
                Ok(_) => return,
                Err(_) => {
                    self.dropping.store(true, Ordering::Relaxed);
                    tracing::warn!(
                        "pub/sub: broker queue full, publications reach this node's clients only until it drains"
                    );
                }
            }
        }
        self.dropped.fetch_add(1, Ordering::Relaxed);
    }
}

#[async_trait]
impl PubSub for ClusterPubSub {
    async fn publish(
        &self,
        topic: &str,
        data: Value,
        target: Target,
    ) -> Result<usize, PublishError> {
        if !is_valid_topic(topic) {
            return Err(PublishError::InvalidTopic(topic.to_owned()));
        }
        let local_only = match &target {
            Target::Client(id) => self.hub.is_connected(id),
            _ => false,
        };
        // Encoded before the local fan-out takes the data; queued after it, so that
        // local clients never wait for the broker.
        let packet = match local_only {
            true => None,
            false => Some(self.packet(topic, &data, &target)?),
        };
        let queued = self.hub.publish(topic, data, target).await?;
        if let Some(packet) = packet {
            self.forward(packet).await;
        }
        Ok(queued)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> TopicPattern {
        TopicPattern::parse(s).unwrap()
    }

    #[test]
    fn patterns_overlap_when_a_topic_falls_under_both() {
        assert!(overlaps(&p("a.b"), &p("a.b")));
        assert!(!overlaps(&p("a.b"), &p("a.c")));
        assert!(overlaps(&p("a.*"), &p("a.b.c")));
        assert!(overlaps(&p("a.b.c"), &p("a.*")));
        assert!(!overlaps(&p("a.*"), &p("a")));
        assert!(overlaps(&p("a.*"), &p("a.b.*")));
        assert!(overlaps(&p("a.b.*"), &p("a.*")));
        assert!(!overlaps(&p("a.*"), &p("ab.*")));
    }

    #[test]
    fn only_subscriptions_near_subscribers_only_topics_are_interest() {
        let (hook, rx) = interest_hook(&[p("private.*")]);
        for topic in ["news", "private.x", "private.*", "privately"] {
            hook(&SubscriberEvent::First(topic.into()));
        }
        let want: BTreeSet<String> = ["private.*", "private.x"].map(String::from).into();
        assert_eq!(*rx.borrow(), want);
        hook(&SubscriberEvent::Last("private.x".into()));
        assert_eq!(*rx.borrow(), BTreeSet::from(["private.*".to_owned()]));
    }
}
