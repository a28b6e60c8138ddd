//! Transports: connections that carry [`Frame`]s, and listeners that accept them.
//!
//! A [`Transport`] is one connection, split into a [`FrameSink`] (the writing half) and a
//! [`FrameStream`] (the reading half) so a connection can read and write at once. A
//! [`Listener`] accepts transports for a server. WebSockets are one implementation
//! (crate `wslink-transport-ws`); [`crate::memory`] is another, in-process, for tests and
//! embedding. Pings, pongs and fragmentation stay inside the transport.

use std::fmt;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;

use async_trait::async_trait;

use crate::codec::{BinaryParts, Encoded, Frame, FrameRef};

/// A WebSocket close code.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct CloseCode(pub u16);

impl CloseCode {
    /// 1000: normal closure.
    pub const NORMAL: CloseCode = CloseCode(1000);
    /// 1001: the server is going away (shutdown).
    pub const GOING_AWAY: CloseCode = CloseCode(1001);
    /// 1002: protocol error.
    pub const PROTOCOL_ERROR: CloseCode = CloseCode(1002);
    /// 1003: data of a type the endpoint does not accept.
    pub const UNSUPPORTED_DATA: CloseCode = CloseCode(1003);
    /// 1008: policy violation.
    pub const POLICY_VIOLATION: CloseCode = CloseCode(1008);
    /// 1009: message too big.
    pub const TOO_BIG: CloseCode = CloseCode(1009);
    /// 1011: internal error.
    pub const INTERNAL_ERROR: CloseCode = CloseCode(1011);
    /// 1013: try again later (the server is full).
    pub const TRY_AGAIN_LATER: CloseCode = CloseCode(1013);
}

impl fmt::Debug for CloseCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

impl fmt::Display for CloseCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// A close frame's content.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Close {
    /// The close code.
    pub code: CloseCode,
    /// A short reason (at most 123 bytes on a WebSocket).
    pub reason: String,
}

impl Close {
    /// A close with a code and a reason.
    pub fn new(code: CloseCode, reason: impl Into<String>) -> Self {
        Close {
            code,
            reason: reason.into(),
        }
    }
}

/// A transport failure.
#[derive(Debug, thiserror::Error)]
pub enum TransportError {
    /// The connection is closed (by either side).
    #[error("connection closed")]
    Closed,
    /// An I/O error.
    #[error("i/o error: {0}")]
    Io(#[from] std::io::Error),
    /// The peer broke the transport's own protocol (a bad WebSocket frame, for example).
    #[error("transport protocol error: {0}")]
    Protocol(String),
    /// A frame larger than the transport accepts.
    #[error("frame too large: {0}")]
    TooLarge(String),
}

/// What is known about the peer of a connection.
#[derive(Debug, Clone, Default)]
pub struct PeerInfo {
    /// The remote address, for network transports.
    pub remote_addr: Option<SocketAddr>,
    /// The `Origin` header of a WebSocket upgrade.
    pub origin: Option<String>,
    /// The request path of a WebSocket upgrade.
    pub path: Option<String>,
    /// The query string of a WebSocket upgrade (without the `?`), if it had one.
    pub query: Option<String>,
}

/// The writing half of a connection.
#[async_trait]
pub trait FrameSink: Send + 'static {
    /// Queues a frame; it may be buffered until [`FrameSink::flush`].
    async fn feed(&mut self, frame: Frame) -> Result<(), TransportError>;

    /// Queues one binary frame made of several buffers ([`BinaryParts`]). The default
    /// concatenates the parts and calls [`FrameSink::feed`]; a transport that can write
    /// the parts one after the other as one frame (or one message) overrides it, so that
    /// a large binary value is never copied into a frame of its own.
    async fn feed_parts(&mut self, frame: BinaryParts) -> Result<(), TransportError> {
        self.feed(Frame::Binary(frame.concat())).await
    }

    /// Queues every frame of an encoded message, in order (parted frames through
    /// [`FrameSink::feed_parts`]); they may be buffered until [`FrameSink::flush`].
    async fn feed_encoded(&mut self, encoded: &Encoded) -> Result<(), TransportError> {
        for frame in encoded.iter() {
            match frame {
                FrameRef::Frame(f) => self.feed(f.clone()).await?,
                FrameRef::Parts(p) => self.feed_parts(p.clone()).await?,
            }
        }
        Ok(())
    }

    /// Sends everything queued.
    async fn flush(&mut self) -> Result<(), TransportError>;

    /// Sends a frame and flushes.
    async fn send(&mut self, frame: Frame) -> Result<(), TransportError> {
        self.feed(frame).await?;
        self.flush().await
    }

    /// Closes the connection with a close frame (where the transport has them).
    async fn close(&mut self, close: Close) -> Result<(), TransportError>;

    /// Sends a keepalive ping where the transport has them (WebSocket); the default does
    /// nothing. A transport that pings also notices a peer that stops answering.
    async fn ping(&mut self) -> Result<(), TransportError> {
        Ok(())
    }
}

/// The reading half of a connection.
#[async_trait]
pub trait FrameStream: Send + 'static {
    /// The next data frame; `None` once the connection is closed. Cancel-safe: a `recv`
    /// dropped before it completes loses no frame (the server races it against other
    /// work in a `select!`).
    async fn recv(&mut self) -> Option<Result<Frame, TransportError>>;

    /// The close frame the peer sent, once [`FrameStream::recv`] returned `None` because
    /// of it; `None` if the connection ended without one (the default, for transports
    /// without close frames).
    fn close_frame(&self) -> Option<&Close> {
        None
    }
}

/// One connection.
pub trait Transport: Send + 'static {
    /// The writing half.
    type Sink: FrameSink;
    /// The reading half.
    type Stream: FrameStream;

    /// What is known about the other end.
    fn peer(&self) -> PeerInfo {
        PeerInfo::default()
    }

    /// Splits the connection into its writing and reading halves.
    fn split(self) -> (Self::Sink, Self::Stream);
}

/// What a listener that runs connections itself calls for each one (see
/// [`Listener::serve_inline`]): the server's connection loop.
pub type ServeConnection<T> =
    Arc<dyn Fn(T) -> Pin<Box<dyn Future<Output = ()> + Send>> + Send + Sync>;

/// Accepts connections for a server.
#[async_trait]
pub trait Listener: Send + 'static {
    /// The connections it accepts.
    type Transport: Transport;

    /// The next connection; `None` when the listener is shut.
    async fn accept(&mut self) -> Option<Self::Transport>;

    /// Asks the listener to run every connection it accepts from now on itself, with
    /// `serve`, in the task that accepted it: one hand-off between tasks fewer per
    /// connection than a server that takes each from [`Listener::accept`] and spawns it.
    /// Returns whether it will; [`accept`](Listener::accept) then still returns `None`
    /// once the listener is shut (and whatever was accepted before). The default
    /// declines.
    fn serve_inline(&mut self, serve: ServeConnection<Self::Transport>) -> bool {
        let _ = serve;
        false
    }
}
