//! The launcher tests' set-up: configs on free loopback ports, raw HTTP requests to the
//! launcher's API, and the command line of our test server as a session.
#![allow(dead_code, unreachable_pub)]

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU16, Ordering};
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use wslink::client::Client;
use wslink_launcher::{Config, Launcher};

use super::peers::repo;

/// What our test server prints once it listens.
pub const READY: &str = "wslink: Starting factory";

/// The command line that runs our test server (the `wslink-test-server` binary of this
/// package) as a session on the templated port and secret; with `delay_ms`, it waits that
/// long before it starts (through `sh`).
pub fn rust_app(delay_ms: Option<u64>) -> Vec<String> {
    let serve: Vec<String> = [
        env!("CARGO_BIN_EXE_wslink-test-server"),
        "--host",
        "127.0.0.1",
        "--port",
        "${port}",
        "--authKey",
        "${secret}",
        "--timeout",
        "0",
    ]
    .map(str::to_owned)
    .into();
    match delay_ms {
        None => serve,
        Some(ms) => {
            let quoted: Vec<String> = serve.iter().map(|a| format!("'{a}'")).collect();
            let script = format!("sleep {}; exec {}", ms as f64 / 1000.0, quoted.join(" "));
            vec!["sh".into(), "-c".into(), script]
        }
    }
}

/// `n` consecutive loopback ports nobody listens on, different for every call in this
/// process.
pub fn free_ports(n: u16) -> u16 {
    static NEXT: AtomicU16 = AtomicU16::new(0);
    let _ = NEXT.compare_exchange(
        0,
        20000 + (std::process::id() % 400) as u16 * 50,
        Ordering::SeqCst,
        Ordering::SeqCst,
    );
    loop {
        let base = NEXT.fetch_add(n, Ordering::SeqCst);
        if (base..base + n).all(|p| std::net::TcpListener::bind(("127.0.0.1", p)).is_ok()) {
            return base;
        }
    }
}

/// A scratch folder for logs and the proxy file.
pub fn scratch(name: &str) -> PathBuf {
    let dir = repo()
        .join("target/launcher-tests")
        .join(format!("{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A config on loopback with `apps`, ports `[first, first + count - 1]` and extra
/// `configuration` keys.
pub fn config(dir: &Path, apps: Value, count: u16, extra: Value) -> Config {
    let first = free_ports(count);
    let mut configuration = json!({
        "host": "127.0.0.1", "port": 0, "endpoint": "launcher",
        "proxy_file": dir.join("proxy.txt"), "sessionURL": "ws://${host}:${port}/ws",
        "timeout": 30, "log_dir": dir.join("logs"), "fields": ["host", "port"],
    });
    for (k, v) in extra.as_object().unwrap() {
        configuration[k] = v.clone();
    }
    let text = format!(
        "// written by tests/launcher.rs\n{}",
        json!({
            "configuration": configuration,
            "resources": [{"host": "127.0.0.1", "port_range": [first, first + count - 1]}],
            "properties": {},
            "apps": apps,
        })
    );
    Config::parse(&text).unwrap()
}

/// One HTTP/1.1 request; returns the status and the JSON body (`Null` if not JSON).
pub async fn http(
    launcher: &Launcher,
    method: &str,
    path: &str,
    body: Option<&str>,
    token: Option<&str>,
) -> (u16, Value) {
    let mut stream = tokio::net::TcpStream::connect(launcher.local_addr())
        .await
        .unwrap();
    let body = body.unwrap_or("");
    let auth = token
        .map(|t| format!("Authorization: Bearer {t}\r\n"))
        .unwrap_or_default();
    let request = format!(
        "{method} {path} HTTP/1.1\r\nHost: launcher\r\nConnection: close\r\n{auth}\
         Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut raw = Vec::new();
    tokio::time::timeout(Duration::from_secs(90), stream.read_to_end(&mut raw))
        .await
        .expect("the launcher answers")
        .unwrap();
    let text = String::from_utf8_lossy(&raw);
    let status = text[9..12].parse().unwrap();
    let json = text
        .split_once("\r\n\r\n")
        .and_then(|(_, b)| serde_json::from_str(b).ok())
        .unwrap_or(Value::Null);
    (status, json)
}

pub async fn post(launcher: &Launcher, body: Value) -> (u16, Value) {
    http(
        launcher,
        "POST",
        "/launcher/",
        Some(&body.to_string()),
        None,
    )
    .await
}

pub async fn add_through(url: &str, secret: &str) -> f64 {
    let transport = wslink::ws::connect(url).await.expect("session reachable");
    let client = Client::connect(transport, secret)
        .await
        .expect("hello accepted with the session secret");
    client
        .call_as("test.add", vec![1.into(), 2.into()])
        .await
        .unwrap()
}

pub fn alive(pid: u32) -> bool {
    // A zombie still has /proc/PID; its state letter is Z.
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .map(|s| !s.contains(") Z "))
        .unwrap_or(false)
}

pub async fn until(what: &str, mut done: impl FnMut() -> bool) {
    let start = Instant::now();
    while !done() {
        assert!(
            start.elapsed() < Duration::from_secs(15),
            "timed out: {what}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

pub fn sleeper() -> Value {
    json!({ "cmd": ["sh", "-c", "printf up; exec sleep 60"], "ready_line": "up" })
}
