//! The writing side: frames batched until a flush, and the replies the reader owes.

use std::collections::VecDeque;
use std::io::IoSlice;
use std::sync::Arc;

use bytes::{Buf, Bytes, BytesMut};
use fastwebsockets::{OpCode, Payload};
use tokio::io::AsyncWriteExt;
use tokio::sync::Mutex;
use wslink_core::TransportError;

use super::io::WriteIo;

/// Payloads at least this long are queued as they are; shorter ones are copied.
const COPY_BELOW: usize = 16 * 1024;
/// `feed` writes out (without flushing) once this much is queued.
pub(super) const WRITE_OUT_AT: usize = 128 * 1024;
/// Buffers handed to one vectored write.
const MAX_IOVECS: usize = 64;

/// What the sink and the reader share.
pub(super) struct Shared {
    pub(super) writer: Mutex<Writer>,
    /// Replies the reader owes the peer, waiting for [`send_replies`].
    pub(super) replies: std::sync::Mutex<Replies>,
}

#[derive(Default)]
pub(super) struct Replies {
    pong: Option<Bytes>,
    close: Option<Bytes>,
    /// A [`send_replies`] task is on its way.
    sending: bool,
}

impl Shared {
    /// Leaves a pong or a close reply for [`send_replies`], starting it unless it is
    /// already on its way; never waits.
    pub(super) fn reply(self: &Arc<Self>, opcode: OpCode, payload: Bytes) {
        let start = {
            let mut replies = self.replies.lock().unwrap_or_else(|e| e.into_inner());
            match opcode {
                OpCode::Pong => replies.pong = Some(payload),
                _ => replies.close = Some(payload),
            }
            !std::mem::replace(&mut replies.sending, true)
        };
        if start {
            tokio::spawn(send_replies(self.clone()));
        }
    }
}

/// Writes the replies left by [`Shared::reply`] (a pong before a close).
async fn send_replies(shared: Arc<Shared>) {
    let mut writer = shared.writer.lock().await;
    let (pong, close) = {
        let mut replies = shared.replies.lock().unwrap_or_else(|e| e.into_inner());
        replies.sending = false;
        (replies.pong.take(), replies.close.take())
    };
    let replies = [(OpCode::Pong, pong), (OpCode::Close, close)];
    for (opcode, payload) in replies {
        if let Some(payload) = payload {
            if writer.queue(opcode, payload).is_err() {
                // Closed already: nothing may follow the close frame.
                return;
            }
        }
    }
    if let Err(e) = writer.flush().await {
        tracing::debug!(error = %e, "writing a pong or close reply failed");
    }
}

/// Encoded frames on their way out, shared by the sink and the reader (see the module
/// docs). Every method is cancel-safe: bytes are accounted for as soon as they are
/// written.
pub(super) struct Writer {
    pub(super) io: WriteIo,
    /// Chunks to write, in order, before `tail`.
    queue: VecDeque<Bytes>,
    /// Small frames, coalesced.
    tail: BytesMut,
    /// Bytes in `queue` and `tail`.
    pub(super) queued: usize,
    /// A close frame was queued: nothing may follow it.
    pub(super) closed: bool,
}

impl Writer {
    pub(super) fn new(io: WriteIo) -> Self {
        Writer {
            io,
            queue: VecDeque::new(),
            tail: BytesMut::new(),
            queued: 0,
            closed: false,
        }
    }

    /// Queues one whole (unfragmented, unmasked) frame.
    pub(super) fn queue(&mut self, opcode: OpCode, payload: Bytes) -> Result<(), TransportError> {
        if self.closed {
            return Err(TransportError::Closed);
        }
        self.closed = opcode == OpCode::Close;
        let mut head = [0u8; 10];
        let head_len = fastwebsockets::Frame::new(true, opcode, None, Payload::Borrowed(&payload))
            .fmt_head(&mut head);
        self.tail.extend_from_slice(&head[..head_len]);
        self.queued += head_len + payload.len();
        if payload.len() < COPY_BELOW {
            self.tail.extend_from_slice(&payload);
        } else {
            self.queue.push_back(self.tail.split().freeze());
            self.queue.push_back(payload);
        }
        Ok(())
    }

    /// Writes everything queued to the socket (without flushing the I/O object).
    pub(super) async fn write_out(&mut self) -> Result<(), TransportError> {
        if !self.tail.is_empty() {
            self.queue.push_back(self.tail.split().freeze());
        }
        while !self.queue.is_empty() {
            let mut slices = [IoSlice::new(&[]); MAX_IOVECS];
            let mut count = 0;
            for (slice, chunk) in slices.iter_mut().zip(&self.queue) {
                *slice = IoSlice::new(chunk);
                count += 1;
            }
            let written = self.io.write_vectored(&slices[..count]).await?;
            if written == 0 {
                return Err(std::io::Error::from(std::io::ErrorKind::WriteZero).into());
            }
            self.consume(written);
        }
        Ok(())
    }

    pub(super) async fn flush(&mut self) -> Result<(), TransportError> {
        self.write_out().await?;
        self.io.flush().await?;
        Ok(())
    }

    fn consume(&mut self, mut written: usize) {
        self.queued -= written;
        while written > 0 {
            let front = self.queue.front_mut().expect("wrote only what was queued");
            if written < front.len() {
                front.advance(written);
                return;
            }
            written -= front.len();
            self.queue.pop_front();
        }
    }
}
