//! The relay and the server's reverse mode, with Rust peers only (the npm clients through
//! the relay are in `tests/interop_relay.rs`): several browsers per relayed server at
//! once, each with its own session and hello; close codes and reasons passed on both
//! ways, after every frame sent before them; a clear 1013 when no server is there; and
//! the relay's bounds.

mod common;

use std::time::Duration;

use bytes::Bytes;
use futures_util::{SinkExt, StreamExt};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode as WsCode;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::Message as WsMessage;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use common::peers::serve_ws;
use common::relay::{start_relay, start_relay_sized, start_relay_with};
use common::{test_server, Raw, SECRET, WAIT};
use wslink::client::Client;
use wslink::ws::relay::{RelayLimits, RelayMode, SERVER_MARK};
use wslink::ws::{HttpOptions, WsListener};
use wslink::{Map, Message, Request, Response, Value};

type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;

async fn start_reverse_server(url: &str, spares: usize) {
    common::relay::start_reverse_server(test_server(), url, spares);
}

async fn rust_browser(url: &str) -> Client {
    let transport = wslink::ws::connect(url).await.unwrap();
    tokio::time::timeout(WAIT, Client::connect(transport, SECRET))
        .await
        .expect("hello answered in time")
        .expect("hello accepted")
}

async fn raw_ws(url: &str) -> Ws {
    let (ws, _) = tokio::time::timeout(WAIT, tokio_tungstenite::connect_async(url))
        .await
        .expect("connects in time")
        .expect("connects");
    ws
}

/// A fake server connection on a relay path: marked, speaking raw WebSocket.
async fn fake_server(url: &str) -> Ws {
    raw_ws(&format!("{url}?{SERVER_MARK}")).await
}

/// The next message (data or close), bounded in time; `None` when the stream ended
/// without a close frame.
async fn next(ws: &mut Ws) -> Option<WsMessage> {
    loop {
        let message = tokio::time::timeout(WAIT, ws.next())
            .await
            .expect("a message in time")?;
        match message {
            Ok(WsMessage::Ping(_) | WsMessage::Pong(_)) => continue,
            Ok(message) => return Some(message),
            Err(e) => panic!("a clean close expected, the connection failed: {e}"),
        }
    }
}

/// Reads until the close frame and answers it (tungstenite queues the answer until the
/// next flush); data frames before it are returned too.
async fn until_close(ws: &mut Ws) -> (Vec<Bytes>, Option<CloseFrame>) {
    let mut data = Vec::new();
    loop {
        match next(ws).await {
            Some(WsMessage::Binary(bytes)) => data.push(bytes),
            Some(WsMessage::Close(frame)) => {
                let _ = tokio::time::timeout(WAIT, ws.flush())
                    .await
                    .expect("flushed in time");
                return (data, frame);
            }
            Some(other) => panic!("unexpected {other:?}"),
            None => panic!("the connection ended without a close frame"),
        }
    }
}

/// After our close frame: the answer must be a close frame too, then the end.
async fn close_answer(ws: &mut Ws) -> Option<CloseFrame> {
    match next(ws).await {
        Some(WsMessage::Close(frame)) => frame,
        other => panic!("a close answer expected, got {other:?}"),
    }
}

fn close(code: u16, reason: &str) -> CloseFrame {
    CloseFrame {
        code: WsCode::from(code),
        reason: reason.into(),
    }
}

/// A fake server and a browser paired on a fresh path; the browser's first frame is
/// what pairs them on the server's side, so it sends one.
async fn fake_pair(base: &str, path: &str) -> (Ws, Ws) {
    let url = format!("{base}/{path}");
    let mut server = fake_server(&url).await;
    let mut browser = raw_ws(&url).await;
    browser
        .send(WsMessage::Binary(Bytes::from_static(b"hi")))
        .await
        .unwrap();
    assert_eq!(
        next(&mut server).await,
        Some(WsMessage::Binary(Bytes::from_static(b"hi")))
    );
    (server, browser)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_browser_close_reaches_the_server_and_is_answered() {
    let base = start_relay().await;
    for (i, code) in [1000u16, 1001, 1008, 4321].into_iter().enumerate() {
        let (mut server, mut browser) = fake_pair(&base, &format!("b{i}")).await;
        let reason = format!("browser says {code}");
        browser.close(Some(close(code, &reason))).await.unwrap();
        let (data, got) = until_close(&mut server).await;
        assert!(data.is_empty());
        let got = got.expect("a close frame with a code");
        assert_eq!(
            (u16::from(got.code), got.reason.as_str()),
            (code, reason.as_str())
        );
        // The browser's close event reports a clean close with its code, not 1006.
        let answer = close_answer(&mut browser).await.expect("a code");
        assert_eq!(u16::from(answer.code), code);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_close_reaches_the_browser_after_its_last_frames() {
    let base = start_relay().await;
    for (i, code) in [1000u16, 1001, 1008, 4000].into_iter().enumerate() {
        let (mut server, mut browser) = fake_pair(&base, &format!("s{i}")).await;
        // A last reply, big, just before the close: it must arrive, in order.
        let last = Bytes::from(vec![7u8; 5 << 20]);
        server
            .feed(WsMessage::Binary(Bytes::from_static(b"one")))
            .await
            .unwrap();
        server.feed(WsMessage::Binary(last.clone())).await.unwrap();
        let reason = format!("server says {code}");
        server
            .send(WsMessage::Close(Some(close(code, &reason))))
            .await
            .unwrap();
        let (data, got) = until_close(&mut browser).await;
        assert_eq!(data, vec![Bytes::from_static(b"one"), last]);
        let got = got.expect("a close frame with a code");
        assert_eq!(
            (u16::from(got.code), got.reason.as_str()),
            (code, reason.as_str())
        );
        let answer = close_answer(&mut server).await.expect("a code");
        assert_eq!(u16::from(answer.code), code);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_vanishing_without_a_close_gets_the_browser_1001() {
    let base = start_relay().await;
    let (server, mut browser) = fake_pair(&base, "vanish").await;
    drop(server);
    let (_, got) = until_close(&mut browser).await;
    let got = got.expect("a code");
    assert_eq!(
        (u16::from(got.code), got.reason.as_str()),
        (1001, "the other side left")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_message_over_the_relay_limit_closes_the_pair_with_1009() {
    let base = start_relay_sized(RelayMode::Relay, RelayLimits::default(), 1 << 20).await;
    let (mut server, mut browser) = fake_pair(&base, "big").await;
    // Just under the limit passes; over it, both sides are told why.
    let fits = Bytes::from(vec![1u8; (1 << 20) - 16]);
    browser.send(WsMessage::Binary(fits.clone())).await.unwrap();
    assert_eq!(next(&mut server).await, Some(WsMessage::Binary(fits)));
    let _ = browser
        .send(WsMessage::Binary(Bytes::from(vec![2u8; 2 << 20])))
        .await;
    let (data, got) = until_close(&mut server).await;
    assert!(data.is_empty());
    let got = got.expect("a code");
    assert_eq!(
        (u16::from(got.code), got.reason.as_str()),
        (1009, "message too big for the relay")
    );
    let (_, got) = until_close(&mut browser).await;
    assert_eq!(u16::from(got.expect("a code").code), 1009);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_browser_without_a_server_gets_1013_in_bounded_time() {
    let limits = RelayLimits {
        browser_wait: Duration::from_millis(300),
        ..RelayLimits::default()
    };
    let base = start_relay_with(RelayMode::Relay, limits).await;
    let mut browser = raw_ws(&format!("{base}/nobody")).await;
    let started = std::time::Instant::now();
    let (_, got) = until_close(&mut browser).await;
    let got = got.expect("a close frame with a code");
    assert_eq!(u16::from(got.code), 1013);
    assert_eq!(got.reason.as_str(), "no server connected on this path");
    assert!(started.elapsed() < Duration::from_secs(5));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_browser_arriving_first_waits_briefly_for_its_server() {
    let base = start_relay().await;
    let url = format!("{base}/late-server");
    let mut browser = raw_ws(&url).await;
    browser
        .send(WsMessage::Binary(Bytes::from_static(b"early")))
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
    let mut server = fake_server(&url).await;
    assert_eq!(
        next(&mut server).await,
        Some(WsMessage::Binary(Bytes::from_static(b"early")))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn waiting_servers_are_bounded_per_path_and_in_time() {
    let limits = RelayLimits {
        max_waiting_servers: 2,
        server_wait: Duration::from_millis(1000),
        ..RelayLimits::default()
    };
    let base = start_relay_with(RelayMode::Relay, limits).await;
    let url = format!("{base}/bounded");
    let mut first = fake_server(&url).await;
    let _second = fake_server(&url).await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    let mut third = fake_server(&url).await;
    let (_, got) = until_close(&mut third).await;
    let got = got.expect("a code");
    assert_eq!(u16::from(got.code), 1013, "{got:?}");
    // The first waited longer than `server_wait`: closed, cleanly.
    let (_, got) = until_close(&mut first).await;
    let got = got.expect("a code");
    assert_eq!(
        (u16::from(got.code), got.reason.as_str()),
        (1000, "no browser came in time")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_secret_gets_its_error_through_the_relay() {
    let base = start_relay().await;
    let url = format!("{base}/auth");
    start_reverse_server(&url, 1).await;
    let transport = wslink::ws::connect(&url).await.unwrap();
    let (tx, rx) = wslink::Transport::split(transport);
    let mut raw = Raw::from_parts(tx, rx);
    raw.send(&common::hello_message("not-the-secret")).await;
    let Some(Message::Response(Response {
        outcome: Err(e), ..
    })) = raw.recv().await
    else {
        panic!("an error reply expected")
    };
    assert_eq!(
        (e.code, e.message.as_str()),
        (-32000, "Authentication failed")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn several_browsers_at_once_each_with_its_own_session() {
    let base = start_relay().await;
    let url = format!("{base}/many");
    start_reverse_server(&url, 1).await;

    let a = rust_browser(&url).await;
    // The next ones come at once: the spare taken by `a` is replaced, and a browser
    // finding none waits for it.
    let b = rust_browser(&url).await;
    let c = rust_browser(&url).await;
    assert_ne!(a.client_id(), b.client_id());
    assert_ne!(b.client_id(), c.client_id());

    // A publication reaches every attached browser.
    let mut subs: Vec<_> = [&a, &b, &c]
        .iter()
        .map(|client| client.subscribe("relay.news").unwrap())
        .collect();
    let published = b.call(
        "test.publish",
        vec!["relay.news".into(), 1.into()],
        Map::new(),
    );
    tokio::time::timeout(WAIT, published)
        .await
        .unwrap()
        .unwrap();
    for sub in &mut subs {
        let got = tokio::time::timeout(WAIT, sub.recv())
            .await
            .expect("the publication in time")
            .expect("a publication");
        assert_eq!(got["seq"], Value::from(0));
    }

    // A slow call on one does not delay a fast call on another.
    let started = std::time::Instant::now();
    let slow = tokio::spawn({
        let a = a.clone();
        async move { a.call("test.sleep", vec![1500.into()], Map::new()).await }
    });
    tokio::time::sleep(Duration::from_millis(50)).await;
    let fast = tokio::time::timeout(
        WAIT,
        c.call("test.add", vec![1.into(), 2.into()], Map::new()),
    )
    .await
    .unwrap()
    .unwrap();
    assert_eq!(fast, Value::from(3));
    assert!(
        started.elapsed() < Duration::from_millis(1000),
        "the fast call waited"
    );
    assert_eq!(
        tokio::time::timeout(WAIT, slow)
            .await
            .unwrap()
            .unwrap()
            .unwrap(),
        Value::from(1500)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_relayed_session_needs_its_own_hello() {
    let base = start_relay().await;
    let url = format!("{base}/hello");
    start_reverse_server(&url, 1).await;
    let first = rust_browser(&url).await;
    assert!(first.is_connected());

    // Another browser that skips the hello is unauthorized: the first one's hello
    // authenticated the first session only.
    let transport = wslink::ws::connect(&url).await.unwrap();
    let (tx, rx) = wslink::Transport::split(transport);
    let mut raw = Raw::from_parts(tx, rx);
    raw.send(&Message::Request(Request {
        id: "rpc:c1:0".into(),
        method: "test.echo".into(),
        args: vec![1.into()],
        kwargs: Map::new(),
    }))
    .await;
    let Some(Message::Response(Response {
        outcome: Err(e), ..
    })) = raw.recv().await
    else {
        panic!("an error reply expected")
    };
    assert_eq!(e.message, "Unauthorized: Skip message processing");
    raw.send(&common::hello_message(SECRET)).await;
    assert!(matches!(
        raw.recv().await,
        Some(Message::Response(Response { outcome: Ok(_), .. }))
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_clean_close_through_the_relay_to_a_real_server() {
    let base = start_relay().await;
    let url = format!("{base}/clean");
    start_reverse_server(&url, 1).await;
    let mut browser = raw_ws(&url).await;
    let hello = {
        use wslink::msgpack::MsgpackCodec;
        use wslink::Codec;
        let encoded = MsgpackCodec::new()
            .encode(&common::hello_message(SECRET), 1 << 20)
            .unwrap();
        let wslink::Frame::Binary(bytes) = encoded.to_frames()[0].clone() else {
            panic!("a binary frame")
        };
        bytes
    };
    browser.send(WsMessage::Binary(hello)).await.unwrap();
    assert!(matches!(
        next(&mut browser).await,
        Some(WsMessage::Binary(_))
    ));
    browser.close(Some(close(1000, ""))).await.unwrap();
    let answer = close_answer(&mut browser).await.expect("a code");
    assert_eq!(u16::from(answer.code), 1000);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forward_mode_bridges_each_browser_to_its_own_connection() {
    let (_server, server_url) = serve_ws(test_server(), HttpOptions::default()).await;
    let port = server_url
        .trim_start_matches("ws://127.0.0.1:")
        .trim_end_matches("/ws")
        .to_owned();
    let mode = RelayMode::Forward {
        host: "127.0.0.1".into(),
        prefix: "/proxy".into(),
    };
    let base = start_relay_with(mode, RelayLimits::default()).await;
    let a = rust_browser(&format!("{base}/{port}/ws")).await;
    let b = rust_browser(&format!("{base}/{port}")).await;
    assert_ne!(a.client_id(), b.client_id());
    let blob = tokio::time::timeout(
        WAIT,
        a.call("test.bytes", vec![(5 << 20).into()], Map::new()),
    )
    .await
    .unwrap()
    .unwrap();
    assert_eq!(blob.as_bytes().unwrap().len(), 5 << 20);
    let sum = b.call("test.add", vec![2.into(), 2.into()], Map::new());
    assert_eq!(
        tokio::time::timeout(WAIT, sum).await.unwrap().unwrap(),
        Value::from(4)
    );

    // A path without a port: 1008, with a reason.
    let mut bad = raw_ws(&format!("{base}/not-a-port")).await;
    let (_, got) = until_close(&mut bad).await;
    assert_eq!(u16::from(got.expect("a code").code), 1008);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forward_mode_without_a_server_gets_1013() {
    // A port nobody listens on: bind one, then free it.
    let port = {
        let socket = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        socket.local_addr().unwrap().port()
    };
    let mode = RelayMode::Forward {
        host: "127.0.0.1".into(),
        prefix: "/proxy".into(),
    };
    let base = start_relay_with(mode, RelayLimits::default()).await;
    let mut browser = raw_ws(&format!("{base}/{port}")).await;
    let (_, got) = until_close(&mut browser).await;
    let got = got.expect("a code");
    assert_eq!(
        (u16::from(got.code), got.reason.as_str()),
        (1013, "no server listening on that port")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn paths_and_pairs_are_bounded() {
    let limits = RelayLimits {
        max_paths: 1,
        max_pairs: 1,
        // The fake peers left waiting do not answer closes: do not wait 5 s for them.
        close_timeout: Duration::from_millis(500),
        ..RelayLimits::default()
    };
    let base = start_relay_with(RelayMode::Relay, limits).await;
    // One pair is relayed; the path it used is free again.
    let (_server, _browser) = fake_pair(&base, "one").await;
    let _waiting = fake_server(&format!("{base}/two")).await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    // A second path with someone waiting: refused.
    let mut other = fake_server(&format!("{base}/three")).await;
    let (_, got) = until_close(&mut other).await;
    let got = got.expect("a code");
    assert_eq!(
        (u16::from(got.code), got.reason.as_str()),
        (1013, "too many relayed paths")
    );
    // A second pair: both of its sides are told.
    let mut browser = raw_ws(&format!("{base}/two")).await;
    let (_, got) = until_close(&mut browser).await;
    let got = got.expect("a code");
    assert_eq!(
        (u16::from(got.code), got.reason.as_str()),
        (1013, "relay full")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_spare_outlives_the_hello_timeout_which_starts_with_its_browser() {
    use wslink::{FrameStream, Listener, Transport};
    let options = HttpOptions {
        ws_endpoint: Some("/proxy".into()),
        ws_prefix: true,
        dead_after: None,
        ..HttpOptions::default()
    };
    let mut relay = WsListener::bind("127.0.0.1:0", options).await.unwrap();
    let url = format!("ws://{}/proxy/spare", relay.local_addr());
    let server = test_server()
        .configure(|config| config.hello_timeout = Some(Duration::from_millis(300)))
        .build();
    tokio::spawn(async move { wslink::cli::serve_reverse(server, &url, 1).await });
    let spare = tokio::time::timeout(WAIT, relay.accept())
        .await
        .expect("the spare connects")
        .unwrap();
    assert_eq!(spare.peer().query.as_deref(), Some(SERVER_MARK));
    let (tx, mut rx) = spare.split();
    // No browser for longer than the hello timeout: the spare stays open.
    let waited = tokio::time::timeout(Duration::from_secs(1), rx.recv()).await;
    assert!(waited.is_err(), "the spare ended: {waited:?}");
    let mut raw = Raw::from_parts(tx, rx);
    raw.send(&common::hello_message(SECRET)).await;
    assert!(matches!(
        raw.recv().await,
        Some(Message::Response(Response { outcome: Ok(_), .. }))
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_silent_browser_does_not_hold_its_server_connection() {
    let limits = RelayLimits {
        first_message_wait: Duration::from_millis(300),
        ..RelayLimits::default()
    };
    let base = start_relay_with(RelayMode::Relay, limits).await;
    let url = format!("{base}/silent");
    let mut server = fake_server(&url).await;
    let mut browser = raw_ws(&url).await;
    for side in [&mut server, &mut browser] {
        let (_, got) = until_close(side).await;
        let got = got.expect("a code");
        assert_eq!(
            (u16::from(got.code), got.reason.as_str()),
            (1008, "no message in time")
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_browser_closing_before_its_first_message_still_tells_the_server() {
    let base = start_relay().await;
    let url = format!("{base}/early-close");
    let mut server = fake_server(&url).await;
    let mut browser = raw_ws(&url).await;
    browser
        .close(Some(close(4001, "changed my mind")))
        .await
        .unwrap();
    let (_, got) = until_close(&mut server).await;
    let got = got.expect("a code");
    assert_eq!(
        (u16::from(got.code), got.reason.as_str()),
        (4001, "changed my mind")
    );
    assert_eq!(
        u16::from(close_answer(&mut browser).await.expect("a code").code),
        4001
    );
}
