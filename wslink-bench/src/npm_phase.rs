//! The real npm client as load generator (`--npm`): `interop/node/load.js`, the npm
//! `wslink` 2.x client in Node, calls `test.echo` for a fixed time, one at a time and
//! then with `depth` in flight. The tool reads the server's CPU time from `/proc` when
//! the script says it has started and when it is done, and reports the server's CPU per
//! call (CPU ÷ calls) and the client's rate. The Node client saturates a core before any
//! of the servers does, so each message reaches the server alone: the regime of a
//! server that many browsers talk to.
//!
//! It needs Node and the peers that `interop/setup.sh` installs; without them the phase
//! fails with that message, it never passes silently.

use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::Command;

use crate::npm_like::{cpu_now, cpu_since, put_medians, Sample};
use crate::phases::{Results, Target};
use crate::plan::Plan;
use crate::progress::Phases;

/// Checks that Node and the npm wslink 2.x client are there.
pub(crate) fn check(repo: &Path) -> Result<(), String> {
    let node = repo.join("interop/node");
    if !node.join("node_modules/wslink2/package.json").exists() {
        return Err(format!(
            "--npm needs the npm wslink client in {}/node_modules: run interop/setup.sh",
            node.display()
        ));
    }
    match std::process::Command::new("node").arg("--version").output() {
        Ok(out) if out.status.success() => Ok(()),
        _ => Err("--npm needs Node.js (`node` on PATH): run interop/setup.sh".into()),
    }
}

/// Runs the Node phases (sequential, then pipelined) against `t`, `plan.rounds` times each.
pub(crate) async fn run_all(t: &Target, plan: &Plan, repo: &Path, progress: &Phases) -> Results {
    let mut r = Results::default();
    for (key, depth) in [("seq", 1), ("pipe", plan.npm_depth)] {
        let label = if depth == 1 {
            "npm client: sequential echo".to_owned()
        } else {
            format!("npm client: pipelined echo, {depth} in flight")
        };
        progress.start(&label);
        let mut samples = Vec::new();
        for _ in 0..plan.rounds.max(1) {
            match round(t, plan, repo, depth).await {
                Ok(s) => samples.push(s),
                Err(e) => {
                    progress.failed(key, &e);
                    r.notes.push(format!("npm client {key}: {e}"));
                    break;
                }
            }
        }
        if !samples.is_empty() {
            let key = format!("node.{key}");
            put_medians(&mut r, &key, &label, "calls/s", ("µs", 1e6), &samples);
        }
        progress.done();
    }
    r
}

async fn round(t: &Target, plan: &Plan, repo: &Path, depth: usize) -> Result<Sample, String> {
    let script = repo.join("interop/node/load.js");
    let mut child = Command::new("node")
        .arg(&script)
        .arg(&t.url)
        .args(["--secret", &t.secret])
        .args(["--depth", &depth.to_string()])
        .args(["--secs", &plan.secs.to_string()])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| format!("node {}: {e}", script.display()))?;
    let stdout = child.stdout.take().ok_or("node: no stdout")?;
    let mut lines = BufReader::new(stdout).lines();
    let limit = Duration::from_secs_f64(plan.secs + 60.0);
    let outcome = tokio::time::timeout(limit, async {
        let mut before = None;
        while let Some(line) = lines.next_line().await.map_err(|e| e.to_string())? {
            if line == "STARTED" {
                before = cpu_now(t.pid);
            } else if let Some(json) = line.strip_prefix("DONE ") {
                let cpu = cpu_since(t.pid, before);
                let done: serde_json::Value =
                    serde_json::from_str(json).map_err(|e| format!("load.js: {e}: {json}"))?;
                let calls = done["calls"].as_f64().unwrap_or(0.0);
                let secs = done["secs"].as_f64().unwrap_or(0.0);
                return Ok(Sample {
                    ops: calls,
                    secs,
                    cpu,
                });
            }
        }
        Err("load.js ended without DONE".to_owned())
    })
    .await
    .map_err(|_| format!("load.js: no result within {limit:?}"))
    .and_then(|r| r);
    let status = tokio::time::timeout(Duration::from_secs(10), child.wait()).await;
    let mut stderr = String::new();
    if let Some(mut err) = child.stderr.take() {
        use tokio::io::AsyncReadExt;
        let _ = tokio::time::timeout(Duration::from_secs(2), err.read_to_string(&mut stderr)).await;
    }
    match (outcome, status) {
        (Ok(sample), Ok(Ok(s))) if s.success() && sample.ops > 0.0 => Ok(sample),
        (Ok(_), _) => Err(format!("load.js failed: {}", stderr.trim())),
        (Err(e), _) => Err(format!("{e} {}", stderr.trim())),
    }
}
