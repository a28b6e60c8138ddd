//! A WebSocket connection (either side) as a wslink [`Transport`], on
//! [yawc](https://docs.rs/yawc).
//!
//! yawc does the framing: masking (a server refuses unmasked client frames with 1002),
//! reassembly of fragments, permessage-deflate, the size limit (1009, checked on the wire
//! and while inflating), UTF-8 checks of text messages (1007), and the obligated replies:
//! pongs to pings, and the answer to the peer's close frame. This file turns its frames
//! into wslink [`Frame`]s and back, keeps the peer's close frame, and watches for silence
//! ([`Keepalive`]).
//!
//! Both halves share one flag that says the peer's close frame arrived: yawc answers it
//! itself, so a later [`FrameSink::close`] then only shuts the connection down instead of
//! sending a second close frame. After a broken frame yawc queues a close frame with the
//! matching code (1002, 1009), which goes out before the wslink server's own.

use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use async_trait::async_trait;
use futures_util::stream::{SplitSink, SplitStream};
use futures_util::{Sink, SinkExt, Stream, StreamExt};
use tokio::io::{AsyncRead, AsyncWrite};
use wslink_core::{
    BinaryParts, Close, Frame, FrameSink, FrameStream, PeerInfo, Transport, TransportError,
};
use yawc::close::CloseCode as WsCloseCode;
use yawc::{HttpStream, OpCode, WebSocket, WebSocketError};

use crate::keepalive::Keepalive;

/// One WebSocket connection carrying wslink frames: what a [`WsListener`](crate::WsListener)
/// or a [`WsService`](crate::WsService) accepts, and what [`connect`](crate::connect)
/// opens.
#[derive(Debug)]
pub struct WsTransport {
    ws: Framed<HttpStream>,
    peer: PeerInfo,
    dead_after: Option<Duration>,
    extensions: Option<String>,
    max_message_size: usize,
}

/// The bound given to yawc for a `max_message_size` of `max`: twice it (plus one, yawc's
/// bounds being exclusive). yawc refuses some inflated messages a little below its bound,
/// so the exact limit is checked here, on every message, and yawc's bound only caps the
/// memory a frame (or an inflating one) may take on the way.
pub(crate) fn yawc_limit(max: usize) -> usize {
    max.saturating_mul(2).saturating_add(1)
}

impl WsTransport {
    /// Wraps an open yawc WebSocket; `extensions` is the `Sec-WebSocket-Extensions` value
    /// the handshake agreed on.
    pub(crate) fn new(
        ws: WebSocket<HttpStream>,
        peer: PeerInfo,
        extensions: Option<String>,
    ) -> Self {
        WsTransport {
            ws: Framed(ws),
            peer,
            dead_after: None,
            extensions,
            max_message_size: usize::MAX,
        }
    }

    /// Refuses messages larger than `max` ([`TransportError::TooLarge`]).
    pub(crate) fn max_message_size(mut self, max: usize) -> Self {
        self.max_message_size = max;
        self
    }

    /// Considers the peer gone when nothing at all (data, ping or pong) arrived for
    /// `limit` (noticed within twice that): reading then fails with
    /// [`TransportError::Protocol`]. Meant to go with pings sent more often than `limit`
    /// (see [`FrameSink::ping`]), which a live peer answers.
    pub fn dead_after(mut self, limit: Option<Duration>) -> Self {
        self.dead_after = limit;
        self
    }

    /// Whether the handshake agreed on permessage-deflate.
    pub fn deflate(&self) -> bool {
        crate::deflate::negotiated(self.extensions.as_deref())
    }

    /// The `Sec-WebSocket-Extensions` value the handshake agreed on, if any.
    pub fn extensions(&self) -> Option<&str> {
        self.extensions.as_deref()
    }
}

impl Transport for WsTransport {
    type Sink = WsSink;
    type Stream = WsStream;

    fn peer(&self) -> PeerInfo {
        self.peer.clone()
    }

    fn split(self) -> (WsSink, WsStream) {
        let (sink, stream) = self.ws.split();
        let close_sent = Arc::new(AtomicBool::new(false));
        (
            WsSink {
                sink,
                close_sent: close_sent.clone(),
            },
            WsStream {
                stream,
                max_message_size: self.max_message_size,
                close: None,
                ended: false,
                close_sent,
                keepalive: Keepalive::new(self.dead_after),
            },
        )
    }
}

/// yawc's WebSocket as a stream of results: its own `Stream` impl drops the error.
struct Framed<S>(WebSocket<S>);

impl<S> std::fmt::Debug for Framed<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("WebSocket")
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> Stream for Framed<S> {
    type Item = Result<yawc::Frame, WebSocketError>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.get_mut().0.poll_next_frame(cx).map(Some)
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> Sink<yawc::Frame> for Framed<S> {
    type Error = WebSocketError;

    fn poll_ready(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Pin::new(&mut self.get_mut().0).poll_ready(cx)
    }

    fn start_send(self: Pin<&mut Self>, item: yawc::Frame) -> Result<(), Self::Error> {
        Pin::new(&mut self.get_mut().0).start_send(item)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Pin::new(&mut self.get_mut().0).poll_flush(cx)
    }

    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        let ws = &mut self.get_mut().0;
        // Getting ready writes out the frames yawc owes the peer (the answer to its close
        // frame), so that closing does not add a close frame of its own (1000) first.
        match Pin::new(&mut *ws).poll_ready(cx) {
            Poll::Pending => return Poll::Pending,
            Poll::Ready(Ok(()) | Err(_)) => {}
        }
        Pin::new(ws).poll_close(cx)
    }
}

/// A peer gone without a close frame: an I/O event, not a broken protocol.
pub(crate) fn reset() -> TransportError {
    TransportError::Io(std::io::Error::new(
        std::io::ErrorKind::ConnectionReset,
        "connection reset without closing handshake",
    ))
}

pub(crate) fn transport_error(e: WebSocketError) -> TransportError {
    match e {
        WebSocketError::ConnectionClosed => TransportError::Closed,
        WebSocketError::IoError(io) => TransportError::Io(io),
        WebSocketError::FrameTooLarge => {
            TransportError::TooLarge("message larger than max_message_size".into())
        }
        other => TransportError::Protocol(other.to_string()),
    }
}

/// The writing half of a [`WsTransport`].
pub struct WsSink {
    sink: SplitSink<Framed<HttpStream>, yawc::Frame>,
    close_sent: Arc<AtomicBool>,
}

impl std::fmt::Debug for WsSink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WsSink").finish_non_exhaustive()
    }
}

#[async_trait]
impl FrameSink for WsSink {
    async fn feed(&mut self, frame: Frame) -> Result<(), TransportError> {
        let frame = match frame {
            Frame::Binary(bytes) => yawc::Frame::binary(bytes),
            Frame::Text(text) => yawc::Frame::text(text),
        };
        self.sink.feed(frame).await.map_err(transport_error)
    }

    /// Sends the frame as the fragments of one WebSocket message, large parts straight
    /// from their buffers (see `fragments.rs`).
    async fn feed_parts(&mut self, frame: BinaryParts) -> Result<(), TransportError> {
        for ws_frame in crate::fragments::ws_frames(crate::fragments::fragments(&frame)) {
            self.sink.feed(ws_frame).await.map_err(transport_error)?;
        }
        Ok(())
    }

    async fn flush(&mut self) -> Result<(), TransportError> {
        self.sink.flush().await.map_err(transport_error)
    }

    async fn ping(&mut self) -> Result<(), TransportError> {
        self.sink
            .send(yawc::Frame::ping(bytes::Bytes::new()))
            .await
            .map_err(transport_error)
    }

    async fn close(&mut self, close: Close) -> Result<(), TransportError> {
        let sent = if self.close_sent.swap(true, Ordering::AcqRel) {
            // yawc already queued its answer to the peer's close frame; closing writes it.
            Ok(())
        } else {
            let frame = yawc::Frame::close(WsCloseCode::from(close.code.0), close.reason);
            self.sink.send(frame).await
        };
        let _ = self.sink.close().await;
        match sent {
            Ok(()) | Err(WebSocketError::ConnectionClosed) => Ok(()),
            Err(e) => Err(transport_error(e)),
        }
    }
}

/// The reading half of a [`WsTransport`].
#[derive(Debug)]
pub struct WsStream {
    stream: SplitStream<Framed<HttpStream>>,
    max_message_size: usize,
    close: Option<Close>,
    ended: bool,
    close_sent: Arc<AtomicBool>,
    keepalive: Keepalive,
}

impl WsStream {
    /// The peer's close frame, once [`FrameStream::recv`] returned `None`.
    pub fn close_frame(&self) -> Option<&Close> {
        self.close.as_ref()
    }

    fn closed_by_peer(&mut self, frame: &yawc::Frame) {
        self.close_sent.store(true, Ordering::Release);
        self.ended = true;
        self.close = frame.close_code().map(|code| {
            let reason = frame.close_reason().ok().flatten().unwrap_or_default();
            Close::new(wslink_core::CloseCode(code.into()), reason)
        });
    }

    fn failed(&mut self, e: WebSocketError) -> Option<Result<Frame, TransportError>> {
        self.ended = true;
        match e {
            // The stream ended without a close frame.
            WebSocketError::ConnectionClosed => Some(Err(reset())),
            WebSocketError::IoError(io)
                if matches!(
                    io.kind(),
                    std::io::ErrorKind::UnexpectedEof | std::io::ErrorKind::ConnectionReset
                ) =>
            {
                Some(Err(reset()))
            }
            // For most broken frames yawc has queued a close frame of its own (1002, 1009),
            // which goes out first; the wslink server's close follows it.
            e => Some(Err(transport_error(e))),
        }
    }
}

#[async_trait]
impl FrameStream for WsStream {
    async fn recv(&mut self) -> Option<Result<Frame, TransportError>> {
        if self.ended {
            return None;
        }
        loop {
            let next = match self.keepalive.watch(self.stream.next()).await {
                Ok(next) => next,
                Err(silent) => return Some(Err(silent)),
            };
            let frame = match next? {
                Ok(frame) => frame,
                Err(e) => return self.failed(e),
            };
            if frame.payload().len() > self.max_message_size {
                self.ended = true;
                return Some(Err(TransportError::TooLarge(format!(
                    "a message of {} bytes, over max_message_size ({})",
                    frame.payload().len(),
                    self.max_message_size
                ))));
            }
            match frame.opcode() {
                OpCode::Binary => return Some(Ok(Frame::Binary(frame.into_payload()))),
                OpCode::Text => {
                    return match String::from_utf8(frame.into_payload().to_vec()) {
                        Ok(text) => Some(Ok(Frame::Text(text))),
                        Err(_) => Some(Err(TransportError::Protocol(
                            "invalid UTF-8 in a text message".into(),
                        ))),
                    };
                }
                OpCode::Close => {
                    self.closed_by_peer(&frame);
                    return None;
                }
                OpCode::Ping | OpCode::Pong | OpCode::Continuation => continue,
            }
        }
    }

    fn close_frame(&self) -> Option<&Close> {
        WsStream::close_frame(self)
    }
}
