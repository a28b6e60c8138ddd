//! The `wslink` CLI against our own server over real WebSockets, both wire generations
//! (the same commands run against the Python reference in `interop_python_server.rs`).

mod common;

use std::time::Duration;

use common::peers::serve_ws;
use common::test_server;
use wslink::json::{JsonCodec, Style};
use wslink::ws::HttpOptions;

use common::peers::wslink_cli as cli;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cli_calls_and_subscribes_against_the_rust_server() {
    let server = test_server().codec(JsonCodec::with_style(Style::Python));
    let (_server, url) = serve_ws(server, HttpOptions::default()).await;
    for wire in [None, Some("--v1")] {
        let with = |args: &[&str]| -> Vec<String> {
            args.iter()
                .map(|s| s.to_string())
                .chain(wire.map(str::to_owned))
                .collect()
        };
        let run = |args: Vec<String>| async move {
            let refs: Vec<&str> = args.iter().map(String::as_str).collect();
            cli(&refs).await
        };
        let (ok, out, err) = run(with(&["call", &url, "test.add", "[1, 2.5]"])).await;
        assert!(ok, "{wire:?}: {err}");
        assert_eq!(out.trim(), "3.5");
        let (ok, out, _) = run(with(&["call", &url, "test.bytes", "[20]"])).await;
        assert!(ok);
        assert_eq!(
            out.trim(),
            r#""<20 bytes: 000102030405060708090a0b0c0d0e0f…>""#
        );
        let (ok, _, err) = run(with(&["call", &url, "test.fail", r#"["boom"]"#])).await;
        assert!(
            !ok && err.contains("error -32001: Exception raised") && err.contains("boom"),
            "{err}"
        );
        let (ok, _, err) = run(with(&[
            "call",
            &url,
            "test.echo",
            "[1]",
            "--secret",
            "wrong",
        ]))
        .await;
        assert!(!ok && err.contains("Authentication failed"), "{err}");

        let listener = tokio::spawn(run(with(&[
            "subscribe",
            &url,
            "cli.topic",
            "--count",
            "2",
            "--timeout",
            "30",
        ])));
        let filtered = tokio::spawn(run(with(&[
            "subscribe",
            &url,
            "cli.topic",
            "--where",
            "seq=1",
            "--fields",
            "seq",
            "--count",
            "1",
            "--timeout",
            "30",
        ])));
        tokio::time::sleep(Duration::from_millis(800)).await;
        let (ok, _, err) = run(with(&[
            "call",
            &url,
            "test.publish",
            r#"["cli.topic", 2, 1]"#,
        ]))
        .await;
        assert!(ok, "{err}");
        let (ok, out, err) = listener.await.unwrap();
        assert!(ok, "{err}");
        assert_eq!(
            out.lines().collect::<Vec<_>>(),
            [r#"{"seq":0,"pad":"x"}"#, r#"{"seq":1,"pad":"x"}"#]
        );
        let (ok, out, err) = filtered.await.unwrap();
        assert!(ok, "{err}");
        assert_eq!(out.lines().collect::<Vec<_>>(), [r#"{"seq":1}"#]);
    }
}
