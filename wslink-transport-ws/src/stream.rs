//! A WebSocket connection as a wslink [`Transport`].

use std::time::Duration;

use async_trait::async_trait;
use futures_util::stream::{SplitSink, SplitStream};
use futures_util::{SinkExt, StreamExt};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode as WsCloseCode;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::{error::ProtocolError, Error as WsError, Message};
use tokio_tungstenite::WebSocketStream;
use wslink_core::{Close, Frame, FrameSink, FrameStream, PeerInfo, Transport, TransportError};

use crate::keepalive::Keepalive;

/// One WebSocket connection (either side) carrying wslink frames. Pings are answered by
/// the WebSocket layer; pongs and raw frames never reach wslink.
#[derive(Debug)]
pub struct WsTransport<S> {
    ws: WebSocketStream<S>,
    peer: PeerInfo,
    dead_after: Option<Duration>,
}

impl<S> WsTransport<S> {
    /// Wraps an open WebSocket.
    pub fn new(ws: WebSocketStream<S>, peer: PeerInfo) -> Self {
        WsTransport {
            ws,
            peer,
            dead_after: None,
        }
    }

    /// Considers the peer gone when nothing at all (data, ping or pong) arrived for
    /// `limit` (noticed within twice that): reading then fails with
    /// [`TransportError::Protocol`]. Meant to go with
    /// pings sent more often than `limit` (see [`FrameSink::ping`]), which a live peer
    /// answers.
    pub fn dead_after(mut self, limit: Option<Duration>) -> Self {
        self.dead_after = limit;
        self
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin + Send + 'static> Transport for WsTransport<S> {
    type Sink = WsSink<S>;
    type Stream = WsStream<S>;

    fn peer(&self) -> PeerInfo {
        self.peer.clone()
    }

    fn split(self) -> (WsSink<S>, WsStream<S>) {
        let (sink, stream) = self.ws.split();
        (
            WsSink { sink },
            WsStream {
                stream,
                close: None,
                keepalive: Keepalive::new(self.dead_after),
            },
        )
    }
}

/// A peer gone without a close frame: an I/O event, not a broken protocol.
pub(crate) fn reset() -> TransportError {
    TransportError::Io(std::io::Error::new(
        std::io::ErrorKind::ConnectionReset,
        "connection reset without closing handshake",
    ))
}

pub(crate) fn transport_error(e: WsError) -> TransportError {
    match e {
        WsError::ConnectionClosed | WsError::AlreadyClosed => TransportError::Closed,
        WsError::Io(io) => TransportError::Io(io),
        WsError::Capacity(c) => TransportError::TooLarge(c.to_string()),
        WsError::Protocol(ProtocolError::ResetWithoutClosingHandshake) => reset(),
        other => TransportError::Protocol(other.to_string()),
    }
}

/// The writing half of a [`WsTransport`].
#[derive(Debug)]
pub struct WsSink<S> {
    sink: SplitSink<WebSocketStream<S>, Message>,
}

// The work is done by inherent methods, so that `ServerSink` can call them without a second
// boxed future; the trait methods only delegate.
impl<S: AsyncRead + AsyncWrite + Unpin> WsSink<S> {
    pub(crate) async fn feed_frame(&mut self, frame: Frame) -> Result<(), TransportError> {
        let message = match frame {
            Frame::Binary(bytes) => Message::Binary(bytes),
            Frame::Text(text) => Message::Text(text.into()),
        };
        self.sink.feed(message).await.map_err(transport_error)
    }

    pub(crate) async fn flush_frames(&mut self) -> Result<(), TransportError> {
        self.sink.flush().await.map_err(transport_error)
    }

    pub(crate) async fn send_ping(&mut self) -> Result<(), TransportError> {
        self.sink
            .send(Message::Ping(bytes::Bytes::new()))
            .await
            .map_err(transport_error)
    }

    pub(crate) async fn send_close(&mut self, close: Close) -> Result<(), TransportError> {
        let frame = CloseFrame {
            code: WsCloseCode::from(close.code.0),
            reason: close.reason.into(),
        };
        let sent = self.sink.send(Message::Close(Some(frame))).await;
        let _ = self.sink.close().await;
        match sent {
            Ok(()) | Err(WsError::ConnectionClosed | WsError::AlreadyClosed) => Ok(()),
            Err(e) => Err(transport_error(e)),
        }
    }
}

#[async_trait]
impl<S: AsyncRead + AsyncWrite + Unpin + Send + 'static> FrameSink for WsSink<S> {
    async fn feed(&mut self, frame: Frame) -> Result<(), TransportError> {
        self.feed_frame(frame).await
    }

    async fn flush(&mut self) -> Result<(), TransportError> {
        self.flush_frames().await
    }

    async fn ping(&mut self) -> Result<(), TransportError> {
        self.send_ping().await
    }

    async fn close(&mut self, close: Close) -> Result<(), TransportError> {
        self.send_close(close).await
    }
}

/// The reading half of a [`WsTransport`].
#[derive(Debug)]
pub struct WsStream<S> {
    stream: SplitStream<WebSocketStream<S>>,
    close: Option<Close>,
    keepalive: Keepalive,
}

impl<S> WsStream<S> {
    /// The peer's close frame, once [`FrameStream::recv`] returned `None`.
    pub fn close_frame(&self) -> Option<&Close> {
        self.close.as_ref()
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> WsStream<S> {
    /// [`FrameStream::recv`], as an inherent method (see [`WsSink::feed_frame`]).
    pub(crate) async fn next_frame(&mut self) -> Option<Result<Frame, TransportError>> {
        loop {
            let next = match self.keepalive.watch(self.stream.next()).await {
                Ok(next) => next,
                Err(silent) => return Some(Err(silent)),
            };
            match next? {
                Ok(Message::Binary(bytes)) => return Some(Ok(Frame::Binary(bytes))),
                Ok(Message::Text(text)) => return Some(Ok(Frame::Text(text.as_str().to_owned()))),
                Ok(Message::Ping(_) | Message::Pong(_) | Message::Frame(_)) => continue,
                Ok(Message::Close(frame)) => {
                    self.close = frame.map(|f| {
                        Close::new(wslink_core::CloseCode(f.code.into()), f.reason.as_str())
                    });
                    return None;
                }
                Err(WsError::ConnectionClosed | WsError::AlreadyClosed) => return None,
                Err(e) => return Some(Err(transport_error(e))),
            }
        }
    }
}

#[async_trait]
impl<S: AsyncRead + AsyncWrite + Unpin + Send + 'static> FrameStream for WsStream<S> {
    async fn recv(&mut self) -> Option<Result<Frame, TransportError>> {
        self.next_frame().await
    }

    fn close_frame(&self) -> Option<&Close> {
        WsStream::close_frame(self)
    }
}
