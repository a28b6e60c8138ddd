//! The real npm wslink 2.5.0 client (in Node, with `ws` as its WebSocket) against the
//! Rust test server over real sockets: every test-protocol row, wrong secret, unknown
//! method, 20 MiB both ways, 200 concurrent calls, subscribe/unsubscribe, two clients on
//! one publication, clean close — the suite in `interop/node/js_client_suite.js`.

mod common;

use std::time::Duration;

use common::peers::{node, serve_ws};
use wslink::ws::HttpOptions;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn npm_client_2x_passes_the_suite_against_the_rust_server() {
    let (_server, url) = serve_ws(common::test_server(), HttpOptions::default()).await;
    // --concurrent: our server runs one connection's calls concurrently, so a slow call
    // must not delay a fast one (the Python server fails this on purpose of its design).
    let (ok, output) = node(
        "js_client_suite.js",
        &[
            &url,
            "--gen",
            "2",
            "--concurrent",
            "--expect-deflate",
            "yes",
        ],
        Duration::from_secs(300),
    )
    .await;
    println!("{output}");
    assert!(
        ok,
        "the npm wslink 2.x suite failed against the Rust server:\n{output}"
    );
    assert!(
        output.contains("Sec-WebSocket-Extensions agreed: \"permessage-deflate"),
        "ws's default offer must be agreed to:\n{output}"
    );
    assert!(
        output.contains("# fail 0"),
        "node's summary must report no failure:\n{output}"
    );
}

/// The 1.x suite's arguments. Uploads stay under the WebSocket message limit
/// (maxMsgSize + 4096 by default): a 1.x message is one frame, as with the reference
/// server; downloads are 20 MiB.
fn v1_suite_args(url: &str) -> Vec<&str> {
    vec![url, "--gen", "1", "--concurrent", "--big-upload", "4000000"]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn npm_client_1x_passes_the_suite_against_the_rust_server() {
    let server = common::test_server().codec(wslink::json::JsonCodec::with_style(
        wslink::json::Style::Python,
    ));
    let (_server, url) = serve_ws(server, HttpOptions::default()).await;
    let mut args = v1_suite_args(&url);
    args.extend(["--expect-deflate", "yes"]);
    let (ok, output) = node("js_client_suite.js", &args, Duration::from_secs(300)).await;
    println!("{output}");
    assert!(
        ok,
        "the npm wslink 1.x suite failed against the Rust server:\n{output}"
    );
    assert!(
        output.contains("# fail 0"),
        "node's summary must report no failure:\n{output}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn npm_clients_1x_and_2x_share_one_rust_server() {
    let server = common::test_server().codec(wslink::json::JsonCodec::with_style(
        wslink::json::Style::Python,
    ));
    let (_server, url) = serve_ws(server, HttpOptions::default()).await;
    let (ok, output) = node("mixed_generations.js", &[&url], Duration::from_secs(120)).await;
    println!("{output}");
    assert!(ok, "mixed generations failed:\n{output}");
    assert!(
        output.contains("# pass 1") && output.contains("# fail 0"),
        "{output}"
    );
}

/// The same 2.x and 1.x suites with the server refusing permessage-deflate (the
/// `--no-ws-compress` of the reference), which the `ws` client offers by default: the
/// real client must not tell the difference.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn npm_clients_pass_the_suite_with_deflate_refused() {
    let fast = || HttpOptions {
        deflate: wslink::ws::Deflate::off(),
        ..HttpOptions::default()
    };
    let (_v2, url2) = serve_ws(common::test_server(), fast()).await;
    let v1_server = common::test_server().codec(wslink::json::JsonCodec::with_style(
        wslink::json::Style::Python,
    ));
    let (_v1, url1) = serve_ws(v1_server, fast()).await;
    let mut v1 = v1_suite_args(&url1);
    v1.extend(["--expect-deflate", "no"]);
    for args in [
        vec![
            url2.as_str(),
            "--gen",
            "2",
            "--concurrent",
            "--expect-deflate",
            "no",
        ],
        v1,
    ] {
        let (ok, output) = node("js_client_suite.js", &args, Duration::from_secs(300)).await;
        println!("{output}");
        assert!(
            ok && output.contains("# fail 0"),
            "the npm suite ({}) failed against the Rust server without deflate:\n{output}",
            args[1..].join(" ")
        );
        assert!(
            output.contains("Sec-WebSocket-Extensions agreed: \"\""),
            "{output}"
        );
    }
}
