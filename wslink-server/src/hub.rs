//! The hub: every live connection, and publishing to them.
//!
//! A publication is encoded once; the same frames (shared `Bytes`) are queued on each
//! target connection's [`Outbox`]. Offers to all targets run concurrently, so a client
//! whose queue is full delays nobody else: what happens to it is up to the
//! [`SlowClientPolicy`].

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};

use async_trait::async_trait;
use futures_util::future::join_all;
use tokio::sync::watch;
use wslink_core::id::is_valid_topic;
use wslink_core::{
    ClientId, Close, CloseCode, CodecError, Encoded, Generation, Message, PubSub, Publication,
    PublishError, Session, Target, Value,
};

use crate::outbox::{Offer, Outbox, SlowClientPolicy};

/// Encodes a message in a wire generation, for every connection of a server.
pub type SharedEncoder =
    Arc<dyn Fn(&Message, Generation) -> Result<Encoded, CodecError> + Send + Sync>;

#[derive(Debug, Clone)]
struct Conn {
    session: Arc<Session>,
    outbox: Arc<Outbox>,
}

/// Live connections and publishing to them. Implements [`PubSub`].
pub struct Hub {
    encoder: SharedEncoder,
    policy: SlowClientPolicy,
    conns: RwLock<HashMap<ClientId, Conn>>,
    counter: AtomicU64,
    count: watch::Sender<usize>,
}

impl std::fmt::Debug for Hub {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Hub")
            .field("connections", &self.connection_count())
            .field("policy", &self.policy)
            .finish()
    }
}

impl Hub {
    /// A hub that encodes with `encoder` and treats full queues with `policy`.
    pub fn new(encoder: SharedEncoder, policy: SlowClientPolicy) -> Self {
        Hub {
            encoder,
            policy,
            conns: RwLock::new(HashMap::new()),
            counter: AtomicU64::new(0),
            count: watch::channel(0).0,
        }
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, HashMap<ClientId, Conn>> {
        self.conns.read().unwrap_or_else(|e| e.into_inner())
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, HashMap<ClientId, Conn>> {
        self.conns.write().unwrap_or_else(|e| e.into_inner())
    }

    /// Adds a connection unless `limit` connections are open already; returns whether
    /// it was added.
    pub fn register(&self, session: Arc<Session>, outbox: Arc<Outbox>, limit: usize) -> bool {
        let n = {
            let mut conns = self.write();
            if conns.len() >= limit {
                return false;
            }
            conns.insert(session.client_id().clone(), Conn { session, outbox });
            conns.len()
        };
        self.count.send_replace(n);
        true
    }

    /// Removes a connection.
    pub fn unregister(&self, client: &ClientId) {
        let n = {
            let mut conns = self.write();
            conns.remove(client);
            conns.len()
        };
        self.count.send_replace(n);
    }

    /// Connections open now.
    pub fn connection_count(&self) -> usize {
        self.read().len()
    }

    /// Authenticated connections open now, other than `except`.
    pub fn authenticated_count(&self, except: Option<&ClientId>) -> usize {
        self.read()
            .values()
            .filter(|c| c.session.is_authenticated() && Some(c.session.client_id()) != except)
            .count()
    }

    /// Watches the number of open connections.
    pub fn watch_count(&self) -> watch::Receiver<usize> {
        self.count.subscribe()
    }

    /// Starts closing one client's connection with `close`; `false` if it is not connected.
    pub fn close_client(&self, client: &ClientId, close: Close) -> bool {
        match self.read().get(client) {
            Some(conn) => {
                conn.outbox.close(close);
                true
            }
            None => false,
        }
    }

    /// Starts closing every connection with `close` (queued messages are still sent).
    pub fn close_all(&self, close: Close) {
        for conn in self.read().values() {
            conn.outbox.close(close.clone());
        }
    }

    /// Publishes and reports what happened to each client.
    async fn deliver(
        &self,
        topic: &str,
        data: Value,
        target: Target,
    ) -> Result<usize, PublishError> {
        if !is_valid_topic(topic) {
            return Err(PublishError::InvalidTopic(topic.to_owned()));
        }
        let targets: Vec<Conn> = self
            .read()
            .values()
            .filter(|c| c.session.is_authenticated() && target.includes(c.session.client_id()))
            .cloned()
            .collect();
        if targets.is_empty() {
            return Ok(0);
        }
        let message = Message::Publication(Publication {
            topic: topic.to_owned(),
            counter: self.counter.fetch_add(1, Ordering::Relaxed),
            data,
        });
        // Once per generation among the targets (usually one), not once per client.
        let mut encoded: [Option<Encoded>; 2] = [None, None];
        for conn in &targets {
            let generation = conn.session.generation();
            let slot = &mut encoded[generation_index(generation)];
            if slot.is_none() {
                *slot = Some((self.encoder)(&message, generation)?);
            }
        }
        let frames_of = |c: &Conn| {
            encoded[generation_index(c.session.generation())]
                .as_ref()
                .expect("encoded above")
        };
        // Offer to everyone at once; only clients whose queue is full are waited for, all
        // together, so none of them delays the others.
        let mut offers: Vec<Option<Offer>> = targets
            .iter()
            .map(|c| c.outbox.offer_now(frames_of(c), self.policy))
            .collect();
        if offers.iter().any(Option::is_none) {
            let waiting: Vec<usize> = (0..targets.len())
                .filter(|&i| offers[i].is_none())
                .collect();
            let late = join_all(waiting.iter().map(|&i| {
                targets[i]
                    .outbox
                    .push_publication(frames_of(&targets[i]), self.policy)
            }))
            .await;
            for (i, offer) in waiting.into_iter().zip(late) {
                offers[i] = Some(offer);
            }
        }
        let offers = offers
            .into_iter()
            .map(|o| o.expect("every target answered"));
        let mut queued = 0;
        for (conn, offer) in targets.iter().zip(offers) {
            match offer {
                Offer::Queued => queued += 1,
                Offer::ReplacedOldest => {
                    queued += 1;
                    tracing::debug!(client = %conn.session.client_id(), topic, "slow client: dropped its oldest publication");
                }
                Offer::Dropped => {
                    tracing::warn!(client = %conn.session.client_id(), topic, "slow client: publication dropped")
                }
                Offer::Closed => {}
                Offer::Disconnect => {
                    tracing::warn!(client = %conn.session.client_id(), "slow client: disconnecting");
                    conn.outbox
                        .abort(Close::new(CloseCode::POLICY_VIOLATION, "client too slow"));
                }
            }
        }
        Ok(queued)
    }
}

fn generation_index(generation: Generation) -> usize {
    match generation {
        Generation::V1 => 0,
        Generation::V2 => 1,
    }
}

#[async_trait]
impl PubSub for Hub {
    async fn publish(
        &self,
        topic: &str,
        data: Value,
        target: Target,
    ) -> Result<usize, PublishError> {
        self.deliver(topic, data, target).await
    }
}
