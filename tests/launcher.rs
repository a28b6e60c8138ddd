//! The launcher (`wslink-launcher`) starting real wslink servers, one per session.
//!
//! The launcher runs in the test process, as a library. The sessions it starts are
//! real child processes:
//!
//! * **our test server**: the `wslink-test-server` binary of this package (cargo builds
//!   it for these tests), on the templated port and secret; it prints
//!   `wslink: Starting factory ws://…` once it listens;
//! * `sh`/`sleep` one-liners for timeouts, crashes, exhaustion and reaping.
//!
//! The sessions on the real Python wslink and the npm `SmartConnect` client are in
//! `interop_launcher.rs` (feature `interop`).

mod common;

use std::time::{Duration, Instant};

use common::launcher::{
    add_through, alive, config, http, post, rust_app, scratch, sleeper, until, READY,
};
use serde_json::json;
use wslink_launcher::Launcher;

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
