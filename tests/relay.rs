//! The relay and the server's reverse mode: a server that connects out to a relay serves
//! the browser on the other side, and every browser session must say its own hello (the
//! real npm wslink client through the relay is in `interop_relay.rs`).

mod common;

use std::time::Duration;

use common::peers::serve_ws;
use common::relay::{start_relay, start_reverse_server};
use common::{test_server, Raw, SECRET, WAIT};
use wslink::client::Client;
use wslink::ws::relay::RelayMode;
use wslink::ws::HttpOptions;
use wslink::{Map, Message, Request, Response, Value};

async fn rust_browser(url: &str) -> Client {
    let transport = wslink::ws::connect(url).await.unwrap();
    tokio::time::timeout(WAIT, Client::connect(transport, SECRET))
        .await
        .unwrap()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sessions_through_the_relay_each_need_a_hello() {
    let base = start_relay(|_| RelayMode::Relay).await;
    let url = format!("{base}/session-a");
    start_reverse_server(&url).await;

    let browser = rust_browser(&url).await;
    assert_eq!(
        tokio::time::timeout(
            WAIT,
            browser.call("test.add", vec![1.into(), 2.into()], Map::new())
        )
        .await
        .expect("an answer through the relay")
        .unwrap(),
        Value::from(3)
    );
    // A second browser on the same path while the first is there is turned away.
    let second = wslink::ws::connect(&url).await.unwrap();
    assert!(tokio::time::timeout(WAIT, Client::connect(second, SECRET))
        .await
        .expect("turned away, not left waiting")
        .is_err());
    browser.close().await;
    drop(browser);
    tokio::time::sleep(Duration::from_millis(500)).await;

    // The next browser skips the hello: unauthorized, the first session's hello is gone.
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
    })) = tokio::time::timeout(WAIT, raw.recv())
        .await
        .expect("an answer through the relay")
    else {
        panic!("an error reply expected")
    };
    assert_eq!(e.message, "Unauthorized: Skip message processing");
    raw.send(&common::hello_message(SECRET)).await;
    assert!(matches!(
        tokio::time::timeout(WAIT, raw.recv())
            .await
            .expect("an answer through the relay"),
        Some(Message::Response(Response { outcome: Ok(_), .. }))
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forward_mode_bridges_to_a_listening_server() {
    let (_server, server_url) = serve_ws(test_server(), HttpOptions::default()).await;
    let port = server_url
        .trim_start_matches("ws://127.0.0.1:")
        .trim_end_matches("/ws")
        .to_owned();
    let base = start_relay(|prefix| RelayMode::Forward {
        host: "127.0.0.1".into(),
        prefix,
    })
    .await;
    let browser = rust_browser(&format!("{base}/{port}/ws")).await;
    let blob = browser
        .call("test.bytes", vec![(5 << 20).into()], Map::new())
        .await
        .unwrap();
    assert_eq!(blob.as_bytes().unwrap().len(), 5 << 20);
    // A path without a port is refused (closed with 1008): the hello cannot succeed.
    let bad = wslink::ws::connect(&format!("{base}/not-a-port"))
        .await
        .unwrap();
    assert!(tokio::time::timeout(WAIT, Client::connect(bad, SECRET))
        .await
        .unwrap()
        .is_err());
}
