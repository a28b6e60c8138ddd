//! The dispatch stage: a decoded message → a call through the server's service → a reply
//! queued in the outbox.
//!
//! A system call (the hello) is answered before the next frame is read, so the pre-auth
//! limit is lifted exactly when it succeeds. Most other handlers finish without waiting:
//! those are answered inline too, and only the others get a task of their own, so a slow
//! call never holds up the next ones. While a handler is polled, what it publishes is
//! held back, so that a reply ready at the end of the poll goes first (see
//! [`Outbox::hold`]).

use std::future::Future;
use std::pin::Pin;

use futures_util::FutureExt;
use tokio::sync::OwnedSemaphorePermit;
use tower::ServiceExt;
use tracing::Instrument;
use wslink_core::id::Id;
use wslink_core::{
    Call, CallKind, Close, CloseCode, Generation, Message, Request, Response, RpcError, Value,
};

use super::inbound::Inbound;
use super::Conn;
use crate::outbox::Outbox;

type Answer = Pin<Box<dyn Future<Output = Result<Value, RpcError>> + Send>>;

/// Acts on one decoded message; `Some` when the connection must close.
pub(super) async fn message(conn: &Conn, inbound: &mut Inbound, message: Message) -> Option<Close> {
    match message {
        Message::Request(request) => request_call(conn, inbound, request).await,
        Message::Response(Response { id, .. }) => {
            // An id without a method: the reference tears the connection down; answer.
            inbound.count_unexpected(conn);
            tracing::debug!(%id, "answering a message with an id but no method");
            let error = if conn.session.is_authenticated() {
                RpcError::MethodNotFound
            } else {
                RpcError::Unauthorized
            };
            send_reply(conn, conn.session.generation(), id, "", Err(error), false);
            None
        }
        Message::Publication(p) => {
            inbound.count_unexpected(conn);
            if inbound.discarded.worth_logging() {
                tracing::warn!(topic = %p.topic, "ignoring a publication sent by a client");
            }
            None
        }
    }
}

/// Runs a request: inline when it answers at once, else on a task of its own.
async fn request_call(conn: &Conn, inbound: &mut Inbound, request: Request) -> Option<Close> {
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
        session: conn.session.clone(),
        pubsub: conn.shared.pubsub.clone(),
        state: conn.shared.state.clone(),
    };
    if kind == CallKind::System {
        let result = conn.shared.service.clone().oneshot(call).await;
        inbound.set_authenticated(conn.session.is_authenticated());
        send_reply(conn, conn.session.generation(), id, &method, result, false);
        return None;
    }
    let Ok(permit) = conn.in_flight.clone().acquire_owned().await else {
        return Some(Close::new(CloseCode::INTERNAL_ERROR, ""));
    };
    let mut answer: Answer = Box::pin(conn.shared.service.clone().oneshot(call));
    conn.outbox.hold();
    match answer.as_mut().now_or_never() {
        Some(result) => {
            send_reply(conn, conn.session.generation(), id, &method, result, false);
            conn.outbox.release();
        }
        None => {
            conn.outbox.release();
            spawn_call(conn, answer, id, method, permit);
        }
    }
    None
}

/// Finishes a call that did not answer at once on a task of its own.
fn spawn_call(
    conn: &Conn,
    answer: Answer,
    id: String,
    method: String,
    permit: OwnedSemaphorePermit,
) {
    let conn = conn.clone();
    let generation = conn.session.generation();
    tokio::spawn(
        async move {
            let result = polled_with_holds(&conn.outbox, answer).await;
            if let Err(e) = &result {
                tracing::debug!(%method, error = %e, "call failed");
            }
            send_reply(&conn, generation, id, &method, result, true);
            conn.outbox.release();
            drop(permit);
        }
        .in_current_span(),
    );
}

/// Awaits a handler, holding the outbox during each poll (see [`Outbox::hold`]): what
/// a poll that yields published goes out at once; when the handler completes, the hold
/// of its last poll is still on, for the caller to queue the reply and then release it.
async fn polled_with_holds<F: Future + Unpin>(outbox: &Outbox, mut call: F) -> F::Output {
    std::future::poll_fn(|cx| {
        outbox.hold();
        let poll = Pin::new(&mut call).poll(cx);
        if poll.is_pending() {
            outbox.release();
        }
        poll
    })
    .await
}

/// Encodes and queues a reply; a result that cannot be encoded becomes -32002.
pub(super) fn send_reply(
    conn: &Conn,
    generation: Generation,
    id: String,
    method: &str,
    result: Result<Value, RpcError>,
    wake_writer: bool,
) {
    let outcome = result.map_err(|e| e.to_wire(method, conn.shared.config.error_detail));
    let response = Response { id, outcome };
    send_response(conn, generation, response, method, wake_writer);
}

/// Encodes and queues a response; a result that cannot be encoded becomes -32002.
pub(super) fn send_response(
    conn: &Conn,
    generation: Generation,
    response: Response,
    method: &str,
    wake_writer: bool,
) {
    let shared = &conn.shared;
    let detail = shared.config.error_detail;
    let max_frame = shared.config.max_frame_size;
    let mut message = Message::Response(response);
    let Some(codec) = shared.codecs.get(generation) else {
        tracing::error!(?generation, "no codec for the connection's generation");
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
    if !conn.outbox.push_reply(encoded, wake_writer) {
        tracing::debug!(%method, "connection closed before the reply");
    }
}
