//! The inbound stage: frame → wire generation → decoded message, with the one policy for
//! frames that give nothing to act on (see [`wslink_core::inbound`], shared with the
//! client).

use wslink_core::inbound::{self, Discard, InboundStats, Verdict};
use wslink_core::{Close, CloseCode, CodecError, Decoder, Frame, Message, Response};

use super::dispatch::send_response;
use super::Conn;

/// What a frame gave.
pub(super) enum Step {
    /// A whole message.
    Message(Message),
    /// Nothing yet: a chunk of a message still incomplete, or a frame discarded under
    /// the inbound policy.
    Nothing,
    /// The connection must close.
    Close(Close),
}

/// The connection's decoder (made by its first frame, which tells the generation) and
/// its count of discarded frames.
#[derive(Default)]
pub(super) struct Inbound {
    decoder: Option<Box<dyn Decoder>>,
    pub(super) discarded: InboundStats,
}

impl Inbound {
    /// Decodes `frame`.
    pub(super) fn accept(&mut self, conn: &Conn, frame: Frame) -> Step {
        let decoder = match &mut self.decoder {
            Some(decoder) => decoder,
            None => match Self::first_decoder(conn, &frame) {
                Ok(decoder) => self.decoder.insert(decoder),
                Err(close) => return Step::Close(close),
            },
        };
        match decoder.decode(frame) {
            Ok(Some(message)) => Step::Message(message),
            Ok(None) => Step::Nothing,
            Err(e) => match discard(conn, &self.discarded, e) {
                Some(close) => Step::Close(close),
                None => Step::Nothing,
            },
        }
    }

    /// The decoder of the generation the first frame shows.
    fn first_decoder(conn: &Conn, frame: &Frame) -> Result<Box<dyn Decoder>, Close> {
        let codecs = &conn.shared.codecs;
        match codecs.detect(frame) {
            Ok(generation) => {
                conn.session.set_generation(generation);
                tracing::debug!(?generation, "wire generation");
                let codec = codecs
                    .get(generation)
                    .expect("detected a spoken generation");
                Ok(codec.decoder(conn.shared.config.limits.clone()))
            }
            Err(reason) => {
                tracing::warn!(reason, "closing: wire generation not spoken here");
                Err(Close::new(CloseCode::UNSUPPORTED_DATA, reason))
            }
        }
    }

    /// Tells the decoder whether the session is authenticated (after a system call).
    pub(super) fn set_authenticated(&mut self, authenticated: bool) {
        if let Some(decoder) = &mut self.decoder {
            decoder.set_authenticated(authenticated);
        }
    }

    /// Counts a message that decoded but has no place here (a response, a
    /// publication from a client).
    pub(super) fn count_unexpected(&self, conn: &Conn) {
        count(conn, &self.discarded, Discard::Unexpected);
    }
}

fn count(conn: &Conn, connection: &InboundStats, class: Discard) {
    connection.count(class);
    conn.shared.inbound.count(class);
}

/// The inbound policy for a frame that decoded to nothing to act on: log it, count it,
/// answer it if it carries an id; `Some` when the connection must close.
fn discard(conn: &Conn, connection: &InboundStats, error: CodecError) -> Option<Close> {
    let reason = error.to_string();
    let (class, verdict) = inbound::judge(error);
    count(conn, connection, class);
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
            send_response(conn, conn.session.generation(), response, "", false);
            None
        }
        Verdict::Close(close) => {
            tracing::warn!(%class, reason, close_code = %close.code, "closing: protocol error");
            Some(close)
        }
    }
}
