//! The names of the broker channels (NATS subjects, Redis channels) of one application.

use wslink_core::id::is_valid_topic;

use super::packet::{Packet, PacketKind};

/// A namespace that is not dot-separated words of letters, digits and `_`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid pub/sub namespace {0:?}: use dot-separated words of letters, digits and '_'")]
pub struct InvalidNamespace(pub String);

/// Channel names under a namespace: `NS.b.TOPIC` for ordinary topics, `NS.s.TOPIC` for
/// subscribers-only ones. Topics follow the topic grammar, so every name is
/// dot-separated words, valid as a NATS subject and a Redis channel alike.
///
/// ```
/// use wslink_server::cluster::Channels;
///
/// let channels = Channels::new("viewer").unwrap();
/// assert_eq!(channels.broadcast(">"), "viewer.b.>");
/// assert_eq!(channels.interest("scene.*", ">"), "viewer.s.scene.>");
/// assert_eq!(channels.interest("scene.camera", "*"), "viewer.s.scene.camera");
/// assert!(Channels::new("bad name").is_err());
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Channels {
    namespace: String,
}

impl Channels {
    /// Channels under `namespace` (e.g. `wslink`, `myapp.prod`).
    pub fn new(namespace: &str) -> Result<Channels, InvalidNamespace> {
        match is_valid_topic(namespace) {
            true => Ok(Channels {
                namespace: namespace.to_owned(),
            }),
            false => Err(InvalidNamespace(namespace.to_owned())),
        }
    }

    /// The namespace.
    pub fn namespace(&self) -> &str {
        &self.namespace
    }

    /// The channel a packet goes on.
    pub fn of(&self, packet: &Packet) -> String {
        let class = match packet.kind() {
            PacketKind::Broadcast => 'b',
            PacketKind::SubscribersOnly => 's',
        };
        format!("{}.{class}.{}", self.namespace, packet.topic())
    }

    /// Every ordinary topic's channel, with the broker's multi-level `wildcard` (NATS
    /// `>`, Redis `*`).
    pub fn broadcast(&self, wildcard: &str) -> String {
        format!("{}.b.{wildcard}", self.namespace)
    }

    /// The subscribers-only channels a subscription `pattern` (`a.b` or `a.*`) covers.
    pub fn interest(&self, pattern: &str, wildcard: &str) -> String {
        match pattern.strip_suffix('*') {
            Some(prefix) => format!("{}.s.{prefix}{wildcard}", self.namespace),
            None => format!("{}.s.{pattern}", self.namespace),
        }
    }
}
