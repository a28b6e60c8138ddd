//! The backend: connect, send this node's packets, listen for the others'.

use std::time::Duration;

use async_nats::{ConnectOptions, Event, ServerAddr};
use async_trait::async_trait;
use wslink_server::cluster::{
    retry_delay, Backend, Channels, Incoming, InvalidNamespace, Outgoing,
};

use crate::listen::listen;

/// Why a [`NatsBackend`] cannot be made.
#[derive(Debug, thiserror::Error)]
pub enum NatsError {
    /// The URL is not a NATS server address (`nats://HOST:PORT`).
    #[error("invalid NATS URL {url:?}: {reason}")]
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

/// A [`Backend`] on a NATS server.
#[derive(Debug, Clone)]
pub struct NatsBackend {
    addr: ServerAddr,
    url: String,
    channels: Channels,
    max_retry_delay: Duration,
}

impl NatsBackend {
    /// A backend on the NATS server at `url` (`nats://HOST:PORT`), under the subject
    /// prefix `namespace` (applications sharing a server use different ones).
    pub fn new(url: &str, namespace: &str) -> Result<NatsBackend, NatsError> {
        let invalid = |reason: String| NatsError::InvalidUrl {
            url: url.to_owned(),
            reason,
        };
        if !url.starts_with("nats://") {
            return Err(invalid("expected nats://HOST:PORT".into()));
        }
        let addr: ServerAddr = url.parse().map_err(|e| invalid(format!("{e}")))?;
        Ok(NatsBackend {
            addr,
            url: url.to_owned(),
            channels: Channels::new(namespace)?,
            max_retry_delay: Duration::from_secs(1),
        })
    }

    /// The longest wait between two connection attempts (default 1 s; attempts start
    /// 50 ms apart and double).
    pub fn max_retry_delay(mut self, delay: Duration) -> Self {
        self.max_retry_delay = delay;
        self
    }

    fn options(&self, incoming: &Incoming) -> ConnectOptions {
        let max = self.max_retry_delay;
        ConnectOptions::new()
            .name(format!("wslink {}", incoming.node_id()))
            .no_echo()
            .retry_on_initial_connect()
            .reconnect_delay_callback(move |attempts| {
                retry_delay(u32::try_from(attempts).unwrap_or(u32::MAX), max)
            })
            .event_callback(|event| async move { log_event(event) })
    }
}

fn log_event(event: Event) {
    match event {
        Event::Connected => tracing::info!("pub/sub: connected to NATS"),
        Event::Disconnected => {
            tracing::warn!("pub/sub: NATS unreachable, retrying; publications stay on this node")
        }
        Event::SlowConsumer(sid) => {
            tracing::warn!(
                sid,
                "pub/sub: this node is too slow, NATS dropped publications"
            )
        }
        other => tracing::info!(event = %other, "pub/sub: NATS"),
    }
}

#[async_trait]
impl Backend for NatsBackend {
    fn describe(&self) -> String {
        format!("{} ({})", self.url, self.channels.namespace())
    }

    async fn run(self: Box<Self>, outgoing: Outgoing, incoming: Incoming) {
        // With retry_on_initial_connect this returns at once and connects in the
        // background; subscriptions and publications wait in the client meanwhile.
        let client = match self.options(&incoming).connect(self.addr.clone()).await {
            Ok(client) => client,
            Err(e) => {
                tracing::error!(error = %e, "pub/sub: cannot start the NATS client");
                return;
            }
        };
        let sender = tokio::spawn(send(client.clone(), self.channels.clone(), outgoing));
        tokio::select! {
            () = listen(client.clone(), self.channels.clone(), incoming.clone()) => {}
            () = incoming.stopped() => {}
        }
        sender.abort();
        let _ = client.flush().await;
    }
}

/// Publishes this node's packets, in order.
async fn send(client: async_nats::Client, channels: Channels, mut outgoing: Outgoing) {
    while let Some(packet) = outgoing.recv().await {
        let subject = channels.of(&packet);
        if let Err(e) = client.publish(subject, packet.payload().clone()).await {
            tracing::warn!(error = %e, topic = packet.topic(), "pub/sub: NATS refused a publication");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_bad_urls_and_namespaces() {
        assert!(matches!(
            NatsBackend::new("redis://127.0.0.1:6379", "app"),
            Err(NatsError::InvalidUrl { .. })
        ));
        assert!(matches!(
            NatsBackend::new("nats://127.0.0.1:4222", "my app"),
            Err(NatsError::Namespace(_))
        ));
        let backend = NatsBackend::new("nats://127.0.0.1:4222", "my.app").unwrap();
        assert_eq!(backend.describe(), "nats://127.0.0.1:4222 (my.app)");
    }
}
