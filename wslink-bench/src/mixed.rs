//! The mixed phase: traffic like a real deployment's. `conns` lean connections
//! ([`crate::lean`], one message per write) each call `test.echo` at `call_hz`, and one
//! more connection asks for a `pub_size`-byte publication `pub_hz` times a second
//! (`test.publish(topic, 1, size)`) that `receivers` of the callers listen to. It reports
//! the server's CPU % over the phase, the calls' latency (p50, p99, p99.9) and the
//! publications delivered per second to the receivers (offered: `pub_hz × receivers`).
//!
//! Where the server says `"subscriptions": true` in its hello (ours, the bare server),
//! the receivers subscribe to the topic and every other connection to a topic nobody
//! publishes on, so publications go to the receivers alone: the bare server sends a
//! connection that subscribed only its topics, and the bench's Rust server declares
//! [`TOPIC`] subscribers-only (`ServerBuilder::subscribers_only`; without it, our server
//! sends a topic to every connection that has no subscription covering that topic). The
//! report counts what the other connections got too. The Python server has no
//! server-side subscriptions: it broadcasts every publication to every connection, as it
//! does for the npm client (the others drop them), and its report says so.
//!
//! Bounded in time (`secs`, plus a fixed grace for the last answers) and in count (each
//! connection has at most one call in flight; a tick that finds one waiting is skipped
//! and counted).

use std::time::{Duration, Instant};

use rmpv::Value;
use tokio::task::JoinSet;
use tokio::time::MissedTickBehavior;

use crate::lean::{Incoming, Lean};
use crate::npm_like::{cpu_now, cpu_since, median};
use crate::phases::{size_label, Results, Target};
use crate::plan::{Mixed, Plan};
use crate::progress::Phases;

/// The topic of the publication stream; subscribers-only on the bench's Rust server.
pub(crate) const TOPIC: &str = "bench.mixed";
const ELSEWHERE: &str = "bench.elsewhere";

/// What one connection saw.
#[derive(Default)]
struct Seen {
    latencies: Vec<u64>,
    delivered: u64,
    skipped: u64,
}

/// Runs the mixed phase against `t`, `plan.rounds` times.
pub(crate) async fn run(t: &Target, plan: &Plan, progress: &Phases) -> Results {
    let m = plan.mixed;
    let mut r = Results::default();
    progress.start(&format!(
        "mixed: {} connections at {} Hz, {} publications at {} Hz to {}",
        m.conns,
        m.call_hz,
        size_label(m.pub_size),
        m.pub_hz,
        m.receivers
    ));
    let mut rounds = Vec::new();
    for _ in 0..plan.rounds.max(1) {
        match round(t, m).await {
            Ok(x) => rounds.push(x),
            Err(e) => {
                progress.failed("mixed", &e);
                r.notes.push(format!("mixed: {e}"));
                break;
            }
        }
    }
    progress.done();
    if rounds.is_empty() {
        return r;
    }
    let pick = |f: &dyn Fn(&Round) -> f64| median(rounds.iter().map(f).collect());
    r.put(
        "mixed.cpu",
        "mixed load: server CPU",
        "%",
        pick(&|x| x.cpu_pct),
    );
    r.put("mixed.p50", "  call latency p50", "µs", pick(&|x| x.p50));
    r.put("mixed.p99", "  call latency p99", "µs", pick(&|x| x.p99));
    r.put(
        "mixed.p999",
        "  call latency p99.9",
        "µs",
        pick(&|x| x.p999),
    );
    r.put(
        "mixed.calls",
        "  calls answered",
        "calls/s",
        pick(&|x| x.calls),
    );
    r.put(
        "mixed.pubs",
        "  publications delivered",
        "msgs/s rcvd",
        pick(&|x| x.pubs),
    );
    r.put(
        "mixed.others",
        "  publications to the other connections",
        "msgs/s rcvd",
        pick(&|x| x.others),
    );
    let skipped = pick(&|x| x.skipped);
    if skipped > 0.0 {
        r.notes.push(format!(
            "mixed: {skipped:.0} ticks per round found the previous call still waiting (skipped)"
        ));
    }
    if rounds.iter().any(|x| !x.filtered) {
        r.notes.push(format!(
            "mixed: {} takes no server-side subscriptions: every publication went to all {} connections",
            t.name,
            m.conns + 1
        ));
    }
    r
}

/// The figures of one round.
struct Round {
    cpu_pct: f64,
    p50: f64,
    p99: f64,
    p999: f64,
    calls: f64,
    pubs: f64,
    others: f64,
    skipped: f64,
    filtered: bool,
}

async fn round(t: &Target, m: Mixed) -> Result<Round, String> {
    let mut conns = Vec::with_capacity(m.conns);
    let mut filtered = true;
    for i in 0..m.conns + 1 {
        let mut lean = Lean::connect(&t.url, &t.secret).await?;
        filtered &= lean.subscriptions;
        if lean.subscriptions {
            let topic = if i < m.receivers { TOPIC } else { ELSEWHERE };
            lean.call("wslink.subscribe", vec![topic.into(), Value::Nil])
                .await?;
        }
        conns.push(lean);
    }
    let publisher = conns.pop().ok_or("no publisher")?;
    let before = cpu_now(t.pid);
    let start = Instant::now() + Duration::from_millis(100);
    let end = start + Duration::from_secs_f64(m.secs);
    let mut set = JoinSet::new();
    let period = Duration::from_secs_f64(1.0 / m.call_hz);
    for (i, lean) in conns.into_iter().enumerate() {
        // Spread the connections' ticks over one period.
        let first = start + period.mul_f64(i as f64 / m.conns as f64);
        let echo = vec![Value::from("x".repeat(32))];
        let conn = connection(lean, ("test.echo", echo), first, period, end);
        set.spawn(async move { conn.await.map(|seen| (i, seen)) });
    }
    let pub_period = Duration::from_secs_f64(1.0 / m.pub_hz);
    let publish = vec![TOPIC.into(), 1u64.into(), (m.pub_size as u64).into()];
    let conn = connection(publisher, ("test.publish", publish), start, pub_period, end);
    set.spawn(async move { conn.await.map(|seen| (usize::MAX, seen)) });
    let mut seen = Vec::new();
    while let Some(joined) = set.join_next().await {
        seen.push(joined.map_err(|e| e.to_string())??);
    }
    // In connection order, the publisher last.
    seen.sort_by_key(|(i, _)| *i);
    let mut seen: Vec<Seen> = seen.into_iter().map(|(_, s)| s).collect();
    let secs = start.elapsed().as_secs_f64();
    let cpu = cpu_since(t.pid, before);
    let pub_seen = seen.pop().unwrap_or_default();
    let mut latencies: Vec<u64> = seen
        .iter()
        .flat_map(|s| s.latencies.iter().copied())
        .collect();
    latencies.sort_unstable();
    let at = |q: f64| crate::phases::percentile(&latencies, q);
    let wall = m.secs.max(1e-9);
    Ok(Round {
        cpu_pct: cpu.map_or(f64::NAN, |c| c / secs * 100.0),
        p50: at(0.50),
        p99: at(0.99),
        p999: at(0.999),
        calls: latencies.len() as f64 / wall,
        pubs: seen[..m.receivers.min(seen.len())]
            .iter()
            .map(|s| s.delivered)
            .sum::<u64>() as f64
            / wall,
        others: seen[m.receivers.min(seen.len())..]
            .iter()
            .map(|s| s.delivered)
            .sum::<u64>() as f64
            / wall,
        skipped: (seen.iter().map(|s| s.skipped).sum::<u64>() + pub_seen.skipped) as f64,
        filtered,
    })
}

/// One connection of the phase: calls `method(args)` every `period` from `first` until
/// `end`, at most one call in flight, counting latencies and the publications on
/// [`TOPIC`].
async fn connection(
    mut lean: Lean,
    (method, args): (&'static str, Vec<Value>),
    first: Instant,
    period: Duration,
    end: Instant,
) -> Result<Seen, String> {
    let mut seen = Seen::default();
    let mut ticks = tokio::time::interval_at(first.into(), period);
    ticks.set_missed_tick_behavior(MissedTickBehavior::Skip);
    let mut waiting: Option<(u64, Instant)> = None;
    // The last call may finish after `end`, within the usual per-wait bound.
    loop {
        tokio::select! {
            _ = tokio::time::sleep_until(end.into()), if waiting.is_none() => break,
            _ = ticks.tick(), if Instant::now() < end => {
                if waiting.is_some() {
                    seen.skipped += 1;
                } else {
                    let n = lean.tx.send(method, args.clone()).await?;
                    waiting = Some((n, Instant::now()));
                }
            }
            incoming = lean.rx.recv() => match incoming? {
                Incoming::Reply(n, result) if waiting.is_some_and(|(w, _)| w == n) => {
                    result.map_err(|e| format!("{method}: {e}"))?;
                    let sent = waiting.take().map_or(Instant::now(), |(_, at)| at);
                    seen.latencies.push(sent.elapsed().as_nanos() as u64);
                }
                Incoming::Publication(topic) if topic == TOPIC => seen.delivered += 1,
                _ => {}
            },
        }
    }
    lean.close().await;
    Ok(seen)
}
