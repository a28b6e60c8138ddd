//! The server: a router, tower layers around it, and connections served from a listener.

use std::sync::Arc;
use std::time::Duration;

use serde::Serialize;
use tokio::sync::watch;
use tower::{Layer, Service};
use wslink_core::inbound::InboundStats;
use wslink_core::{
    into_value, BoxCallService, Call, ClientId, Close, CloseCode, Codec, CodecError, DecodeLimits,
    Generation, Listener, Message, PubSub, PublishError, RpcError, Target, Transport, Value,
};

use crate::codecs::Codecs;
use crate::connection::{self, Shared};
use crate::extract::Context;
use crate::hello::{Authenticate, HelloAuthLayer, SharedSecret};
use crate::hub::{Hub, SharedEncoder};
use crate::outbox::SlowClientPolicy;
use crate::protocol::Protocol;
use crate::router::Router;
use crate::subscriptions::{Registry, SubscriberEvent, SubscriberHook, SubscriptionLimits};

pub use wslink_core::defaults::DEFAULT_SECRET;

/// Who may stop the server with `application.exit` / `application.exit.later`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ExitPolicy {
    /// Any authenticated client (the reference's behaviour).
    Always,
    /// Only a client that is alone: honoured when no other authenticated client is
    /// connected (checked again when a delayed exit falls due).
    #[default]
    WhenAlone,
    /// Never; the calls are answered and ignored.
    Never,
}

/// Settings of a server. Every limit has a documented default.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// Chunk size of outgoing 2.x messages, announced as `maxMsgSize` (default 4 MiB, as
    /// `WSLINK_MAX_MSG_SIZE`).
    pub max_frame_size: usize,
    /// Decoding limits: pre-auth size (512 B), post-auth size (256 MiB), bytes and count
    /// of incomplete messages, nesting depth.
    pub limits: DecodeLimits,
    /// Calls of one connection running at once (default 64); reading pauses at the limit.
    pub max_in_flight: usize,
    /// Publications queued for one connection (default 1024).
    pub outbox_capacity: usize,
    /// What to do when a connection's publication queue is full (default: wait up to 1 s,
    /// then drop for that client until it catches up).
    pub slow_client: SlowClientPolicy,
    /// Send exception detail (cause chains) in -32001 errors (default off).
    pub error_detail: bool,
    /// Who may stop the server remotely (default [`ExitPolicy::WhenAlone`]).
    pub exit_policy: ExitPolicy,
    /// Stop after this long without connections, counted from start and from the last
    /// client leaving (default none).
    pub idle_timeout: Option<Duration>,
    /// Close a connection that has not said a successful hello after this long, with 1008
    /// (default 30 s; `None` waits forever, as the reference does).
    pub hello_timeout: Option<Duration>,
    /// Connections served at once; more are closed with 1013 (default 10 000).
    pub max_connections: usize,
    /// Send a keepalive ping this often (default 30 s, as `WSLINK_HEART_BEAT`; `None`
    /// never). Transports that ping also drop a peer that stops answering (see the
    /// WebSocket transport's `dead_after`).
    pub keepalive: Option<Duration>,
    /// Server-side subscriptions per connection (default 256) and the size (4 KiB)
    /// and depth (8) of one subscription's options.
    pub subscriptions: SubscriptionLimits,
    /// The link to the other nodes, with a pub/sub backend: packets queued for the
    /// broker (default 4096), how long a publication waits for room there (1 s), and
    /// the largest packet taken from it (256 MiB).
    pub cluster: crate::cluster::ClusterLimits,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            max_frame_size: wslink_core::defaults::DEFAULT_MAX_FRAME_SIZE,
            limits: DecodeLimits::default(),
            max_in_flight: 64,
            outbox_capacity: 1024,
            slow_client: SlowClientPolicy::default(),
            error_detail: false,
            exit_policy: ExitPolicy::default(),
            idle_timeout: None,
            hello_timeout: Some(Duration::from_secs(30)),
            max_connections: 10_000,
            keepalive: Some(Duration::from_secs(30)),
            subscriptions: SubscriptionLimits::default(),
            cluster: crate::cluster::ClusterLimits::default(),
        }
    }
}

type LayerFn = Box<dyn FnOnce(BoxCallService) -> BoxCallService + Send>;

/// Why [`ServerBuilder::try_build`] refused to build a server.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BuildError {
    /// Two registrations (protocols, routers or `rpc` handlers) export the same method.
    #[error("method `{method}` is registered twice: by {first} and by {second}")]
    DuplicateMethod {
        /// The method's URI.
        method: String,
        /// What registered it first.
        first: String,
        /// What registered it again.
        second: String,
    },
}

/// Builds a [`Server`]: methods, secret, layers, settings, wire generations.
pub struct ServerBuilder {
    codecs: Codecs,
    router: Router,
    /// Every method registered so far, with what registered it (to refuse duplicates).
    registrations: Vec<(String, String)>,
    state: wslink_core::Extensions,
    hello: HelloAuthLayer,
    layers: Vec<LayerFn>,
    config: ServerConfig,
    subscribers_only: Vec<wslink_core::TopicPattern>,
    subscriber_hooks: Vec<SubscriberHook>,
    backend: Option<Box<dyn crate::cluster::Backend>>,
}

impl std::fmt::Debug for ServerBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServerBuilder")
            .field("codecs", &self.codecs)
            .field("router", &self.router)
            .field("layers", &self.layers.len())
            .field("config", &self.config)
            .field("subscribers_only", &self.subscribers_only)
            .finish_non_exhaustive()
    }
}

#[cfg(feature = "msgpack")]
impl ServerBuilder {
    /// A 2.x (msgpack) server accepting the default secret `wslink-secret`.
    pub fn new() -> Self {
        Self::with_codec(wslink_codec_msgpack::MsgpackCodec::new())
    }
}

#[cfg(feature = "msgpack")]
impl Default for ServerBuilder {
    fn default() -> Self {
        Self::new()
    }
}

impl ServerBuilder {
    /// A server speaking only `codec`'s wire generation.
    pub fn with_codec(codec: impl Codec) -> Self {
        let mut codecs = Codecs::default();
        codecs.insert(codec);
        ServerBuilder {
            codecs,
            router: Router::new(),
            registrations: Vec::new(),
            state: wslink_core::Extensions::new(),
            hello: HelloAuthLayer::new(SharedSecret::new(DEFAULT_SECRET)),
            layers: Vec::new(),
            config: ServerConfig::default(),
            subscribers_only: Vec::new(),
            subscriber_hooks: Vec::new(),
            backend: None,
        }
    }

    /// Shares publications with the other nodes of the application through `backend`
    /// (a broker client, e.g. `wslink_pubsub_nats::NatsBackend`); see
    /// [`cluster`](crate::cluster). Publications still reach this node's own clients
    /// directly, broker or not.
    pub fn pubsub(mut self, backend: impl crate::cluster::Backend) -> Self {
        self.backend = Some(Box::new(backend));
        self
    }

    /// Publications on `topic` (or on every topic under `prefix.*`) reach only the
    /// connections subscribed to them with `wslink.subscribe`; without this, a
    /// connection that never subscribed gets every publication. An invalid topic is
    /// ignored with a warning.
    pub fn subscribers_only(mut self, topic: &str) -> Self {
        match wslink_core::TopicPattern::parse(topic) {
            Some(pattern) => self.subscribers_only.push(pattern),
            None => tracing::warn!(topic, "subscribers_only: invalid topic ignored"),
        }
        self
    }

    /// Calls `hook` when a topic gets its first subscriber and when its last one leaves
    /// (so an application can start and stop producing). Runs on the subscribing
    /// connection's task: keep it short.
    pub fn on_subscribers(
        mut self,
        hook: impl Fn(&SubscriberEvent) + Send + Sync + 'static,
    ) -> Self {
        self.subscriber_hooks.push(Arc::new(hook));
        self
    }

    /// Also speaks `codec`'s generation (replacing a codec of the same generation). With
    /// both generations, each connection's first data frame decides: binary is 2.x, text
    /// 1.x. A server without 1.x closes a connection whose first frame is text with 1003.
    pub fn codec(mut self, codec: impl Codec) -> Self {
        self.codecs.insert(codec);
        self
    }

    /// Stops speaking `generation` (a server needs at least one codec to be useful).
    pub fn without(mut self, generation: Generation) -> Self {
        self.codecs.remove(generation);
        self
    }

    /// The generations this server will speak.
    pub fn generations(&self) -> Vec<Generation> {
        self.codecs.generations().collect()
    }

    /// Registers a handler for `method`; see [`Router::rpc`]. Registering a method
    /// twice makes [`ServerBuilder::try_build`] fail.
    pub fn rpc<H: crate::Handler<M>, M: 'static>(
        mut self,
        method: impl Into<String>,
        handler: H,
    ) -> Self {
        let method = method.into();
        self.registrations
            .push((method.clone(), format!("rpc(\"{method}\")")));
        self.router = self.router.rpc(method, handler);
        self
    }

    /// Adds every method of `router`.
    pub fn router(mut self, router: Router) -> Self {
        for method in router.methods() {
            self.registrations
                .push((method.to_owned(), "a router".to_owned()));
        }
        self.router = self.router.merge(router);
        self
    }

    /// Adds every method of a protocol (see [`crate::protocol`]): a struct whose
    /// `#[wslink::protocol]` methods share it as their state.
    pub fn protocol<P: Protocol>(self, protocol: P) -> Self {
        self.shared_protocol(Arc::new(protocol))
    }

    /// As [`ServerBuilder::protocol`], keeping a handle on the protocol's state (to
    /// drive it from outside the calls, for example).
    pub fn shared_protocol<P: Protocol>(mut self, protocol: Arc<P>) -> Self {
        for uri in P::uris() {
            self.registrations
                .push(((*uri).to_owned(), format!("protocol {}", P::NAME)));
        }
        self.router = self.router.merge(protocol.into_router());
        self
    }

    /// Adds application state that handlers read with [`State<T>`](crate::State), one
    /// value per type (a second value of the same type replaces the first).
    pub fn state<T: Clone + Send + Sync + 'static>(mut self, state: T) -> Self {
        self.state.insert(state);
        self
    }

    /// The secret clients must send in their hello.
    pub fn secret(mut self, secret: impl Into<Arc<str>>) -> Self {
        self.hello = HelloAuthLayer::secret(secret);
        self
    }

    /// Validates hellos with `auth` instead of a shared secret.
    pub fn authenticate(mut self, auth: impl Authenticate) -> Self {
        self.hello = HelloAuthLayer::new(auth);
        self
    }

    /// Wraps the router (and the layers added before) in a tower layer. Layers see
    /// authenticated calls only; the hello layer is outermost.
    pub fn layer<L>(mut self, layer: L) -> Self
    where
        L: Layer<BoxCallService> + Send + 'static,
        L::Service:
            Service<Call, Response = Value, Error = RpcError> + Clone + Send + Sync + 'static,
        <L::Service as Service<Call>>::Future: Send + 'static,
    {
        self.layers.push(Box::new(move |inner| {
            BoxCallService::new(layer.layer(inner))
        }));
        self
    }

    /// Replaces all settings.
    pub fn config(mut self, config: ServerConfig) -> Self {
        self.config = config;
        self
    }

    /// Changes settings in place.
    pub fn configure(mut self, f: impl FnOnce(&mut ServerConfig)) -> Self {
        f(&mut self.config);
        self
    }

    /// Builds the server.
    ///
    /// # Panics
    ///
    /// When [`ServerBuilder::try_build`] fails: a method registered twice is a mistake
    /// in the program, which this reports at start-up rather than letting one
    /// registration silently win.
    #[track_caller]
    pub fn build(self) -> Server {
        match self.try_build() {
            Ok(server) => server,
            Err(e) => panic!("cannot build the wslink server: {e}"),
        }
    }

    /// Builds the server, or says why it cannot: two registrations exporting the same
    /// method. (The built-in methods, `application.exit` and `wslink.subscribe` among
    /// them, may be replaced by the application's own.)
    pub fn try_build(self) -> Result<Server, BuildError> {
        check_duplicates(&self.registrations)?;
        Ok(self.build_checked())
    }

    fn build_checked(self) -> Server {
        let (shutdown_tx, shutdown_rx) = watch::channel(false);
        let config = self.config;
        let codecs = self.codecs;
        let encoder: SharedEncoder = {
            let codecs = codecs.clone();
            let max_frame_size = config.max_frame_size;
            Arc::new(move |message: &Message, generation: Generation| {
                match codecs.get(generation) {
                    Some(codec) => codec.encode(message, max_frame_size),
                    None => Err(CodecError::Encode(format!("no codec for {generation:?}"))),
                }
            })
        };
        let mut hooks = self.subscriber_hooks;
        // A backend listens to the topics this node's connections subscribe to.
        let cluster = self.backend.map(|backend| {
            let (hook, interest) = crate::cluster::interest_hook(&self.subscribers_only);
            hooks.push(hook);
            (backend, interest)
        });
        let registry = Registry::new(config.subscriptions.clone(), self.subscribers_only, hooks);
        let hub = Arc::new(Hub::with_subscriptions(
            encoder,
            config.slow_client,
            registry,
        ));
        let (pubsub, pending): (Arc<dyn PubSub>, _) = match cluster {
            Some((backend, interest)) => {
                let (node, pending) = crate::cluster::ClusterPubSub::new(
                    hub.clone(),
                    backend,
                    &config.cluster,
                    config.limits.max_depth,
                    interest,
                    shutdown_rx.clone(),
                );
                (node, Some(pending))
            }
            None => (hub.clone(), None),
        };
        let inbound = Arc::new(InboundStats::default());
        let handle = ServerHandle {
            hub: hub.clone(),
            pubsub: pubsub.clone(),
            shutdown: Arc::new(shutdown_tx),
            inbound: inbound.clone(),
        };
        // The built-in methods first, so that an application's own method of the same
        // name (`application.exit`, `wslink.subscribe`, …) replaces the built-in one
        // rather than being silently replaced.
        let router = exit_methods(handle.clone(), config.exit_policy)
            .merge(crate::subscribe_methods::router(hub.clone()))
            .merge(self.router);
        let mut service = BoxCallService::new(router);
        for layer in self.layers {
            service = layer(service);
        }
        let service = BoxCallService::new(self.hello.layer(service));
        Server {
            shared: Arc::new(Shared {
                codecs,
                service,
                hub,
                pubsub,
                config,
                shutdown: shutdown_rx,
                inbound,
                state: Arc::new(self.state),
            }),
            handle,
            pending: std::sync::Mutex::new(pending),
        }
    }
}

/// The first method registered twice, if any.
fn check_duplicates(registrations: &[(String, String)]) -> Result<(), BuildError> {
    let mut seen: std::collections::HashMap<&str, &str> = std::collections::HashMap::new();
    for (method, by) in registrations {
        if let Some(first) = seen.insert(method, by) {
            return Err(BuildError::DuplicateMethod {
                method: method.clone(),
                first: first.to_owned(),
                second: by.clone(),
            });
        }
    }
    Ok(())
}

/// `application.exit` and `application.exit.later`, under `policy`.
fn exit_methods(handle: ServerHandle, policy: ExitPolicy) -> Router {
    let allowed = move |handle: &ServerHandle, caller: &ClientId| match policy {
        ExitPolicy::Always => true,
        ExitPolicy::WhenAlone => handle.hub.authenticated_count(Some(caller)) == 0,
        ExitPolicy::Never => false,
    };
    let now = handle.clone();
    Router::new()
        .rpc("application.exit", move |ctx: Context| {
            let handle = now.clone();
            async move {
                if allowed(&handle, ctx.client_id()) {
                    tracing::info!(client = %ctx.client_id(), "application.exit: stopping");
                    // Let the reply leave before the connections close.
                    tokio::spawn(async move {
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        handle.shutdown();
                    });
                } else {
                    tracing::info!(client = %ctx.client_id(), ?policy, "application.exit refused");
                }
                Ok(Value::Nil)
            }
        })
        .rpc("application.exit.later", move |ctx: Context, seconds: Option<f64>| {
            let handle = handle.clone();
            async move {
                let seconds = seconds.unwrap_or(60.0).clamp(0.0, 1e9);
                let caller = ctx.client_id().clone();
                if !allowed(&handle, &caller) {
                    tracing::info!(client = %caller, ?policy, "application.exit.later refused");
                    return Ok(Value::Nil);
                }
                tracing::info!(client = %caller, seconds, "application.exit.later: stopping later");
                tokio::spawn(async move {
                    tokio::time::sleep(Duration::from_secs_f64(seconds)).await;
                    if allowed(&handle, &caller) {
                        handle.shutdown();
                    } else {
                        tracing::info!("delayed exit cancelled: other clients are connected");
                    }
                });
                Ok(Value::Nil)
            }
        })
}

/// A handle to a running server: publish from anywhere, stop it, count connections.
/// Cheap to clone.
#[derive(Debug, Clone)]
pub struct ServerHandle {
    hub: Arc<Hub>,
    pubsub: Arc<dyn PubSub>,
    shutdown: Arc<watch::Sender<bool>>,
    inbound: Arc<InboundStats>,
}

impl ServerHandle {
    /// Publishes `data` on `topic` to every authenticated client.
    pub async fn publish(
        &self,
        topic: &str,
        data: impl Serialize + 'static,
    ) -> Result<usize, PublishError> {
        self.publish_to(topic, data, Target::All).await
    }

    /// Publishes to the clients of `target`.
    pub async fn publish_to(
        &self,
        topic: &str,
        data: impl Serialize + 'static,
        target: Target,
    ) -> Result<usize, PublishError> {
        let data = into_value(data)
            .map_err(|e| PublishError::Encode(wslink_core::CodecError::Encode(e.to_string())))?;
        self.pubsub.publish(topic, data, target).await
    }

    /// Stops the server: every connection is closed with 1001 `Server shutdown`.
    pub fn shutdown(&self) {
        self.shutdown.send_replace(true);
        self.hub
            .close_all(Close::new(CloseCode::GOING_AWAY, "Server shutdown"));
    }

    /// Closes one client's connection (1000, queued messages are still sent); `false`
    /// if that client is not connected.
    pub fn disconnect(&self, client: &ClientId) -> bool {
        self.hub.close_client(
            client,
            Close::new(CloseCode::NORMAL, "disconnected by the server"),
        )
    }

    /// `true` once [`ServerHandle::shutdown`] was called.
    pub fn is_shut_down(&self) -> bool {
        *self.shutdown.borrow()
    }

    /// Waits until the server is asked to stop.
    pub async fn stopped(&self) {
        let mut rx = self.shutdown.subscribe();
        let _ = rx.wait_for(|stop| *stop).await;
    }

    /// Open connections.
    pub fn connection_count(&self) -> usize {
        self.hub.connection_count()
    }

    /// Authenticated connections.
    pub fn authenticated_count(&self) -> usize {
        self.hub.authenticated_count(None)
    }

    /// Connections with a server-side subscription on `topic` (as written: `a.*` counts
    /// apart from `a.b`).
    pub fn subscriber_count(&self, topic: &str) -> usize {
        self.hub.subscriptions().subscriber_count(topic)
    }

    /// Watches [`ServerHandle::subscriber_count`] of `topic`, e.g. to wait for a first
    /// subscriber: `watch.wait_for(|n| *n > 0).await`.
    pub fn watch_subscribers(&self, topic: &str) -> watch::Receiver<usize> {
        self.hub.subscriptions().watch(topic)
    }

    /// Publication encodings so far, over all publications: one per wire generation and
    /// distinct projection among the receivers, none for a publication nobody receives.
    pub fn encodings(&self) -> u64 {
        self.hub.encodings()
    }

    /// Inbound frames that gave nothing to act on, per class, over all connections so
    /// far (each was also logged; see [`wslink_core::inbound`]).
    pub fn inbound_stats(&self) -> &InboundStats {
        &self.inbound
    }
}

/// A wslink server. Serve connections from a [`Listener`] with [`Server::serve`], or
/// hand it single connections with [`Server::serve_connection`].
pub struct Server {
    shared: Arc<Shared>,
    handle: ServerHandle,
    /// The pub/sub backend, started by the first `serve` or `serve_connection`.
    pending: std::sync::Mutex<Option<crate::cluster::Pending>>,
}

impl std::fmt::Debug for Server {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Server")
            .field("config", &self.shared.config)
            .finish()
    }
}

impl Server {
    /// A handle for publishing and stopping.
    pub fn handle(&self) -> ServerHandle {
        self.handle.clone()
    }

    /// The settings in force.
    pub fn config(&self) -> &ServerConfig {
        &self.shared.config
    }

    /// Starts the pub/sub backend, if any and not started yet.
    fn start_cluster(&self) {
        if let Some(pending) = self
            .pending
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take()
        {
            pending.start();
        }
    }

    /// Serves one connection until it ends.
    pub async fn serve_connection<T: Transport>(&self, transport: T) {
        self.start_cluster();
        connection::run(self.shared.clone(), transport).await;
    }

    /// Accepts and serves connections until the server is stopped (by
    /// [`ServerHandle::shutdown`], `application.exit`, or the idle timeout) or the
    /// listener ends. Connections are closed with 1001 on the way out.
    pub async fn serve<L: Listener>(self, mut listener: L) {
        self.start_cluster();
        let handle = self.handle.clone();
        let mut stop = self.shared.shutdown.clone();
        let shared = self.shared.clone();
        listener.serve_inline(Arc::new(move |transport| {
            Box::pin(connection::run(shared.clone(), transport))
        }));
        let idle = idle_expiry(&self.handle, self.shared.config.idle_timeout);
        tokio::pin!(idle);
        loop {
            tokio::select! {
                accepted = listener.accept() => {
                    let Some(transport) = accepted else { break };
                    let shared = self.shared.clone();
                    tokio::spawn(connection::run(shared, transport));
                }
                _ = stop.wait_for(|s| *s) => break,
                _ = &mut idle => {
                    tracing::info!("no connection for the idle timeout: stopping");
                    break;
                }
            }
        }
        handle.shutdown();
        // Wait (bounded) for the connections to say goodbye.
        let mut count = self.shared.hub.watch_count();
        let _ = tokio::time::timeout(Duration::from_secs(5), count.wait_for(|n| *n == 0)).await;
    }
}

/// Resolves once there has been no connection for `timeout` (never without one).
async fn idle_expiry(handle: &ServerHandle, timeout: Option<Duration>) {
    let Some(timeout) = timeout else {
        return std::future::pending().await;
    };
    let mut count = handle.hub.watch_count();
    loop {
        let _ = count.wait_for(|n| *n == 0).await;
        let deadline = tokio::time::sleep(timeout);
        tokio::select! {
            _ = deadline => return,
            _ = count.wait_for(|n| *n > 0) => {}
        }
    }
}
