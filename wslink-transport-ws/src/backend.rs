//! The server's WebSocket implementations, and the one transport type a [`WsListener`]
//! yields whichever serves it.
//!
//! [`HttpOptions::backend`] picks a [`WsBackend`] per listener: tokio-tungstenite (the
//! default, always built) or fastwebsockets (feature `fastwebsockets`). Either way the
//! listener yields [`ServerTransport`]s, whose halves [`ServerSink`] and [`ServerStream`]
//! dispatch statically to the backend's own code: one `match` per call, and no boxed
//! future besides the one `async_trait` makes for every transport.
//!
//! [`WsListener`]: crate::WsListener
//! [`HttpOptions::backend`]: crate::HttpOptions::backend

use std::fmt;
use std::str::FromStr;

use async_trait::async_trait;
use hyper::upgrade::Upgraded;
use hyper_util::rt::TokioIo;
use wslink_core::{Close, Frame, FrameSink, FrameStream, PeerInfo, Transport, TransportError};

#[cfg(feature = "fastwebsockets")]
use crate::fast::{FastSink, FastStream, FastTransport};
use crate::stream::{WsSink, WsStream, WsTransport};

/// Which WebSocket implementation serves the connections of a
/// [`WsListener`](crate::WsListener) ([`HttpOptions::backend`](crate::HttpOptions::backend)).
///
/// Both variants always exist, so that code naming them (a command-line flag, a
/// configuration file) builds with or without the `fastwebsockets` feature; a listener
/// asked for a backend this build lacks refuses to bind (see [`WsBackend::is_available`]).
/// Parses from and prints as `tungstenite` and `fastwebsockets`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum WsBackend {
    /// tokio-tungstenite (the default).
    #[default]
    Tungstenite,
    /// fastwebsockets; needs the `fastwebsockets` feature.
    FastWebSockets,
}

impl WsBackend {
    /// Every backend, available or not.
    pub const ALL: [WsBackend; 2] = [WsBackend::Tungstenite, WsBackend::FastWebSockets];

    /// Its name, as [`FromStr`] takes it.
    pub const fn name(self) -> &'static str {
        match self {
            WsBackend::Tungstenite => "tungstenite",
            WsBackend::FastWebSockets => "fastwebsockets",
        }
    }

    /// Whether this build has it (`FastWebSockets` needs the `fastwebsockets` feature).
    pub const fn is_available(self) -> bool {
        match self {
            WsBackend::Tungstenite => true,
            WsBackend::FastWebSockets => cfg!(feature = "fastwebsockets"),
        }
    }
}

impl fmt::Display for WsBackend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for WsBackend {
    type Err = ParseWsBackendError;

    /// `tungstenite` or `fastwebsockets` (ASCII case ignored). A backend this build lacks
    /// still parses; binding a listener with it fails.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        WsBackend::ALL
            .into_iter()
            .find(|backend| backend.name().eq_ignore_ascii_case(s.trim()))
            .ok_or_else(|| ParseWsBackendError(s.to_owned()))
    }
}

/// A name that is not a [`WsBackend`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseWsBackendError(String);

impl fmt::Display for ParseWsBackendError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "unknown WebSocket backend `{}` (expected `tungstenite` or `fastwebsockets`)",
            self.0
        )
    }
}

impl std::error::Error for ParseWsBackendError {}

/// A connection accepted by a [`WsListener`](crate::WsListener), on the backend its
/// [`HttpOptions::backend`](crate::HttpOptions::backend) chose.
#[derive(Debug)]
pub struct ServerTransport {
    inner: Inner,
}

// Moved once per connection, and as large as the tungstenite transport alone: boxing
// would only add an allocation.
#[allow(clippy::large_enum_variant)]
#[derive(Debug)]
enum Inner {
    Tungstenite(WsTransport<TokioIo<Upgraded>>),
    #[cfg(feature = "fastwebsockets")]
    Fast(FastTransport),
}

impl ServerTransport {
    pub(crate) fn tungstenite(transport: WsTransport<TokioIo<Upgraded>>) -> Self {
        ServerTransport {
            inner: Inner::Tungstenite(transport),
        }
    }

    #[cfg(feature = "fastwebsockets")]
    pub(crate) fn fast(transport: FastTransport) -> Self {
        ServerTransport {
            inner: Inner::Fast(transport),
        }
    }

    /// The WebSocket implementation serving this connection.
    pub fn backend(&self) -> WsBackend {
        match &self.inner {
            Inner::Tungstenite(_) => WsBackend::Tungstenite,
            #[cfg(feature = "fastwebsockets")]
            Inner::Fast(_) => WsBackend::FastWebSockets,
        }
    }
}

impl Transport for ServerTransport {
    type Sink = ServerSink;
    type Stream = ServerStream;

    fn peer(&self) -> PeerInfo {
        match &self.inner {
            Inner::Tungstenite(transport) => transport.peer(),
            #[cfg(feature = "fastwebsockets")]
            Inner::Fast(transport) => transport.peer().clone(),
        }
    }

    fn split(self) -> (ServerSink, ServerStream) {
        match self.inner {
            Inner::Tungstenite(transport) => {
                let (sink, stream) = transport.split();
                (
                    ServerSink {
                        inner: SinkInner::Tungstenite(sink),
                    },
                    ServerStream {
                        inner: StreamInner::Tungstenite(stream),
                    },
                )
            }
            #[cfg(feature = "fastwebsockets")]
            Inner::Fast(transport) => {
                let (sink, stream) = transport.split();
                (
                    ServerSink {
                        inner: SinkInner::Fast(sink),
                    },
                    ServerStream {
                        inner: StreamInner::Fast(stream),
                    },
                )
            }
        }
    }
}

/// The writing half of a [`ServerTransport`].
#[derive(Debug)]
pub struct ServerSink {
    inner: SinkInner,
}

#[derive(Debug)]
enum SinkInner {
    Tungstenite(WsSink<TokioIo<Upgraded>>),
    #[cfg(feature = "fastwebsockets")]
    Fast(FastSink),
}

#[async_trait]
impl FrameSink for ServerSink {
    async fn feed(&mut self, frame: Frame) -> Result<(), TransportError> {
        match &mut self.inner {
            SinkInner::Tungstenite(sink) => sink.feed_frame(frame).await,
            #[cfg(feature = "fastwebsockets")]
            SinkInner::Fast(sink) => sink.feed_frame(frame).await,
        }
    }

    async fn flush(&mut self) -> Result<(), TransportError> {
        match &mut self.inner {
            SinkInner::Tungstenite(sink) => sink.flush_frames().await,
            #[cfg(feature = "fastwebsockets")]
            SinkInner::Fast(sink) => sink.flush_frames().await,
        }
    }

    async fn ping(&mut self) -> Result<(), TransportError> {
        match &mut self.inner {
            SinkInner::Tungstenite(sink) => sink.send_ping().await,
            #[cfg(feature = "fastwebsockets")]
            SinkInner::Fast(sink) => sink.send_ping().await,
        }
    }

    async fn close(&mut self, close: Close) -> Result<(), TransportError> {
        match &mut self.inner {
            SinkInner::Tungstenite(sink) => sink.send_close(close).await,
            #[cfg(feature = "fastwebsockets")]
            SinkInner::Fast(sink) => sink.send_close(close).await,
        }
    }
}

/// The reading half of a [`ServerTransport`].
#[derive(Debug)]
pub struct ServerStream {
    inner: StreamInner,
}

#[derive(Debug)]
enum StreamInner {
    Tungstenite(WsStream<TokioIo<Upgraded>>),
    #[cfg(feature = "fastwebsockets")]
    Fast(FastStream),
}

impl ServerStream {
    /// The peer's close frame, once [`FrameStream::recv`] returned `None`.
    pub fn close_frame(&self) -> Option<&Close> {
        match &self.inner {
            StreamInner::Tungstenite(stream) => stream.close_frame(),
            #[cfg(feature = "fastwebsockets")]
            StreamInner::Fast(stream) => stream.close_frame(),
        }
    }
}

#[async_trait]
impl FrameStream for ServerStream {
    async fn recv(&mut self) -> Option<Result<Frame, TransportError>> {
        match &mut self.inner {
            StreamInner::Tungstenite(stream) => stream.next_frame().await,
            #[cfg(feature = "fastwebsockets")]
            StreamInner::Fast(stream) => stream.next_frame().await,
        }
    }

    fn close_frame(&self) -> Option<&Close> {
        ServerStream::close_frame(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backends_parse_and_print_their_names() {
        for backend in WsBackend::ALL {
            assert_eq!(backend.to_string().parse::<WsBackend>(), Ok(backend));
        }
        assert_eq!("FastWebSockets".parse(), Ok(WsBackend::FastWebSockets));
        assert_eq!(WsBackend::default(), WsBackend::Tungstenite);
        let e = "hyper".parse::<WsBackend>().unwrap_err();
        assert!(e.to_string().contains("`hyper`"), "{e}");
        assert!(WsBackend::Tungstenite.is_available());
        assert_eq!(
            WsBackend::FastWebSockets.is_available(),
            cfg!(feature = "fastwebsockets")
        );
    }
}
