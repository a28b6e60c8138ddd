//! A relay on a free loopback port, and our test server connecting out to it (reverse
//! mode), for the relay tests (`tests/relay.rs`, `tests/interop_relay.rs`).
#![allow(dead_code, unreachable_pub)]

use wslink::server::ServerBuilder;
use wslink::ws::relay::{run_relay, RelayConfig, RelayLimits, RelayMode};
use wslink::ws::{HttpOptions, WsListener};

/// Starts a relay on `/proxy` with `mode`, `limits` and messages up to `max_message`
/// bytes; returns its `ws://…/proxy`.
pub async fn start_relay_sized(mode: RelayMode, limits: RelayLimits, max_message: usize) -> String {
    let options = HttpOptions {
        ws_endpoint: Some("/proxy".into()),
        ws_prefix: true,
        max_message_size: max_message,
        dead_after: None,
        ..HttpOptions::default()
    };
    let listener = WsListener::bind("127.0.0.1:0", options).await.unwrap();
    let base = format!("ws://{}/proxy", listener.local_addr());
    let config = RelayConfig {
        limits,
        ..RelayConfig::new(mode)
    };
    tokio::spawn(run_relay(listener, config));
    base
}

/// [`start_relay_sized`] with messages up to 64 MiB.
pub async fn start_relay_with(mode: RelayMode, limits: RelayLimits) -> String {
    start_relay_sized(mode, limits, 64 << 20).await
}

/// A relay in relay mode with the default limits.
pub async fn start_relay() -> String {
    start_relay_with(RelayMode::Relay, RelayLimits::default()).await
}

/// Builds `server` and serves it in reverse mode through the relay URL `url`, keeping
/// `spares` connections waiting there.
pub fn start_reverse_server(server: ServerBuilder, url: &str, spares: usize) {
    let server = server.build();
    let url = url.to_owned();
    tokio::spawn(async move { wslink::cli::serve_reverse(server, &url, spares).await });
}
