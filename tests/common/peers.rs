//! Starting the real peers (installed by `interop/setup.sh`) and our own servers on
//! loopback, for the interop tests. A missing peer is a test failure with a message
//! saying how to install it, never a skip.
#![allow(dead_code, unreachable_pub)]

use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};
use wslink::server::{ServerBuilder, ServerHandle};
use wslink::ws::{HttpOptions, WsListener};

pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

pub fn interop() -> PathBuf {
    repo().join("interop")
}

/// Fails the test with an install hint unless `path` exists.
pub fn require(path: PathBuf, what: &str) -> PathBuf {
    assert!(
        path.exists(),
        "{what} is missing ({}): run `bash interop/setup.sh --browser` (scripts/test.sh does)",
        path.display()
    );
    path
}

/// The `host:port` of a `ws://host:port/ws` URL that [`serve_ws`] returned, for speaking
/// raw TCP to the server.
pub fn host_port(url: &str) -> String {
    url.trim_start_matches("ws://")
        .trim_end_matches("/ws")
        .to_owned()
}

/// Serves `builder` over WebSockets on a free loopback port; returns the ws:// URL.
pub async fn serve_ws(builder: ServerBuilder, options: HttpOptions) -> (ServerHandle, String) {
    let listener = WsListener::bind("127.0.0.1:0", options)
        .await
        .expect("bind loopback");
    let url = format!("ws://{}/ws", listener.local_addr());
    let server = builder.build();
    let handle = server.handle();
    tokio::spawn(server.serve(listener));
    (handle, url)
}

/// The URL of the page a server started by [`serve_ws`] serves beside its WebSocket
/// endpoint (`ws://host:port/ws` → `http://host:port/`).
pub fn page_url(ws_url: &str) -> String {
    ws_url.replace("ws://", "http://").replace("/ws", "/")
}

/// A child process killed when dropped.
pub struct Peer {
    pub child: Child,
    pub url: String,
}

/// Starts the Python test server on real PyPI wslink of generation `gen` and waits for
/// its `READY ws://…` line.
pub async fn python_server(gen: u8, secret: &str) -> Peer {
    let venv = require(
        interop().join(format!(".venv{gen}/bin/python")),
        "the Python wslink virtualenv",
    );
    let _ = venv;
    // Its log (tracebacks of test.fail included) goes to a file, not the test output.
    let logs = repo().join("target/interop-logs");
    std::fs::create_dir_all(&logs).expect("log folder");
    let log = std::fs::File::create(logs.join(format!(
        "python{gen}-{}-{}.log",
        std::process::id(),
        secret
    )))
    .expect("log file");
    let mut child = Command::new("bash")
        .arg(interop().join("run_python_server.sh"))
        .args([gen.to_string().as_str(), "0", secret])
        .stdout(Stdio::piped())
        .stderr(log)
        .kill_on_drop(true)
        .spawn()
        .expect("spawn the Python test server");
    let stdout = child.stdout.take().expect("piped stdout");
    let mut lines = BufReader::new(stdout).lines();
    let url = tokio::time::timeout(Duration::from_secs(60), async {
        while let Some(line) = lines.next_line().await.expect("read server output") {
            if let Some(pos) = line.find("READY ") {
                return line[pos + 6..].trim().to_owned();
            }
        }
        panic!("the Python test server exited before its READY line");
    })
    .await
    .expect("the Python test server starts within 60 s");
    // Keep draining its output so it never blocks on a full pipe.
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    Peer { child, url }
}

/// Runs `node SCRIPT ARGS` from `interop/node` and returns (success, combined output).
pub async fn node(script: &str, args: &[&str], limit: Duration) -> (bool, String) {
    let dir = interop().join("node");
    require(
        dir.join("node_modules/wslink2/package.json"),
        "the npm wslink client",
    );
    let run = Command::new("node")
        .arg(script)
        .args(args)
        .current_dir(&dir)
        .kill_on_drop(true)
        .output();
    let output = tokio::time::timeout(limit, run)
        .await
        .unwrap_or_else(|_| panic!("node {script} did not finish within {limit:?}"))
        .expect("node runs (is Node.js installed?)");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    (output.status.success(), text)
}

/// Runs the `wslink` CLI (a binary of this package) and returns (success, stdout, stderr).
pub async fn wslink_cli(args: &[&str]) -> (bool, String, String) {
    let run = Command::new(env!("CARGO_BIN_EXE_wslink"))
        .args(args)
        .kill_on_drop(true)
        .output();
    let out = tokio::time::timeout(Duration::from_secs(60), run)
        .await
        .expect("the CLI finishes within 60 s")
        .expect("the CLI runs");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}
