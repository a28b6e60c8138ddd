//! The chat example's page in real headless Chromium (Debian `chromium`, driven by
//! playwright-core) against the Rust chat server: the page's npm wslink 2.x client
//! connects, a typed message comes back through the subscription, the server talks on
//! its own; a screenshot is saved to `target/interop-logs/chat.png`.

mod common;

use std::time::Duration;

use common::peers::{node, repo, require, serve_ws};
use wslink::server::{test_protocol::chat, Server};
use wslink::ws::HttpOptions;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chat_page_in_chromium_talks_to_the_rust_server() {
    require("/usr/bin/chromium".into(), "Debian chromium");
    let www = repo().join("examples/chat/www");
    let client_js = require(
        www.join("node_modules/wslink2/dist"),
        "the chat page's npm wslink client",
    );
    let options = HttpOptions {
        content: Some(www),
        fs_endpoints: vec![("vendor/wslink2".into(), client_js)],
        ..HttpOptions::default()
    };
    let server = Server::builder().router(chat::router("Rust server"));
    let (_server, ws_url) = serve_ws(server, options).await;
    let page = ws_url.replace("ws://", "http://").replace("/ws", "/");
    let shot = repo().join("target/interop-logs/chat.png");
    std::fs::create_dir_all(shot.parent().unwrap()).unwrap();
    let (ok, output) = node(
        "chat_browser.js",
        &[&page, shot.to_str().unwrap()],
        Duration::from_secs(120),
    )
    .await;
    println!("{output}");
    assert!(ok, "the chat page failed in Chromium:\n{output}");
    assert!(
        output.contains("echo received: Rust server: hello from chromium"),
        "{output}"
    );
    assert!(
        shot.metadata().map(|m| m.len() > 1000).unwrap_or(false),
        "a screenshot was saved"
    );
}
