//! Server-side subscriptions with real peers: the npm wslink 2.5.0 and 1.12.4 clients in
//! Node opt in with `session.call('wslink.subscribe', …)` against the Rust server
//! (`interop/node/subscriptions.js`), and the Rust client against the Python server
//! (which has no subscriptions) still gets its filtered publications and sends no
//! subscribe call there; the same clients' browser bundles in headless Chromium
//! (`interop/node/subscriptions_browser.js`).

mod common;

use std::time::Duration;

use common::peers::{interop, node, python_server, require, serve_ws};
use futures_util::FutureExt;
use wslink::client::{Client, Subscription};
use wslink::ws::HttpOptions;
use wslink::{map, Filter, Value};

const PRIVATE: &str = "private.news";

async fn run_js(generation: &str) {
    let mut server = common::test_server().subscribers_only(PRIVATE);
    if generation == "1" {
        server = server.codec(wslink::json::JsonCodec::with_style(
            wslink::json::Style::Python,
        ));
    }
    let (_server, url) = serve_ws(server, HttpOptions::default()).await;
    let args = [url.as_str(), "--gen", generation, "--private", PRIVATE];
    let (ok, output) = node("subscriptions.js", &args, Duration::from_secs(120)).await;
    println!("{output}");
    assert!(ok, "subscriptions.js --gen {generation} failed:\n{output}");
    assert!(
        output.contains("# pass 3") && output.contains("# fail 0"),
        "{output}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn npm_client_2x_subscribes_with_filters_on_the_rust_server() {
    run_js("2").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn npm_client_1x_subscribes_with_filters_on_the_rust_server() {
    run_js("1").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn npm_clients_in_chromium_subscribe_with_filters_on_the_rust_server() {
    require("/usr/bin/chromium".into(), "Debian chromium");
    let modules = interop().join("node/node_modules");
    for gen in ["wslink2", "wslink1"] {
        require(
            modules.join(gen).join("dist/wslink.js"),
            "the npm wslink clients",
        );
    }
    let options = HttpOptions {
        content: Some(modules),
        ..HttpOptions::default()
    };
    let server =
        common::test_server()
            .subscribers_only(PRIVATE)
            .codec(wslink::json::JsonCodec::with_style(
                wslink::json::Style::Python,
            ));
    let (_server, ws_url) = serve_ws(server, options).await;
    let origin = ws_url.replace("ws://", "http://").replace("/ws", "");
    for generation in ["2", "1"] {
        let args = [
            origin.as_str(),
            ws_url.as_str(),
            "--gen",
            generation,
            "--private",
            PRIVATE,
        ];
        let (ok, output) = node("subscriptions_browser.js", &args, Duration::from_secs(120)).await;
        println!("{output}");
        assert!(ok, "chromium, gen {generation}:\n{output}");
        assert!(
            output.contains(&format!("gen {generation}: subscriptions in chromium: ok")),
            "{output}"
        );
    }
}

async fn next(sub: &mut Subscription) -> Value {
    tokio::time::timeout(common::WAIT, sub.recv())
        .await
        .expect("a publication in time")
        .expect("subscription open")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rust_client_filters_locally_against_python_and_sends_no_subscribe() {
    const SECRET: &str = "py-secret";
    let peer = python_server(2, SECRET).await;
    let transport = wslink::ws::connect(&peer.url).await.unwrap();
    let client = Client::connect(transport, SECRET).await.unwrap();
    assert!(!client.server_takes_subscriptions());
    let mut all = client.subscribe("interop.py.subs").unwrap();
    let filter = Filter::all().where_eq("seq", 1).fields(["seq"]);
    let mut one = client
        .subscribe_filtered("interop.py.subs", filter)
        .await
        .unwrap();
    let sent = client
        .call_as::<u64>(
            "test.publish",
            vec!["interop.py.subs".into(), 3.into(), 2.into()],
        )
        .await
        .unwrap();
    assert_eq!(sent, 3);
    for seq in 0..3 {
        assert_eq!(next(&mut all).await, map! { "seq" => seq, "pad" => "xx" });
    }
    // The last publication reached both subscribers in one go: all is here.
    assert_eq!(next(&mut one).await, map! { "seq" => 1 });
    assert_eq!(one.recv().now_or_never(), None, "nothing else passes");
    assert_eq!(
        client.subscribe_calls(),
        0,
        "the Python server is told nothing"
    );
}
