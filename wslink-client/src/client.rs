//! The client: connect, hello, call, subscribe — and reconnect, if asked.
//!
//! A client owns one *link* at a time: a transport with its writer and reader tasks, that
//! has passed the hello. Calls are matched to answers by id, so any number can be in
//! flight. When a link drops, the calls in flight on it fail with
//! [`ClientError::Disconnected`] (they may or may not have run). Without a
//! [`ReconnectPolicy`] the client is then closed; with one, it dials again with backoff,
//! says hello again (a new client id), and carries on: calls made meanwhile wait for the
//! new link, and subscriptions keep receiving: they live in the client, and a server
//! that takes server-side subscriptions is told them again (see [`crate::server_subs`]).

use std::collections::{HashMap, HashSet};

use foldhash::fast::RandomState as FastHash;
use std::future::Future;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use serde::de::DeserializeOwned;
use tokio::sync::{mpsc, oneshot, watch};
use wslink_core::codec::DynCodec;
use wslink_core::filter::{HELLO_SUBSCRIPTIONS, SUBSCRIBE_METHOD};
use wslink_core::id::{is_valid_topic, rpc_id, HELLO_ID, HELLO_METHOD};
use wslink_core::inbound::{self, Discard, InboundStats, Verdict};
use wslink_core::ping::PingTicker;
use wslink_core::{
    from_value, map, ClientId, Close, CloseCode, Codec, CodecError, DecodeLimits, Decoder, Encoded,
    Filter, FrameSink, FrameStream, Map, Message, Request, Transport, TransportError, Value,
    WireError,
};

use crate::error::ClientError;
use crate::server_subs::{self, Command, Remote};
use crate::subscription::{Subscription, Topics};

pub use wslink_core::defaults::DEFAULT_SECRET;

/// The chunk size used until the hello reply announces the server's (as the JS client).
pub const PRE_HELLO_FRAME_SIZE: usize = wslink_core::defaults::CLIENT_PRE_HELLO_FRAME_SIZE;

/// How a client dials again after its connection drops.
#[derive(Debug, Clone, PartialEq)]
pub struct ReconnectPolicy {
    /// Wait before the first attempt (default 100 ms); doubled after each failure.
    pub initial_delay: Duration,
    /// Longest wait between attempts (default 5 s).
    pub max_delay: Duration,
    /// Give up (and close the client) after this many failed attempts in a row
    /// (default: never give up).
    pub max_attempts: Option<u32>,
    /// How long a call made while reconnecting waits for the new link before it fails
    /// with [`ClientError::Disconnected`] (default 10 s).
    pub wait_for_link: Duration,
}

impl Default for ReconnectPolicy {
    fn default() -> Self {
        ReconnectPolicy {
            initial_delay: Duration::from_millis(100),
            max_delay: Duration::from_secs(5),
            max_attempts: None,
            wait_for_link: Duration::from_secs(10),
        }
    }
}

/// Settings of a client.
#[derive(Debug, Clone)]
pub struct ClientConfig {
    /// The secret sent in the hello (default `wslink-secret`).
    pub secret: String,
    /// Largest message accepted from the server, and bounds on incomplete ones
    /// (default 256 MiB).
    pub limits: DecodeLimits,
    /// Fail a call that has no answer after this long (default: wait as long as the
    /// connection lives).
    pub request_timeout: Option<Duration>,
    /// Unread publications a subscription holds before it drops newer ones (default 16384).
    pub subscription_capacity: usize,
    /// Messages waiting to be written (default 256); calls wait when it is full.
    pub send_queue: usize,
    /// Dial again when the connection drops (default: no; needs
    /// [`ClientBuilder::connect_with`]).
    pub reconnect: Option<ReconnectPolicy>,
    /// Tell a server whose hello says `"subscriptions": true` about this client's
    /// subscriptions (default on). Off, subscriptions are routed here only, as with a
    /// server that does not take them (the server then broadcasts to this client).
    pub server_subscriptions: bool,
    /// Send a keepalive ping this often (default: never; servers ping clients). With a
    /// transport that notices silent peers (the WebSocket transport's `dead_after`), a
    /// dead server is then detected even when the client has nothing to say.
    pub keepalive: Option<Duration>,
}

impl Default for ClientConfig {
    fn default() -> Self {
        ClientConfig {
            secret: DEFAULT_SECRET.to_owned(),
            limits: DecodeLimits::default(),
            request_timeout: None,
            subscription_capacity: 16384,
            send_queue: 256,
            reconnect: None,
            server_subscriptions: true,
            keepalive: None,
        }
    }
}

enum Outgoing {
    Message(Encoded),
    Close(Close),
}

/// One transport, with its writer task behind `outgoing`.
struct Link {
    id: u64,
    outgoing: mpsc::Sender<Outgoing>,
    max_frame: AtomicUsize,
    /// The hello reply said `"subscriptions": true`.
    listens: AtomicBool,
}

type Answer = oneshot::Sender<Result<Value, WireError>>;

#[derive(Default)]
struct State {
    /// The link that passed its hello; `None` while (re)connecting.
    link: Option<Arc<Link>>,
    client_id: Option<ClientId>,
    closed: bool,
    /// Calls waiting for an answer, with the link they were sent on.
    /// Pending calls by id (our own ids: a fast, randomly seeded hash).
    calls: HashMap<String, (u64, Answer), FastHash>,
}

/// State shared by the client handles, the link tasks and the reconnecting task.
struct Inner {
    codec: Box<dyn DynCodec>,
    state: Mutex<State>,
    changed: watch::Sender<u64>,
    topics: Arc<Topics>,
    counter: AtomicU64,
    next_link: AtomicU64,
    lost: Mutex<Option<mpsc::Sender<()>>>,
    config: ClientConfig,
    /// Inbound frames that gave nothing to act on (see [`wslink_core::inbound`]).
    inbound: InboundStats,
    /// Topics whose unwanted publications were logged once (bounded).
    unwanted_topics: Mutex<HashSet<String>>,
    /// `wslink.subscribe` calls sent so far.
    subscribe_calls: AtomicU64,
}

impl Remote for Inner {
    async fn call_if_listening(
        &self,
        method: &'static str,
        args: Vec<Value>,
    ) -> Option<Result<Value, ClientError>> {
        let (link, client_id) = {
            let state = self.state();
            (state.link.clone()?, state.client_id.clone()?)
        };
        if !link.listens.load(Ordering::Relaxed) {
            return None;
        }
        if method == SUBSCRIBE_METHOD {
            self.subscribe_calls.fetch_add(1, Ordering::Relaxed);
        }
        let request = Request {
            id: rpc_id(&client_id, self.counter.fetch_add(1, Ordering::Relaxed)),
            method: method.to_owned(),
            args,
            kwargs: Map::new(),
        };
        Some(self.request_on(&link, request).await)
    }

    fn link_id(&self) -> Option<u64> {
        self.state().link.as_ref().map(|l| l.id)
    }

    fn subscriptions(&self) -> Vec<(u64, String, Filter)> {
        self.topics.snapshot()
    }
}

/// How many topics without a subscriber are named in the log before the client only
/// counts their publications.
const UNWANTED_TOPICS_LOGGED: usize = 64;

impl Inner {
    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn dispatch(&self, message: Message) {
        match message {
            Message::Response(r) => match self.state().calls.remove(&r.id) {
                Some((_, tx)) => {
                    let _ = tx.send(r.outcome);
                }
                None => {
                    // Late (its call timed out) or never asked for.
                    self.inbound.count(Discard::Unexpected);
                    if self.inbound.worth_logging() {
                        tracing::warn!(id = %r.id, "ignoring a response that no call waits for");
                    }
                }
            },
            Message::Publication(p) => {
                if self.topics.deliver(&p.topic, p.data).is_none() {
                    self.unwanted_publication(&p.topic);
                }
            }
            Message::Request(r) => {
                self.inbound.count(Discard::Unexpected);
                if self.inbound.worth_logging() {
                    tracing::warn!(method = %r.method, "ignoring a request sent by the server");
                }
            }
        }
    }

    /// A publication on a topic nobody here subscribed to: servers broadcast, so this is
    /// normal; it is counted, and its topic named in the log the first time.
    fn unwanted_publication(&self, topic: &str) {
        self.inbound.count(Discard::Unexpected);
        let mut named = self
            .unwanted_topics
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        if named.len() < UNWANTED_TOPICS_LOGGED && named.insert(topic.to_owned()) {
            tracing::info!(
                topic,
                "publications on this topic have no subscriber here: counted, not delivered"
            );
        }
    }

    /// Logs, counts and judges a frame that decoded to nothing to act on (the policy of
    /// [`wslink_core::inbound`], shared with the server); `false` when the link must
    /// close.
    fn discard(&self, error: CodecError) -> bool {
        let reason = error.to_string();
        let (class, verdict) = inbound::judge(error);
        self.inbound.count(class);
        match verdict {
            Verdict::Ignore | Verdict::Answer { .. } => {
                if self.inbound.worth_logging() {
                    tracing::warn!(%class, reason, "ignoring a message from the server");
                }
                true
            }
            Verdict::Close(close) => {
                // Which call the bad message answered is unknown: fail the link's calls
                // rather than leave one waiting forever.
                tracing::warn!(%class, reason, close_code = %close.code, "closing: the server sent an undecodable message");
                false
            }
        }
    }

    /// A link ended: its calls fail; if it was the current link, reconnect or close.
    fn link_lost(&self, link: u64) {
        let (failed, was_current, closed) = {
            let mut state = self.state();
            let failed: Vec<String> = state
                .calls
                .iter()
                .filter(|(_, (l, _))| *l == link)
                .map(|(id, _)| id.clone())
                .collect();
            let failed: Vec<Answer> = failed
                .iter()
                .filter_map(|id| state.calls.remove(id).map(|(_, tx)| tx))
                .collect();
            let was_current = state.link.as_ref().is_some_and(|l| l.id == link);
            if was_current {
                state.link = None;
                if self.config.reconnect.is_none() {
                    state.closed = true;
                }
            }
            (failed, was_current, state.closed)
        };
        drop(failed); // dropped senders wake their callers with `Disconnected`
        if !was_current {
            return;
        }
        self.changed.send_modify(|n| *n += 1);
        if closed {
            self.shut();
        } else if let Some(lost) = self.lost.lock().unwrap_or_else(|e| e.into_inner()).as_ref() {
            tracing::info!("connection lost: reconnecting");
            let _ = lost.try_send(());
        }
    }

    /// Closes for good: every call fails, every subscription ends, the link is closed.
    fn shut(&self) {
        let (calls, link) = {
            let mut state = self.state();
            state.closed = true;
            (std::mem::take(&mut state.calls), state.link.take())
        };
        drop(calls);
        if let Some(link) = link {
            let _ = link
                .outgoing
                .try_send(Outgoing::Close(Close::new(CloseCode::NORMAL, "")));
        }
        self.topics.close_all();
        self.changed.send_modify(|n| *n += 1);
    }

    /// The current link, waiting for one while reconnecting.
    async fn current_link(&self) -> Result<Arc<Link>, ClientError> {
        let mut changed = self.changed.subscribe();
        let wait = match &self.config.reconnect {
            Some(policy) => policy.wait_for_link,
            None => Duration::ZERO,
        };
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            {
                let state = self.state();
                if state.closed {
                    return Err(ClientError::Disconnected);
                }
                if let Some(link) = &state.link {
                    return Ok(link.clone());
                }
            }
            match tokio::time::timeout_at(deadline, changed.changed()).await {
                Ok(Ok(())) => continue,
                _ => return Err(ClientError::Disconnected),
            }
        }
    }

    async fn request_on(&self, link: &Link, request: Request) -> Result<Value, ClientError> {
        let (tx, rx) = oneshot::channel();
        let id = request.id.clone();
        {
            let mut state = self.state();
            if state.closed {
                return Err(ClientError::Disconnected);
            }
            state.calls.insert(id.clone(), (link.id, tx));
        }
        let guard = PendingGuard {
            inner: self,
            id: &id,
        };
        let message = Message::Request(request);
        let encoded = self
            .codec
            .encode(&message, link.max_frame.load(Ordering::Relaxed))?;
        link.outgoing
            .send(Outgoing::Message(encoded))
            .await
            .map_err(|_| ClientError::Disconnected)?;
        let answer = match self.config.request_timeout {
            Some(limit) => tokio::time::timeout(limit, rx)
                .await
                .map_err(|_| ClientError::Timeout)?,
            None => rx.await,
        };
        drop(guard);
        match answer {
            Ok(Ok(value)) => Ok(value),
            Ok(Err(error)) => Err(ClientError::Rpc(error)),
            Err(_) => Err(ClientError::Disconnected),
        }
    }
}

/// Removes a call's pending entry when the call ends early (timeout, cancellation).
struct PendingGuard<'a> {
    inner: &'a Inner,
    id: &'a str,
}

impl Drop for PendingGuard<'_> {
    fn drop(&mut self) {
        self.inner.state().calls.remove(self.id);
    }
}

/// Opens a link over `transport` and says hello; the link becomes current on success.
async fn establish<T: Transport>(inner: &Arc<Inner>, transport: T) -> Result<(), ClientError> {
    let (sink, stream) = transport.split();
    let (tx, rx) = mpsc::channel(inner.config.send_queue.max(1));
    let link = Arc::new(Link {
        id: inner.next_link.fetch_add(1, Ordering::Relaxed),
        outgoing: tx,
        max_frame: AtomicUsize::new(PRE_HELLO_FRAME_SIZE),
        listens: AtomicBool::new(false),
    });
    let mut decoder = inner.codec.decoder(inner.config.limits.clone());
    // The server's messages are not subject to the pre-auth limit.
    decoder.set_authenticated(true);
    tokio::spawn(write_loop(sink, rx, inner.config.keepalive));
    tokio::spawn(read_loop(inner.clone(), stream, decoder, link.id));

    let hello = Request {
        id: HELLO_ID.to_owned(),
        method: HELLO_METHOD.to_owned(),
        args: vec![map! { "secret" => inner.config.secret.as_str() }],
        kwargs: Map::new(),
    };
    let result = inner.request_on(&link, hello).await.and_then(|reply| {
        let id = reply["clientID"].as_str().ok_or_else(|| {
            ClientError::Protocol(format!("hello reply without clientID: {reply}"))
        })?;
        let listens =
            inner.config.server_subscriptions && reply[HELLO_SUBSCRIPTIONS] == Value::Bool(true);
        Ok((
            ClientId::from_wire(id),
            reply["maxMsgSize"].as_u64(),
            listens,
        ))
    });
    let (client_id, max_frame, listens) = match result {
        Ok(ok) => ok,
        Err(e) => {
            let _ = link
                .outgoing
                .try_send(Outgoing::Close(Close::new(CloseCode::NORMAL, "")));
            return Err(match e {
                ClientError::Rpc(wire) => ClientError::Auth(wire),
                other => other,
            });
        }
    };
    if let Some(size) = max_frame.filter(|&n| n > 0) {
        link.max_frame.store(
            usize::try_from(size).unwrap_or(usize::MAX),
            Ordering::Relaxed,
        );
    }
    link.listens.store(listens, Ordering::Relaxed);
    tracing::debug!(listens, "hello accepted");
    {
        let mut state = inner.state();
        if state.closed {
            return Err(ClientError::Disconnected);
        }
        state.client_id = Some(client_id);
        state.link = Some(link);
    }
    inner.changed.send_modify(|n| *n += 1);
    if listens {
        inner.topics.command(Command::Relink);
    }
    Ok(())
}

/// Dials again, with backoff, each time the current link is lost.
async fn reconnect<F, Fut, T>(
    inner: Weak<Inner>,
    dial: F,
    policy: ReconnectPolicy,
    mut lost: mpsc::Receiver<()>,
) where
    F: Fn() -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<T, TransportError>> + Send,
    T: Transport,
{
    while lost.recv().await.is_some() {
        let mut delay = policy.initial_delay;
        let mut failures = 0u32;
        loop {
            tokio::time::sleep(delay).await;
            let Some(inner) = inner.upgrade() else { return };
            if inner.state().closed {
                return;
            }
            let attempt = match dial().await {
                Ok(transport) => establish(&inner, transport).await,
                Err(e) => Err(ClientError::Transport(e)),
            };
            match attempt {
                Ok(()) => {
                    tracing::info!("reconnected");
                    break;
                }
                Err(e @ ClientError::Auth(_)) => {
                    tracing::warn!(error = %e, "reconnect refused by the server: giving up");
                    inner.shut();
                    return;
                }
                Err(e) => {
                    failures += 1;
                    tracing::info!(error = %e, failures, "reconnect failed");
                    if policy.max_attempts.is_some_and(|max| failures >= max) {
                        tracing::warn!("giving up reconnecting");
                        inner.shut();
                        return;
                    }
                }
            }
            delay = (delay * 2).min(policy.max_delay);
        }
    }
}

/// Closes the client when the last [`Client`] handle goes away.
struct Handle {
    inner: Arc<Inner>,
}

impl Drop for Handle {
    fn drop(&mut self) {
        self.inner.shut();
    }
}

/// A connected, authenticated wslink client. Cheap to clone; the connection closes when
/// the last clone is dropped or [`Client::close`] is called.
#[derive(Clone)]
pub struct Client {
    handle: Arc<Handle>,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let state = self.inner().state();
        f.debug_struct("Client")
            .field("client_id", &state.client_id)
            .field("connected", &state.link.is_some())
            .field("closed", &state.closed)
            .finish()
    }
}

/// Builds a [`Client`].
pub struct ClientBuilder<C> {
    codec: C,
    config: ClientConfig,
}

impl<C> std::fmt::Debug for ClientBuilder<C> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientBuilder")
            .field("config", &self.config)
            .finish()
    }
}

#[cfg(feature = "msgpack")]
impl Client {
    /// A builder for a 2.x (msgpack) client.
    pub fn builder() -> ClientBuilder<wslink_codec_msgpack::MsgpackCodec> {
        ClientBuilder::with_codec(wslink_codec_msgpack::MsgpackCodec::new())
    }

    /// Connects a 2.x client over `transport` and says hello with `secret`.
    pub async fn connect<T: Transport>(transport: T, secret: &str) -> Result<Client, ClientError> {
        Client::builder().secret(secret).connect(transport).await
    }
}

impl<C: Codec> ClientBuilder<C> {
    /// A client speaking `codec`'s generation.
    pub fn with_codec(codec: C) -> Self {
        ClientBuilder {
            codec,
            config: ClientConfig::default(),
        }
    }

    /// The secret for the hello.
    pub fn secret(mut self, secret: impl Into<String>) -> Self {
        self.config.secret = secret.into();
        self
    }

    /// Fails calls without an answer after `timeout`.
    pub fn request_timeout(mut self, timeout: Duration) -> Self {
        self.config.request_timeout = Some(timeout);
        self
    }

    /// Dials again when the connection drops (only with [`ClientBuilder::connect_with`]).
    pub fn reconnect(mut self, policy: ReconnectPolicy) -> Self {
        self.config.reconnect = Some(policy);
        self
    }

    /// Replaces all settings.
    pub fn config(mut self, config: ClientConfig) -> Self {
        self.config = config;
        self
    }

    /// Changes settings in place.
    pub fn configure(mut self, f: impl FnOnce(&mut ClientConfig)) -> Self {
        f(&mut self.config);
        self
    }

    fn into_inner(self, reconnect: bool) -> Arc<Inner> {
        let mut config = self.config;
        if !reconnect {
            config.reconnect = None;
        }
        let inner = Arc::new(Inner {
            codec: Box::new(self.codec),
            state: Mutex::new(State::default()),
            changed: watch::channel(0).0,
            topics: Arc::new(Topics::default()),
            counter: AtomicU64::new(0),
            next_link: AtomicU64::new(0),
            lost: Mutex::new(None),
            config,
            inbound: InboundStats::default(),
            unwanted_topics: Mutex::default(),
            subscribe_calls: AtomicU64::new(0),
        });
        let (tx, rx) = mpsc::unbounded_channel();
        inner.topics.set_commands(tx);
        tokio::spawn(server_subs::run(Arc::downgrade(&inner), rx));
        inner
    }

    /// Says hello over `transport` and returns the client once the server accepted it.
    /// The client closes when this connection drops (there is no way to dial again).
    pub async fn connect<T: Transport>(self, transport: T) -> Result<Client, ClientError> {
        let inner = self.into_inner(false);
        let client = Client {
            handle: Arc::new(Handle {
                inner: inner.clone(),
            }),
        };
        establish(&inner, transport).await?;
        Ok(client)
    }

    /// Dials with `dial` and says hello; with a [`ReconnectPolicy`], dials again whenever
    /// the connection drops.
    ///
    /// ```no_run
    /// # async fn demo() -> Result<(), wslink_client::ClientError> {
    /// use wslink_client::{Client, ReconnectPolicy};
    /// use wslink_core::memory;
    ///
    /// let (_listener, connector) = memory::listener(16);
    /// let client = Client::builder()
    ///     .reconnect(ReconnectPolicy::default())
    ///     .connect_with(move || {
    ///         let connector = connector.clone();
    ///         async move { connector.connect().await }
    ///     })
    ///     .await?;
    /// # Ok(()) }
    /// ```
    pub async fn connect_with<F, Fut, T>(self, dial: F) -> Result<Client, ClientError>
    where
        F: Fn() -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<T, TransportError>> + Send + 'static,
        T: Transport,
    {
        let policy = self.config.reconnect.clone();
        let inner = self.into_inner(true);
        let client = Client {
            handle: Arc::new(Handle {
                inner: inner.clone(),
            }),
        };
        establish(&inner, dial().await?).await?;
        if let Some(policy) = policy {
            let (tx, rx) = mpsc::channel(1);
            *inner.lost.lock().unwrap_or_else(|e| e.into_inner()) = Some(tx);
            tokio::spawn(reconnect(Arc::downgrade(&inner), dial, policy, rx));
        }
        Ok(client)
    }
}

impl Client {
    fn inner(&self) -> &Arc<Inner> {
        &self.handle.inner
    }

    /// The id the server gave this client (a new one after each reconnect).
    pub fn client_id(&self) -> ClientId {
        self.inner()
            .state()
            .client_id
            .clone()
            .expect("a client exists only after a successful hello")
    }

    /// The chunk size in use (the server's `maxMsgSize`), or the pre-hello size while
    /// reconnecting.
    pub fn max_frame_size(&self) -> usize {
        self.inner()
            .state()
            .link
            .as_ref()
            .map_or(PRE_HELLO_FRAME_SIZE, |l| {
                l.max_frame.load(Ordering::Relaxed)
            })
    }

    /// Calls `method(*args, **kwargs)` and waits for the result.
    pub async fn call(
        &self,
        method: &str,
        args: Vec<Value>,
        kwargs: Map,
    ) -> Result<Value, ClientError> {
        let inner = self.inner();
        let link = inner.current_link().await?;
        let id = rpc_id(
            &self.client_id(),
            inner.counter.fetch_add(1, Ordering::Relaxed),
        );
        inner
            .request_on(
                &link,
                Request {
                    id,
                    method: method.to_owned(),
                    args,
                    kwargs,
                },
            )
            .await
    }

    /// Calls with positional arguments only and converts the result to `T`.
    pub async fn call_as<T: DeserializeOwned + 'static>(
        &self,
        method: &str,
        args: Vec<Value>,
    ) -> Result<T, ClientError> {
        let value = self.call(method, args, Map::new()).await?;
        Ok(from_value(value)?)
    }

    /// Receives the publications of `topic` until the returned [`Subscription`] is
    /// dropped; the subscription survives reconnects. A server whose hello said
    /// `"subscriptions": true` is told in the background (`wslink.subscribe`); other
    /// servers broadcast and are told nothing.
    pub fn subscribe(&self, topic: &str) -> Result<Subscription, ClientError> {
        self.add_subscription(topic, Filter::all(), None)
    }

    /// Receives the publications of `topic` that pass `filter`, keeping its fields.
    /// A server that takes subscriptions is told, and this returns once it agreed
    /// (its refusal is the error); with any other server the filter is applied here,
    /// with the same result.
    ///
    /// ```no_run
    /// # async fn demo(client: wslink_client::Client) -> Result<(), wslink_client::ClientError> {
    /// use wslink_core::Filter;
    /// let filter = Filter::all().where_eq("room", 2).fields(["value"]);
    /// let mut temperatures = client.subscribe_filtered("sensors", filter).await?;
    /// # Ok(()) }
    /// ```
    pub async fn subscribe_filtered(
        &self,
        topic: &str,
        filter: Filter,
    ) -> Result<Subscription, ClientError> {
        let (done, answer) = tokio::sync::oneshot::channel();
        let subscription = self.add_subscription(topic, filter, Some(done))?;
        // No answer means nobody to ask (the client is closing): local routing stands.
        answer.await.unwrap_or(Ok(()))?;
        Ok(subscription)
    }

    fn add_subscription(
        &self,
        topic: &str,
        filter: Filter,
        done: Option<server_subs::Done>,
    ) -> Result<Subscription, ClientError> {
        if !is_valid_topic(topic) {
            return Err(ClientError::InvalidTopic(topic.to_owned()));
        }
        let inner = self.inner();
        if inner.state().closed {
            return Err(ClientError::Disconnected);
        }
        let capacity = inner.config.subscription_capacity;
        Ok(inner.topics.subscribe(topic, capacity, filter, done))
    }

    /// `true` if the current link's server takes server-side subscriptions (its hello
    /// reply said `"subscriptions": true`) and this client tells it
    /// ([`ClientConfig::server_subscriptions`]).
    pub fn server_takes_subscriptions(&self) -> bool {
        self.inner()
            .state()
            .link
            .as_ref()
            .is_some_and(|l| l.listens.load(Ordering::Relaxed))
    }

    /// `wslink.subscribe` calls this client has sent so far (none to a server that does
    /// not take subscriptions).
    pub fn subscribe_calls(&self) -> u64 {
        self.inner().subscribe_calls.load(Ordering::Relaxed)
    }

    /// Frames from the server that gave nothing to act on, per class (each was also
    /// logged; see [`wslink_core::inbound`]): unwanted publications, late responses,
    /// undecodable messages.
    pub fn inbound_stats(&self) -> &InboundStats {
        &self.inner().inbound
    }

    /// `true` once the client is closed for good.
    pub fn is_closed(&self) -> bool {
        self.inner().state().closed
    }

    /// `true` while a link is up (not closed, not reconnecting).
    pub fn is_connected(&self) -> bool {
        self.inner().state().link.is_some()
    }

    /// Closes the connection (close code 1000). Calls in flight fail with
    /// [`ClientError::Disconnected`]; subscriptions end.
    pub async fn close(&self) {
        self.inner().shut();
    }
}

async fn write_loop<S: FrameSink>(
    mut sink: S,
    mut rx: mpsc::Receiver<Outgoing>,
    keepalive: Option<Duration>,
) {
    let mut ticker = PingTicker::new(keepalive);
    let mut under_load = false;
    loop {
        let item = tokio::select! {
            item = rx.recv() => item,
            _ = ticker.tick() => {
                if sink.ping().await.is_err() {
                    return;
                }
                continue;
            }
        };
        let Some(item) = item else { break };
        let mut next = Some(item);
        // Write everything queued, then flush once. Under load (the last write carried
        // more than one message), step aside once before flushing: the tasks that are
        // ready to run (typically callers woken by a burst of answers) then queue their
        // requests first, and go out in the same write — one write per burst instead of
        // one per request. Under light load (one message per write) there is no detour,
        // so a lone call pays no extra trip through the scheduler.
        let mut yielded = !under_load;
        let mut written = 0usize;
        while let Some(item) = next.take() {
            match item {
                Outgoing::Message(encoded) => {
                    written += 1;
                    if sink.feed_encoded(&encoded).await.is_err() {
                        return;
                    }
                }
                Outgoing::Close(close) => {
                    let _ = sink.close(close).await;
                    return;
                }
            }
            next = rx.try_recv().ok();
            if next.is_none() && !yielded {
                yielded = true;
                tokio::task::yield_now().await;
                next = rx.try_recv().ok();
            }
        }
        if sink.flush().await.is_err() {
            return;
        }
        under_load = written > 1;
    }
    let _ = sink.close(Close::new(CloseCode::NORMAL, "")).await;
}

async fn read_loop<S: FrameStream>(
    inner: Arc<Inner>,
    mut stream: S,
    mut decoder: Box<dyn Decoder>,
    link: u64,
) {
    while let Some(frame) = stream.recv().await {
        let frame = match frame {
            Ok(frame) => frame,
            Err(e) => {
                tracing::info!(error = %e, "connection failed");
                break;
            }
        };
        match decoder.decode(frame) {
            Ok(Some(message)) => inner.dispatch(message),
            Ok(None) => {} // a chunk of a message still incomplete
            Err(e) => {
                if !inner.discard(e) {
                    break;
                }
            }
        }
    }
    match stream.close_frame() {
        Some(close) => {
            tracing::info!(code = %close.code, reason = %close.reason, "the server closed the connection")
        }
        None => tracing::debug!("the connection ended"),
    }
    inner.link_lost(link);
}
