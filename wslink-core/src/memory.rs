//! An in-process transport: two ends of bounded channels, no socket.
//!
//! [`MemoryTransport::pair`] makes one connection's two ends; [`listener`] makes a
//! [`MemoryListener`] for a server and a [`MemoryConnector`] that clients use to dial it.
//! Frames keep their order, close frames are delivered, and a full channel makes the
//! writer wait, as a socket would.
//!
//! ```
//! use wslink_core::memory::MemoryTransport;
//! use wslink_core::{Frame, FrameSink, FrameStream, Transport};
//!
//! # tokio_test_block_on(async {
//! let (a, b) = MemoryTransport::pair(8);
//! let (mut a_tx, _a_rx) = a.split();
//! let (_b_tx, mut b_rx) = b.split();
//! a_tx.send(Frame::Text("hi".into())).await.unwrap();
//! assert_eq!(b_rx.recv().await.unwrap().unwrap(), Frame::Text("hi".into()));
//! # });
//! # fn tokio_test_block_on<F: std::future::Future>(f: F) -> F::Output {
//! #     tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(f)
//! # }
//! ```

use async_trait::async_trait;
use tokio::sync::mpsc;

use crate::codec::Frame;
use crate::transport::{Close, FrameSink, FrameStream, Listener, Transport, TransportError};

enum Item {
    Frame(Frame),
    Close(Close),
}

/// One end of an in-process connection.
#[derive(Debug)]
pub struct MemoryTransport {
    tx: mpsc::Sender<Item>,
    rx: mpsc::Receiver<Item>,
}

impl std::fmt::Debug for Item {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Item::Frame(frame) => write!(f, "Frame({} bytes)", frame.len()),
            Item::Close(c) => write!(f, "Close({:?})", c.code),
        }
    }
}

impl MemoryTransport {
    /// Two connected ends; each direction buffers up to `capacity` frames.
    pub fn pair(capacity: usize) -> (MemoryTransport, MemoryTransport) {
        let (a_tx, b_rx) = mpsc::channel(capacity.max(1));
        let (b_tx, a_rx) = mpsc::channel(capacity.max(1));
        (
            MemoryTransport { tx: a_tx, rx: a_rx },
            MemoryTransport { tx: b_tx, rx: b_rx },
        )
    }
}

impl Transport for MemoryTransport {
    type Sink = MemorySink;
    type Stream = MemoryStream;

    fn split(self) -> (MemorySink, MemoryStream) {
        (
            MemorySink { tx: Some(self.tx) },
            MemoryStream {
                rx: self.rx,
                close: None,
            },
        )
    }
}

/// The writing half of a [`MemoryTransport`].
#[derive(Debug)]
pub struct MemorySink {
    tx: Option<mpsc::Sender<Item>>,
}

#[async_trait]
impl FrameSink for MemorySink {
    async fn feed(&mut self, frame: Frame) -> Result<(), TransportError> {
        let tx = self.tx.as_ref().ok_or(TransportError::Closed)?;
        tx.send(Item::Frame(frame))
            .await
            .map_err(|_| TransportError::Closed)
    }

    async fn flush(&mut self) -> Result<(), TransportError> {
        Ok(())
    }

    async fn close(&mut self, close: Close) -> Result<(), TransportError> {
        if let Some(tx) = self.tx.take() {
            // The peer may be gone already; closing is still done.
            let _ = tx.send(Item::Close(close)).await;
        }
        Ok(())
    }
}

/// The reading half of a [`MemoryTransport`].
#[derive(Debug)]
pub struct MemoryStream {
    rx: mpsc::Receiver<Item>,
    close: Option<Close>,
}

impl MemoryStream {
    /// The close frame received from the peer, once [`FrameStream::recv`] returned `None`.
    pub fn close_frame(&self) -> Option<&Close> {
        self.close.as_ref()
    }
}

#[async_trait]
impl FrameStream for MemoryStream {
    async fn recv(&mut self) -> Option<Result<Frame, TransportError>> {
        if self.close.is_some() {
            return None;
        }
        match self.rx.recv().await? {
            Item::Frame(frame) => Some(Ok(frame)),
            Item::Close(close) => {
                self.close = Some(close);
                self.rx.close();
                None
            }
        }
    }

    fn close_frame(&self) -> Option<&Close> {
        MemoryStream::close_frame(self)
    }
}

/// Accepts in-process connections made with a [`MemoryConnector`].
#[derive(Debug)]
pub struct MemoryListener {
    incoming: mpsc::Receiver<MemoryTransport>,
}

/// Dials a [`MemoryListener`]; cheap to clone.
#[derive(Debug, Clone)]
pub struct MemoryConnector {
    outgoing: mpsc::Sender<MemoryTransport>,
    capacity: usize,
}

/// A listener and the connector that reaches it; each connection buffers
/// `capacity` frames per direction.
pub fn listener(capacity: usize) -> (MemoryListener, MemoryConnector) {
    let (tx, rx) = mpsc::channel(64);
    (
        MemoryListener { incoming: rx },
        MemoryConnector {
            outgoing: tx,
            capacity,
        },
    )
}

impl MemoryConnector {
    /// Opens a connection to the listener.
    pub async fn connect(&self) -> Result<MemoryTransport, TransportError> {
        let (client, server) = MemoryTransport::pair(self.capacity);
        self.outgoing
            .send(server)
            .await
            .map_err(|_| TransportError::Closed)?;
        Ok(client)
    }
}

#[async_trait]
impl Listener for MemoryListener {
    type Transport = MemoryTransport;

    async fn accept(&mut self) -> Option<MemoryTransport> {
        self.incoming.recv().await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::transport::CloseCode;

    #[tokio::test]
    async fn frames_keep_order_and_close_is_delivered() {
        let (a, b) = MemoryTransport::pair(4);
        let (mut tx, _) = a.split();
        let (_, mut rx) = b.split();
        for i in 0..3u8 {
            tx.feed(Frame::Binary(vec![i].into())).await.unwrap();
        }
        tx.close(Close::new(CloseCode::GOING_AWAY, "bye"))
            .await
            .unwrap();
        for i in 0..3u8 {
            assert_eq!(
                rx.recv().await.unwrap().unwrap(),
                Frame::Binary(vec![i].into())
            );
        }
        assert!(rx.recv().await.is_none());
        assert_eq!(rx.close_frame().unwrap().code, CloseCode::GOING_AWAY);
        assert!(matches!(
            tx.feed(Frame::Text("late".into())).await,
            Err(TransportError::Closed)
        ));
    }

    #[tokio::test]
    async fn dropping_one_end_ends_the_other() {
        let (a, b) = MemoryTransport::pair(4);
        drop(a);
        let (mut tx, mut rx) = b.split();
        assert!(rx.recv().await.is_none());
        assert!(tx.send(Frame::Text("x".into())).await.is_err());
    }

    #[tokio::test]
    async fn connector_reaches_listener() {
        let (mut listener, connector) = listener(4);
        let client = connector.connect().await.unwrap();
        let server = listener.accept().await.unwrap();
        let (mut ctx, _) = client.split();
        let (_, mut srx) = server.split();
        ctx.send(Frame::Text("hello".into())).await.unwrap();
        assert_eq!(
            srx.recv().await.unwrap().unwrap(),
            Frame::Text("hello".into())
        );
    }
}
