//! The fastwebsockets backend of `WsListener`, checked from tungstenite clients (the
//! crate's own `connect`, raw tokio-tungstenite, and hand-written frames on a TCP socket).
#![cfg(feature = "fastwebsockets")]

use std::time::Duration;

use bytes::Bytes;
use futures_util::{SinkExt, StreamExt};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::protocol::frame::coding::{Data, OpCode};
use tokio_tungstenite::tungstenite::protocol::frame::Frame as RawFrame;
use tokio_tungstenite::tungstenite::Message;
use wslink_core::{
    Close, CloseCode, Frame, FrameSink, FrameStream, Listener, Transport, TransportError,
};
use wslink_transport_ws::{connect, HttpOptions, ServerTransport, WsBackend, WsListener};

const WAIT: Duration = Duration::from_secs(10);

fn options() -> HttpOptions {
    HttpOptions {
        backend: WsBackend::FastWebSockets,
        ..HttpOptions::default()
    }
}

async fn bind(options: HttpOptions) -> (WsListener, String) {
    let listener = WsListener::bind("127.0.0.1:0", options).await.unwrap();
    let url = format!("ws://{}/ws", listener.local_addr());
    (listener, url)
}

async fn accept(listener: &mut WsListener) -> ServerTransport {
    let transport = tokio::time::timeout(WAIT, listener.accept())
        .await
        .expect("a connection in time")
        .expect("listener open");
    assert_eq!(transport.backend(), WsBackend::FastWebSockets);
    transport
}

/// Serves every connection of `listener` by echoing each message back, closing with 1009
/// on a message over the limit and 1002 on other errors (as the wslink server does).
fn echo_server(mut listener: WsListener) {
    tokio::spawn(async move {
        while let Some(transport) = listener.accept().await {
            tokio::spawn(echo(transport));
        }
    });
}

async fn echo(transport: ServerTransport) {
    let (mut sink, mut stream) = transport.split();
    loop {
        match stream.recv().await {
            Some(Ok(frame)) => {
                if sink.send(frame).await.is_err() {
                    return;
                }
            }
            Some(Err(e)) => {
                let code = match e {
                    TransportError::TooLarge(_) => CloseCode::TOO_BIG,
                    _ => CloseCode::PROTOCOL_ERROR,
                };
                let _ = sink.close(Close::new(code, "refused")).await;
                return;
            }
            None => {
                let _ = sink.close(Close::new(CloseCode::NORMAL, "")).await;
                return;
            }
        }
    }
}

async fn recv<S: FrameStream>(stream: &mut S) -> Option<Result<Frame, TransportError>> {
    tokio::time::timeout(WAIT, stream.recv())
        .await
        .expect("something in time")
}

type Raw =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn raw(url: &str) -> Raw {
    tokio_tungstenite::connect_async(url).await.unwrap().0
}

async fn next_raw(ws: &mut Raw) -> Message {
    tokio::time::timeout(WAIT, ws.next())
        .await
        .expect("a message in time")
        .expect("not ended")
        .expect("no error")
}

/// The close code the server sent, reading past anything else.
async fn close_code(ws: &mut Raw) -> u16 {
    loop {
        match tokio::time::timeout(WAIT, ws.next())
            .await
            .expect("closed in time")
        {
            Some(Ok(Message::Close(Some(frame)))) => return frame.code.into(),
            Some(Ok(Message::Close(None))) | None => panic!("closed without a code"),
            Some(Ok(_)) => continue,
            Some(Err(e)) => panic!("error before the close frame: {e}"),
        }
    }
}

#[tokio::test]
async fn binary_and_text_echo_both_ways() {
    let (listener, url) = bind(options()).await;
    echo_server(listener);
    let (mut tx, mut rx) = connect(&url).await.unwrap().split();
    let big = Bytes::from((0..3_000_000u32).map(|i| i as u8).collect::<Vec<_>>());
    let frames = [
        Frame::Binary(Bytes::from_static(b"\x00\x01\xfe\xff")),
        Frame::Binary(Bytes::new()),
        Frame::Text("héllo wörld ✓ 🦀".into()),
        Frame::Text(String::new()),
        Frame::Binary(Bytes::from(vec![7u8; 200])),
        Frame::Binary(Bytes::from(vec![8u8; 70_000])),
        Frame::Binary(big),
    ];
    for frame in frames {
        tx.send(frame.clone()).await.unwrap();
        assert_eq!(recv(&mut rx).await.unwrap().unwrap(), frame);
    }
}

#[tokio::test]
async fn fed_frames_wait_for_flush_and_keep_their_order() {
    let (mut listener, url) = bind(options()).await;
    let (mut tx, mut rx) = connect(&url).await.unwrap().split();
    let (mut sink, _stream) = accept(&mut listener).await.split();
    // Small and large frames, past the point where `feed` writes out on its own.
    let frames: Vec<Frame> = (0..2000u32)
        .map(|i| match i % 3 {
            0 => Frame::Text(format!("message {i}")),
            1 => Frame::Binary(Bytes::from(i.to_be_bytes().to_vec())),
            _ => Frame::Binary(Bytes::from(vec![i as u8; 20_000 + i as usize])),
        })
        .collect();
    sink.feed(Frame::Text("first".into())).await.unwrap();
    // Fed but not flushed: nothing reaches the client yet.
    assert!(tokio::time::timeout(Duration::from_millis(200), rx.recv())
        .await
        .is_err());
    sink.flush().await.unwrap();
    assert_eq!(
        recv(&mut rx).await.unwrap().unwrap(),
        Frame::Text("first".into())
    );
    let reader = tokio::spawn(async move {
        let mut got = Vec::new();
        for _ in 0..2000 {
            got.push(recv(&mut rx).await.unwrap().unwrap());
        }
        got
    });
    for frame in &frames {
        sink.feed(frame.clone()).await.unwrap();
    }
    sink.flush().await.unwrap();
    assert!(
        reader.await.unwrap() == frames,
        "frames changed or reordered"
    );
    drop(tx.close(Close::new(CloseCode::NORMAL, "")).await);
}

#[tokio::test]
async fn fragmented_messages_are_reassembled() {
    let (listener, url) = bind(options()).await;
    echo_server(listener);
    let mut ws = raw(&url).await;
    // "✓" (3 bytes) split across fragments, a ping between fragments.
    let text = "ab✓cd".as_bytes();
    let parts = [
        RawFrame::message(text[..3].to_vec(), OpCode::Data(Data::Text), false),
        RawFrame::message(text[3..4].to_vec(), OpCode::Data(Data::Continue), false),
        RawFrame::ping(b"between".to_vec()),
        RawFrame::message(text[4..].to_vec(), OpCode::Data(Data::Continue), true),
    ];
    for part in parts {
        ws.send(Message::Frame(part)).await.unwrap();
    }
    // The pong is written apart from the data: either may come first.
    let mut got = vec![next_raw(&mut ws).await, next_raw(&mut ws).await];
    got.sort_by_key(|m| m.is_text());
    assert_eq!(
        got,
        [
            Message::Pong(Bytes::from_static(b"between")),
            Message::text("ab✓cd")
        ]
    );
    let parts = [
        RawFrame::message(vec![1; 100_000], OpCode::Data(Data::Binary), false),
        RawFrame::message(vec![2; 10], OpCode::Data(Data::Continue), false),
        RawFrame::message(vec![3; 100_000], OpCode::Data(Data::Continue), true),
    ];
    for part in parts {
        ws.send(Message::Frame(part)).await.unwrap();
    }
    let Message::Binary(got) = next_raw(&mut ws).await else {
        panic!("binary expected")
    };
    assert_eq!(got.len(), 200_010);
    assert_eq!((got[0], got[100_000], got[100_010]), (1, 2, 3));
}

#[tokio::test]
async fn messages_over_the_limit_close_1009_and_others_keep_working() {
    let limit = 64 * 1024;
    let (listener, url) = bind(HttpOptions {
        max_message_size: limit,
        ..options()
    })
    .await;
    echo_server(listener);
    let (mut good_tx, mut good_rx) = connect(&url).await.unwrap().split();

    // Exactly the limit passes, one more byte does not.
    let mut ws = raw(&url).await;
    ws.send(Message::binary(vec![0u8; limit])).await.unwrap();
    assert_eq!(next_raw(&mut ws).await.len(), limit);
    ws.send(Message::binary(vec![0u8; limit + 1]))
        .await
        .unwrap();
    assert_eq!(close_code(&mut ws).await, 1009);

    // A fragmented message whose fragments each fit but whose whole does not.
    let mut ws = raw(&url).await;
    for i in 0..3 {
        let opcode = if i == 0 { Data::Binary } else { Data::Continue };
        let part = RawFrame::message(vec![0u8; limit / 2], OpCode::Data(opcode), i == 2);
        if ws.send(Message::Frame(part)).await.is_err() {
            break;
        }
    }
    assert_eq!(close_code(&mut ws).await, 1009);

    let frame = Frame::Text("still here".into());
    good_tx.send(frame.clone()).await.unwrap();
    assert_eq!(recv(&mut good_rx).await.unwrap().unwrap(), frame);
}

/// A WebSocket upgrade by hand on a TCP socket; `early` is written together with the
/// request (before the server's answer).
async fn handshake(addr: &str, early: &[u8]) -> TcpStream {
    let mut tcp = TcpStream::connect(addr).await.unwrap();
    let mut request = format!(
        "GET /ws HTTP/1.1\r\nHost: {addr}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
    )
    .into_bytes();
    request.extend_from_slice(early);
    tcp.write_all(&request).await.unwrap();
    let mut head = Vec::new();
    while !head.ends_with(b"\r\n\r\n") {
        head.push(tcp.read_u8().await.unwrap());
    }
    assert!(
        head.starts_with(b"HTTP/1.1 101"),
        "{}",
        String::from_utf8_lossy(&head)
    );
    tcp
}

/// A masked client frame header for `len` bytes of payload.
fn client_head(opcode: u8, len: u64) -> Vec<u8> {
    let mut head = vec![0x80 | opcode];
    match len {
        0..=125 => head.push(0x80 | len as u8),
        126..=0xffff => {
            head.push(0x80 | 126);
            head.extend_from_slice(&(len as u16).to_be_bytes());
        }
        _ => {
            head.push(0x80 | 127);
            head.extend_from_slice(&len.to_be_bytes());
        }
    }
    head.extend_from_slice(&[0, 0, 0, 0]); // a zero mask leaves the payload as it is
    head
}

/// The next frame from the server: (opcode, payload).
async fn server_frame(tcp: &mut TcpStream) -> (u8, Vec<u8>) {
    let mut head = [0u8; 2];
    tokio::time::timeout(WAIT, tcp.read_exact(&mut head))
        .await
        .expect("a frame in time")
        .unwrap();
    assert_eq!(head[1] & 0x80, 0, "server frames are not masked");
    let len = match head[1] & 0x7f {
        126 => u64::from(tcp.read_u16().await.unwrap()),
        127 => tcp.read_u64().await.unwrap(),
        n => u64::from(n),
    };
    let mut payload = vec![0u8; len as usize];
    tcp.read_exact(&mut payload).await.unwrap();
    (head[0] & 0x0f, payload)
}

#[tokio::test]
async fn a_huge_frame_is_refused_from_its_header_and_early_bytes_are_kept() {
    let (listener, url) = bind(options()).await;
    let addr = listener.local_addr().to_string();
    echo_server(listener);
    // A frame sent together with the upgrade request reaches the server.
    let mut early = client_head(0x1, 5);
    early.extend_from_slice(b"early");
    let mut tcp = handshake(&addr, &early).await;
    assert_eq!(server_frame(&mut tcp).await, (0x1, b"early".to_vec()));
    // 1 GiB announced, nothing sent: the refusal comes at once.
    tcp.write_all(&client_head(0x2, 1 << 30)).await.unwrap();
    let (opcode, payload) = server_frame(&mut tcp).await;
    assert_eq!(opcode, 0x8);
    assert_eq!(u16::from_be_bytes([payload[0], payload[1]]), 1009);
    // Invalid UTF-8 in a text message is an error (1002 from the echo server), not a panic.
    let mut tcp = handshake(&addr, &[]).await;
    let mut bad = client_head(0x1, 3);
    bad.extend_from_slice(&[0xff, 0xfe, 0xfd]);
    tcp.write_all(&bad).await.unwrap();
    let (opcode, payload) = server_frame(&mut tcp).await;
    assert_eq!((opcode, &payload[..2]), (0x8, &1002u16.to_be_bytes()[..]));
    let _ = url;
}

#[tokio::test]
async fn pings_are_answered_both_ways() {
    let (mut listener, url) = bind(options()).await;
    let mut ws = raw(&url).await;
    let (mut sink, mut stream) = accept(&mut listener).await.split();
    let reading = tokio::spawn(async move { stream.recv().await.map(|r| r.is_ok()) });
    ws.send(Message::Ping(Bytes::from_static(b"abc")))
        .await
        .unwrap();
    assert_eq!(
        next_raw(&mut ws).await,
        Message::Pong(Bytes::from_static(b"abc"))
    );
    sink.ping().await.unwrap();
    assert!(matches!(next_raw(&mut ws).await, Message::Ping(_)));
    // A pong from the client is swallowed, a message then arrives.
    ws.send(Message::Pong(Bytes::new())).await.unwrap();
    ws.send(Message::text("after")).await.unwrap();
    assert_eq!(reading.await.unwrap(), Some(true));
}

#[tokio::test]
async fn a_writer_blocked_on_a_peer_that_does_not_read_never_stops_the_reading() {
    let (mut listener, url) = bind(options()).await;
    let mut ws = raw(&url).await;
    let (mut sink, mut stream) = accept(&mut listener).await.split();
    // The client reads nothing: this fills the socket buffers and then waits, holding
    // the writer.
    let writing = tokio::spawn(async move {
        let chunk = Bytes::from(vec![0u8; 1 << 20]);
        for _ in 0..256 {
            if sink.feed(Frame::Binary(chunk.clone())).await.is_err() {
                break;
            }
        }
        let _ = sink.flush().await;
    });
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(!writing.is_finished(), "the writer should be blocked");
    // A ping owes a pong the blocked writer cannot send yet; the reading goes on.
    ws.send(Message::Ping(Bytes::from_static(b"owed")))
        .await
        .unwrap();
    ws.send(Message::text("still read")).await.unwrap();
    assert_eq!(
        recv(&mut stream).await.unwrap().unwrap(),
        Frame::Text("still read".into())
    );
    writing.abort();
}

#[tokio::test]
async fn close_codes_and_reasons_reach_the_other_side() {
    let (mut listener, url) = bind(options()).await;
    // The client closes.
    let (mut tx, _rx) = connect(&url).await.unwrap().split();
    let (_sink, mut stream) = accept(&mut listener).await.split();
    tx.close(Close::new(CloseCode(4000), "bye now"))
        .await
        .unwrap();
    assert!(recv(&mut stream).await.is_none());
    assert_eq!(
        stream.close_frame(),
        Some(&Close::new(CloseCode(4000), "bye now"))
    );
    // The server closes.
    let (_tx, mut rx) = connect(&url).await.unwrap().split();
    let (mut sink, _stream) = accept(&mut listener).await.split();
    sink.close(Close::new(CloseCode::GOING_AWAY, "Server shutdown"))
        .await
        .unwrap();
    assert!(recv(&mut rx).await.is_none());
    assert_eq!(
        rx.close_frame(),
        Some(&Close::new(CloseCode::GOING_AWAY, "Server shutdown"))
    );
    // Nothing may follow a close frame.
    assert!(matches!(
        sink.send(Frame::Text("late".into())).await,
        Err(TransportError::Closed)
    ));
}

#[tokio::test]
async fn a_silent_peer_is_declared_gone_and_a_pinging_one_is_not() {
    let limit = Duration::from_millis(300);
    let (mut listener, url) = bind(HttpOptions {
        dead_after: Some(limit),
        ..options()
    })
    .await;
    // Sends pings for a while, then falls silent.
    let mut pinging = raw(&url).await;
    let (_sink, mut stream) = accept(&mut listener).await.split();
    let started = tokio::time::Instant::now();
    let pings = tokio::spawn(async move {
        for _ in 0..10 {
            pinging.send(Message::Ping(Bytes::new())).await.unwrap();
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        pinging
    });
    match recv(&mut stream).await {
        Some(Err(TransportError::Protocol(reason))) => assert!(reason.contains("keepalive")),
        other => panic!("keepalive failure expected, got {other:?}"),
    }
    let waited = started.elapsed();
    assert!(
        waited >= Duration::from_millis(1000),
        "declared gone while pinging, after {waited:?}"
    );
    assert!(
        waited <= Duration::from_millis(1000) + 3 * limit,
        "noticed late: {waited:?}"
    );
    drop(pings.await);
}

#[cfg(feature = "tls-adhoc")]
#[tokio::test]
async fn tls_connections_echo_too() {
    let (tls, pem) = wslink_transport_ws::TlsConfig::self_signed(&["localhost".into()]).unwrap();
    let (listener, url) = bind(HttpOptions {
        tls: Some(tls),
        ..options()
    })
    .await;
    echo_server(listener);
    let url = url.replacen("ws://127.0.0.1", "wss://localhost", 1);
    let mut trust = wslink_transport_ws::ConnectOptions::default()
        .trust_pem(pem.as_bytes())
        .unwrap();
    trust.platform_roots = false;
    let (mut tx, mut rx) = wslink_transport_ws::connect_with(&url, &trust)
        .await
        .unwrap()
        .split();
    for frame in [
        Frame::Text("over TLS".into()),
        Frame::Binary(Bytes::from(vec![5u8; 300_000])),
    ] {
        tx.send(frame.clone()).await.unwrap();
        assert_eq!(recv(&mut rx).await.unwrap().unwrap(), frame);
    }
}
