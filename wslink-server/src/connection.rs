//! One client connection: read frames, run calls, write replies.
//!
//! The reader decodes frames into messages. A `system:` message (the hello) is answered
//! before the next frame is read, so the pre-auth size limit is lifted exactly when the
//! hello succeeds. Other calls run as their own tasks, up to `max_in_flight` at once, and
//! their replies may leave in any order (ids correlate them). A writer task drains the
//! connection's [`Outbox`]. A frame that gives nothing to act on is handled by the policy
//! of [`wslink_core::inbound`], shared with the client: logged, counted, answered with an
//! error when it carries an id, and, for a stream that cannot be trusted any more, closed
//! with the matching close code. Nothing else is affected.

use std::sync::Arc;
use std::time::Duration;

use futures_util::FutureExt;
use tokio::sync::{watch, Semaphore};
use tower::ServiceExt;
use tracing::Instrument;
use wslink_core::id::Id;
use wslink_core::inbound::{self, close_reason, Discard, InboundStats, Verdict};
use wslink_core::ping::PingTicker;
use wslink_core::{
    BoxCallService, Call, CallKind, ClientId, Close, CloseCode, CodecError, Decoder, FrameSink,
    FrameStream, Generation, Message, PubSub, Request, Response, RpcError, Session, Transport,
    TransportError, Value,
};

use crate::codecs::Codecs;
use crate::hub::Hub;
use crate::outbox::Outbox;
use crate::server::ServerConfig;

/// What every connection of a server shares.
pub(crate) struct Shared {
    pub(crate) codecs: Codecs,
    pub(crate) service: BoxCallService,
    pub(crate) hub: Arc<Hub>,
    /// Publishing for handlers: the hub itself, or the node of a cluster around it.
    pub(crate) pubsub: Arc<dyn PubSub>,
    pub(crate) config: ServerConfig,
    pub(crate) shutdown: watch::Receiver<bool>,
    /// Discarded inbound frames over all connections.
    pub(crate) inbound: Arc<InboundStats>,
}

/// Runs one connection to its end.
pub(crate) async fn run<T: Transport>(shared: Arc<Shared>, transport: T) {
    let session = Arc::new(Session::new(
        ClientId::random(),
        shared.codecs.preferred(),
        shared.config.max_frame_size,
        transport.peer(),
    ));
    let span = tracing::info_span!("connection", client = %session.client_id());
    serve(shared, transport, session).instrument(span).await;
}

async fn serve<T: Transport>(shared: Arc<Shared>, transport: T, session: Arc<Session>) {
    let (mut sink, mut stream) = transport.split();
    let outbox = Arc::new(Outbox::new(shared.config.outbox_capacity));
    if !shared.hub.register(
        session.clone(),
        outbox.clone(),
        shared.config.max_connections,
    ) {
        tracing::warn!(
            limit = shared.config.max_connections,
            "refusing a connection: server full"
        );
        let _ = sink
            .close(Close::new(CloseCode::TRY_AGAIN_LATER, "server full"))
            .await;
        return;
    }
    tracing::debug!(peer = ?session.peer().remote_addr, "connected");

    let keepalive = shared.config.keepalive;
    let mut writer = tokio::spawn(write_loop(sink, outbox.clone(), keepalive).in_current_span());
    // Created by the first frame, which tells the generation.
    let mut decoder: Option<Box<dyn Decoder>> = None;
    let in_flight = Arc::new(Semaphore::new(shared.config.max_in_flight.max(1)));
    let pubsub = shared.pubsub.clone();
    let mut shutdown = shared.shutdown.clone();
    let mut writer_done = false;
    let discarded = InboundStats::default();
    let hello_deadline = async {
        match shared.config.hello_timeout {
            Some(limit) => tokio::time::sleep(limit).await,
            None => std::future::pending().await,
        }
    };
    tokio::pin!(hello_deadline);

    let close = loop {
        // Take what is already there without waiting; before waiting, hand the replies
        // queued meanwhile to the writer in one go (one flush for a burst of calls).
        let ready = stream.recv().now_or_never();
        let frame = if let Some(frame) = ready {
            frame
        } else {
            outbox.wake();
            tokio::select! {
            frame = stream.recv() => frame,
            _ = &mut hello_deadline, if !session.is_authenticated() => {
                tracing::info!("closing: no successful hello in time");
                break Close::new(CloseCode::POLICY_VIOLATION, "no hello in time");
            }
            _ = shutdown.wait_for(|stop| *stop) => {
                break Close::new(CloseCode::GOING_AWAY, "Server shutdown");
            }
            _ = &mut writer => {
                writer_done = true;
                break Close::new(CloseCode::NORMAL, "");
            }
            }
        };
        let frame = match frame {
            None => break Close::new(CloseCode::NORMAL, ""),
            Some(Ok(frame)) => frame,
            Some(Err(e)) => {
                tracing::info!(error = %e, "closing: transport error");
                let code = match e {
                    TransportError::TooLarge(_) => CloseCode::TOO_BIG,
                    _ => CloseCode::PROTOCOL_ERROR,
                };
                break Close::new(code, close_reason(&e.to_string()));
            }
        };
        let decoder = match &mut decoder {
            Some(decoder) => decoder,
            None => match shared.codecs.detect(&frame) {
                Ok(generation) => {
                    session.set_generation(generation);
                    tracing::debug!(?generation, "wire generation");
                    let codec = shared
                        .codecs
                        .get(generation)
                        .expect("detected a spoken generation");
                    decoder.insert(codec.decoder(shared.config.limits.clone()))
                }
                Err(reason) => {
                    tracing::warn!(reason, "closing: wire generation not spoken here");
                    break Close::new(CloseCode::UNSUPPORTED_DATA, reason);
                }
            },
        };
        let message = match decoder.decode(frame) {
            Ok(Some(message)) => message,
            Ok(None) => continue, // a chunk of a message still incomplete
            Err(e) => match discard(&shared, &outbox, &session, &discarded, e) {
                Some(close) => break close,
                None => continue,
            },
        };
        let request = match message {
            Message::Request(request) => request,
            Message::Response(Response { id, .. }) => {
                // An id without a method: the reference tears the connection down; answer.
                count(&shared, &discarded, Discard::Unexpected);
                tracing::debug!(%id, "answering a message with an id but no method");
                let error = if session.is_authenticated() {
                    RpcError::MethodNotFound
                } else {
                    RpcError::Unauthorized
                };
                send_reply(
                    &shared,
                    &outbox,
                    session.generation(),
                    id,
                    "",
                    Err(error),
                    false,
                );
                continue;
            }
            Message::Publication(p) => {
                count(&shared, &discarded, Discard::Unexpected);
                if discarded.worth_logging() {
                    tracing::warn!(topic = %p.topic, "ignoring a publication sent by a client");
                }
                continue;
            }
        };
        let kind = match Id::parse(&request.id) {
            Id::System => CallKind::System,
            _ => CallKind::Rpc,
        };
        let Request {
            id,
            method,
            args,
            kwargs,
        } = request;
        let call = Call {
            kind,
            method: method.clone(),
            args,
            kwargs,
            session: session.clone(),
            pubsub: pubsub.clone(),
        };
        let system = kind == CallKind::System;
        let permit = if system {
            None
        } else {
            match in_flight.clone().acquire_owned().await {
                Ok(permit) => Some(permit),
                Err(_) => break Close::new(CloseCode::INTERNAL_ERROR, ""),
            }
        };
        let mut answer = Box::pin(shared.service.clone().oneshot(call));
        // A system call (the hello) is answered before the next frame is read, so the
        // pre-auth limit is lifted exactly when it succeeds. Most other handlers finish
        // without waiting: answer those here too, and give only the others a task of
        // their own, so a slow call never holds up the next ones.
        // While a handler is polled, what it publishes is held back, so that a reply
        // that is ready at the end of the poll goes first (see `Outbox::hold`).
        let ready = if system {
            Some(answer.as_mut().await)
        } else {
            outbox.hold();
            answer.as_mut().now_or_never()
        };
        if let Some(result) = ready {
            if system {
                decoder.set_authenticated(session.is_authenticated());
            }
            send_reply(
                &shared,
                &outbox,
                session.generation(),
                id,
                &method,
                result,
                false,
            );
            if !system {
                outbox.release();
            }
            drop(permit);
            continue;
        }
        outbox.release();
        let shared = shared.clone();
        let outbox = outbox.clone();
        let generation = session.generation();
        tokio::spawn(
            async move {
                let result = polled_with_holds(&outbox, answer).await;
                if let Err(e) = &result {
                    tracing::debug!(%method, error = %e, "call failed");
                }
                send_reply(&shared, &outbox, generation, id, &method, result, true);
                outbox.release();
                drop(permit);
            }
            .in_current_span(),
        );
    };

    shared.hub.unregister(session.client_id());
    outbox.close(close.clone());
    if !writer_done {
        // Give the writer a moment to flush what is queued and send the close frame.
        if tokio::time::timeout(Duration::from_secs(5), &mut writer)
            .await
            .is_err()
        {
            writer.abort();
        }
    }
    log_disconnected(stream.close_frame(), &close, &discarded);
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

/// Awaits a handler, holding the outbox during each poll (see [`Outbox::hold`]): what
/// a poll that yields published goes out at once; when the handler completes, the hold
/// of its last poll is still on, for the caller to queue the reply and then release it.
async fn polled_with_holds<F: std::future::Future + Unpin>(
    outbox: &Outbox,
    mut call: F,
) -> F::Output {
    std::future::poll_fn(|cx| {
        outbox.hold();
        let poll = std::pin::Pin::new(&mut call).poll(cx);
        if poll.is_pending() {
            outbox.release();
        }
        poll
    })
    .await
}

fn count(shared: &Shared, connection: &InboundStats, class: Discard) {
    connection.count(class);
    shared.inbound.count(class);
}

/// The inbound policy (see [`wslink_core::inbound`]) for a frame that decoded to nothing
/// to act on: log it, count it, answer it if it carries an id; `Some` when the
/// connection must close.
fn discard(
    shared: &Shared,
    outbox: &Outbox,
    session: &Session,
    connection: &InboundStats,
    error: CodecError,
) -> Option<Close> {
    let reason = error.to_string();
    let (class, verdict) = inbound::judge(error);
    count(shared, connection, class);
    let log = connection.worth_logging();
    match verdict {
        Verdict::Ignore => {
            if log {
                tracing::warn!(%class, reason, counts = %connection, "ignoring an inbound message");
            }
            None
        }
        Verdict::Answer { id, error } => {
            if log {
                tracing::warn!(%class, reason, %id, "answering an invalid request with an error");
            }
            let response = Response {
                id,
                outcome: Err(error),
            };
            send_response(shared, outbox, session.generation(), response, "", false);
            None
        }
        Verdict::Close(close) => {
            tracing::warn!(%class, reason, close_code = %close.code, "closing: protocol error");
            Some(close)
        }
    }
}

/// Encodes and queues a reply; a result that cannot be encoded becomes -32002.
fn send_reply(
    shared: &Shared,
    outbox: &Outbox,
    session_generation: Generation,
    id: String,
    method: &str,
    result: Result<Value, RpcError>,
    wake_writer: bool,
) {
    let outcome = result.map_err(|e| e.to_wire(method, shared.config.error_detail));
    let response = Response { id, outcome };
    send_response(
        shared,
        outbox,
        session_generation,
        response,
        method,
        wake_writer,
    );
}

/// Encodes and queues a response; a result that cannot be encoded becomes -32002.
fn send_response(
    shared: &Shared,
    outbox: &Outbox,
    session_generation: Generation,
    response: Response,
    method: &str,
    wake_writer: bool,
) {
    let detail = shared.config.error_detail;
    let max_frame = shared.config.max_frame_size;
    let mut message = Message::Response(response);
    let Some(codec) = shared.codecs.get(session_generation) else {
        tracing::error!(
            ?session_generation,
            "no codec for the connection's generation"
        );
        return;
    };
    let encoded = match codec.encode(&message, max_frame) {
        Ok(encoded) => encoded,
        Err(e) => {
            tracing::warn!(%method, error = %e, "result cannot be encoded");
            let Message::Response(r) = &mut message else {
                unreachable!("built above")
            };
            r.outcome = Err(RpcError::ResultNotSerializable(e.to_string()).to_wire(method, detail));
            match codec.encode(&message, max_frame) {
                Ok(encoded) => encoded,
                Err(e) => {
                    tracing::error!(error = %e, "error reply cannot be encoded");
                    return;
                }
            }
        }
    };
    if !outbox.push_reply(encoded, wake_writer) {
        tracing::debug!(%method, "connection closed before the reply");
    }
}

/// Writes everything the outbox hands over, one flush per batch; pings every
/// `keepalive`.
async fn write_loop<S: FrameSink>(mut sink: S, outbox: Arc<Outbox>, keepalive: Option<Duration>) {
    let mut batch = Vec::new();
    let mut ticker = PingTicker::new(keepalive);
    loop {
        let next = tokio::select! {
            // `next_batch` loses nothing when the ping branch wins.
            close = outbox.next_batch(&mut batch) => close,
            _ = ticker.tick() => {
                if let Err(e) = sink.ping().await {
                    tracing::debug!(error = %e, "ping failed");
                    outbox.abort(Close::new(CloseCode::NORMAL, ""));
                    return;
                }
                continue;
            }
        };
        if let Some(close) = next {
            let _ = sink.close(close).await;
            return;
        }
        for encoded in batch.drain(..) {
            for frame in encoded.frames() {
                if let Err(e) = sink.feed(frame.clone()).await {
                    tracing::debug!(error = %e, "write failed");
                    outbox.abort(Close::new(CloseCode::NORMAL, ""));
                    return;
                }
            }
        }
        if let Err(e) = sink.flush().await {
            tracing::debug!(error = %e, "flush failed");
            outbox.abort(Close::new(CloseCode::NORMAL, ""));
            return;
        }
    }
}
