//! The upgraded connection, taken apart into a reading and a writing half.

use std::io::IoSlice;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::{Buf, Bytes};
use hyper::upgrade::Upgraded;
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::TcpStream;

/// Takes the upgraded connection apart into halves usable from two tasks.
pub(super) fn split_io(upgraded: Upgraded) -> (ReadIo, WriteIo) {
    match upgraded.downcast::<TokioIo<TcpStream>>() {
        Ok(parts) => {
            let (read, write) = parts.io.into_inner().into_split();
            let read = ReadIo::Tcp {
                early: parts.read_buf,
                io: read,
            };
            (read, WriteIo::Tcp(write))
        }
        Err(upgraded) => {
            let (read, write) = tokio::io::split(TokioIo::new(upgraded));
            (ReadIo::Shared(read), WriteIo::Shared(write))
        }
    }
}

/// The reading half of the connection.
pub(super) enum ReadIo {
    /// A TCP socket's own read half, after the bytes hyper read past the HTTP request.
    Tcp { early: Bytes, io: OwnedReadHalf },
    /// Half of a stream shared with the writing half (TLS).
    Shared(tokio::io::ReadHalf<TokioIo<Upgraded>>),
}

impl AsyncRead for ReadIo {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        match self.get_mut() {
            ReadIo::Tcp { early, io } => {
                if early.is_empty() {
                    return Pin::new(io).poll_read(cx, buf);
                }
                let n = early.len().min(buf.remaining());
                buf.put_slice(&early[..n]);
                early.advance(n);
                Poll::Ready(Ok(()))
            }
            ReadIo::Shared(io) => Pin::new(io).poll_read(cx, buf),
        }
    }
}

/// The writing half of the connection.
pub(super) enum WriteIo {
    Tcp(OwnedWriteHalf),
    Shared(tokio::io::WriteHalf<TokioIo<Upgraded>>),
}

impl AsyncWrite for WriteIo {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        match self.get_mut() {
            WriteIo::Tcp(io) => Pin::new(io).poll_write(cx, buf),
            WriteIo::Shared(io) => Pin::new(io).poll_write(cx, buf),
        }
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        match self.get_mut() {
            WriteIo::Tcp(io) => Pin::new(io).poll_write_vectored(cx, bufs),
            WriteIo::Shared(io) => Pin::new(io).poll_write_vectored(cx, bufs),
        }
    }

    fn is_write_vectored(&self) -> bool {
        match self {
            WriteIo::Tcp(io) => io.is_write_vectored(),
            WriteIo::Shared(io) => io.is_write_vectored(),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        match self.get_mut() {
            WriteIo::Tcp(io) => Pin::new(io).poll_flush(cx),
            WriteIo::Shared(io) => Pin::new(io).poll_flush(cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        match self.get_mut() {
            WriteIo::Tcp(io) => Pin::new(io).poll_shutdown(cx),
            WriteIo::Shared(io) => Pin::new(io).poll_shutdown(cx),
        }
    }
}
