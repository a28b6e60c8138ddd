//! Shared set-up for the whole-system tests: the test-protocol server on the in-process
//! transport, and a raw connection for speaking frames by hand.
#![allow(dead_code, unreachable_pub)]

pub mod child;
pub mod cluster;
pub mod conformance;
pub mod launcher;
pub mod logs;
pub mod peers;
pub mod relay;

use std::time::Duration;

use wslink::client::Client;
use wslink::memory::{self, MemoryConnector, MemorySink, MemoryStream};
use wslink::msgpack::MsgpackCodec;
use wslink::server::{Server, ServerBuilder, ServerHandle};
use wslink::{Codec, DecodeLimits, Decoder, Frame, FrameSink, FrameStream, Message, Transport};
use wslink_test_protocol as test_protocol;

pub const SECRET: &str = "wslink-secret";

/// Bounds every wait in these tests: a hang is a failure, not a stuck CI.
pub const WAIT: Duration = Duration::from_secs(20);

pub fn test_server() -> ServerBuilder {
    Server::builder()
        .secret(SECRET)
        .protocol(test_protocol::TestProtocol)
        .protocol(test_protocol::chat::Chat::new("Rust server"))
}

/// Starts `server` on an in-process listener.
pub fn start(server: ServerBuilder) -> (ServerHandle, MemoryConnector) {
    let server = server.build();
    let handle = server.handle();
    let (listener, connector) = memory::listener(256);
    tokio::spawn(server.serve(listener));
    (handle, connector)
}

pub async fn connect(connector: &MemoryConnector) -> Client {
    let transport = connector.connect().await.expect("listener is up");
    tokio::time::timeout(WAIT, Client::connect(transport, SECRET))
        .await
        .expect("hello in time")
        .expect("hello accepted")
}

/// The hello request, as the JS client sends it.
pub fn hello_message(secret: &str) -> Message {
    Message::Request(wslink::Request {
        id: "system:c0:0".into(),
        method: "wslink.hello".into(),
        args: vec![wslink::map! { "secret" => secret }],
        kwargs: wslink::Map::new(),
    })
}

/// A connection that speaks frames by hand, to see exactly what the server sends.
pub struct Raw<K = MemorySink, S = MemoryStream> {
    pub tx: K,
    pub rx: S,
    decoder: <MsgpackCodec as Codec>::Decoder,
}

impl Raw<MemorySink, MemoryStream> {
    pub async fn open(connector: &MemoryConnector) -> Self {
        let (tx, rx) = connector.connect().await.unwrap().split();
        Raw::from_parts(tx, rx)
    }
}

impl<K: FrameSink, S: FrameStream> Raw<K, S> {
    pub fn from_parts(tx: K, rx: S) -> Self {
        let mut decoder = MsgpackCodec::new().decoder(DecodeLimits::default());
        decoder.set_authenticated(true);
        Raw { tx, rx, decoder }
    }

    pub async fn send(&mut self, message: &Message) {
        let encoded = MsgpackCodec::new().encode(message, 1 << 20).unwrap();
        for frame in encoded.to_frames() {
            self.tx.send(frame.clone()).await.unwrap();
        }
    }

    pub async fn send_frame(&mut self, frame: Frame) {
        self.tx.send(frame).await.unwrap();
    }

    /// The next whole message, or `None` when the server closed.
    pub async fn recv(&mut self) -> Option<Message> {
        loop {
            let frame = tokio::time::timeout(WAIT, self.rx.recv())
                .await
                .expect("server answers in time")?;
            if let Some(message) = self.decoder.decode(frame.unwrap()).unwrap() {
                return Some(message);
            }
        }
    }
}
