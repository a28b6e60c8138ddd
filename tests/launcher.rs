//! The launcher (`wslink-launcher`) starting real wslink servers, one per session.
//!
//! The launcher runs in the test process, as a library. The sessions it starts are
//! real child processes:
//!
//! * **our test server**: this very test binary, re-run as a child with the filter
//!   `launcher_child_server` and the environment variable `WSLINK_LAUNCHER_TEST_CHILD`
//!   (set through `env`, so the launcher still runs a plain command line without a
//!   shell). In that mode the test `launcher_child_server` serves the test protocol
//!   with `wslink::cli::run` — the same code as `examples/test_server.rs` — on the
//!   templated port and secret, and prints `wslink: Starting factory ws://…`. No
//!   extra build step, no cargo-in-cargo, nothing to skip;
//! * **the Python test server** on the real PyPI wslink 2.6.0
//!   (`interop/run_python_server.sh 2 PORT SECRET`), which writes its ready text
//!   without a newline;
//! * `sh`/`sleep` one-liners for timeouts, crashes, exhaustion and reaping.
//!
//! The real npm wslink 2.x `SmartConnect` (`interop/node/launcher_smartconnect.js`) is
//! given only the launcher URL and must get a session and call through it. A missing
//! peer (virtualenv, node_modules) fails with an install hint; nothing is skipped.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU16, Ordering};
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use wslink::client::Client;
use wslink_launcher::{Config, Launcher};

const CHILD_ENV: &str = "WSLINK_LAUNCHER_TEST_CHILD";
const READY: &str = "wslink: Starting factory";

/// Child mode: serve the test protocol as `examples/test_server` does. In a normal run
/// (variable unset) this test does nothing.
#[test]
fn launcher_child_server() {
    use clap::Parser;
    use wslink::cli::{run, ServerArgs};
    use wslink::server::{test_protocol, Server};

    #[derive(Parser)]
    struct ChildCli {
        #[command(flatten)]
        server: ServerArgs,
    }

    let Ok(spec) = std::env::var(CHILD_ENV) else {
        return;
    };
    // "PORT SECRET [DELAY_MS]"
    let parts: Vec<&str> = spec.split(' ').collect();
    if let Some(ms) = parts.get(2) {
        std::thread::sleep(Duration::from_millis(ms.parse().unwrap()));
    }
    let cli = ChildCli::parse_from([
        "test_server",
        "--host",
        "127.0.0.1",
        "--port",
        parts[0],
        "--authKey",
        parts[1],
        "--timeout",
        "0",
    ]);
    let server = Server::builder()
        .router(test_protocol::router())
        .router(test_protocol::chat::router("Rust server"));
    tokio::runtime::Runtime::new()
        .unwrap()
        .block_on(run(server, cli.server))
        .unwrap();
}

/// The command line that runs this binary as a session server.
fn rust_app(delay_ms: Option<u64>) -> Vec<String> {
    let exe = std::env::current_exe().unwrap();
    let spec = match delay_ms {
        Some(ms) => format!("{CHILD_ENV}=${{port}} ${{secret}} {ms}"),
        None => format!("{CHILD_ENV}=${{port}} ${{secret}}"),
    };
    vec![
        "env".into(),
        spec,
        exe.display().to_string(),
        "launcher_child_server".into(),
        "--exact".into(),
        "--nocapture".into(),
        "--test-threads=1".into(),
    ]
}

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn require(path: PathBuf, what: &str) -> PathBuf {
    assert!(
        path.exists(),
        "{what} is missing ({}): run `bash interop/setup.sh` (scripts/test.sh does)",
        path.display()
    );
    path
}

/// `n` consecutive loopback ports nobody listens on, different for every call in this
/// process.
fn free_ports(n: u16) -> u16 {
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
fn scratch(name: &str) -> PathBuf {
    let dir = repo()
        .join("target/launcher-tests")
        .join(format!("{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A config on loopback with `apps`, ports `[first, first + count - 1]` and extra
/// `configuration` keys.
fn config(dir: &Path, apps: Value, count: u16, extra: Value) -> Config {
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
async fn http(
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

async fn post(launcher: &Launcher, body: Value) -> (u16, Value) {
    http(
        launcher,
        "POST",
        "/launcher/",
        Some(&body.to_string()),
        None,
    )
    .await
}

async fn add_through(url: &str, secret: &str) -> f64 {
    let transport = wslink::ws::connect(url).await.expect("session reachable");
    let client = Client::connect(transport, secret)
        .await
        .expect("hello accepted with the session secret");
    client
        .call_as("test.add", vec![1.into(), 2.into()])
        .await
        .unwrap()
}

fn alive(pid: u32) -> bool {
    // A zombie still has /proc/PID; its state letter is Z.
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .map(|s| !s.contains(") Z "))
        .unwrap_or(false)
}

async fn until(what: &str, mut done: impl FnMut() -> bool) {
    let start = Instant::now();
    while !done() {
        assert!(
            start.elapsed() < Duration::from_secs(15),
            "timed out: {what}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn sleeper() -> Value {
    json!({ "cmd": ["sh", "-c", "printf up; exec sleep 60"], "ready_line": "up" })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rust_test_server_session_from_post_to_delete() {
    let dir = scratch("rust");
    let apps = json!({ "rust": { "cmd": rust_app(None), "ready_line": READY } });
    let cfg = config(
        &dir,
        apps,
        2,
        json!({"enable_get": true, "enable_delete": true}),
    );
    let launcher = Launcher::start(cfg).await.unwrap();

    let (status, session) = post(&launcher, json!({"application": "rust"})).await;
    assert_eq!(status, 200, "{session}");
    let id = session["id"].as_str().unwrap().to_owned();
    let port = session["port"].as_u64().unwrap();
    let secret = session["secret"]
        .as_str()
        .expect("secret used in cmd is returned");
    assert_eq!(secret.len(), 16);
    assert_eq!(session["host"], "127.0.0.1");
    assert_eq!(session["sessionURL"], format!("ws://127.0.0.1:{port}/ws"));
    assert!(session.get("cmd").is_none());
    assert_eq!(
        add_through(session["sessionURL"].as_str().unwrap(), secret).await,
        3.0
    );

    let proxy = std::fs::read_to_string(dir.join("proxy.txt")).unwrap();
    assert_eq!(proxy, format!("{id} 127.0.0.1:{port}\n"));
    let log = std::fs::read_to_string(dir.join(format!("logs/{id}.txt"))).unwrap();
    assert!(log.contains(READY), "{log}");

    let (status, got) = http(&launcher, "GET", &format!("/launcher/{id}"), None, None).await;
    assert_eq!((status, &got), (200, &session));
    let (status, gone) = http(&launcher, "DELETE", &format!("/launcher//{id}"), None, None).await;
    assert_eq!(status, 200, "{gone}");
    assert_eq!(gone["id"], id.as_str());
    assert!(
        gone.get("secret").is_none() && gone.get("cmd").is_none(),
        "{gone}"
    );
    assert!(!gone.to_string().contains(secret), "{gone}");
    let missing = json!({ "error": format!("No session with id: {id}") });
    let (status, body) = http(&launcher, "GET", &format!("/launcher/{id}"), None, None).await;
    assert_eq!((status, body), (404, missing.clone()));
    let (status, body) = http(&launcher, "DELETE", &format!("/launcher/{id}"), None, None).await;
    assert_eq!((status, body), (404, missing));
    assert!(launcher.manager().sessions().is_empty());
    assert_eq!(launcher.manager().free_ports(), 2);
    assert_eq!(std::fs::read_to_string(dir.join("proxy.txt")).unwrap(), "");
    launcher.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_wslink_2_session_and_clean_shutdown() {
    require(
        repo().join("interop/.venv2/bin/python"),
        "the Python wslink 2 virtualenv",
    );
    let dir = scratch("python");
    let script = repo().join("interop/run_python_server.sh");
    let apps = json!({ "python": {
        "cmd": ["bash", script, "2", "${port}", "${secret}"],
        // 2.x writes this without a newline.
        "ready_line": READY,
    }});
    let cfg = config(&dir, apps, 1, json!({"timeout": 60}));
    let launcher = Launcher::start(cfg).await.unwrap();
    let (status, session) = post(&launcher, json!({"application": "python"})).await;
    assert_eq!(status, 200, "{session}");
    let secret = session["secret"].as_str().unwrap();
    assert_eq!(
        add_through(session["sessionURL"].as_str().unwrap(), secret).await,
        3.0
    );

    let pid = launcher.manager().sessions()[0].pid.unwrap();
    assert!(alive(pid));
    let manager = launcher.manager().clone();
    launcher.shutdown().await;
    assert!(!alive(pid), "shutdown stops the sessions");
    assert!(manager.sessions().is_empty());
    let (status, body) = (manager.start(json!({"application": "python"}).as_object().unwrap()))
        .await
        .map(|_| (200, Value::Null))
        .unwrap_or_else(|e| (e.status().as_u16(), e.body()));
    assert_eq!(status, 503, "{body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_application_takes_no_port_then_exhaustion_is_503() {
    let dir = scratch("exhaust");
    let cfg = config(&dir, json!({ "sleeper": sleeper() }), 2, json!({}));
    let launcher = Launcher::start(cfg).await.unwrap();

    for _ in 0..3 {
        let (status, body) = post(&launcher, json!({"application": "nope"})).await;
        assert_eq!(
            (status, body),
            (404, json!({"error": "Unknown application: nope"}))
        );
    }
    let incomplete = json!({"error": "The request is not complete"});
    let (status, body) = post(&launcher, json!({"app": "sleeper"})).await;
    assert_eq!((status, body), (400, incomplete.clone()));
    let (status, body) = http(&launcher, "POST", "/launcher/", Some("{oops"), None).await;
    assert_eq!((status, body), (400, incomplete));
    assert_eq!(launcher.manager().free_ports(), 2, "no port leaked");

    let mut ports = Vec::new();
    for _ in 0..2 {
        let (status, body) = post(&launcher, json!({"application": "sleeper"})).await;
        assert_eq!(status, 200, "{body}");
        assert!(
            body.get("secret").is_none(),
            "secret not in cmd: not returned"
        );
        ports.push(body["port"].as_u64().unwrap());
    }
    assert_ne!(ports[0], ports[1]);
    let (status, body) = post(&launcher, json!({"application": "sleeper"})).await;
    assert_eq!(
        (status, body),
        (
            503,
            json!({"error": "All the resources are currently taken"})
        )
    );
    launcher.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn start_timeout_is_503_and_the_child_is_killed() {
    let dir = scratch("timeout");
    let pid_file = dir.join("pid");
    let apps = json!({
        // `$$` is a literal `$` in templates: the shell sees `echo $$`.
        "slow": { "cmd": ["sh", "-c", format!("echo $$$$ > {}; exec sleep 60", pid_file.display())],
                  "ready_line": "never printed" },
        "crash": { "cmd": ["sh", "-c", "echo bye; exit 1"], "ready_line": "never printed" },
        "missing": { "cmd": ["/nonexistent/server", "${port}"] },
    });
    let cfg = config(&dir, apps, 1, json!({"timeout": 1}));
    let launcher = Launcher::start(cfg).await.unwrap();

    let started = Instant::now();
    let (status, body) = post(&launcher, json!({"application": "slow"})).await;
    assert_eq!(
        (status, body),
        (
            503,
            json!({"error": "Session did not start before timeout expired. Check session logs."})
        )
    );
    assert!(started.elapsed() < Duration::from_secs(10));
    let pid: u32 = std::fs::read_to_string(&pid_file)
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    assert!(!alive(pid), "the timed-out child is killed and reaped");
    assert!(launcher.manager().sessions().is_empty());
    assert_eq!(launcher.manager().free_ports(), 1);

    let (status, body) = post(&launcher, json!({"application": "crash"})).await;
    assert_eq!(
        (status, body),
        (
            503,
            json!({"error": "The process did not properly start. sh"})
        )
    );
    let (status, body) = post(&launcher, json!({"application": "missing"})).await;
    assert_eq!(
        (status, body),
        (
            503,
            json!({"error": "The process did not properly start. /nonexistent/server"})
        )
    );
    assert_eq!(
        launcher.manager().free_ports(),
        1,
        "failures give the port back"
    );
    launcher.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn app_without_ready_line_is_ready_when_its_port_accepts() {
    let dir = scratch("noready");
    // The server waits 1.5 s before it binds; no ready_line configured.
    let apps = json!({ "rust": { "cmd": rust_app(Some(1500)) } });
    let cfg = config(&dir, apps, 1, json!({"timeout": 30}));
    let launcher = Launcher::start(cfg).await.unwrap();
    let started = Instant::now();
    let (status, session) = post(&launcher, json!({"application": "rust"})).await;
    assert_eq!(status, 200, "{session}");
    assert!(started.elapsed() >= Duration::from_millis(1500));
    assert!(started.elapsed() < Duration::from_secs(20));
    let url = session["sessionURL"].as_str().unwrap();
    assert_eq!(
        add_through(url, session["secret"].as_str().unwrap()).await,
        3.0
    );
    launcher.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exited_sessions_are_reaped_and_their_port_reused() {
    let dir = scratch("reap");
    let cfg = config(&dir, json!({ "sleeper": sleeper() }), 1, json!({}));
    let launcher = Launcher::start(cfg).await.unwrap();
    let (status, first) = post(&launcher, json!({"application": "sleeper"})).await;
    assert_eq!(status, 200, "{first}");
    let (status, _) = post(&launcher, json!({"application": "sleeper"})).await;
    assert_eq!(status, 503);

    let pid = launcher.manager().sessions()[0].pid.unwrap();
    let killed = std::process::Command::new("kill")
        .args(["-9", &pid.to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    until("the dead session is reaped", || {
        launcher.manager().sessions().is_empty()
    })
    .await;
    assert_eq!(
        std::fs::read_to_string(dir.join("proxy.txt")).unwrap(),
        "",
        "proxy file rewritten"
    );
    let (status, second) = post(&launcher, json!({"application": "sleeper"})).await;
    assert_eq!(status, 200, "{second}");
    assert_eq!(second["port"], first["port"], "the port came back");
    assert_ne!(second["id"], first["id"]);
    launcher.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shared_token_protects_the_api_not_the_static_files() {
    let dir = scratch("token");
    std::fs::create_dir_all(dir.join("www")).unwrap();
    std::fs::write(dir.join("www/index.html"), "<p>hi</p>").unwrap();
    let cfg = config(
        &dir,
        json!({ "sleeper": sleeper() }),
        1,
        json!({"auth_token": "t0k3n", "enable_get": true, "content": dir.join("www")}),
    );
    let launcher = Launcher::start(cfg).await.unwrap();
    let body = json!({"application": "sleeper"}).to_string();
    let refused = json!({"error": "Authentication required"});
    for token in [None, Some("wrong"), Some("t0k3n0"), Some("T0K3N")] {
        let (status, answer) = http(&launcher, "POST", "/launcher/", Some(&body), token).await;
        assert_eq!((status, &answer), (401, &refused), "{token:?}");
    }
    assert_eq!(launcher.manager().free_ports(), 1);
    let (status, session) = http(&launcher, "POST", "/launcher/", Some(&body), Some("t0k3n")).await;
    assert_eq!(status, 200, "{session}");
    let item = format!("/launcher/{}", session["id"].as_str().unwrap());
    assert_eq!(http(&launcher, "GET", &item, None, None).await.0, 401);
    assert_eq!(
        http(&launcher, "GET", &item, None, Some("t0k3n")).await.0,
        200
    );
    // DELETE is not enabled: not an API route, so the static files answer it.
    let (status, _) = http(&launcher, "DELETE", &item, None, Some("t0k3n")).await;
    assert_eq!(status, 405);
    assert_eq!(http(&launcher, "GET", "/", None, None).await.0, 200);
    launcher.shutdown().await;
}

async fn node(args: &[&str]) -> (bool, String) {
    let dir = repo().join("interop/node");
    require(
        dir.join("node_modules/wslink2/package.json"),
        "the npm wslink client",
    );
    let run = tokio::process::Command::new("node")
        .arg("launcher_smartconnect.js")
        .args(args)
        .current_dir(&dir)
        .kill_on_drop(true)
        .output();
    let out = tokio::time::timeout(Duration::from_secs(90), run)
        .await
        .expect("node finishes")
        .expect("node runs (is Node.js installed?)");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn js_smartconnect_gets_a_session_from_the_launcher() {
    let dir = scratch("smartconnect");
    let apps = json!({ "rust": { "cmd": rust_app(None), "ready_line": READY } });
    // The client replaces USE_HOSTNAME with the page's host name itself.
    let cfg = config(
        &dir,
        apps,
        2,
        json!({"auth_token": "js-token", "sessionURL": "ws://USE_HOSTNAME:${port}/ws"}),
    );
    let launcher = Launcher::start(cfg).await.unwrap();
    let url = launcher.url();

    let (ok, out) = node(&[
        "--launcher",
        &url,
        "--application",
        "rust",
        "--token",
        "js-token",
    ])
    .await;
    assert!(ok, "{out}");
    assert!(out.contains(r#""sum":3"#), "{out}");
    assert!(
        out.contains("ws://127.0.0.1:"),
        "USE_HOSTNAME replaced: {out}"
    );

    let (ok, out) = node(&[
        "--launcher",
        &url,
        "--application",
        "nope",
        "--token",
        "js-token",
        "--expect-error",
        "Unknown application: nope",
    ])
    .await;
    assert!(ok, "{out}");
    launcher.shutdown().await;
}
