//! The hub: every live connection, and publishing to them.
//!
//! A publication is encoded once; the same frames (shared `Bytes`) are queued on each
//! target connection's [`Outbox`]. Offers to all targets run concurrently, so a client
//! whose queue is full delays nobody else: what happens to it is up to the
//! [`SlowClientPolicy`].
//!
//! While some connection holds a server-side subscription, or for a subscribers-only
//! topic, each connection's subscriptions decide what it gets (see
//! [`crate::subscriptions`]), and each distinct form is encoded once per generation.
//! Otherwise publishing takes the broadcast path, as it did before subscriptions: an
//! atomic load (and a look at the subscribers-only topics, if any) decides.

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
use crate::projections::{Projections, Slot};
use crate::subscriptions::{ConnSubscriptions, Registry, Route};

/// Encodes a message in a wire generation, for every connection of a server.
pub(crate) type SharedEncoder =
    Arc<dyn Fn(&Message, Generation) -> Result<Encoded, CodecError> + Send + Sync>;

#[derive(Debug, Clone)]
struct Conn {
    session: Arc<Session>,
    outbox: Arc<Outbox>,
    subscriptions: Arc<ConnSubscriptions>,
}

/// Live connections and publishing to them. Implements [`PubSub`].
pub(crate) struct Hub {
    encoder: SharedEncoder,
    policy: SlowClientPolicy,
    conns: RwLock<HashMap<ClientId, Conn>>,
    counter: AtomicU64,
    count: watch::Sender<usize>,
    subscriptions: Registry,
    /// Publication encodings so far (one per generation and distinct projection).
    encodings: AtomicU64,
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
    /// A hub that encodes with `encoder`, treats full queues with `policy`, and whose
    /// server-side subscriptions follow `subscriptions`.
    pub(crate) fn with_subscriptions(
        encoder: SharedEncoder,
        policy: SlowClientPolicy,
        subscriptions: Registry,
    ) -> Self {
        Hub {
            encoder,
            policy,
            conns: RwLock::new(HashMap::new()),
            counter: AtomicU64::new(0),
            count: watch::channel(0).0,
            subscriptions,
            encodings: AtomicU64::new(0),
        }
    }

    /// The server-side subscriptions.
    pub(crate) fn subscriptions(&self) -> &Registry {
        &self.subscriptions
    }

    /// The subscriptions of a connected client.
    pub(crate) fn subscriptions_of(&self, client: &ClientId) -> Option<Arc<ConnSubscriptions>> {
        self.read().get(client).map(|c| c.subscriptions.clone())
    }

    /// Publication encodings so far: one per wire generation and distinct projection of
    /// each publication, never one per receiver.
    pub(crate) fn encodings(&self) -> u64 {
        self.encodings.load(Ordering::Relaxed)
    }

    fn encode(&self, message: &Message, generation: Generation) -> Result<Encoded, CodecError> {
        self.encodings.fetch_add(1, Ordering::Relaxed);
        (self.encoder)(message, generation)
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, HashMap<ClientId, Conn>> {
        self.conns.read().unwrap_or_else(|e| e.into_inner())
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, HashMap<ClientId, Conn>> {
        self.conns.write().unwrap_or_else(|e| e.into_inner())
    }

    /// Adds a connection unless `limit` connections are open already; returns whether
    /// it was added.
    pub(crate) fn register(
        &self,
        session: Arc<Session>,
        outbox: Arc<Outbox>,
        limit: usize,
    ) -> bool {
        let n = {
            let mut conns = self.write();
            if conns.len() >= limit {
                return false;
            }
            let subscriptions = Arc::default();
            let conn = Conn {
                session,
                outbox,
                subscriptions,
            };
            conns.insert(conn.session.client_id().clone(), conn);
            conns.len()
        };
        self.count.send_replace(n);
        true
    }

    /// Removes a connection.
    pub(crate) fn unregister(&self, client: &ClientId) {
        let (n, gone) = {
            let mut conns = self.write();
            let gone = conns.remove(client);
            (conns.len(), gone)
        };
        if let Some(conn) = gone {
            self.subscriptions.drop_connection(&conn.subscriptions);
        }
        self.count.send_replace(n);
    }

    /// `true` if `client` is connected to this node.
    pub(crate) fn is_connected(&self, client: &ClientId) -> bool {
        self.read().contains_key(client)
    }

    /// Connections open now.
    pub(crate) fn connection_count(&self) -> usize {
        self.read().len()
    }

    /// Authenticated connections open now, other than `except`.
    pub(crate) fn authenticated_count(&self, except: Option<&ClientId>) -> usize {
        self.read()
            .values()
            .filter(|c| c.session.is_authenticated() && Some(c.session.client_id()) != except)
            .count()
    }

    /// Watches the number of open connections.
    pub(crate) fn watch_count(&self) -> watch::Receiver<usize> {
        self.count.subscribe()
    }

    /// Starts closing one client's connection with `close`; `false` if it is not connected.
    pub(crate) fn close_client(&self, client: &ClientId, close: Close) -> bool {
        match self.read().get(client) {
            Some(conn) => {
                conn.outbox.close(close);
                true
            }
            None => false,
        }
    }

    /// Starts closing every connection with `close` (queued messages are still sent).
    pub(crate) fn close_all(&self, close: Close) {
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
        if !self.subscriptions.is_broadcast(topic) {
            return self.deliver_routed(topic, data, target).await;
        }
        let included =
            |c: &&Conn| c.session.is_authenticated() && target.includes(c.session.client_id());
        let mut data = Some(data);
        let mut message: Option<Message> = None;
        // Once per generation among the targets (usually one), not once per client.
        let mut encoded: [Option<Encoded>; 2] = [None, None];
        let mut queued = 0;
        // Clients whose queue is full, waited for below.
        let mut full: Vec<(Conn, usize)> = Vec::new();
        {
            // Offers never wait, so they are made under the read lock: no list of
            // targets is built when every queue has room (the usual case).
            let conns = self.read();
            for conn in conns.values().filter(included) {
                let generation = conn.session.generation();
                let slot = &mut encoded[generation_index(generation)];
                if slot.is_none() {
                    let message = message.get_or_insert_with(|| {
                        Message::Publication(Publication {
                            topic: topic.to_owned(),
                            counter: self.counter.fetch_add(1, Ordering::Relaxed),
                            data: data.take().unwrap_or_default(),
                        })
                    });
                    *slot = Some(self.encode(message, generation)?);
                }
            }
            if message.is_none() {
                return Ok(0);
            }
            for conn in conns.values().filter(included) {
                let index = generation_index(conn.session.generation());
                let frames = encoded[index].as_ref().expect("encoded above");
                match conn.outbox.offer_now(frames, self.policy) {
                    Some(offer) => queued += usize::from(settle(conn, topic, offer)),
                    None => full.push((conn.clone(), index)),
                }
            }
        }
        // Full queues are waited for all together, so that none of them delays the
        // others (or this call, beyond the policy's wait).
        if !full.is_empty() {
            let late = full.iter().map(|(conn, index)| {
                let frames = encoded[*index].as_ref().expect("encoded above");
                (conn, frames)
            });
            queued += self.wait_for_room(topic, late).await;
        }
        Ok(queued)
    }

    /// Waits for room in full queues, all together; returns how many got the publication.
    async fn wait_for_room<'a>(
        &self,
        topic: &str,
        full: impl Iterator<Item = (&'a Conn, &'a Encoded)>,
    ) -> usize {
        let full: Vec<_> = full.collect();
        let late = join_all(
            full.iter()
                .map(|(conn, frames)| conn.outbox.push_publication(frames, self.policy)),
        )
        .await;
        full.iter()
            .zip(late)
            .map(|((conn, _), offer)| usize::from(settle(conn, topic, offer)))
            .sum()
    }

    /// Publishes under the delivery rule of [`crate::subscriptions`]: each target gets
    /// the publication whole, projected, or not at all; each distinct projection is
    /// encoded once per generation.
    async fn deliver_routed(
        &self,
        topic: &str,
        data: Value,
        target: Target,
    ) -> Result<usize, PublishError> {
        let only = self.subscriptions.is_subscribers_only(topic);
        let counter = self.counter.fetch_add(1, Ordering::Relaxed);
        let mut forms = Projections::new(topic, counter, data);
        let mut queued = 0;
        let mut full: Vec<(Conn, Slot)> = Vec::new();
        {
            // As on the broadcast path, everything is done under the read lock (offers
            // never wait): first every form needed is encoded, then offered.
            let conns = self.read();
            let mut slots: Vec<Option<Slot>> = Vec::with_capacity(conns.len());
            for conn in conns.values() {
                let included =
                    conn.session.is_authenticated() && target.includes(conn.session.client_id());
                let route = match included {
                    true => conn.subscriptions.route(topic, forms.data(), only),
                    false => Route::Skip,
                };
                let generation = conn.session.generation();
                slots.push(match route {
                    Route::Skip => None,
                    route => Some(forms.slot(&route, generation, |m| self.encode(m, generation))?),
                });
            }
            for (conn, slot) in conns.values().zip(&slots) {
                let Some(slot) = *slot else { continue };
                match conn.outbox.offer_now(forms.encoded(slot), self.policy) {
                    Some(offer) => queued += usize::from(settle(conn, topic, offer)),
                    None => full.push((conn.clone(), slot)),
                }
            }
        }
        if !full.is_empty() {
            let full = full.iter().map(|(conn, slot)| (conn, forms.encoded(*slot)));
            queued += self.wait_for_room(topic, full).await;
        }
        Ok(queued)
    }
}

/// Logs what a slow-client policy did with an offer, disconnects when it says so;
/// `true` if the publication was queued.
fn settle(conn: &Conn, topic: &str, offer: Offer) -> bool {
    match offer {
        Offer::Queued => true,
        Offer::ReplacedOldest => {
            tracing::debug!(client = %conn.session.client_id(), topic, "slow client: dropped its oldest publication");
            true
        }
        Offer::Dropped => {
            tracing::warn!(client = %conn.session.client_id(), topic, "slow client: publication dropped");
            false
        }
        Offer::Closed => false,
        Offer::Disconnect => {
            tracing::warn!(client = %conn.session.client_id(), "slow client: disconnecting");
            conn.outbox
                .abort(Close::new(CloseCode::POLICY_VIOLATION, "client too slow"));
            false
        }
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
