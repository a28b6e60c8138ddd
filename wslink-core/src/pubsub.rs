//! Publish/subscribe: a server sends data on a topic to its clients.
//!
//! There is no subscribe message in wslink: the server broadcasts to every authenticated
//! client (or to one, or to all but one) and each client routes publications to its
//! local subscribers by topic. [`PubSub`] is the server-side half; the server crate
//! implements it with per-connection queues and encodes each publication once.

use async_trait::async_trait;

use crate::codec::CodecError;
use crate::id::ClientId;
use crate::value::Value;

/// Who receives a publication.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// Every authenticated client.
    All,
    /// One client.
    Client(ClientId),
    /// Every authenticated client but one (the reference's `skip_last_active_client`,
    /// delivered once per client).
    AllExcept(ClientId),
}

impl Target {
    /// `true` if a client with this id is among the receivers.
    pub fn includes(&self, client: &ClientId) -> bool {
        match self {
            Target::All => true,
            Target::Client(c) => c == client,
            Target::AllExcept(c) => c != client,
        }
    }
}

/// Why a publication was not sent.
#[derive(Debug, thiserror::Error)]
pub enum PublishError {
    /// The topic is not dot-separated words of `[A-Za-z0-9_]`: the JS client would
    /// silently drop it.
    #[error("invalid topic {0:?}: use dot-separated words of letters, digits and '_'")]
    InvalidTopic(String),
    /// The data could not be encoded.
    #[error("cannot encode publication: {0}")]
    Encode(#[from] CodecError),
}

/// Sends publications to clients.
#[async_trait]
pub trait PubSub: Send + Sync + 'static {
    /// Publishes `data` on `topic` to `target`; returns how many clients it was queued for.
    async fn publish(
        &self,
        topic: &str,
        data: Value,
        target: Target,
    ) -> Result<usize, PublishError>;
}

impl std::fmt::Debug for dyn PubSub {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("dyn PubSub")
    }
}
