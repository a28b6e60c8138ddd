//! Hostile clients over real sockets: each gets the documented close code, the server's
//! memory stays bounded, and a well-behaved client keeps being served throughout.
//!
//! The memory bounds are measured on the server alone: those tests run our test server
//! as a child process (`wslink-test-server`) and read its peak resident memory.

mod common;

use std::time::Duration;

use common::child::ChildServer;
use common::peers::{host_port, serve_ws};
use common::{test_server, SECRET, WAIT};
use futures_util::{SinkExt, StreamExt};
use tokio_tungstenite::tungstenite::protocol::frame::coding::{Data, OpCode};
use tokio_tungstenite::tungstenite::protocol::frame::Frame as RawFrame;
use tokio_tungstenite::tungstenite::Message as WsMessage;
use wslink::client::Client;
use wslink::msgpack::{ChunkHeader, MsgpackCodec};
use wslink::ws::HttpOptions;
use wslink::{Codec, Map, Message, Value};

type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn raw(url: &str) -> Ws {
    tokio_tungstenite::connect_async(url)
        .await
        .expect("WebSocket handshake")
        .0
}

fn encode(message: &Message) -> Vec<WsMessage> {
    let encoded = MsgpackCodec::new().encode(message, 1 << 20).unwrap();
    encoded
        .to_frames()
        .iter()
        .map(|f| match f {
            wslink::Frame::Binary(b) => WsMessage::Binary(b.clone()),
            wslink::Frame::Text(t) => WsMessage::text(t.as_str()),
        })
        .collect()
}

async fn hello(ws: &mut Ws) {
    let hello = common::hello_message(SECRET);
    for frame in encode(&hello) {
        ws.send(frame).await.unwrap();
    }
    match tokio::time::timeout(WAIT, ws.next()).await.unwrap() {
        Some(Ok(WsMessage::Binary(_))) => {}
        other => panic!("hello reply expected, got {other:?}"),
    }
}

/// Reads until the server closes; returns the close code it sent.
async fn close_code(ws: &mut Ws) -> Option<u16> {
    loop {
        match tokio::time::timeout(WAIT, ws.next())
            .await
            .expect("server closes in time")
        {
            Some(Ok(WsMessage::Close(frame))) => return frame.map(|f| f.code.into()),
            Some(Ok(_)) => continue,
            Some(Err(_)) | None => return None,
        }
    }
}

fn chunk(id: u32, offset: u32, total: u32, payload: &[u8]) -> WsMessage {
    let mut frame = ChunkHeader {
        message_id: id,
        offset,
        total_size: total,
    }
    .to_bytes()
    .to_vec();
    frame.extend_from_slice(payload);
    WsMessage::Binary(frame.into())
}

async fn good_client(url: &str) -> Client {
    Client::connect(wslink::ws::connect(url).await.unwrap(), SECRET)
        .await
        .unwrap()
}

async fn still_served(client: &Client) {
    let got = client
        .call("test.add", vec![20.into(), 22.into()], Map::new())
        .await
        .unwrap();
    assert_eq!(got, Value::from(42));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lying_sizes_before_and_after_hello_close_with_1009_without_allocating() {
    let server = ChildServer::start(&[]).await;
    let url = server.url.clone();
    let good = good_client(&url).await;
    let before = server.memory();
    for authenticated in [false, true] {
        for _ in 0..20 {
            let mut ws = raw(&url).await;
            if authenticated {
                hello(&mut ws).await;
            }
            // Claims 4 GiB - 1 in the first chunk.
            ws.send(chunk(7, 0, u32::MAX, &[0x80; 64])).await.unwrap();
            assert_eq!(
                close_code(&mut ws).await,
                Some(1009),
                "authenticated: {authenticated}"
            );
        }
    }
    still_served(&good).await;
    let grown = server.memory().peak.saturating_sub(before.peak);
    assert!(
        grown < 64 << 20,
        "the server's peak memory grew by {grown} bytes for 40 lying 4 GiB claims"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn thousands_of_never_completed_partials_are_cut_off() {
    let server = ChildServer::start(&[]).await;
    let url = server.url.clone();
    let good = good_client(&url).await;
    let before = server.memory();
    let mut ws = raw(&url).await;
    hello(&mut ws).await;
    let payload = vec![0u8; 1024];
    let mut sent = 0;
    for id in 0..5000u32 {
        // Each message claims 1 MiB and sends 1 KiB of it.
        if ws.send(chunk(id, 0, 1 << 20, &payload)).await.is_err() {
            break;
        }
        sent += 1;
    }
    assert_eq!(
        close_code(&mut ws).await,
        Some(1009),
        "after {sent} partial messages"
    );
    still_served(&good).await;
    let grown = server.memory().peak.saturating_sub(before.peak);
    assert!(
        grown < 64 << 20,
        "the server's peak memory grew by {grown} bytes"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn garbage_and_malformed_frames_close_with_1002() {
    let (_server, url) = serve_ws(test_server(), HttpOptions::default()).await;
    let good = good_client(&url).await;

    // Shorter than a chunk header.
    let mut ws = raw(&url).await;
    ws.send(WsMessage::Binary(vec![1, 2, 3].into()))
        .await
        .unwrap();
    assert_eq!(close_code(&mut ws).await, Some(1002));

    // A whole chunk whose payload is not msgpack.
    let mut ws = raw(&url).await;
    ws.send(chunk(1, 0, 4, &[0xc1, 0xc1, 0xc1, 0xc1]))
        .await
        .unwrap();
    assert_eq!(close_code(&mut ws).await, Some(1002));

    // A text frame of invalid UTF-8 (sent as a raw frame, bypassing the client's checks).
    let mut ws = raw(&url).await;
    let bad = RawFrame::message(vec![0xff, 0xfe, 0xfd], OpCode::Data(Data::Text), true);
    ws.send(WsMessage::Frame(bad)).await.unwrap();
    assert_eq!(close_code(&mut ws).await, Some(1002));

    // Text as the first frame is a 1.x client at a 2.x-only server: 1003, with a reason.
    let mut ws = raw(&url).await;
    ws.send(WsMessage::text("{\"id\": \"x\"}")).await.unwrap();
    assert_eq!(close_code(&mut ws).await, Some(1003));

    // Text after the hello is merely ignored by a 2.x server: the connection lives on.
    let mut ws = raw(&url).await;
    hello(&mut ws).await;
    ws.send(WsMessage::text("{\"id\": \"x\"}")).await.unwrap();
    hello(&mut ws).await;

    still_served(&good).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_oversized_websocket_frame_closes_with_1009() {
    let options = HttpOptions {
        max_message_size: 64 * 1024,
        ..HttpOptions::default()
    };
    let (_server, url) = serve_ws(test_server(), options).await;
    let good = good_client(&url).await;
    let mut ws = raw(&url).await;
    hello(&mut ws).await;
    let _ = ws.send(chunk(1, 0, 100_000, &vec![0u8; 100_000])).await;
    assert_eq!(close_code(&mut ws).await, Some(1009));
    still_served(&good).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_never_reads_does_not_hold_up_the_others() {
    let server =
        ChildServer::start(&["--outbox-capacity", "64", "--slow-client-wait-ms", "100"]).await;
    let url = server.url.clone();
    // Says hello, then never reads: its TCP window fills, then its queue.
    let mut stalled = raw(&url).await;
    hello(&mut stalled).await;
    let reader = good_client(&url).await;
    let mut sub = reader.subscribe("flood").unwrap();
    let before = server.memory();
    let count = 20_000u64;
    // The server publishes {seq, pad} `count` times, with a pad of 1000 bytes.
    let publish = reader.call(
        "test.publish",
        vec!["flood".into(), count.into(), 1000.into()],
        Map::new(),
    );
    let receive = async {
        for seq in 0..count {
            let item = tokio::time::timeout(WAIT, sub.recv())
                .await
                .expect("publications keep coming")
                .unwrap();
            assert_eq!(item["seq"], Value::from(seq));
        }
    };
    let (published, ()) = tokio::join!(publish, receive);
    assert_eq!(published.unwrap(), Value::from(count));
    still_served(&reader).await;
    let grown = server.memory().peak.saturating_sub(before.peak);
    assert!(
        grown < 64 << 20,
        "the server's peak memory grew by {grown} bytes with a stalled client"
    );
    drop(stalled);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_peer_that_stops_answering_pings_is_dropped_and_live_ones_are_kept() {
    let server = test_server().configure(|c| c.keepalive = Some(Duration::from_millis(100)));
    let options = HttpOptions {
        dead_after: Some(Duration::from_millis(400)),
        ..HttpOptions::default()
    };
    let (handle, url) = serve_ws(server, options).await;
    let live = good_client(&url).await;
    // Says hello, then never reads again: its WebSocket layer never answers a ping.
    let mut silent = raw(&url).await;
    hello(&mut silent).await;
    assert_eq!(handle.connection_count(), 2);
    tokio::time::timeout(WAIT, async {
        while handle.connection_count() > 1 {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    })
    .await
    .expect("the silent peer is dropped");
    // The live client sat idle far longer than `dead_after`, answering pings: still served.
    tokio::time::sleep(Duration::from_millis(600)).await;
    still_served(&live).await;
    drop(silent);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slowloris_upgrade_is_cut_off() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let options = HttpOptions {
        header_read_timeout: Duration::from_millis(300),
        ..HttpOptions::default()
    };
    let (_server, url) = serve_ws(test_server(), options).await;
    let addr = host_port(&url);
    let mut tcp = tokio::net::TcpStream::connect(&addr).await.unwrap();
    tcp.write_all(b"GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n")
        .await
        .unwrap();
    // ...and never the rest. The server hangs up.
    let mut buf = [0u8; 512];
    let read = tokio::time::timeout(WAIT, async {
        loop {
            match tcp.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(_) => continue, // a 408 response, then EOF
            }
        }
    })
    .await;
    assert!(
        read.is_ok(),
        "the server closes a connection that never finishes its headers"
    );
    still_served(&good_client(&url).await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn upgrades_from_origins_not_allowed_are_refused() {
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;
    let options = HttpOptions {
        allowed_origins: Some(vec!["http://good.example".into()]),
        ..HttpOptions::default()
    };
    let (_server, url) = serve_ws(test_server(), options).await;
    let with_origin = |origin: &str| {
        let mut request = url.as_str().into_client_request().unwrap();
        request
            .headers_mut()
            .insert("Origin", origin.parse().unwrap());
        request
    };
    let refused = tokio_tungstenite::connect_async(with_origin("http://evil.example")).await;
    match refused {
        Err(tokio_tungstenite::tungstenite::Error::Http(response)) => {
            assert_eq!(response.status(), 403)
        }
        other => panic!("403 expected, got {other:?}"),
    }
    assert!(
        tokio_tungstenite::connect_async(with_origin("http://good.example"))
            .await
            .is_ok()
    );
    // Non-browser clients send no Origin and are let through.
    still_served(&good_client(&url).await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_plain_get_on_the_endpoint_is_a_400_and_leaves_nothing_behind() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let server = test_server().configure(|c| c.idle_timeout = Some(Duration::from_millis(500)));
    let (handle, url) = serve_ws(server, HttpOptions::default()).await;
    let addr = host_port(&url);
    let mut tcp = tokio::net::TcpStream::connect(&addr).await.unwrap();
    tcp.write_all(b"GET /ws HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    let mut response = String::new();
    tokio::time::timeout(WAIT, tcp.read_to_string(&mut response))
        .await
        .unwrap()
        .unwrap();
    assert!(response.starts_with("HTTP/1.1 400"), "{response}");
    assert_eq!(handle.connection_count(), 0);
    // The idle timer still works: with no WebSocket connection the server stops.
    tokio::time::timeout(WAIT, handle.stopped())
        .await
        .expect("the idle timeout fires");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn extra_headers_reach_every_http_response() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let options = HttpOptions {
        extra_headers: vec![(
            "cross-origin-opener-policy".parse().unwrap(),
            "same-origin".parse().unwrap(),
        )],
        ..HttpOptions::default()
    };
    let (_server, url) = serve_ws(test_server(), options).await;
    let addr = host_port(&url);
    for path in ["/", "/ws"] {
        let mut tcp = tokio::net::TcpStream::connect(&addr).await.unwrap();
        let request = format!("GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
        tcp.write_all(request.as_bytes()).await.unwrap();
        let mut response = String::new();
        tokio::time::timeout(WAIT, tcp.read_to_string(&mut response))
            .await
            .unwrap()
            .unwrap();
        assert!(
            response
                .to_ascii_lowercase()
                .contains("cross-origin-opener-policy: same-origin"),
            "{path}: {response}"
        );
    }
}

/// A WebSocket spoken by hand over TCP, for frames no WebSocket library sends.
mod by_hand {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::TcpStream;

    /// Opens `url` (`ws://host:port/path`), offering `extensions` if given; returns the
    /// socket and the response's header block.
    pub(super) async fn open(url: &str, extensions: Option<&str>) -> (TcpStream, String) {
        let rest = url.strip_prefix("ws://").expect("a ws:// URL");
        let (host, path) = rest.split_once('/').expect("a path");
        let mut tcp = TcpStream::connect(host).await.expect("connects");
        let offer = extensions
            .map(|e| format!("Sec-WebSocket-Extensions: {e}\r\n"))
            .unwrap_or_default();
        let request = format!(
            "GET /{path} HTTP/1.1\r\nHost: {host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
             Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n{offer}\r\n"
        );
        tcp.write_all(request.as_bytes()).await.unwrap();
        let mut head = Vec::new();
        while !head.ends_with(b"\r\n\r\n") {
            let mut byte = [0u8; 1];
            tcp.read_exact(&mut byte).await.expect("a response");
            head.push(byte[0]);
        }
        let head = String::from_utf8(head).unwrap();
        assert!(head.starts_with("HTTP/1.1 101"), "{head}");
        (tcp, head)
    }

    /// One final frame: `first` is the first byte (FIN, RSV1, opcode); masked with a
    /// fixed key unless `mask` is false.
    pub(super) fn frame(first: u8, payload: &[u8], mask: bool) -> Vec<u8> {
        let key = [0x37, 0xfa, 0x21, 0x3d];
        let mut out = vec![first];
        let bit = if mask { 0x80 } else { 0 };
        match payload.len() {
            n if n < 126 => out.push(bit | n as u8),
            n if n <= 0xffff => {
                out.push(bit | 126);
                out.extend_from_slice(&(n as u16).to_be_bytes());
            }
            n => {
                out.push(bit | 127);
                out.extend_from_slice(&(n as u64).to_be_bytes());
            }
        }
        if mask {
            out.extend_from_slice(&key);
            out.extend(payload.iter().enumerate().map(|(i, b)| b ^ key[i % 4]));
        } else {
            out.extend_from_slice(payload);
        }
        out
    }

    /// Reads the server's frames until its close frame; returns its code.
    pub(super) async fn close_code(tcp: &mut TcpStream) -> Option<u16> {
        loop {
            let mut head = [0u8; 2];
            tcp.read_exact(&mut head).await.ok()?;
            let len = match head[1] & 0x7f {
                126 => u64::from(tcp.read_u16().await.ok()?),
                127 => tcp.read_u64().await.ok()?,
                n => u64::from(n),
            };
            let mut payload = vec![0u8; len as usize];
            tcp.read_exact(&mut payload).await.ok()?;
            if head[0] & 0x0f == 0x8 {
                return payload
                    .get(..2)
                    .map(|code| u16::from_be_bytes([code[0], code[1]]));
            }
        }
    }
}

/// RFC 6455 §5.1: a server must close the connection on an unmasked client frame.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unmasked_client_frame_closes_with_1002() {
    let (_server, url) = serve_ws(test_server(), HttpOptions::default()).await;
    let good = good_client(&url).await;
    let (mut tcp, _) = by_hand::open(&url, None).await;
    let unmasked = by_hand::frame(0x82, &[1, 2, 3], false);
    tokio::io::AsyncWriteExt::write_all(&mut tcp, &unmasked)
        .await
        .unwrap();
    let code = tokio::time::timeout(WAIT, by_hand::close_code(&mut tcp))
        .await
        .expect("the server closes in time");
    assert_eq!(code, Some(1002));
    still_served(&good).await;
}

/// 64 MiB of zeros deflated into about 64 KiB: a frame far below the message limit that
/// inflates far above it. The server stops inflating at the limit (4 MiB + 4096) and
/// closes with 1009, and its memory does not grow by the inflated size.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deflate_bomb_closes_with_1009_before_the_memory_is_used() {
    let server = ChildServer::start(&[]).await;
    let url = server.url.clone();
    let good = good_client(&url).await;
    let bomb = deflated_zeros(64 << 20);
    assert!(bomb.len() < 256 << 10, "{} bytes", bomb.len());
    let before = server.memory();
    for _ in 0..5 {
        let (mut tcp, head) = by_hand::open(&url, Some("permessage-deflate")).await;
        assert!(
            head.to_ascii_lowercase()
                .contains("sec-websocket-extensions: permessage-deflate"),
            "deflate agreed: {head}"
        );
        // FIN + RSV1 (compressed) + binary.
        let frame = by_hand::frame(0xc2, &bomb, true);
        tokio::io::AsyncWriteExt::write_all(&mut tcp, &frame)
            .await
            .unwrap();
        let code = tokio::time::timeout(WAIT, by_hand::close_code(&mut tcp))
            .await
            .expect("the server closes in time");
        assert_eq!(code, Some(1009));
    }
    still_served(&good).await;
    let grown = server.memory().peak.saturating_sub(before.peak);
    assert!(
        grown < 48 << 20,
        "the server's peak memory grew by {grown} bytes for five 64 MiB bombs"
    );
}

/// `n` zeros deflated as permessage-deflate sends them (raw deflate, sync flush, the
/// trailing `00 00 ff ff` removed).
fn deflated_zeros(n: usize) -> Vec<u8> {
    use flate2::{Compress, Compression, FlushCompress};
    let mut deflate = Compress::new(Compression::best(), false);
    let block = vec![0u8; 1 << 20];
    let mut out = Vec::with_capacity(1 << 20);
    for i in 0..n / block.len() {
        let flush = if (i + 1) * block.len() >= n {
            FlushCompress::Sync
        } else {
            FlushCompress::None
        };
        deflate.compress_vec(&block, &mut out, flush).unwrap();
    }
    assert_eq!(deflate.total_in() as usize, n, "every zero went in");
    assert!(
        out.ends_with(&[0, 0, 0xff, 0xff]),
        "a sync flush ends the data"
    );
    out.truncate(out.len() - 4);
    out
}
