//! The bare wslink server (`wslink-bench serve bare`): the ceiling of this stack for the
//! npm-like phases. tokio-tungstenite on a plain `TcpListener`, one task per connection
//! that reads, decodes (`rmpv`), answers and writes in turn, no limits, no layers, no
//! project crate on the path. It speaks just enough wslink 2.x for the phases:
//!
//! | method | answer |
//! |---|---|
//! | `wslink.hello` (id `system:…`) | `{clientID, maxMsgSize, subscriptions: true}` when `args[0].secret` is the secret |
//! | `test.echo(x)` | `x` |
//! | `test.add(a, b)` | `a + b` for two integers, two numbers, two strings |
//! | `test.publish(topic, count, size = 0)` | publishes `{seq, pad}` `count` times, answers `count` |
//! | `test.bytes(n)` | `n` bytes, byte `i` = `i % 256` |
//! | `test.byte_len(blob)` | `{len, first, last, pattern}` |
//! | `wslink.subscribe(topic)`, `wslink.unsubscribe(topic)` | nil; from then on this connection gets only its topics' publications |
//!
//! Arguments go by position or by name. A publication is encoded once and queued to every
//! receiving connection (an unbounded queue each, drained by that connection's task,
//! which writes what is queued and flushes once). Answers are written in the task that
//! read the calls, and flushed once no further call is already read: one write per answer
//! when calls come one at a time, one for a burst.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use futures_util::{FutureExt, SinkExt, StreamExt};
use rmpv::Value;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::WebSocketStream;
use wslink::Bytes;

use crate::wire::{self, get, Reassembly, MAX_FRAME};

/// A connection as the hub sees it.
struct Peer {
    queue: mpsc::UnboundedSender<Bytes>,
    /// `None` until it subscribes: it gets every publication (a broadcast).
    topics: Option<HashSet<String>>,
}

/// Every connection, for publications.
#[derive(Default)]
struct Hub {
    next_peer: AtomicU64,
    next_message: AtomicU32,
    peers: Mutex<HashMap<u64, Peer>>,
}

impl Hub {
    fn join(&self, queue: mpsc::UnboundedSender<Bytes>) -> u64 {
        let id = self.next_peer.fetch_add(1, Ordering::Relaxed);
        if let Ok(mut peers) = self.peers.lock() {
            peers.insert(
                id,
                Peer {
                    queue,
                    topics: None,
                },
            );
        }
        id
    }

    fn leave(&self, id: u64) {
        if let Ok(mut peers) = self.peers.lock() {
            peers.remove(&id);
        }
    }

    fn message_id(&self) -> u32 {
        self.next_message.fetch_add(1, Ordering::Relaxed)
    }

    fn subscribe(&self, id: u64, topic: &str, add: bool) {
        if let Ok(mut peers) = self.peers.lock() {
            if let Some(peer) = peers.get_mut(&id) {
                let topics = peer.topics.get_or_insert_with(HashSet::new);
                if add {
                    topics.insert(topic.to_owned());
                } else {
                    topics.remove(topic);
                }
            }
        }
    }

    /// Queues the frames of one publication to every connection that takes `topic`.
    fn publish(&self, topic: &str, frames: &[Bytes]) {
        let Ok(peers) = self.peers.lock() else { return };
        for peer in peers.values() {
            if peer.topics.as_ref().is_none_or(|t| t.contains(topic)) {
                for frame in frames {
                    let _ = peer.queue.send(frame.clone());
                }
            }
        }
    }
}

/// Serves on `127.0.0.1:port`; prints `READY ws://…/ws` once listening.
pub(crate) async fn serve(port: u16, secret: &str) -> std::io::Result<()> {
    let listener = TcpListener::bind(("127.0.0.1", port)).await?;
    println!("READY ws://{}/ws", listener.local_addr()?);
    let hub = Arc::new(Hub::default());
    let secret: Arc<str> = secret.into();
    loop {
        let (tcp, _) = listener.accept().await?;
        let _ = tcp.set_nodelay(true);
        tokio::spawn(connection(tcp, hub.clone(), secret.clone()));
    }
}

/// One connection's state.
struct Conn {
    id: u64,
    hub: Arc<Hub>,
    secret: Arc<str>,
    authenticated: bool,
    reassembly: Reassembly,
}

async fn connection(tcp: TcpStream, hub: Arc<Hub>, secret: Arc<str>) {
    // No limits: the bare server trusts its client (it is the tool itself).
    let config = WebSocketConfig::default()
        .max_message_size(None)
        .max_frame_size(None);
    let Ok(mut ws) = tokio_tungstenite::accept_async_with_config(tcp, Some(config)).await else {
        return;
    };
    let (queue, mut queued) = mpsc::unbounded_channel();
    let id = hub.join(queue);
    let mut conn = Conn {
        id,
        hub: hub.clone(),
        secret,
        authenticated: false,
        reassembly: Reassembly::default(),
    };
    loop {
        let ok = tokio::select! {
            message = ws.next() => match message {
                Some(Ok(Message::Binary(data))) => answer(&mut conn, &mut ws, data).await,
                Some(Ok(Message::Close(_))) | Some(Err(_)) | None => false,
                Some(Ok(_)) => true,
            },
            Some(frame) = queued.recv() => {
                let mut frames = vec![frame];
                while let Ok(more) = queued.try_recv() {
                    frames.push(more);
                }
                write(&mut ws, frames).await
            }
        };
        if !ok {
            break;
        }
    }
    hub.leave(id);
    let _ = ws.close(None).await;
}

/// Answers the call in `data` and every call already read behind it, then flushes once:
/// one write per answer when calls come one at a time, one write for a burst that
/// arrived together. `false` when the connection is done.
async fn answer(conn: &mut Conn, ws: &mut WebSocketStream<TcpStream>, data: Bytes) -> bool {
    let mut next = Some(data);
    while let Some(data) = next.take() {
        match conn.frame(&data) {
            Ok(frames) => {
                for frame in frames {
                    if ws.feed(Message::Binary(frame)).await.is_err() {
                        return false;
                    }
                }
            }
            Err(e) => {
                eprintln!("bare: connection {}: {e}", conn.id);
                return false;
            }
        }
        // Only what is already there: never wait before the flush.
        match ws.next().now_or_never() {
            Some(Some(Ok(Message::Binary(more)))) => next = Some(more),
            Some(Some(Ok(Message::Close(_)))) | Some(Some(Err(_))) | Some(None) => return false,
            Some(Some(Ok(_))) | None => {}
        }
    }
    ws.flush().await.is_ok()
}

/// Writes `frames`, then flushes once.
async fn write(ws: &mut WebSocketStream<TcpStream>, frames: Vec<Bytes>) -> bool {
    if frames.is_empty() {
        return true;
    }
    for frame in frames {
        if ws.feed(Message::Binary(frame)).await.is_err() {
            return false;
        }
    }
    ws.flush().await.is_ok()
}

impl Conn {
    /// One chunk in; the frames of the answer out (none until a message completes).
    fn frame(&mut self, data: &[u8]) -> Result<Vec<Bytes>, String> {
        let Some(message) = self.reassembly.push(data)? else {
            return Ok(Vec::new());
        };
        let Some(answer) = self.message(&message) else {
            return Ok(Vec::new());
        };
        Ok(wire::frames(&answer, self.hub.message_id(), MAX_FRAME))
    }

    /// The answer to one message (`None`: a message without an id gets none).
    fn message(&mut self, message: &Value) -> Option<Value> {
        let id = get(message, "id")?.clone();
        let method = get(message, "method").and_then(Value::as_str).unwrap_or("");
        let args = Args {
            args: match get(message, "args") {
                Some(Value::Array(a)) => a.as_slice(),
                _ => &[],
            },
            kwargs: get(message, "kwargs"),
        };
        if id.as_str().is_some_and(|s| s.starts_with("system:")) {
            return Some(self.system(id, method, &args));
        }
        if !self.authenticated {
            let text = "Unauthorized: Skip message processing";
            return Some(wire::error(id, -32000, text, Value::Nil));
        }
        Some(match self.call(method, &args) {
            Ok(result) => wire::response(id, result),
            Err(Failure::Unknown) => {
                wire::error(id, -32601, "Unregistered method called", method.into())
            }
            Err(Failure::Raised(why)) => {
                let data = wire::map(vec![("method", method.into()), ("exception", why.into())]);
                wire::error(id, -32001, "Exception raised", data)
            }
        })
    }

    fn system(&mut self, id: Value, method: &str, args: &Args<'_>) -> Value {
        if method != "wslink.hello" {
            return wire::error(id, -32601, "Unknown system method called", Value::Nil);
        }
        let given = args
            .get(0, "")
            .and_then(|a| get(a, "secret"))
            .and_then(Value::as_str);
        if given != Some(&*self.secret) {
            return wire::error(id, -32000, "Authentication failed", Value::Nil);
        }
        self.authenticated = true;
        let client = format!("c{:032x}", self.id);
        let result = wire::map(vec![
            ("clientID", client.into()),
            ("maxMsgSize", (MAX_FRAME as u64).into()),
            ("subscriptions", true.into()),
        ]);
        wire::response(id, result)
    }

    fn call(&mut self, method: &str, args: &Args<'_>) -> Result<Value, Failure> {
        match method {
            "test.echo" => Ok(args.get(0, "x").cloned().unwrap_or(Value::Nil)),
            "test.add" => add(args.need(0, "a")?, args.need(1, "b")?),
            "test.publish" => {
                let topic = args
                    .need(0, "topic")?
                    .as_str()
                    .ok_or(Failure::raised("topic"))?;
                let count = args
                    .need(1, "count")?
                    .as_u64()
                    .ok_or(Failure::raised("count"))?;
                let size = args.get(2, "size").and_then(Value::as_u64).unwrap_or(0);
                // One envelope, its `seq` changed in place for each publication.
                let data = wire::map(vec![
                    ("seq", 0u64.into()),
                    ("pad", "x".repeat(size as usize).into()),
                ]);
                let mut message = wire::publication(topic, data);
                for seq in 0..count {
                    set_seq(&mut message, seq);
                    let frames = wire::frames(&message, self.hub.message_id(), MAX_FRAME);
                    self.hub.publish(topic, &frames);
                }
                Ok(count.into())
            }
            "test.bytes" => {
                let n = args.need(0, "n")?.as_u64().ok_or(Failure::raised("n"))?;
                Ok(Value::Binary(
                    crate::protocol::pattern_bytes(n as usize).to_vec(),
                ))
            }
            "test.byte_len" => match args.need(0, "blob")? {
                Value::Binary(blob) => Ok(byte_len(blob)),
                _ => Err(Failure::raised("blob is not binary")),
            },
            "wslink.subscribe" | "wslink.unsubscribe" => {
                let topic = args
                    .need(0, "topic")?
                    .as_str()
                    .ok_or(Failure::raised("topic"))?;
                self.hub
                    .subscribe(self.id, topic, method == "wslink.subscribe");
                Ok(Value::Nil)
            }
            _ => Err(Failure::Unknown),
        }
    }
}

/// Why a call failed.
enum Failure {
    Unknown,
    Raised(String),
}

impl Failure {
    fn raised(what: &str) -> Failure {
        Failure::Raised(format!("bad argument: {what}"))
    }
}

/// A request's arguments, by position or by name.
struct Args<'a> {
    args: &'a [Value],
    kwargs: Option<&'a Value>,
}

impl Args<'_> {
    fn get(&self, i: usize, name: &str) -> Option<&Value> {
        self.args
            .get(i)
            .or_else(|| self.kwargs.and_then(|k| get(k, name)))
    }

    fn need(&self, i: usize, name: &str) -> Result<&Value, Failure> {
        self.get(i, name)
            .ok_or_else(|| Failure::Raised(format!("missing argument {name}")))
    }
}

fn add(a: &Value, b: &Value) -> Result<Value, Failure> {
    if let (Some(x), Some(y)) = (a.as_i64(), b.as_i64()) {
        if let Some(sum) = x.checked_add(y) {
            return Ok(sum.into());
        }
    }
    if let (Some(x), Some(y)) = (
        a.as_f64().or(a.as_i64().map(|v| v as f64)),
        b.as_f64().or(b.as_i64().map(|v| v as f64)),
    ) {
        return Ok(Value::F64(x + y));
    }
    match (a.as_str(), b.as_str()) {
        (Some(x), Some(y)) => Ok(format!("{x}{y}").into()),
        _ => Err(Failure::Raised("unsupported operand types for +".into())),
    }
}

/// Sets `result.seq` of a publication built by `test.publish`.
fn set_seq(message: &mut Value, seq: u64) {
    let Value::Map(entries) = message else { return };
    for (k, v) in entries.iter_mut() {
        if k.as_str() == Some("result") {
            if let Value::Map(data) = v {
                if let Some((_, value)) = data.first_mut() {
                    *value = seq.into();
                }
            }
        }
    }
}

fn byte_len(blob: &[u8]) -> Value {
    let pattern = blob.iter().enumerate().all(|(i, &b)| b == i as u8);
    wire::map(vec![
        ("len", (blob.len() as u64).into()),
        ("first", blob.first().map_or(Value::Nil, |&b| b.into())),
        ("last", blob.last().map_or(Value::Nil, |&b| b.into())),
        ("pattern", pattern.into()),
    ])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn conn() -> Conn {
        Conn {
            id: 1,
            hub: Arc::new(Hub::default()),
            secret: "s".into(),
            authenticated: false,
            reassembly: Reassembly::default(),
        }
    }

    fn call(conn: &mut Conn, id: &str, method: &str, args: Vec<Value>) -> Value {
        conn.message(&wire::request(id, method, args)).unwrap()
    }

    fn code(answer: &Value) -> Option<i64> {
        get(get(answer, "error")?, "code")?.as_i64()
    }

    #[test]
    fn hello_then_calls() {
        let mut c = conn();
        assert_eq!(
            code(&call(&mut c, "rpc:c1:0", "test.echo", vec![1.into()])),
            Some(-32000)
        );
        let wrong = wire::map(vec![("secret", "x".into())]);
        let refused = call(&mut c, "system:c0:0", "wslink.hello", vec![wrong]);
        assert_eq!(code(&refused), Some(-32000));
        let right = wire::map(vec![("secret", "s".into())]);
        let hello = call(&mut c, "system:c0:0", "wslink.hello", vec![right]);
        let result = get(&hello, "result").unwrap();
        assert_eq!(
            get(result, "maxMsgSize").and_then(Value::as_u64),
            Some(MAX_FRAME as u64)
        );
        let echo = call(&mut c, "rpc:c1:1", "test.echo", vec!["hi".into()]);
        assert_eq!(get(&echo, "result").and_then(Value::as_str), Some("hi"));
        let sum = call(
            &mut c,
            "rpc:c1:2",
            "test.add",
            vec![1.into(), Value::F64(2.5)],
        );
        assert_eq!(get(&sum, "result").and_then(Value::as_f64), Some(3.5));
        let len = call(
            &mut c,
            "rpc:c1:3",
            "test.byte_len",
            vec![Value::Binary(vec![0, 1, 2])],
        );
        let len = get(&len, "result").unwrap();
        assert_eq!(get(len, "len").and_then(Value::as_u64), Some(3));
        assert_eq!(get(len, "pattern").and_then(Value::as_bool), Some(true));
        assert_eq!(
            code(&call(&mut c, "rpc:c1:4", "no.such", vec![])),
            Some(-32601)
        );
    }

    #[test]
    fn publications_go_to_subscribers_only_once_a_connection_subscribes() {
        let mut c = conn();
        c.authenticated = true;
        let (tx, mut rx) = mpsc::unbounded_channel();
        c.id = c.hub.join(tx);
        let publish = |c: &mut Conn| {
            call(
                c,
                "rpc:c1:9",
                "test.publish",
                vec!["a.b".into(), 2u64.into()],
            );
        };
        publish(&mut c);
        let seq = |frame: Bytes| {
            let message = Reassembly::default().push(&frame).unwrap().unwrap();
            get(get(&message, "result").unwrap(), "seq").and_then(Value::as_u64)
        };
        assert_eq!(seq(rx.try_recv().unwrap()), Some(0));
        assert_eq!(seq(rx.try_recv().unwrap()), Some(1));
        call(
            &mut c,
            "rpc:c1:10",
            "wslink.subscribe",
            vec!["other".into()],
        );
        publish(&mut c);
        assert!(rx.try_recv().is_err());
    }
}
