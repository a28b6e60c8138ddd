//! A relay on a free loopback port, and our test server connecting out to it (reverse
//! mode), for the relay tests.
#![allow(dead_code, unreachable_pub)]

use std::time::Duration;

use wslink::ws::relay::{run_relay, RelayMode};
use wslink::ws::{ConnectOptions, HttpOptions, WsListener};

use super::test_server;

/// Starts a relay with `mode` (given the endpoint `/proxy`); returns its `ws://…/proxy`.
pub async fn start_relay(mode: impl FnOnce(String) -> RelayMode) -> String {
    let options = HttpOptions {
        ws_endpoint: Some("/proxy".into()),
        ws_prefix: true,
        max_message_size: 64 << 20,
        dead_after: None,
        ..HttpOptions::default()
    };
    let listener = WsListener::bind("127.0.0.1:0", options).await.unwrap();
    let base = format!("ws://{}/proxy", listener.local_addr());
    tokio::spawn(run_relay(
        listener,
        mode("/proxy".into()),
        ConnectOptions::default(),
    ));
    base
}

/// Starts our test server in reverse mode, connected out to `url`.
pub async fn start_reverse_server(url: &str) {
    let server = test_server().build();
    let url = url.to_owned();
    tokio::spawn(async move { wslink::cli::serve_reverse(server, &url).await });
    // Give the server time to connect and wait for its browser.
    tokio::time::sleep(Duration::from_millis(300)).await;
}
