//! The server side on fastwebsockets (feature `fastwebsockets`,
//! [`WsBackend::FastWebSockets`](crate::WsBackend::FastWebSockets)).
//!
//! Same contract as the tokio-tungstenite transport (`stream.rs`): binary and text
//! messages reach wslink whole (fragments reassembled here), pings are answered and pongs
//! swallowed, the peer's close frame is kept for `ServerStream::close_frame`, and a
//! peer silent for `dead_after` is declared gone by the one long-lived timer of
//! [`Keepalive`].
//!
//! # Two halves, two tasks
//!
//! The upgraded connection is split into an independent read half and write half. A plain
//! TCP connection (hyper's `Upgraded` downcast back to its `TcpStream`) splits into
//! tokio's owned halves, which need no lock at all: reads and writes go straight to the
//! socket from their own tasks (the bytes hyper had already read past the upgrade request
//! are replayed first). Anything else (TLS) goes through `tokio::io::split`, one
//! uncontended lock per poll.
//!
//! Reading uses fastwebsockets' `WebSocketRead` (frame parsing, unmasking, the size
//! limit, UTF-8 checks of whole text frames, close frame checks). Writing does not use
//! its `WebSocketWrite`: that one writes each frame to the socket at once (no batching)
//! and is not cancel-safe (a dropped write can leave half a frame on the wire). Frames are
//! encoded instead with fastwebsockets' `Frame::fmt_head` into a writer that batches:
//! `feed` only queues (small frames are copied into one buffer, large payloads are queued
//! as they are, without a copy) and `flush` writes everything out with vectored writes
//! — like tungstenite, `feed` also writes out once 128 KiB are queued. The writer sits
//! behind a `tokio::sync::Mutex` (one uncontended lock per sink call). The reading side
//! owes the peer pongs and the reply to its close frame (the "obligated sends" of
//! `WebSocketRead::read_frame`) even while the sink's task is idle, but it never waits
//! for that lock, which a write blocked on a peer that does not read may hold for long:
//! it leaves them in a small slot (the latest pong only, as RFC 6455 allows) and spawns a
//! short task that writes them, at most one at a time. Reading data frames never touches
//! the writer.
//!
//! # Reading is cancel-safe
//!
//! The wslink server polls `recv` and drops it when nothing is ready, but fastwebsockets'
//! `read_frame` loses its place if dropped half-way through a frame. So the reading runs
//! in one boxed stream per connection (an `unfold` that owns the `WebSocketRead`, made
//! once at `split`): `recv` only polls that stream, and dropping `recv` drops nothing
//! but the poll. Fragment reassembly happens inside it too.
//!
//! # Limits
//!
//! `max_message_size` holds exactly as with tungstenite: fastwebsockets refuses a frame
//! from its header, before reserving any memory for it, when its length is at least its
//! `max_message_size` (set here to the limit plus one). It does not bound a fragmented
//! message, so while one is being reassembled the frame limit is lowered to the room left
//! in the message (at least 125 bytes, for control frames in between), and a fragment
//! that would overflow the message is refused before it is appended. Either way reading
//! fails with [`TransportError::TooLarge`] (the server closes with 1009). Invalid UTF-8 in
//! a text message is a [`TransportError::Protocol`]. `read_buffer_size` does not apply:
//! fastwebsockets starts every connection with an 8 KiB read buffer (the default of
//! `read_buffer_size`) and grows it to fit the frame being read. Unlike tungstenite,
//! fastwebsockets does not refuse unmasked frames from a client.

mod io;
mod read;
mod write;

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use bytes::{BufMut, Bytes, BytesMut};
use fastwebsockets::{OpCode, Role};
use futures_util::stream::{BoxStream, StreamExt};
use hyper::upgrade::Upgraded;
use tokio::io::AsyncWriteExt;
use tokio::sync::Mutex;
use wslink_core::{Close, Frame, PeerInfo, TransportError};

use self::io::{split_io, ReadIo, WriteIo};
use self::read::Reader;
use self::write::{Replies, Shared, Writer, WRITE_OUT_AT};
use crate::keepalive::Keepalive;

/// An upgraded connection served by fastwebsockets.
pub(crate) struct FastTransport {
    read: ReadIo,
    write: WriteIo,
    peer: PeerInfo,
    limit: usize,
    dead_after: Option<Duration>,
}

impl fmt::Debug for FastTransport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FastTransport")
            .field("peer", &self.peer)
            .field("limit", &self.limit)
            .field("dead_after", &self.dead_after)
            .finish_non_exhaustive()
    }
}

impl FastTransport {
    /// Takes over an upgraded connection; `limit` is the largest message (and frame).
    pub(crate) fn new(
        upgraded: Upgraded,
        peer: PeerInfo,
        limit: usize,
        dead_after: Option<Duration>,
    ) -> Self {
        let (read, write) = split_io(upgraded);
        FastTransport {
            read,
            write,
            peer,
            limit,
            dead_after,
        }
    }

    pub(crate) fn peer(&self) -> &PeerInfo {
        &self.peer
    }

    pub(crate) fn split(self) -> (FastSink, FastStream) {
        // fastwebsockets' write half is not used (see the module docs): an empty sink
        // stands in for it.
        let (mut ws, _) =
            fastwebsockets::after_handshake_split(self.read, tokio::io::sink(), Role::Server);
        // Pings come back to `Reader`, which answers them, so they count as heard.
        ws.set_auto_pong(false);
        ws.set_auto_close(true);
        ws.set_max_message_size(self.limit.saturating_add(1));
        let shared = Arc::new(Shared {
            writer: Mutex::new(Writer::new(self.write)),
            replies: std::sync::Mutex::new(Replies::default()),
        });
        let reader = Reader {
            ws,
            shared: shared.clone(),
            limit: self.limit,
            partial: None,
        };
        let events = futures_util::stream::unfold(Some(reader), |reader| async move {
            let mut reader = reader?;
            let event = reader.next_event().await;
            let more = matches!(event, Ok(Event::Message(_) | Event::Heard));
            Some((event, more.then_some(reader)))
        })
        .boxed();
        let stream = FastStream {
            events,
            close: None,
            keepalive: Keepalive::new(self.dead_after),
        };
        (FastSink { shared }, stream)
    }
}

/// The writing half of a [`FastTransport`].
pub(crate) struct FastSink {
    shared: Arc<Shared>,
}

impl fmt::Debug for FastSink {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FastSink").finish_non_exhaustive()
    }
}

impl FastSink {
    pub(crate) async fn feed_frame(&mut self, frame: Frame) -> Result<(), TransportError> {
        let (opcode, payload) = match frame {
            Frame::Binary(bytes) => (OpCode::Binary, bytes),
            Frame::Text(text) => (OpCode::Text, Bytes::from(text)),
        };
        let mut writer = self.shared.writer.lock().await;
        writer.queue(opcode, payload)?;
        if writer.queued >= WRITE_OUT_AT {
            writer.write_out().await?;
        }
        Ok(())
    }

    pub(crate) async fn flush_frames(&mut self) -> Result<(), TransportError> {
        self.shared.writer.lock().await.flush().await
    }

    pub(crate) async fn send_ping(&mut self) -> Result<(), TransportError> {
        let mut writer = self.shared.writer.lock().await;
        writer.queue(OpCode::Ping, Bytes::new())?;
        writer.flush().await
    }

    pub(crate) async fn send_close(&mut self, close: Close) -> Result<(), TransportError> {
        let mut writer = self.shared.writer.lock().await;
        if !writer.closed {
            let mut payload = BytesMut::with_capacity(2 + close.reason.len());
            payload.put_u16(close.code.0);
            payload.extend_from_slice(close.reason.as_bytes());
            writer.queue(OpCode::Close, payload.freeze())?;
        }
        let sent = writer.flush().await;
        let _ = writer.io.shutdown().await;
        match sent {
            Ok(()) | Err(TransportError::Closed) => Ok(()),
            Err(e) => Err(e),
        }
    }
}

/// What the reading side hands to [`FastStream::next_frame`].
enum Event {
    /// A whole message.
    Message(Frame),
    /// Something arrived that is not a message (a control frame, a fragment).
    Heard,
    /// The peer's close frame (its content, if it had any); the last event.
    Closed(Option<Close>),
}

/// The reading half of a [`FastTransport`].
pub(crate) struct FastStream {
    events: BoxStream<'static, Result<Event, TransportError>>,
    close: Option<Close>,
    keepalive: Keepalive,
}

impl fmt::Debug for FastStream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FastStream")
            .field("close", &self.close)
            .field("keepalive", &self.keepalive)
            .finish_non_exhaustive()
    }
}

impl FastStream {
    pub(crate) fn close_frame(&self) -> Option<&Close> {
        self.close.as_ref()
    }

    /// The next message; cancel-safe (see the module docs).
    pub(crate) async fn next_frame(&mut self) -> Option<Result<Frame, TransportError>> {
        loop {
            let event = match self.keepalive.watch(self.events.next()).await {
                Ok(event) => event?,
                Err(silent) => return Some(Err(silent)),
            };
            match event {
                Ok(Event::Message(frame)) => return Some(Ok(frame)),
                Ok(Event::Heard) => continue,
                Ok(Event::Closed(close)) => {
                    self.close = close;
                    return None;
                }
                Err(TransportError::Closed) => return None,
                Err(e) => return Some(Err(e)),
            }
        }
    }
}
