//! The `raw` baseline: a bare WebSocket server on the same stack (hyper upgrade +
//! tokio-tungstenite, through `wslink::ws::WsListener`, so the HTTP/WebSocket layer is
//! identical) with no wslink on top: no msgpack, no chunk headers, no envelopes, no
//! router, no hello.
//!
//! Its protocol, one WebSocket message each:
//!
//! | client sends | server does |
//! |---|---|
//! | binary frame | sends it back unchanged (or swallows it while a `sink` is open) |
//! | text `push N S` | sends N binary frames of S bytes (a fresh buffer each), then text `done` |
//! | text `fan N S` | sends N binary frames of S bytes to every open connection (each built once, shared), then text `done` to the sender |
//! | text `bulk N C` | sends N bytes (one fresh buffer, filled like `test.bytes`) as binary frames of at most C bytes, then text `done` |
//! | text `sink N` | swallows the next N bytes of binary frames, then answers text `ok` |
//!
//! Every connection has a writer task fed by a bounded queue (like a wslink outbox). By
//! default it writes what is queued and flushes once per burst (batched writes, like the
//! wslink server); with `one_write` it flushes after every message (one write system call
//! per message), the second ceiling the performance targets name.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use tokio::sync::mpsc;
use wslink::ws::{HttpOptions, ServerTransport, WsListener};
use wslink::{Bytes, Frame, FrameSink, FrameStream, Listener, Transport};
use wslink_test_protocol::pattern_bytes;

#[derive(Default)]
struct Hub {
    next: AtomicU64,
    conns: Mutex<HashMap<u64, mpsc::Sender<Frame>>>,
}

impl Hub {
    fn senders(&self) -> Vec<mpsc::Sender<Frame>> {
        self.conns
            .lock()
            .map(|c| c.values().cloned().collect())
            .unwrap_or_default()
    }
}

/// Serves the raw protocol on `127.0.0.1:port`; prints `READY ws://…` once listening.
/// `one_write`: flush after every message instead of once per burst.
pub(crate) async fn serve(port: u16, one_write: bool, options: HttpOptions) -> std::io::Result<()> {
    let mut listener = WsListener::bind(("127.0.0.1", port), options).await?;
    println!("READY ws://{}/ws", listener.local_addr());
    let hub = Arc::new(Hub::default());
    while let Some(transport) = listener.accept().await {
        tokio::spawn(connection(hub.clone(), transport, one_write));
    }
    Ok(())
}

fn nums(words: &[&str]) -> Vec<u64> {
    words.iter().filter_map(|w| w.parse().ok()).collect()
}

async fn connection(hub: Arc<Hub>, transport: ServerTransport, one_write: bool) {
    let (mut sink, mut stream) = transport.split();
    let (tx, mut rx) = mpsc::channel::<Frame>(1024);
    let id = hub.next.fetch_add(1, Ordering::Relaxed);
    if let Ok(mut conns) = hub.conns.lock() {
        conns.insert(id, tx.clone());
    }
    let writer = tokio::spawn(async move {
        while let Some(frame) = rx.recv().await {
            if one_write {
                if sink.send(frame).await.is_err() {
                    return;
                }
                continue;
            }
            if sink.feed(frame).await.is_err() {
                return;
            }
            while let Ok(frame) = rx.try_recv() {
                if sink.feed(frame).await.is_err() {
                    return;
                }
            }
            if sink.flush().await.is_err() {
                return;
            }
        }
    });
    let mut sinking: u64 = 0;
    while let Some(Ok(frame)) = stream.recv().await {
        let ok = match frame {
            Frame::Binary(bytes) if sinking > 0 => {
                sinking = sinking.saturating_sub(bytes.len() as u64);
                if sinking == 0 {
                    tx.send(Frame::Text("ok".into())).await.is_ok()
                } else {
                    true
                }
            }
            Frame::Binary(bytes) => tx.send(Frame::Binary(bytes)).await.is_ok(),
            Frame::Text(command) => {
                let words: Vec<&str> = command.split_whitespace().collect();
                let n = nums(&words[1.min(words.len())..]);
                match (words.first().copied(), n.as_slice()) {
                    (Some("push"), [count, size]) => {
                        let mut ok = true;
                        for _ in 0..*count {
                            let frame = Frame::Binary(Bytes::from(vec![b'x'; *size as usize]));
                            if tx.send(frame).await.is_err() {
                                ok = false;
                                break;
                            }
                        }
                        ok && tx.send(Frame::Text("done".into())).await.is_ok()
                    }
                    (Some("fan"), [count, size]) => {
                        let targets = hub.senders();
                        for _ in 0..*count {
                            let frame = Frame::Binary(Bytes::from(vec![b'x'; *size as usize]));
                            for target in &targets {
                                let _ = target.send(frame.clone()).await;
                            }
                        }
                        tx.send(Frame::Text("done".into())).await.is_ok()
                    }
                    (Some("bulk"), [total, chunk]) => {
                        // The bytes `test.bytes` answers with, made the same way: a zeroed
                        // buffer would never be touched (the kernel maps one zero page),
                        // a ceiling no server that produces its data can approach.
                        let data = pattern_bytes(*total as usize);
                        let chunk = (*chunk as usize).max(1);
                        let mut ok = true;
                        for start in (0..data.len()).step_by(chunk) {
                            let end = (start + chunk).min(data.len());
                            if tx
                                .send(Frame::Binary(data.slice(start..end)))
                                .await
                                .is_err()
                            {
                                ok = false;
                                break;
                            }
                        }
                        ok && tx.send(Frame::Text("done".into())).await.is_ok()
                    }
                    (Some("sink"), [total]) => {
                        sinking = *total;
                        sinking > 0 || tx.send(Frame::Text("ok".into())).await.is_ok()
                    }
                    _ => tx.send(Frame::Text(format!("? {command}"))).await.is_ok(),
                }
            }
        };
        if !ok {
            break;
        }
    }
    if let Ok(mut conns) = hub.conns.lock() {
        conns.remove(&id);
    }
    drop(tx);
    let _ = writer.await;
}
