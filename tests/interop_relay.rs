//! The real npm wslink clients (2.x and 1.x, in Node) through the relay, in relay mode
//! (to a server in reverse mode) and in forward mode (to a listening server): the cases
//! of `interop/node/relay_cases.js`, and the whole conformance suite
//! (`interop/node/js_client_suite.js`) as it passes against the server directly; and the
//! reference Python server in its reverse mode behind our relay. Needs the peers of
//! `bash interop/setup.sh`; without them these tests fail, saying so.

mod common;

use std::time::Duration;

use common::peers::{node, serve_ws};
use common::test_server;
use wslink::json::{JsonCodec, Style};
use wslink::server::{ServerBuilder, ServerHandle};
use wslink::ws::relay::{RelayLimits, RelayMode};
use wslink::ws::HttpOptions;

const NODE_LIMIT: Duration = Duration::from_secs(300);

/// The test server, speaking both generations (the 1.x wire as the Python server does).
fn both_generations() -> ServerBuilder {
    test_server().codec(JsonCodec::with_style(Style::Python))
}

/// A relay in relay mode with a reverse-mode test server on `<base>/<name>`; returns the
/// browsers' URL and one of a path no server serves.
async fn relayed_server(name: &str) -> (String, String) {
    let base = common::relay::start_relay().await;
    let url = format!("{base}/{name}");
    common::relay::start_reverse_server(both_generations(), &url, 1);
    (url, format!("{base}/{name}-nobody"))
}

/// A listening test server and a relay in forward mode in front of it; returns the
/// browsers' URL and one for a port nobody listens on (and the server's handle).
async fn forwarded_server() -> (String, String, ServerHandle) {
    // Messages up to 64 MiB, as through the relay: 1.x uploads are one message.
    let options = HttpOptions {
        max_message_size: 64 << 20,
        ..HttpOptions::default()
    };
    let (handle, server_url) = serve_ws(both_generations(), options).await;
    let port = common::peers::host_port(&server_url)
        .rsplit(':')
        .next()
        .unwrap()
        .to_owned();
    let dead_port = {
        let socket = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        socket.local_addr().unwrap().port()
    };
    let forward = RelayMode::Forward {
        host: "127.0.0.1".into(),
        prefix: "/proxy".into(),
    };
    let base = common::relay::start_relay_with(forward, RelayLimits::default()).await;
    (
        format!("{base}/{port}/ws"),
        format!("{base}/{dead_port}"),
        handle,
    )
}

async fn run_cases(url: &str, missing: &str, reason: &str, gen: &str) {
    let args = [
        url,
        "--gen",
        gen,
        "--missing",
        missing,
        "--missing-code",
        "1013",
        "--missing-reason",
        reason,
    ];
    let (ok, output) = node("relay_cases.js", &args, NODE_LIMIT).await;
    println!("{output}");
    assert!(
        ok && output.contains("# fail 0") && output.contains("# pass 6"),
        "the npm {gen}.x client through the relay failed:\n{output}"
    );
}

async fn run_suite(url: &str, gen: &str) {
    let (ok, output) = node(
        "js_client_suite.js",
        &[url, "--gen", gen, "--concurrent"],
        NODE_LIMIT,
    )
    .await;
    println!("{output}");
    assert!(
        ok && output.contains("# fail 0") && !output.contains("# pass 0"),
        "the conformance suite ({gen}.x) through the relay failed:\n{output}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn relay_mode_cases_with_the_2x_client() {
    let (url, missing) = relayed_server("cases2").await;
    run_cases(&url, &missing, "no server connected on this path", "2").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn relay_mode_cases_with_the_1x_client() {
    let (url, missing) = relayed_server("cases1").await;
    run_cases(&url, &missing, "no server connected on this path", "1").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forward_mode_cases_with_the_2x_client() {
    let (url, missing, _server) = forwarded_server().await;
    run_cases(&url, &missing, "no server listening on that port", "2").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forward_mode_cases_with_the_1x_client() {
    let (url, missing, _server) = forwarded_server().await;
    run_cases(&url, &missing, "no server listening on that port", "1").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_conformance_suite_through_the_relay_2x() {
    let (url, _) = relayed_server("suite2").await;
    run_suite(&url, "2").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_conformance_suite_forwarded_2x() {
    let (url, _, _server) = forwarded_server().await;
    run_suite(&url, "2").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_conformance_suite_through_the_relay_1x() {
    let (url, _) = relayed_server("suite1").await;
    run_suite(&url, "1").await;
}

/// The Python 2.6.0 test server in its own reverse mode, on `url` (with the server mark),
/// once it printed its READY line; killed when dropped. Its log goes to
/// `target/interop-logs`.
async fn python_reverse_server(url: &str) -> tokio::process::Child {
    use tokio::io::AsyncBufReadExt;
    common::peers::require(
        common::peers::interop().join(".venv2/bin/python"),
        "the Python wslink virtualenv",
    );
    let logs = common::peers::repo().join("target/interop-logs");
    std::fs::create_dir_all(&logs).expect("log folder");
    let name = format!("python2-reverse-{}.log", std::process::id());
    let log = std::fs::File::create(logs.join(name)).expect("log file");
    let marked = wslink::ws::relay::server_url(url);
    let mut child = tokio::process::Command::new("bash")
        .arg(common::peers::interop().join("run_python_server.sh"))
        .args(["2", "0", common::SECRET, "--reverse-url", marked.as_str()])
        .stdout(std::process::Stdio::piped())
        .stderr(log)
        .kill_on_drop(true)
        .spawn()
        .expect("spawn the Python test server");
    let stdout = child.stdout.take().expect("piped stdout");
    let mut lines = tokio::io::BufReader::new(stdout).lines();
    tokio::time::timeout(Duration::from_secs(60), async {
        while let Some(line) = lines.next_line().await.expect("read server output") {
            if line.contains("READY ") {
                return;
            }
        }
        panic!("the Python test server exited before its READY line");
    })
    .await
    .expect("the Python test server starts within 60 s");
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    child
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_reference_python_server_behind_the_relay() {
    let base = common::relay::start_relay().await;
    let url = format!("{base}/python");
    let _python = python_reverse_server(&url).await;
    // One browser session (the reference serves a single connection in reverse mode):
    // hello, a call, 1 MB down and up, a clean close. Not 20 MiB: the reference's own
    // reverse connection (aiohttp) refuses messages over 4 MiB, and the npm client sends
    // 4 MiB chunks plus their header. The relay holds the browser until the server is
    // there (--browser-wait).
    let (ok, output) = node("relay_session.js", &[&url, "--size", "1000000"], NODE_LIMIT).await;
    println!("{output}");
    assert!(
        ok && output.contains("# pass 1") && output.contains("# fail 0"),
        "the npm client through the relay to the Python server failed:\n{output}"
    );
}
