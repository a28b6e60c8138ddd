//! The remote_view example under load from real browsers: 1 and 10 headless Chromium
//! pages (vtk.js `RemoteView`) watching one animated view, at 640×480 and 1280×720.
//!
//! For each case it reports the frames per second each page displays, the frames per
//! second the server made, and the server's CPU time per frame, split into rendering,
//! JPEG encoding, and the rest: wslink's part (msgpack, the WebSocket writes to every
//! page, the runtime), measured as the process's CPU time less render and encode (render
//! and encode are read per frame from the thread's schedstat, in nanoseconds; the
//! process's time from `/proc/self/stat`, in 10 ms ticks, so short runs are coarse). The
//! server runs in this process (the example's `app` module), so `/proc/self/stat` is the
//! server's CPU time; Chromium runs in its own processes, on the same cores.
//!
//! ```text
//! cargo bench --features interop --bench remote_view              # 10 s per case
//! cargo bench --features interop --bench remote_view -- --quick   # 1 s per case (smoke)
//! cargo bench --features interop --bench remote_view -- --seconds 10 --fps 60
//! ```
//! Needs what the interop tests need (`interop/setup.sh --browser`) and the page built
//! (`examples/remote_view/www/build.sh`). Figures only; nothing is asserted but that
//! frames arrived. Under `cargo test` (no `--bench` argument) one short case runs.
#![allow(missing_docs)]

#[allow(dead_code, unused_imports)] // the example's parts that only its binary uses; its unit tests do not run here
#[path = "../examples/remote_view/app/mod.rs"]
mod app;

use std::path::PathBuf;
use std::time::Duration;

use wslink::server::Server;
use wslink::ws::{HttpOptions, WsListener};

/// One measured case.
struct Case {
    width: u16,
    height: u16,
    clients: usize,
}

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn flag(args: &[String], name: &str) -> Option<f64> {
    let at = args.iter().position(|a| a == name)?;
    args.get(at + 1)?.parse().ok()
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let under_cargo_test = !args.iter().any(|a| a == "--bench");
    let quick = args.iter().any(|a| a == "--quick");
    let seconds =
        flag(&args, "--seconds").unwrap_or(if quick || under_cargo_test { 1.0 } else { 10.0 });
    let fps = flag(&args, "--fps").unwrap_or(60.0);
    let mut cases = Vec::new();
    for (width, height) in [(640, 480), (1280, 720)] {
        for clients in [1, 10] {
            cases.push(Case {
                width,
                height,
                clients,
            });
        }
    }
    if under_cargo_test {
        cases.truncate(1);
    }
    for needed in [
        PathBuf::from("/usr/bin/chromium"),
        repo().join("examples/remote_view/www/dist/remote_view.js"),
        repo().join("interop/node/node_modules/playwright-core"),
    ] {
        assert!(
            needed.exists(),
            "{} is missing: run interop/setup.sh --browser and examples/remote_view/www/build.sh",
            needed.display()
        );
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a runtime");
    println!(
        "remote_view: {seconds} s per case, fps limit {fps}, one view shared by every page, JPEG quality 90"
    );
    println!(
        "{:>9} {:>7} | {:>10} {:>10} | {:>9} {:>9} {:>9} {:>9} | {:>8}",
        "size",
        "clients",
        "page fps",
        "server fps",
        "cpu/frame",
        "render",
        "encode",
        "wslink",
        "KiB/frame"
    );
    for case in &cases {
        let row = runtime.block_on(measure(case, seconds, fps));
        println!("{row}");
    }
}

/// Serves the example on a free port, runs the browsers, returns the table row.
async fn measure(case: &Case, seconds: f64, fps: f64) -> String {
    let (builder, app) = app::install(Server::builder(), app::Limits::default());
    let options = HttpOptions {
        content: Some(repo().join("examples/remote_view/www")),
        ..HttpOptions::default()
    };
    let listener = WsListener::bind("127.0.0.1:0", options)
        .await
        .expect("bind loopback");
    let page = format!("http://{}/", listener.local_addr());
    let server = builder.build();
    let handle = server.handle();
    let streamer = app.start(handle.clone());
    tokio::spawn(server.serve(listener));

    let run = tokio::process::Command::new("node")
        .arg("remote_view_bench.js")
        .args([
            page.clone(),
            case.clients.to_string(),
            seconds.to_string(),
            case.width.to_string(),
            case.height.to_string(),
            fps.to_string(),
        ])
        .current_dir(repo().join("interop/node"))
        .kill_on_drop(true)
        .output();
    let limit = Duration::from_secs_f64(90.0 + seconds * 2.0);
    let output = tokio::time::timeout(limit, run)
        .await
        .expect("the browsers finish in time")
        .expect("node runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "remote_view_bench.js failed:\n{stdout}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    handle.shutdown();
    streamer.abort();
    let line = stdout.lines().last().unwrap_or_default();
    let result: serde_json::Value = serde_json::from_str(line).expect("a JSON result line");
    row(case, seconds, &result)
}

/// The table row of one case's result.
fn row(case: &Case, seconds: f64, result: &serde_json::Value) -> String {
    let pages = result["pages"].as_array().expect("pages");
    let page_fps: Vec<f64> = pages
        .iter()
        .map(|p| {
            p["frames"].as_f64().unwrap_or(0.0) * 1000.0 / p["ms"].as_f64().unwrap_or(f64::INFINITY)
        })
        .collect();
    assert!(
        page_fps.iter().all(|f| *f > 0.0),
        "every page got frames: {page_fps:?}"
    );
    let mean_fps = page_fps.iter().sum::<f64>() / page_fps.len() as f64;
    let (before, after) = (&result["before"], &result["after"]);
    let delta = |key: &str| {
        after["costs"][key].as_f64().unwrap_or(0.0) - before["costs"][key].as_f64().unwrap_or(0.0)
    };
    let frames = delta("frames").max(1.0);
    let cpu_ms = after["processCpuMs"].as_f64().unwrap_or(0.0)
        - before["processCpuMs"].as_f64().unwrap_or(0.0);
    let (render_ms, encode_ms) = (delta("renderNs") / 1e6, delta("encodeNs") / 1e6);
    let per = |ms: f64| ms / frames;
    format!(
        "{:>9} {:>7} | {:>10.1} {:>10.1} | {:>7.2}ms {:>7.2}ms {:>7.2}ms {:>7.2}ms | {:>8.1}",
        format!("{}x{}", case.width, case.height),
        case.clients,
        mean_fps,
        frames * 1000.0 / result["statsMs"].as_f64().unwrap_or(seconds * 1000.0),
        per(cpu_ms),
        per(render_ms),
        per(encode_ms),
        per((cpu_ms - render_ms - encode_ms).max(0.0)),
        delta("bytes") / frames / 1024.0,
    )
}
