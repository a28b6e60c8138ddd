//! The wslink server on the fastwebsockets backend (`HttpOptions::backend`), over real
//! sockets, with the Rust client: every row of the test protocol, the size limit's 1009,
//! a server shutdown's close frame, and keepalive pings answered by the client.
//!
//! Not behind `cfg(feature = …)`: the root package's dev-dependency on
//! `wslink-transport-ws` turns its `fastwebsockets` feature on for every test build, so
//! this runs under a plain `cargo test`; a build without the backend would fail to bind,
//! never skip. Each listener also checks that its connections are on fastwebsockets.

mod common;

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use common::conformance::{self as check, RUST};
use common::{test_server, SECRET, WAIT};
use futures_util::{SinkExt, StreamExt};
use wslink::client::Client;
use wslink::server::{ServerBuilder, ServerHandle};
use wslink::ws::{HttpOptions, ServerTransport, WsBackend, WsListener};
use wslink::{map, Map, Value};

/// A `WsListener` that counts its connections and checks their backend.
struct Checked {
    listener: WsListener,
    accepted: Arc<AtomicUsize>,
}

// What `#[async_trait]` would write (the root package does not depend on async-trait).
impl wslink::Listener for Checked {
    type Transport = ServerTransport;

    fn accept<'a, 'b>(
        &'a mut self,
    ) -> Pin<Box<dyn Future<Output = Option<ServerTransport>> + Send + 'b>>
    where
        'a: 'b,
        Self: 'b,
    {
        Box::pin(async move {
            let transport = self.listener.accept().await?;
            assert_eq!(transport.backend(), WsBackend::FastWebSockets);
            self.accepted.fetch_add(1, Ordering::SeqCst);
            Some(transport)
        })
    }
}

struct Served {
    handle: ServerHandle,
    url: String,
    accepted: Arc<AtomicUsize>,
}

async fn serve(builder: ServerBuilder, options: HttpOptions) -> Served {
    let options = HttpOptions {
        backend: WsBackend::FastWebSockets,
        ..options
    };
    let listener = WsListener::bind("127.0.0.1:0", options)
        .await
        .expect("bind loopback with the fastwebsockets backend");
    let url = format!("ws://{}/ws", listener.local_addr());
    let accepted = Arc::new(AtomicUsize::new(0));
    let server = builder.build();
    let handle = server.handle();
    tokio::spawn(server.serve(Checked {
        listener,
        accepted: accepted.clone(),
    }));
    Served {
        handle,
        url,
        accepted,
    }
}

async fn client(url: &str) -> Client {
    let transport = tokio::time::timeout(WAIT, wslink::ws::connect(url))
        .await
        .expect("connect in time")
        .expect("connects");
    tokio::time::timeout(WAIT, Client::connect(transport, SECRET))
        .await
        .expect("hello in time")
        .expect("hello accepted")
}

async fn still_served(client: &Client) {
    let got = tokio::time::timeout(
        WAIT,
        client.call("test.add", vec![2.into(), 3.into()], Map::new()),
    )
    .await
    .expect("answer in time")
    .unwrap();
    assert_eq!(got, Value::from(5));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_row_of_the_test_protocol() {
    let served = serve(test_server(), HttpOptions::default()).await;
    let a = client(&served.url).await;
    let b = client(&served.url).await;
    let sizes = check::Sizes {
        publications: 5000,
        big_binary: 20 * 1024 * 1024,
    };
    check::every_row(&a, &b, RUST, sizes).await;
    assert_eq!(served.accepted.load(Ordering::SeqCst), 2);
}

type Raw =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// The close code the server sends, reading past anything else.
async fn close_code(ws: &mut Raw) -> Option<u16> {
    use tokio_tungstenite::tungstenite::Message;
    loop {
        match tokio::time::timeout(WAIT, ws.next())
            .await
            .expect("closed in time")
        {
            Some(Ok(Message::Close(frame))) => return frame.map(|f| f.code.into()),
            Some(Ok(_)) => continue,
            Some(Err(_)) | None => return None,
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_message_over_the_limit_closes_with_1009_and_others_are_still_served() {
    use tokio_tungstenite::tungstenite::Message;
    let options = HttpOptions {
        max_message_size: 64 * 1024,
        ..HttpOptions::default()
    };
    let served = serve(test_server(), options).await;
    let good = client(&served.url).await;
    let (mut ws, _) = tokio_tungstenite::connect_async(served.url.as_str())
        .await
        .unwrap();
    let _ = ws.send(Message::binary(vec![0u8; 100_000])).await;
    assert_eq!(close_code(&mut ws).await, Some(1009));
    still_served(&good).await;
    assert_eq!(served.accepted.load(Ordering::SeqCst), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_sends_1001_with_its_reason() {
    let served = serve(test_server(), HttpOptions::default()).await;
    let transport = wslink::ws::connect(&served.url).await.unwrap();
    let (tx, rx) = wslink::Transport::split(transport);
    let mut raw = common::Raw::from_parts(tx, rx);
    raw.send(&common::hello_message(SECRET)).await;
    assert!(raw.recv().await.is_some(), "hello reply");
    served.handle.shutdown();
    assert_eq!(raw.recv().await, None);
    let close = raw.rx.close_frame().expect("a close frame");
    assert_eq!(close.code, wslink::CloseCode::GOING_AWAY);
    assert_eq!(close.reason, "Server shutdown");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keepalive_pings_keep_a_quiet_client_connected() {
    // The server pings every 100 ms and drops peers silent for 300 ms; the client's
    // pongs alone keep it connected through a quiet second.
    let server = test_server().configure(|c| c.keepalive = Some(Duration::from_millis(100)));
    let options = HttpOptions {
        dead_after: Some(Duration::from_millis(300)),
        ..HttpOptions::default()
    };
    let served = serve(server, options).await;
    let quiet = client(&served.url).await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(served.handle.connection_count(), 1);
    let got = quiet
        .call("test.echo", vec![map! { "still" => true }], Map::new())
        .await
        .unwrap();
    assert_eq!(got, map! { "still" => true });
}
