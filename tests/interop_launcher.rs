//! The launcher (`wslink-launcher`) with the real peers (feature `interop`): a session on
//! the Python test server on the real PyPI wslink 2.6.0
//! (`interop/run_python_server.sh 2 PORT SECRET`, whose ready text has no newline), and
//! the real npm wslink 2.x `SmartConnect` (`interop/node/launcher_smartconnect.js`), given
//! only the launcher URL, getting a session on our test server and calling through it. A
//! missing peer (virtualenv, node_modules) fails with an install hint; nothing is skipped.

mod common;

use std::time::Duration;

use common::launcher::{add_through, alive, config, post, rust_app, scratch, READY};
use common::peers::{node, repo, require};
use serde_json::{json, Value};
use wslink_launcher::Launcher;

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

/// Runs `interop/node/launcher_smartconnect.js ARGS`.
async fn smartconnect(args: &[&str]) -> (bool, String) {
    node("launcher_smartconnect.js", args, Duration::from_secs(90)).await
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

    let (ok, out) = smartconnect(&[
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

    let (ok, out) = smartconnect(&[
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
