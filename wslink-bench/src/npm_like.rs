//! The npm-like phases: each server (ours, the bare server, Python) under the lean client
//! ([`crate::lean`]), which sends like the npm client (one message per write, no
//! batching). Every phase reports the server's CPU per operation from `/proc` (µs of
//! server CPU per call, publication received, connection or transfer) and a rate; each
//! runs `rounds` times and the figures are medians over the rounds.

use std::time::{Duration, Instant};

use rmpv::Value;
use tokio::task::JoinSet;

use crate::lean::{Incoming, Lean};
use crate::phases::{size_label, Results, Target};
use crate::plan::Plan;
use crate::progress::Phases;
use crate::sys;

const TOPIC: &str = "bench.npm";

/// One round of one phase: operations done, wall seconds, server CPU seconds.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Sample {
    pub(crate) ops: f64,
    pub(crate) secs: f64,
    pub(crate) cpu: Option<f64>,
}

/// Server CPU seconds of `pid` since `before` (a reading of [`cpu_now`]).
pub(crate) fn cpu_since(pid: Option<u32>, before: Option<f64>) -> Option<f64> {
    Some(cpu_now(pid)? - before?)
}

/// The server's CPU seconds now, to the nanosecond ([`sys::cpu_secs_fine`]).
pub(crate) fn cpu_now(pid: Option<u32>) -> Option<f64> {
    sys::cpu_secs_fine(pid?)
}

pub(crate) fn median(mut values: Vec<f64>) -> f64 {
    values.retain(|v| v.is_finite());
    if values.is_empty() {
        return f64::NAN;
    }
    values.sort_by(f64::total_cmp);
    let mid = values.len() / 2;
    if values.len() % 2 == 1 {
        values[mid]
    } else {
        (values[mid - 1] + values[mid]) / 2.0
    }
}

/// Puts the medians of `samples` as two rows: `KEY.cpu` (server CPU per op, in `unit`,
/// `scale` per second) and `KEY.rate` (ops per second).
pub(crate) fn put_medians(
    r: &mut Results,
    key: &str,
    label: &str,
    what: &'static str,
    (unit, scale): (&'static str, f64),
    samples: &[Sample],
) {
    let cpu: Vec<f64> = samples
        .iter()
        .filter_map(|s| s.cpu.map(|c| c * scale / s.ops))
        .collect();
    if !cpu.is_empty() {
        r.put(format!("{key}.cpu"), label.to_owned(), unit, median(cpu));
    }
    let rates = samples.iter().map(|s| s.ops / s.secs.max(1e-9)).collect();
    r.put(format!("{key}.rate"), "  rate", what, median(rates));
}

/// The npm-like steps of `plan`: (key, label).
pub(crate) fn steps(plan: &Plan) -> Vec<(&'static str, String)> {
    let mut steps = Vec::new();
    let wants = |p: &str| plan.phases.iter().any(|x| x == p);
    if wants("seq") {
        steps.push(("seq", "sequential echo".to_owned()));
    }
    if wants("pipe") {
        steps.push((
            "pipe",
            format!("pipelined echo, {} in flight", plan.npm_depth),
        ));
    }
    if wants("pub") {
        steps.push(("pub", "publication, 100 B, to one client".to_owned()));
    }
    if wants("fanout") {
        steps.push((
            "fanout",
            format!("fan-out, 100 B, to {} clients", plan.fanout),
        ));
    }
    if wants("conn") {
        steps.push(("conn", "connect + hello + close".to_owned()));
    }
    if wants("bin") {
        let size = size_label(plan.npm_bulk);
        steps.push(("down", format!("{size} binary result")));
        steps.push(("up", format!("{size} binary upload")));
    }
    steps
}

/// Runs the npm-like phases against `t`, each `plan.rounds` times.
pub(crate) async fn run_all(t: &Target, plan: &Plan, progress: &Phases) -> Results {
    let mut r = Results::default();
    for (key, label) in steps(plan) {
        progress.start(&format!("npm-like: {label}"));
        let mut samples = Vec::new();
        for _ in 0..plan.rounds.max(1) {
            match round(t, plan, key).await {
                Ok(s) => samples.push(s),
                Err(e) => {
                    progress.failed(key, &e);
                    r.notes.push(format!("npm-like {key}: {e}"));
                    break;
                }
            }
        }
        if !samples.is_empty() {
            let (what, unit) = match key {
                "seq" | "pipe" => ("calls/s", ("µs", 1e6)),
                "pub" | "fanout" => ("msgs/s rcvd", ("µs", 1e6)),
                "conn" => ("conn/s", ("µs", 1e6)),
                _ => ("transfers/s", ("ms", 1e3)),
            };
            put_medians(&mut r, &format!("npm.{key}"), &label, what, unit, &samples);
        }
        progress.done();
    }
    r
}

async fn round(t: &Target, plan: &Plan, key: &str) -> Result<Sample, String> {
    let secs = Duration::from_secs_f64(plan.secs);
    match key {
        "seq" => calls(t, 1, secs, plan.seq_max).await,
        "pipe" => calls(t, plan.npm_depth, secs, plan.pipe_max).await,
        "pub" => publications(t, plan, 1).await,
        "fanout" => publications(t, plan, plan.fanout).await,
        "conn" => connections(t, secs, plan.conn_max).await,
        "down" => bulk(t, plan, true).await,
        _ => bulk(t, plan, false).await,
    }
}

fn echo_payload() -> Value {
    Value::from("x".repeat(32))
}

/// `test.echo` calls with `depth` in flight on one connection, for `secs` or `max` calls.
async fn calls(t: &Target, depth: usize, secs: Duration, max: u64) -> Result<Sample, String> {
    let mut lean = Lean::connect(&t.url, &t.secret).await?;
    for _ in 0..50 {
        lean.call("test.echo", vec![echo_payload()]).await?;
    }
    let before = cpu_now(t.pid);
    let start = Instant::now();
    let deadline = start + secs;
    let (mut sent, mut done) = (0u64, 0u64);
    while sent < depth as u64 {
        lean.tx.send("test.echo", vec![echo_payload()]).await?;
        sent += 1;
    }
    while done < sent {
        match lean.rx.recv().await? {
            Incoming::Reply(_, Ok(_)) => done += 1,
            Incoming::Reply(_, Err(e)) => return Err(format!("test.echo: {e}")),
            Incoming::Publication(_) => continue,
        }
        if sent < max && Instant::now() < deadline {
            lean.tx.send("test.echo", vec![echo_payload()]).await?;
            sent += 1;
        }
    }
    let secs = start.elapsed().as_secs_f64();
    let cpu = cpu_since(t.pid, before);
    lean.close().await;
    Ok(Sample {
        ops: done as f64,
        secs,
        cpu,
    })
}

/// Publications of 100 bytes to each of `subs` connections, as many as arrive in about
/// `plan.secs` (a short probe sizes the measured burst); counts what arrives.
async fn publications(t: &Target, plan: &Plan, subs: usize) -> Result<Sample, String> {
    let mut conns = Vec::with_capacity(subs);
    for _ in 0..subs {
        conns.push(Lean::connect(&t.url, &t.secret).await?);
    }
    let probe = (2000 / subs as u64).clamp(5, 200);
    let (sample, conns) = burst(t, conns, probe).await?;
    let per_sec = sample.ops / sample.secs.max(1e-6);
    let most = (plan.npm_pub_count / subs as u64).max(5);
    let count = ((per_sec * plan.secs) as u64 / subs as u64).clamp(5, most);
    let (sample, conns) = burst(t, conns, count).await?;
    for lean in conns {
        lean.close().await;
    }
    Ok(sample)
}

/// One burst: the first connection asks for `count` publications, every connection
/// counts them; the connections come back for the next burst.
async fn burst(
    t: &Target,
    mut conns: Vec<Lean>,
    count: u64,
) -> Result<(Sample, Vec<Lean>), String> {
    let subs = conns.len() as u64;
    let mut control = conns.remove(0);
    let before = cpu_now(t.pid);
    let start = Instant::now();
    let deadline = start + Duration::from_secs(60);
    let mut set = JoinSet::new();
    for mut lean in conns {
        set.spawn(async move {
            let n = receive(&mut lean, count, None, deadline).await?;
            Ok::<_, String>((n, lean))
        });
    }
    let args = vec![TOPIC.into(), count.into(), 100u64.into()];
    let n = control.tx.send("test.publish", args).await?;
    let mut got = receive(&mut control, count, Some(n), deadline).await?;
    let mut last = Instant::now();
    let mut back = vec![control];
    while let Some(joined) = set.join_next().await {
        let (n, lean) = joined.map_err(|e| e.to_string())??;
        got += n;
        back.push(lean);
        last = Instant::now();
    }
    let secs = last.duration_since(start).as_secs_f64();
    let cpu = cpu_since(t.pid, before);
    if got < count * subs {
        return Err(format!("{got} of {} publications arrived", count * subs));
    }
    Ok((
        Sample {
            ops: got as f64,
            secs,
            cpu,
        },
        back,
    ))
}

/// Receives until `count` publications on the phase's topic (and the reply to call
/// `reply`, when given) came, or `deadline`.
async fn receive(
    lean: &mut Lean,
    count: u64,
    mut reply: Option<u64>,
    deadline: Instant,
) -> Result<u64, String> {
    let mut n = 0;
    while (n < count || reply.is_some()) && Instant::now() < deadline {
        match lean.rx.recv().await? {
            Incoming::Publication(topic) if topic == TOPIC => n += 1,
            Incoming::Reply(got, result) if Some(got) == reply => {
                result.map_err(|e| format!("test.publish: {e}"))?;
                reply = None;
            }
            _ => {}
        }
    }
    Ok(n)
}

/// Connect, hello and close, one after another, for `secs` or `max` connections.
async fn connections(t: &Target, secs: Duration, max: u64) -> Result<Sample, String> {
    let before = cpu_now(t.pid);
    let start = Instant::now();
    let mut n = 0u64;
    while n < max && start.elapsed() < secs {
        Lean::connect(&t.url, &t.secret).await?.close().await;
        n += 1;
    }
    let secs = start.elapsed().as_secs_f64();
    Ok(Sample {
        ops: n as f64,
        secs,
        cpu: cpu_since(t.pid, before),
    })
}

/// `test.bytes(size)` (`down`) or `test.byte_len(blob)` (up), for `secs` (at least once).
async fn bulk(t: &Target, plan: &Plan, down: bool) -> Result<Sample, String> {
    let size = plan.npm_bulk;
    let blob = Value::Binary(crate::protocol::pattern_bytes(size).to_vec());
    let mut lean = Lean::connect(&t.url, &t.secret).await?;
    let before = cpu_now(t.pid);
    let start = Instant::now();
    let deadline = start + Duration::from_secs_f64(plan.secs);
    let mut n = 0u64;
    while n < plan.bin_max_iters && (n == 0 || Instant::now() < deadline) {
        let len = if down {
            match lean.call("test.bytes", vec![(size as u64).into()]).await? {
                Value::Binary(b) => b.len(),
                other => return Err(format!("test.bytes: {other}")),
            }
        } else {
            let reply = lean.call("test.byte_len", vec![blob.clone()]).await?;
            crate::wire::get(&reply, "len")
                .and_then(Value::as_u64)
                .unwrap_or(0) as usize
        };
        if len != size {
            return Err(format!("expected {size} bytes, got {len}"));
        }
        n += 1;
    }
    let secs = start.elapsed().as_secs_f64();
    let cpu = cpu_since(t.pid, before);
    lean.close().await;
    Ok(Sample {
        ops: n as f64,
        secs,
        cpu,
    })
}
