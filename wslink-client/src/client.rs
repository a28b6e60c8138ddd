//! The client: connect, hello, call, subscribe.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde::de::DeserializeOwned;
use tokio::sync::{mpsc, oneshot};
use wslink_core::id::{is_valid_topic, rpc_id, HELLO_ID, HELLO_METHOD};
use wslink_core::{
    from_value, map, ClientId, Close, CloseCode, Codec, CodecError, DecodeLimits, Decoder, Encoded,
    EnvelopeError, FrameSink, FrameStream, Map, Message, Request, Transport, Value, WireError,
};

use crate::error::ClientError;
use crate::subscription::{Subscription, Topics};

/// The secret the reference JS client sends when none is given.
pub const DEFAULT_SECRET: &str = "wslink-secret";

/// The chunk size used until the hello reply announces the server's (as the JS client).
pub const PRE_HELLO_FRAME_SIZE: usize = 512 * 1024;

/// Settings of a client.
#[derive(Debug, Clone)]
pub struct ClientConfig {
    /// The secret sent in the hello (default `wslink-secret`).
    pub secret: String,
    /// Largest message accepted from the server, and bounds on incomplete ones
    /// (default 256 MiB).
    pub limits: DecodeLimits,
    /// Fail a call that has no answer after this long (default: wait forever, as long as
    /// the connection lives).
    pub request_timeout: Option<Duration>,
    /// Unread publications a subscription holds before it drops newer ones (default 16384).
    pub subscription_capacity: usize,
    /// Messages waiting to be written (default 256); calls wait when it is full.
    pub send_queue: usize,
}

impl Default for ClientConfig {
    fn default() -> Self {
        ClientConfig {
            secret: DEFAULT_SECRET.to_owned(),
            limits: DecodeLimits::default(),
            request_timeout: None,
            subscription_capacity: 16384,
            send_queue: 256,
        }
    }
}

type EncodeFn = dyn Fn(&Message, usize) -> Result<Encoded, CodecError> + Send + Sync;

enum Outgoing {
    Message(Encoded),
    Close(Close),
}

#[derive(Default)]
struct Pending {
    closed: bool,
    calls: HashMap<String, oneshot::Sender<Result<Value, WireError>>>,
}

/// State shared by the client handles and the reader task.
struct Inner {
    encode: Box<EncodeFn>,
    max_frame: AtomicUsize,
    outgoing: mpsc::Sender<Outgoing>,
    pending: Mutex<Pending>,
    topics: Arc<Topics>,
    counter: AtomicU64,
    client_id: std::sync::OnceLock<ClientId>,
    config: ClientConfig,
}

impl Inner {
    fn pending(&self) -> std::sync::MutexGuard<'_, Pending> {
        self.pending.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn dispatch(&self, message: Message) {
        match message {
            Message::Response(r) => match self.pending().calls.remove(&r.id) {
                Some(tx) => {
                    let _ = tx.send(r.outcome);
                }
                None => tracing::debug!(id = %r.id, "response for no pending call"),
            },
            Message::Publication(p) => {
                self.topics.deliver(&p.topic, p.data);
            }
            Message::Request(r) => {
                tracing::debug!(method = %r.method, "ignoring a request sent by the server")
            }
        }
    }

    /// Marks the connection closed: every pending call fails, every subscription ends.
    fn shut(&self) {
        let calls = {
            let mut pending = self.pending();
            pending.closed = true;
            std::mem::take(&mut pending.calls)
        };
        drop(calls); // dropped senders wake their callers with `Disconnected`
        self.topics.close_all();
    }

    async fn request(&self, request: Request) -> Result<Value, ClientError> {
        let (tx, rx) = oneshot::channel();
        let id = request.id.clone();
        {
            let mut pending = self.pending();
            if pending.closed {
                return Err(ClientError::Disconnected);
            }
            pending.calls.insert(id.clone(), tx);
        }
        let guard = PendingGuard {
            inner: self,
            id: &id,
        };
        let max_frame = self.max_frame.load(Ordering::Relaxed);
        let message = Message::Request(request);
        let encoded = (self.encode)(&message, max_frame)?;
        self.outgoing
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
        self.inner.pending().calls.remove(self.id);
    }
}

/// Closes the connection when the last [`Client`] handle goes away.
struct Connection {
    inner: Arc<Inner>,
}

impl Drop for Connection {
    fn drop(&mut self) {
        self.inner.shut();
        let _ = self
            .inner
            .outgoing
            .try_send(Outgoing::Close(Close::new(CloseCode::NORMAL, "")));
    }
}

/// A connected, authenticated wslink client. Cheap to clone; the connection closes when
/// the last clone is dropped or [`Client::close`] is called.
#[derive(Clone)]
pub struct Client {
    conn: Arc<Connection>,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("client_id", &self.conn.inner.client_id.get())
            .finish()
    }
}

/// Builds a [`Client`].
#[derive(Debug, Clone)]
pub struct ClientBuilder<C> {
    codec: C,
    config: ClientConfig,
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

    /// Opens the connection over `transport`, says hello, and returns the client once the
    /// server accepted it.
    pub async fn connect<T: Transport>(self, transport: T) -> Result<Client, ClientError> {
        let (sink, stream) = transport.split();
        let (tx, rx) = mpsc::channel(self.config.send_queue.max(1));
        let codec = self.codec.clone();
        let mut decoder = self.codec.decoder(self.config.limits.clone());
        // The server's messages are not subject to the pre-auth limit.
        decoder.set_authenticated(true);
        let inner = Arc::new(Inner {
            encode: Box::new(move |message, max_frame| codec.encode(message, max_frame)),
            max_frame: AtomicUsize::new(PRE_HELLO_FRAME_SIZE),
            outgoing: tx,
            pending: Mutex::new(Pending::default()),
            topics: Arc::new(Topics::default()),
            counter: AtomicU64::new(0),
            client_id: std::sync::OnceLock::new(),
            config: self.config,
        });
        tokio::spawn(write_loop(sink, rx));
        tokio::spawn(read_loop(inner.clone(), stream, decoder));
        let client = Client {
            conn: Arc::new(Connection { inner }),
        };
        client.hello().await?;
        Ok(client)
    }
}

impl Client {
    fn inner(&self) -> &Inner {
        &self.conn.inner
    }

    async fn hello(&self) -> Result<(), ClientError> {
        let inner = self.inner();
        let request = Request {
            id: HELLO_ID.to_owned(),
            method: HELLO_METHOD.to_owned(),
            args: vec![map! { "secret" => inner.config.secret.as_str() }],
            kwargs: Map::new(),
        };
        let reply = inner.request(request).await.map_err(|e| match e {
            ClientError::Rpc(wire) => ClientError::Auth(wire),
            other => other,
        })?;
        let Some(id) = reply["clientID"].as_str() else {
            return Err(ClientError::Protocol(format!(
                "hello reply without clientID: {reply}"
            )));
        };
        let _ = inner.client_id.set(ClientId::from_wire(id));
        if let Some(size) = reply["maxMsgSize"].as_u64().filter(|&n| n > 0) {
            inner.max_frame.store(
                usize::try_from(size).unwrap_or(usize::MAX),
                Ordering::Relaxed,
            );
        }
        Ok(())
    }

    /// The id the server gave this client.
    pub fn client_id(&self) -> &ClientId {
        self.inner()
            .client_id
            .get()
            .expect("a connected client has had its hello")
    }

    /// The chunk size in use (the server's `maxMsgSize`).
    pub fn max_frame_size(&self) -> usize {
        self.inner().max_frame.load(Ordering::Relaxed)
    }

    /// Calls `method(*args, **kwargs)` and waits for the result.
    pub async fn call(
        &self,
        method: &str,
        args: Vec<Value>,
        kwargs: Map,
    ) -> Result<Value, ClientError> {
        let inner = self.inner();
        let id = rpc_id(
            self.client_id(),
            inner.counter.fetch_add(1, Ordering::Relaxed),
        );
        inner
            .request(Request {
                id,
                method: method.to_owned(),
                args,
                kwargs,
            })
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
    /// dropped. Nothing is sent to the server: wslink servers broadcast.
    pub fn subscribe(&self, topic: &str) -> Result<Subscription, ClientError> {
        if !is_valid_topic(topic) {
            return Err(ClientError::InvalidTopic(topic.to_owned()));
        }
        let inner = self.inner();
        if inner.pending().closed {
            return Err(ClientError::Disconnected);
        }
        Ok(inner
            .topics
            .subscribe(topic, inner.config.subscription_capacity))
    }

    /// `true` once the connection is closed.
    pub fn is_closed(&self) -> bool {
        self.inner().pending().closed
    }

    /// Closes the connection (close code 1000). Calls in flight fail with
    /// [`ClientError::Disconnected`]; subscriptions end.
    pub async fn close(&self) {
        let inner = self.inner();
        inner.shut();
        let _ = inner
            .outgoing
            .send(Outgoing::Close(Close::new(CloseCode::NORMAL, "")))
            .await;
    }
}

async fn write_loop<S: FrameSink>(mut sink: S, mut rx: mpsc::Receiver<Outgoing>) {
    while let Some(item) = rx.recv().await {
        let mut next = Some(item);
        // Write everything queued, then flush once.
        while let Some(item) = next.take() {
            match item {
                Outgoing::Message(encoded) => {
                    for frame in encoded.frames() {
                        if sink.feed(frame.clone()).await.is_err() {
                            return;
                        }
                    }
                }
                Outgoing::Close(close) => {
                    let _ = sink.close(close).await;
                    return;
                }
            }
            next = rx.try_recv().ok();
        }
        if sink.flush().await.is_err() {
            return;
        }
    }
    let _ = sink.close(Close::new(CloseCode::NORMAL, "")).await;
}

async fn read_loop<S: FrameStream, D: Decoder>(inner: Arc<Inner>, mut stream: S, mut decoder: D) {
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
            Ok(None) => {}
            Err(CodecError::UnexpectedFrame(kind)) => tracing::warn!("ignoring a {kind} frame"),
            Err(CodecError::Envelope(e @ EnvelopeError::NotAMap(_))) => {
                tracing::warn!(error = %e, "ignoring a message that is not a map")
            }
            Err(e) => {
                // Which call the bad message answered is unknown: fail them all rather
                // than leave one waiting forever.
                tracing::warn!(error = %e, "closing: the server sent an undecodable message");
                let _ = inner.outgoing.try_send(Outgoing::Close(Close::new(
                    e.close_code(),
                    "undecodable message",
                )));
                break;
            }
        }
    }
    inner.shut();
}
