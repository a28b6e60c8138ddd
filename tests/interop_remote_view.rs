//! The remote_view example's page in real headless Chromium (Debian `chromium`, driven by
//! playwright-core): vtk.js's own `RemoteView` and the npm wslink client, bundled from
//! the page's lockfile, against the example's server (its `app` module, served here on a
//! free port). Frames arrive and are shown, a drag changes them, the wheel zooms out and
//! back in, the animation's frame rate is measured, and when the page closes its
//! observer is gone from the server. The screenshot is saved to
//! `target/interop-logs/remote-view.png`.

mod common;

#[allow(dead_code)] // the example's parts that only its binary uses
#[path = "../examples/remote_view/app/mod.rs"]
mod app;

use std::time::{Duration, Instant};

use common::peers::{node, page_url, repo, require, serve_ws};
use wslink::server::Server;
use wslink::ws::HttpOptions;

fn observers(app: &app::App) -> usize {
    app.views.stats().iter().map(|v| v.observers).sum()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn remote_view_page_in_chromium_streams_turns_and_lets_go() {
    require("/usr/bin/chromium".into(), "Debian chromium");
    let www = repo().join("examples/remote_view/www");
    require(
        www.join("dist/remote_view.js"),
        "the remote view page's bundle (examples/remote_view/www/build.sh builds it)",
    );
    let (builder, app) = app::install(Server::builder(), app::Limits::default());
    let options = HttpOptions {
        content: Some(www),
        ..HttpOptions::default()
    };
    let (handle, ws_url) = serve_ws(builder, options).await;
    let _streamer = app.start(handle);
    let page = page_url(&ws_url);

    let shot = repo().join("target/interop-logs/remote-view.png");
    std::fs::create_dir_all(shot.parent().unwrap()).unwrap();
    let _ = std::fs::remove_file(&shot);
    let (ok, output) = node(
        "remote_view_browser.js",
        &[&page, shot.to_str().unwrap()],
        Duration::from_secs(150),
    )
    .await;
    println!("{output}");
    assert!(ok, "the remote view page failed in Chromium:\n{output}");
    assert!(output.contains("observer while open: 1"), "{output}");
    let fps: f64 = output
        .lines()
        .find_map(|l| l.strip_prefix("fps: "))
        .and_then(|l| l.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no fps line:\n{output}"));
    assert!(fps > 0.0, "frames per second received: {fps}");
    assert!(
        shot.metadata().map(|m| m.len() > 10_000).unwrap_or(false),
        "a screenshot was saved"
    );

    // The page is closed: the server notices that its observer's connection is gone.
    let deadline = Instant::now() + Duration::from_secs(10);
    while observers(&app) > 0 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(observers(&app), 0, "the closed page's observer is removed");
    let costs = app.costs.snapshot();
    assert!(costs.frames >= 5, "frames were made: {costs:?}");
    assert_eq!(costs.publish_errors, 0, "{costs:?}");
}
