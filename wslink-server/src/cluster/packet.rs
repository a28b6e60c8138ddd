//! What a node sends to the others, and the queue a backend takes it from.

use bytes::Bytes;
use tokio::sync::mpsc;

/// Which channels a packet goes on (see [`Channels`](super::Channels)).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PacketKind {
    /// An ordinary topic: every node listens.
    Broadcast,
    /// A subscribers-only topic: only nodes with a subscriber listen.
    SubscribersOnly,
}

/// One publication on its way to the other nodes: its topic and kind, to choose the
/// channel, and an opaque payload to hand to [`Incoming::deliver`](super::Incoming::deliver)
/// on the other side. Encoded once, whatever the number of receivers.
#[derive(Debug, Clone)]
pub struct Packet {
    kind: PacketKind,
    topic: String,
    payload: Bytes,
}

impl Packet {
    pub(crate) fn new(kind: PacketKind, topic: String, payload: Bytes) -> Packet {
        Packet {
            kind,
            topic,
            payload,
        }
    }

    /// The channel class.
    pub fn kind(&self) -> PacketKind {
        self.kind
    }

    /// The publication's topic.
    pub fn topic(&self) -> &str {
        &self.topic
    }

    /// The bytes to send.
    pub fn payload(&self) -> &Bytes {
        &self.payload
    }
}

/// The packets this node publishes, in order, for a [`Backend`](super::Backend) to send.
#[derive(Debug)]
pub struct Outgoing {
    rx: mpsc::Receiver<Packet>,
}

impl Outgoing {
    pub(crate) fn new(rx: mpsc::Receiver<Packet>) -> Outgoing {
        Outgoing { rx }
    }

    /// The next packet; `None` once the server is gone.
    pub async fn recv(&mut self) -> Option<Packet> {
        self.rx.recv().await
    }

    /// The next packet if one is waiting (to send several at once).
    pub fn try_recv(&mut self) -> Option<Packet> {
        self.rx.try_recv().ok()
    }
}
