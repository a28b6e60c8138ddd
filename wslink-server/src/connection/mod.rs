//! One client connection: read frames, run calls, write replies, in three named stages.
//!
//! * **inbound** ([`inbound`]): frame → wire generation (told by the first frame) →
//!   decoded message. A frame that gives nothing to act on is handled by the policy of
//!   [`wslink_core::inbound`], shared with the client: logged, counted, answered with an
//!   error when it carries an id, and, for a stream that cannot be trusted any more,
//!   closed with the matching close code. Nothing else is affected.
//! * **dispatch** ([`dispatch`]): message → call through the server's service → reply
//!   queued in the connection's [`Outbox`]. The hello is answered before the next frame
//!   is read (so the pre-auth limit is lifted exactly when it succeeds); a call that
//!   answers at once is answered inline; the others run as their own tasks, up to
//!   `max_in_flight` at once, and their replies may leave in any order (ids correlate
//!   them).
//! * **outbound** ([`writer`]): the loop writes what a burst answered before it waits;
//!   the writer task, started the first time there is more (a publication, the reply of
//!   a spawned call), drains the outbox, one flush per batch.
//!
//! [`serve`] is the loop around them; [`Waits`] is what it waits for besides frames.

mod dispatch;
mod inbound;
mod writer;

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use futures_util::FutureExt;
use tokio::sync::{watch, Semaphore};
use tracing::Instrument;
use wslink_core::inbound::{close_reason, InboundStats};
use wslink_core::{
    BoxCallService, ClientId, Close, CloseCode, Frame, FrameSink, FrameStream, PubSub, Session,
    Transport, TransportError,
};

use crate::codecs::Codecs;
use crate::hub::Hub;
use crate::outbox::Outbox;
use crate::server::ServerConfig;

use inbound::{Inbound, Step};
use writer::{Seen, SharedSink, Writer};

/// What every connection of a server shares.
pub(crate) struct Shared {
    pub(crate) codecs: Codecs,
    pub(crate) service: BoxCallService,
    pub(crate) hub: Arc<Hub>,
    /// Where calls publish: the hub, or the cluster around it.
    pub(crate) pubsub: Arc<dyn PubSub>,
    pub(crate) config: ServerConfig,
    pub(crate) shutdown: watch::Receiver<bool>,
    /// Discarded inbound frames over all connections.
    pub(crate) inbound: Arc<InboundStats>,
    /// The application state every call sees (`State<T>`).
    pub(crate) state: Arc<wslink_core::Extensions>,
}

/// Runs one connection to its end.
///
/// Not an `async fn`: the transport is split here, before the future that lives as long
/// as the connection starts. An `async fn` keeps room for its arguments for as long as
/// it runs, and a WebSocket transport is a kilobyte.
pub(crate) fn run<T: Transport>(
    shared: Arc<Shared>,
    transport: T,
) -> impl Future<Output = ()> + Send {
    let session = Arc::new(Session::new(
        ClientId::random(),
        shared.codecs.preferred(),
        shared.config.max_frame_size,
        transport.peer(),
    ));
    let span = tracing::info_span!("connection", client = %session.client_id());
    let (sink, stream) = transport.split();
    serve(shared, sink, stream, session).instrument(span)
}

/// What the stages of one connection share. Cheap to clone (for a call that needs a task
/// of its own).
#[derive(Clone)]
struct Conn {
    shared: Arc<Shared>,
    session: Arc<Session>,
    outbox: Arc<Outbox>,
    in_flight: Arc<Semaphore>,
}

/// The connection's loop: next frame → inbound → dispatch, until something closes it.
async fn serve<K: FrameSink, S: FrameStream>(
    shared: Arc<Shared>,
    sink: K,
    mut stream: S,
    session: Arc<Session>,
) {
    let Some((outbox, sink)) = register(&shared, &session, sink).await else {
        return;
    };
    let keepalive = shared.config.keepalive;
    let sink: SharedSink<_> = Arc::new(tokio::sync::Mutex::new(sink));
    let writer = Writer::new(sink.clone(), outbox.clone(), keepalive);
    let mut waits = Waits::new(&shared, writer, sink);
    let conn = Conn {
        in_flight: Arc::new(Semaphore::new(shared.config.max_in_flight.max(1))),
        outbox,
        session,
        shared,
    };
    let mut inbound = Inbound::default();
    let close = loop {
        let frame = match waits.next_frame(&conn, &mut stream).await {
            Ok(frame) => frame,
            Err(close) => break close,
        };
        let message = match inbound.accept(&conn, frame) {
            Step::Message(message) => message,
            Step::Nothing => continue,
            Step::Close(close) => break close,
        };
        if let Some(close) = dispatch::message(&conn, &mut inbound, message).await {
            break close;
        }
    };
    conn.shared.hub.unregister(conn.session.client_id());
    conn.outbox.close(close.clone());
    waits.finish_writer().await;
    log_disconnected(stream.close_frame(), &close, &inbound.discarded);
}

/// Gives the connection an outbox and a place in the hub, or refuses it (1013) when the
/// server is full.
async fn register<S: FrameSink>(
    shared: &Shared,
    session: &Arc<Session>,
    mut sink: S,
) -> Option<(Arc<Outbox>, S)> {
    let outbox = Arc::new(Outbox::new(shared.config.outbox_capacity));
    let limit = shared.config.max_connections;
    if shared.hub.register(session.clone(), outbox.clone(), limit) {
        tracing::debug!(peer = ?session.peer().remote_addr, "connected");
        return Some((outbox, sink));
    }
    tracing::warn!(limit, "refusing a connection: server full");
    let _ = sink
        .close(Close::new(CloseCode::TRY_AGAIN_LATER, "server full"))
        .await;
    None
}

/// What the loop waits for besides the next frame: the hello deadline, the server's
/// shutdown, the writer's work (see [`Writer::watch`]); and the sink, where the loop
/// writes what a burst of frames answered before it waits.
struct Waits<S> {
    hello_deadline: Pin<Box<dyn Future<Output = ()> + Send>>,
    shutdown: watch::Receiver<bool>,
    writer: Writer<S>,
    sink: SharedSink<S>,
    batch: Vec<wslink_core::Encoded>,
}

impl<K: FrameSink> Waits<K> {
    fn new(shared: &Shared, writer: Writer<K>, sink: SharedSink<K>) -> Self {
        let limit = shared.config.hello_timeout;
        Waits {
            hello_deadline: Box::pin(async move {
                match limit {
                    Some(limit) => tokio::time::sleep(limit).await,
                    None => std::future::pending().await,
                }
            }),
            shutdown: shared.shutdown.clone(),
            writer,
            sink,
            batch: Vec::new(),
        }
    }

    /// The next frame, or why the connection must close. What is already there is taken
    /// without waiting; before waiting, the replies queued meanwhile are written in one
    /// go (one flush for a burst of calls), here unless the writer is busy (see
    /// [`writer`]).
    async fn next_frame<S: FrameStream>(
        &mut self,
        conn: &Conn,
        stream: &mut S,
    ) -> Result<Frame, Close> {
        let frame = match stream.recv().now_or_never() {
            Some(frame) => frame,
            None => {
                self.write_answers(conn).await?;
                self.wait(conn, stream).await?
            }
        };
        match frame {
            None => Err(Close::new(CloseCode::NORMAL, "")),
            Some(Ok(frame)) => Ok(frame),
            Some(Err(e)) => {
                tracing::info!(error = %e, "closing: transport error");
                let code = match e {
                    TransportError::TooLarge(_) => CloseCode::TOO_BIG,
                    _ => CloseCode::PROTOCOL_ERROR,
                };
                Err(Close::new(code, close_reason(&e.to_string())))
            }
        }
    }

    /// Writes what the burst answered, giving up if the server stops meanwhile (a peer
    /// that does not read must not hold up the shutdown).
    async fn write_answers(&mut self, conn: &Conn) -> Result<(), Close> {
        tokio::select! {
            () = writer::write_now(&self.sink, &conn.outbox, &mut self.batch) => Ok(()),
            _ = self.shutdown.wait_for(|stop| *stop) => {
                Err(Close::new(CloseCode::GOING_AWAY, "Server shutdown"))
            }
        }
    }

    /// Waits for the next frame (`recv` is cancel-safe: a wait interrupted by the
    /// writer's work loses nothing).
    async fn wait<S: FrameStream>(
        &mut self,
        conn: &Conn,
        stream: &mut S,
    ) -> Result<Option<Result<Frame, TransportError>>, Close> {
        let authenticated = conn.session.is_authenticated();
        loop {
            tokio::select! {
                frame = stream.recv() => return Ok(frame),
                _ = &mut self.hello_deadline, if !authenticated => {
                    tracing::info!("closing: no successful hello in time");
                    return Err(Close::new(CloseCode::POLICY_VIOLATION, "no hello in time"));
                }
                _ = self.shutdown.wait_for(|stop| *stop) => {
                    return Err(Close::new(CloseCode::GOING_AWAY, "Server shutdown"));
                }
                seen = self.writer.watch() => match seen {
                    Seen::Handled => continue,
                    Seen::Ended => return Err(Close::new(CloseCode::NORMAL, "")),
                },
            }
        }
    }

    /// Gives the writer a moment to flush what is queued and send the close frame.
    async fn finish_writer(self) {
        self.writer.finish(Duration::from_secs(5)).await;
    }
}

/// Logs the end of a connection: with the peer's close code and reason when the peer
/// closed it, else with the close we sent.
fn log_disconnected(peer: Option<&Close>, ours: &Close, discarded: &InboundStats) {
    match peer {
        Some(peer) => tracing::debug!(
            code = %peer.code,
            reason = %peer.reason,
            %discarded,
            "disconnected: closed by the peer"
        ),
        None => {
            tracing::debug!(code = %ours.code, reason = %ours.reason, %discarded, "disconnected")
        }
    }
}
