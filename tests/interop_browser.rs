//! The chat example's page in real headless Chromium (Debian `chromium`, driven by
//! playwright-core) against the Rust chat server: the page's npm wslink client connects,
//! a typed message comes back through the subscription, the server talks on its own —
//! with the 2.x client, and with the 1.x client (`?gen=1`) against the same server;
//! screenshots are saved to `target/interop-logs/chat-2x.png` and `chat-1x.png`.

mod common;

use std::time::Duration;

use common::peers::{node, page_url, repo, require, serve_ws};
use wslink::json::{JsonCodec, Style};
use wslink::server::Server;
use wslink::ws::HttpOptions;
use wslink_test_protocol::chat;

/// The chat example's server: both wire generations; the page picks its client.
fn chat_server() -> wslink::server::ServerBuilder {
    Server::builder()
        .codec(JsonCodec::with_style(Style::Python))
        .protocol(chat::Chat::new("Rust server"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chat_page_in_chromium_talks_to_the_rust_server() {
    require("/usr/bin/chromium".into(), "Debian chromium");
    let www = repo().join("examples/chat/www");
    for gen in ["wslink2", "wslink1"] {
        require(
            www.join("node_modules").join(gen).join("dist/wslink.js"),
            "the chat page's npm wslink clients",
        );
    }
    let options = HttpOptions {
        content: Some(www),
        ..HttpOptions::default()
    };
    let (_server, ws_url) = serve_ws(chat_server(), options).await;
    let page = page_url(&ws_url);
    for (query, name) in [("", "chat-2x.png"), ("?gen=1", "chat-1x.png")] {
        let shot = repo().join("target/interop-logs").join(name);
        std::fs::create_dir_all(shot.parent().unwrap()).unwrap();
        let url = format!("{page}{query}");
        let (ok, output) = node(
            "chat_browser.js",
            &[&url, shot.to_str().unwrap()],
            Duration::from_secs(120),
        )
        .await;
        println!("{output}");
        assert!(ok, "the chat page ({url}) failed in Chromium:\n{output}");
        assert!(
            output.contains("echo received: Rust server: hello from chromium"),
            "{output}"
        );
        assert!(
            shot.metadata().map(|m| m.len() > 1000).unwrap_or(false),
            "a screenshot was saved"
        );
    }
}

/// The headers of `--http-header` (the CLI flag; `--http-headers-file`, read from the
/// reference's `WSLINK_HTTP_HEADERS` too, takes the same pairs as JSON) go on the static
/// files: with COOP/COEP the page is cross-origin isolated in real Chromium (what a page
/// that uses `SharedArrayBuffer` needs), without them it is not. Chromium's own WebSocket
/// offers permessage-deflate, and the server agrees to it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn coop_and_coep_headers_make_the_page_cross_origin_isolated_in_chromium() {
    use clap::Parser;
    /// A command line with the server's flags, as an application built on
    /// `wslink::cli` has.
    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        server: wslink::cli::ServerArgs,
    }

    require("/usr/bin/chromium".into(), "Debian chromium");
    let www = repo().join("examples/chat/www");
    let cli = Cli::try_parse_from([
        "wslink",
        "--http-header",
        "Cross-Origin-Opener-Policy: same-origin",
        "--http-header",
        "Cross-Origin-Embedder-Policy: require-corp",
    ])
    .expect("the CLI takes --http-header");
    let isolating = cli.server.extra_headers().expect("valid headers");
    for (headers, isolated) in [(isolating, true), (Vec::new(), false)] {
        let options = HttpOptions {
            content: Some(www.clone()),
            extra_headers: headers,
            ..HttpOptions::default()
        };
        let (_server, ws_url) = serve_ws(chat_server(), options).await;
        let page = page_url(&ws_url);
        let (ok, output) = node(
            "isolation_browser.js",
            &[&page, &ws_url],
            Duration::from_secs(120),
        )
        .await;
        println!("{output}");
        assert!(ok, "the page ({page}) failed in Chromium:\n{output}");
        let line = output
            .lines()
            .find_map(|l| l.strip_prefix("isolation: "))
            .unwrap_or_else(|| panic!("no report:\n{output}"));
        let report: serde_json::Value = serde_json::from_str(line).expect("a JSON report");
        assert_eq!(report["crossOriginIsolated"], isolated, "{report}");
        assert_eq!(report["sharedArrayBuffer"], isolated, "{report}");
        let extensions = report["extensions"].as_str().unwrap_or_default();
        assert!(
            extensions.starts_with("permessage-deflate"),
            "Chromium's offer agreed: {report}"
        );
    }
}

/// 20 MiB both ways between the npm 2.x client in Chromium and the Rust server, with
/// permessage-deflate agreed and refused: results of this size leave the server as chunk
/// frames made of slices of the result, each sent as the fragments of one WebSocket
/// message, which Chromium must join; uploads are reassembled into one buffer.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn large_binaries_both_ways_between_chromium_and_the_rust_server() {
    require("/usr/bin/chromium".into(), "Debian chromium");
    let www = repo().join("examples/chat/www");
    require(
        www.join("node_modules/wslink2/dist/wslink.js"),
        "the chat page's npm wslink clients",
    );
    let size = (20 << 20).to_string();
    for deflate in [wslink::ws::Deflate::default(), wslink::ws::Deflate::off()] {
        let options = HttpOptions {
            content: Some(www.clone()),
            deflate: deflate.clone(),
            ..HttpOptions::default()
        };
        let (_server, ws_url) = serve_ws(common::test_server(), options).await;
        let page = page_url(&ws_url);
        let (ok, output) = node("bulk_browser.js", &[&page, &size], Duration::from_secs(120)).await;
        println!("{output}");
        assert!(
            ok && output.contains("pattern true"),
            "large binaries with Chromium ({deflate:?}) failed:\n{output}"
        );
    }
}
