//! The lean client of the npm-like phases: it sends the way the npm `wslink` client
//! does. Every call is its own WebSocket message, written and flushed on its own (one
//! write per message, never a batch), chunked to the `maxMsgSize` of the hello reply
//! like the npm client (512 KiB before it). Ids are the npm client's
//! (`rpc:c<32 hex>:<n>`). It has no queue, no task and no router of its own: the phase
//! that holds it reads what comes back ([`LeanRx::recv`]).

use rmpv::Value;
use wslink::ws::ClientTransport;
use wslink::{Close, CloseCode, Frame, FrameSink, FrameStream, Transport};

use crate::phases::timed;
use crate::wire::{self, get, Reassembly};

type Sink = <ClientTransport as Transport>::Sink;
type Stream = <ClientTransport as Transport>::Stream;

/// The npm client's frame size until the hello reply names the server's.
const HELLO_FRAME: usize = 512 * 1024;

/// What came in.
#[derive(Debug)]
pub(crate) enum Incoming {
    /// The answer to call `n` (`Err`: the error map).
    Reply(u64, Result<Value, Value>),
    /// A publication on a topic (its data is not kept: the phases count them).
    Publication(String),
}

/// The sending half.
pub(crate) struct LeanTx {
    sink: Sink,
    prefix: String,
    next: u64,
    message_id: u32,
    max_frame: usize,
}

/// The receiving half.
pub(crate) struct LeanRx {
    stream: Stream,
    reassembly: Reassembly,
}

/// One connection, after its hello.
pub(crate) struct Lean {
    pub(crate) tx: LeanTx,
    pub(crate) rx: LeanRx,
    /// The hello reply said `"subscriptions": true` (it answers `wslink.subscribe`).
    pub(crate) subscriptions: bool,
}

impl Lean {
    /// Connects to `url` and says hello with `secret`.
    pub(crate) async fn connect(url: &str, secret: &str) -> Result<Lean, String> {
        let transport = timed("connect", crate::phases::ws_connect(url))
            .await?
            .map_err(|e| format!("connect {url}: {e}"))?;
        let (sink, stream) = transport.split();
        let mut tx = LeanTx {
            sink,
            prefix: String::new(),
            next: 0,
            message_id: 1,
            max_frame: HELLO_FRAME,
        };
        let mut rx = LeanRx {
            stream,
            reassembly: Reassembly::default(),
        };
        let secret = wire::map(vec![("secret", secret.into())]);
        tx.write(&wire::request("system:c0:0", "wslink.hello", vec![secret]))
            .await?;
        let reply = loop {
            if let Some(message) = rx.message().await? {
                if get(&message, "id").and_then(Value::as_str) == Some("system:c0:0") {
                    break message;
                }
            }
        };
        let result = match (get(&reply, "result"), get(&reply, "error")) {
            (Some(result), None) => result,
            _ => return Err(format!("hello refused: {reply}")),
        };
        let client = get(result, "clientID")
            .and_then(Value::as_str)
            .unwrap_or("c0");
        tx.prefix = format!("rpc:{client}:");
        if let Some(size) = get(result, "maxMsgSize").and_then(Value::as_u64) {
            tx.max_frame = (size as usize).max(wire::HEADER_LEN + 1);
        }
        let subscriptions = get(result, "subscriptions").and_then(Value::as_bool) == Some(true);
        Ok(Lean {
            tx,
            rx,
            subscriptions,
        })
    }

    /// One call, waited for: its result, or the error map as text. Publications that
    /// come first are dropped.
    pub(crate) async fn call(&mut self, method: &str, args: Vec<Value>) -> Result<Value, String> {
        let n = self.tx.send(method, args).await?;
        loop {
            if let Incoming::Reply(got, result) = self.rx.recv().await? {
                if got == n {
                    return result.map_err(|e| format!("{method}: {e}"));
                }
            }
        }
    }

    /// Closes with 1000 and waits (bounded) for the server's close.
    pub(crate) async fn close(mut self) {
        let _ = self.tx.sink.close(Close::new(CloseCode::NORMAL, "")).await;
        let _ = tokio::time::timeout(crate::phases::WAIT, async {
            while let Some(Ok(_)) = self.rx.stream.recv().await {}
        })
        .await;
    }
}

impl LeanTx {
    /// Sends call `method(args)` as one message (each chunk one flushed write); returns
    /// its number.
    pub(crate) async fn send(&mut self, method: &str, args: Vec<Value>) -> Result<u64, String> {
        let n = self.next;
        self.next += 1;
        let id = format!("{}{n}", self.prefix);
        self.write(&wire::request(&id, method, args)).await?;
        Ok(n)
    }

    async fn write(&mut self, message: &Value) -> Result<(), String> {
        self.message_id = self.message_id.wrapping_add(1);
        for frame in wire::frames(message, self.message_id, self.max_frame) {
            self.sink
                .send(Frame::Binary(frame))
                .await
                .map_err(|e| format!("send: {e}"))?;
        }
        Ok(())
    }
}

impl LeanRx {
    /// The next message, bounded by [`crate::phases::WAIT`]; `None` while a message is
    /// still incomplete.
    async fn message(&mut self) -> Result<Option<Value>, String> {
        match timed("recv", self.stream.recv()).await? {
            Some(Ok(Frame::Binary(data))) => self.reassembly.push(&data),
            Some(Ok(Frame::Text(_))) => Err("a text frame from a 2.x server".into()),
            Some(Err(e)) => Err(format!("recv: {e}")),
            None => Err("recv: closed".into()),
        }
    }

    /// The next reply or publication.
    pub(crate) async fn recv(&mut self) -> Result<Incoming, String> {
        loop {
            let Some(message) = self.message().await? else {
                continue;
            };
            if let Some(incoming) = read(message) {
                return Ok(incoming);
            }
        }
    }
}

/// A reply (`rpc:…:<n>`) or a publication (`publish:<topic>:<n>`); `None` for anything
/// else.
fn read(message: Value) -> Option<Incoming> {
    let id = get(&message, "id")?.as_str()?.to_owned();
    let mut parts = id.split(':');
    let kind = parts.next()?;
    let middle = parts.next()?;
    let n = parts.next()?;
    let take = |key| get(&message, key).cloned();
    match kind {
        "rpc" => {
            let n = n.parse().ok()?;
            Some(Incoming::Reply(
                n,
                match take("error") {
                    Some(error) => Err(error),
                    None => Ok(take("result").unwrap_or(Value::Nil)),
                },
            ))
        }
        "publish" => Some(Incoming::Publication(middle.to_owned())),
        _ => None,
    }
}
