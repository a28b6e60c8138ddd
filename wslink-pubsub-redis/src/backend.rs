//! The backend: a publishing connection fed by this node's packets, and a subscribed
//! one kept alive by [`crate::listen`].

use std::time::Duration;

use async_trait::async_trait;
use tokio::sync::watch;
use wslink_server::cluster::{Backend, Channels, Incoming, InvalidNamespace, Outgoing};

use crate::listen::listen;

/// Why a [`RedisBackend`] cannot be made.
#[derive(Debug, thiserror::Error)]
pub enum RedisError {
    /// The URL is not a Redis server address (`redis://HOST:PORT`).
    #[error("invalid Redis URL {url:?}: {reason}")]
    InvalidUrl {
        /// The URL given.
        url: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The namespace is not dot-separated words.
    #[error(transparent)]
    Namespace(#[from] InvalidNamespace),
}

/// A [`Backend`] on a Redis server's pub/sub.
#[derive(Debug, Clone)]
pub struct RedisBackend {
    pub(crate) client: redis::Client,
    url: String,
    pub(crate) channels: Channels,
    pub(crate) max_retry_delay: Duration,
    pub(crate) timeout: Duration,
}

impl RedisBackend {
    /// A backend on the Redis server at `url` (`redis://HOST:PORT`), under the channel
    /// prefix `namespace` (applications sharing a server use different ones).
    pub fn new(url: &str, namespace: &str) -> Result<RedisBackend, RedisError> {
        let invalid = |reason: String| RedisError::InvalidUrl {
            url: url.to_owned(),
            reason,
        };
        if !url.starts_with("redis://") {
            return Err(invalid("expected redis://HOST:PORT".into()));
        }
        let client = redis::Client::open(url).map_err(|e| invalid(e.to_string()))?;
        Ok(RedisBackend {
            client,
            url: url.to_owned(),
            channels: Channels::new(namespace)?,
            max_retry_delay: Duration::from_secs(1),
            timeout: Duration::from_secs(2),
        })
    }

    /// The longest wait between two connection attempts (default 1 s; attempts start
    /// 50 ms apart and double).
    pub fn max_retry_delay(mut self, delay: Duration) -> Self {
        self.max_retry_delay = delay;
        self
    }

    /// How long connecting, subscribing or publishing may take before the connection is
    /// given up as broken (default 2 s).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }
}

/// The publishing connection, while there is one.
pub(crate) type Publisher = watch::Sender<Option<redis::aio::MultiplexedConnection>>;

#[async_trait]
impl Backend for RedisBackend {
    fn describe(&self) -> String {
        format!("{} ({})", self.url, self.channels.namespace())
    }

    async fn run(self: Box<Self>, outgoing: Outgoing, incoming: Incoming) {
        let (publisher, connection) = watch::channel(None);
        let sender = tokio::spawn(send(
            connection,
            self.channels.clone(),
            self.timeout,
            outgoing,
        ));
        tokio::select! {
            () = listen(&self, &publisher, &incoming) => {}
            () = incoming.stopped() => {}
        }
        sender.abort();
    }
}

/// Packets sent to Redis in one round trip, at most.
const BATCH: usize = 256;

/// Publishes this node's packets in order, those waiting sent together in one
/// pipeline; drops them while Redis is unreachable.
async fn send(
    connection: watch::Receiver<Option<redis::aio::MultiplexedConnection>>,
    channels: Channels,
    timeout: Duration,
    mut outgoing: Outgoing,
) {
    let mut dropped = 0u64;
    while let Some(first) = outgoing.recv().await {
        let mut batch = vec![first];
        while batch.len() < BATCH {
            match outgoing.try_recv() {
                Some(packet) => batch.push(packet),
                None => break,
            }
        }
        let conn = connection.borrow().clone();
        let Some(mut conn) = conn else {
            if dropped == 0 {
                tracing::warn!("pub/sub: Redis unreachable, publications stay on this node");
            }
            dropped += batch.len() as u64;
            continue;
        };
        if dropped > 0 {
            tracing::info!(dropped, "pub/sub: publishing to Redis again");
            dropped = 0;
        }
        let mut pipe = redis::pipe();
        for packet in &batch {
            pipe.publish(channels.of(packet), packet.payload().as_ref())
                .ignore();
        }
        match tokio::time::timeout(timeout, pipe.query_async::<()>(&mut conn)).await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => {
                tracing::warn!(error = %e, packets = batch.len(), "pub/sub: Redis refused publications")
            }
            Err(_) => {
                tracing::warn!(packets = batch.len(), "pub/sub: Redis publish timed out")
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_bad_urls_and_namespaces() {
        assert!(matches!(
            RedisBackend::new("nats://127.0.0.1:4222", "app"),
            Err(RedisError::InvalidUrl { .. })
        ));
        assert!(matches!(
            RedisBackend::new("redis://127.0.0.1:6379", "my app"),
            Err(RedisError::Namespace(_))
        ));
        let backend = RedisBackend::new("redis://127.0.0.1:6379", "my.app").unwrap();
        assert_eq!(backend.describe(), "redis://127.0.0.1:6379 (my.app)");
    }
}
