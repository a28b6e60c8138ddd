//! The reading side: frames in, whole messages out.

use std::sync::Arc;

use bytes::{Bytes, BytesMut};
use fastwebsockets::{OpCode, Payload, WebSocketError, WebSocketRead};
use wslink_core::{Close, CloseCode, Frame, TransportError};

use super::io::ReadIo;
use super::write::Shared;
use super::Event;

/// The largest control frame payload.
const MAX_CONTROL: usize = 125;

/// Reads frames, answers pings, reassembles fragmented messages. Owned by the boxed
/// stream of a [`FastStream`](super::FastStream).
pub(super) struct Reader {
    pub(super) ws: WebSocketRead<ReadIo>,
    pub(super) shared: Arc<Shared>,
    pub(super) limit: usize,
    /// A fragmented message being reassembled: its opcode and what arrived so far.
    pub(super) partial: Option<(OpCode, BytesMut)>,
}

impl Reader {
    pub(super) async fn next_event(&mut self) -> Result<Event, TransportError> {
        let shared = &self.shared;
        // Called by fastwebsockets for the frames it must send back: the reply to a close
        // frame (pings are answered below). Never waits (see the module docs).
        let mut obligated = |frame: fastwebsockets::Frame| {
            shared.reply(frame.opcode, Bytes::copy_from_slice(&frame.payload));
            std::future::ready(Ok(()))
        };
        let frame = self
            .ws
            .read_frame::<_, TransportError>(&mut obligated)
            .await
            .map_err(|e| read_error(e, self.limit))?;
        let (fin, opcode) = (frame.fin, frame.opcode);
        let payload = match frame.payload {
            Payload::Bytes(bytes) => bytes,
            other => BytesMut::from(&other[..]),
        };
        match opcode {
            OpCode::Ping => {
                self.shared.reply(OpCode::Pong, payload.freeze());
                Ok(Event::Heard)
            }
            OpCode::Pong => Ok(Event::Heard),
            OpCode::Close => Ok(Event::Closed(close_of(&payload))),
            OpCode::Text | OpCode::Binary => {
                if self.partial.is_some() {
                    return Err(TransportError::Protocol(
                        "a new message began inside a fragmented one".into(),
                    ));
                }
                if fin {
                    return message(opcode, payload).map(Event::Message);
                }
                let room = self.limit.saturating_sub(payload.len());
                self.partial = Some((opcode, payload));
                self.expect_fragment(room);
                Ok(Event::Heard)
            }
            OpCode::Continuation => {
                let Some((_, data)) = self.partial.as_mut() else {
                    return Err(TransportError::Protocol(
                        "a continuation frame outside a fragmented message".into(),
                    ));
                };
                let size = data.len() + payload.len();
                if size > self.limit {
                    return Err(TransportError::TooLarge(format!(
                        "message of more than {} bytes (at least {size})",
                        self.limit
                    )));
                }
                data.extend_from_slice(&payload);
                if !fin {
                    self.expect_fragment(self.limit - size);
                    return Ok(Event::Heard);
                }
                let (opcode, data) = self.partial.take().expect("checked above");
                self.ws.set_max_message_size(self.limit.saturating_add(1));
                message(opcode, data).map(Event::Message)
            }
        }
    }

    /// Lowers the frame limit to the room left in the message being reassembled (never
    /// below a control frame's size), so an overflowing fragment is refused from its
    /// header.
    fn expect_fragment(&mut self, room: usize) {
        self.ws
            .set_max_message_size(room.max(MAX_CONTROL).saturating_add(1));
    }
}

fn message(opcode: OpCode, data: BytesMut) -> Result<Frame, TransportError> {
    if opcode == OpCode::Text {
        return match simdutf8::basic::from_utf8(&data) {
            Ok(text) => Ok(Frame::Text(text.to_owned())),
            Err(_) => Err(TransportError::Protocol(
                "invalid UTF-8 in a text message".into(),
            )),
        };
    }
    Ok(Frame::Binary(data.freeze()))
}

/// A close frame's code and reason (fastwebsockets checked both); `None` if it had none.
fn close_of(payload: &[u8]) -> Option<Close> {
    let (code, reason) = payload.split_first_chunk::<2>()?;
    Some(Close::new(
        CloseCode(u16::from_be_bytes(*code)),
        String::from_utf8_lossy(reason),
    ))
}

fn read_error(e: WebSocketError, limit: usize) -> TransportError {
    match e {
        WebSocketError::FrameTooLarge => {
            TransportError::TooLarge(format!("message or frame of more than {limit} bytes"))
        }
        WebSocketError::ConnectionClosed => TransportError::Closed,
        WebSocketError::IoError(io) => TransportError::Io(io),
        WebSocketError::UnexpectedEOF => crate::stream::reset(),
        WebSocketError::SendError(e) => match e.downcast::<TransportError>() {
            Ok(e) => *e,
            Err(e) => TransportError::Protocol(e.to_string()),
        },
        other => TransportError::Protocol(other.to_string()),
    }
}
