//! The cluster phase: publications across two server nodes on one broker, beside the
//! same publications on the publishing node, in one run.
//!
//! ```text
//! wslink-bench cluster [--broker nats|redis ...] [--quick]
//! ```
//!
//! For each broker: the broker (on a free loopback port), two `serve rust --pubsub`
//! processes (nodes A and B), a publisher and a subscriber on A, a subscriber on B. A
//! burst (`bench.publish_stamped` of N publications at once) gives publications per
//! second as received on each node; a paced run (one publication per millisecond) gives
//! the delivery latency, from the stamp the publishing handler put in each publication
//! to its arrival at the subscriber (one clock: every process is on this machine).

use std::time::{Duration, Instant};

use wslink::client::{Client, Subscription};
use wslink::Value;

use crate::bench_methods::now_ns;
use crate::broker::{Broker, BrokerKind};
use crate::phases::{percentile, wslink_connect, Kind, Target};
use crate::spawn::{spawn_server, Spawned};

/// Publications per burst and per paced run.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ClusterPlan {
    pub(crate) burst: u64,
    pub(crate) paced: u64,
}

impl ClusterPlan {
    pub(crate) fn new(quick: bool) -> ClusterPlan {
        match quick {
            true => ClusterPlan {
                burst: 2_000,
                paced: 200,
            },
            false => ClusterPlan {
                burst: 50_000,
                paced: 3_000,
            },
        }
    }
}

/// What one subscriber saw.
#[derive(Debug, Clone, Copy)]
struct Path {
    per_sec: f64,
    p50_us: f64,
    p99_us: f64,
    lost: u64,
}

/// Runs the phase for each broker and prints one table.
pub(crate) async fn run(
    kinds: &[BrokerKind],
    plan: ClusterPlan,
    secret: &str,
) -> Result<(), String> {
    let mut rows = Vec::new();
    for &kind in kinds {
        let broker = Broker::start(kind)?;
        let (same, cross) = measure(&broker, kind, plan, secret).await?;
        rows.push((kind, same, cross));
    }
    println!("{}", table(&rows, plan));
    Ok(())
}

fn node(name: &str, broker: &Broker, secret: &str) -> Result<(Spawned, Target), String> {
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    let argv = [
        exe.display().to_string().as_str(),
        "serve",
        "rust",
        "--port",
        "0",
        "--secret",
        secret,
        "--pubsub",
        &broker.url,
        "--pubsub-namespace",
        "bench",
    ]
    .map(str::to_owned)
    .to_vec();
    let spawned = spawn_server(name, argv, Vec::new(), None)?;
    let target = Target {
        name: name.to_owned(),
        kind: Kind::Wslink,
        url: spawned.url.clone(),
        secret: secret.to_owned(),
        pid: Some(spawned.child.id()),
        only: None,
    };
    Ok((spawned, target))
}

async fn measure(
    broker: &Broker,
    kind: BrokerKind,
    plan: ClusterPlan,
    secret: &str,
) -> Result<(Path, Path), String> {
    let (_a, on_a) = node(&format!("node-a-{}", kind.name()), broker, secret)?;
    let (_b, on_b) = node(&format!("node-b-{}", kind.name()), broker, secret)?;
    let publisher = wslink_connect(&on_a, false).await?;
    let (same, cross) = (
        wslink_connect(&on_a, false).await?,
        wslink_connect(&on_b, false).await?,
    );
    wait_linked(&publisher, &cross).await?;

    let topic = "bench.cluster.burst";
    let (mut s, mut c) = (subscribe(&same, topic)?, subscribe(&cross, topic)?);
    let start = Instant::now();
    let call = publish(&publisher, topic, plan.burst, 0);
    let (done, same_burst, cross_burst) = tokio::join!(
        call,
        receive(&mut s, plan.burst, start),
        receive(&mut c, plan.burst, start)
    );
    done?;

    let topic = "bench.cluster.paced";
    let (mut s, mut c) = (subscribe(&same, topic)?, subscribe(&cross, topic)?);
    let start = Instant::now();
    let call = publish(&publisher, topic, plan.paced, 1000);
    let (done, same_paced, cross_paced) = tokio::join!(
        call,
        receive(&mut s, plan.paced, start),
        receive(&mut c, plan.paced, start)
    );
    done?;
    let path = |burst: Received, paced: Received| Path {
        per_sec: burst.per_sec(),
        p50_us: percentile(&paced.latencies_ns, 0.50),
        p99_us: percentile(&paced.latencies_ns, 0.99),
        lost: burst.lost + paced.lost,
    };
    Ok((path(same_burst, same_paced), path(cross_burst, cross_paced)))
}

fn subscribe(client: &Client, topic: &str) -> Result<Subscription, String> {
    client
        .subscribe(topic)
        .map_err(|e| format!("subscribe {topic}: {e}"))
}

async fn publish(client: &Client, topic: &str, count: u64, every_us: u64) -> Result<(), String> {
    let args = vec![topic.into(), count.into(), every_us.into()];
    let call = client.call("bench.publish_stamped", args, Default::default());
    tokio::time::timeout(Duration::from_secs(120), call)
        .await
        .map_err(|_| "bench.publish_stamped did not answer within 120 s".to_owned())?
        .map(|_| ())
        .map_err(|e| format!("bench.publish_stamped: {e}"))
}

/// Publishes probes on A until one reaches B (both nodes have joined the broker).
async fn wait_linked(publisher: &Client, cross: &Client) -> Result<(), String> {
    let mut probe = subscribe(cross, "bench.cluster.probe")?;
    let deadline = Instant::now() + Duration::from_secs(20);
    while Instant::now() < deadline {
        publish(publisher, "bench.cluster.probe", 1, 0).await?;
        if tokio::time::timeout(Duration::from_millis(100), probe.recv())
            .await
            .is_ok()
        {
            return Ok(());
        }
    }
    Err("the nodes did not link through the broker within 20 s".into())
}

struct Received {
    count: u64,
    lost: u64,
    elapsed: Duration,
    latencies_ns: Vec<u64>,
}

impl Received {
    fn per_sec(&self) -> f64 {
        self.count as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }
}

/// Receives up to `n` publications (giving up 2 s after the last one), with the
/// latency of each; `elapsed` runs from `start` to the last arrival.
async fn receive(sub: &mut Subscription, n: u64, start: Instant) -> Received {
    let mut got = Received {
        count: 0,
        lost: 0,
        elapsed: Duration::ZERO,
        latencies_ns: Vec::with_capacity(n as usize),
    };
    while got.count < n {
        let Ok(Some(value)) = tokio::time::timeout(Duration::from_secs(2), sub.recv()).await else {
            break;
        };
        let sent = match &value["t"] {
            Value::Int(t) => *t as u64,
            Value::UInt(t) => *t,
            _ => continue,
        };
        got.latencies_ns.push(now_ns().saturating_sub(sent));
        got.count += 1;
        got.elapsed = start.elapsed();
    }
    got.lost = n - got.count;
    got.latencies_ns.sort_unstable();
    got
}

fn table(rows: &[(BrokerKind, Path, Path)], plan: ClusterPlan) -> String {
    let mut out = format!(
        "## cluster: node A publishes, subscribers on A (same node) and B (through the broker)\n\n\
         burst of {} for publications/s, {} paced 1 ms apart for latency\n\n\
         | broker | path | publications/s | p50 µs | p99 µs | lost |\n|---|---|---:|---:|---:|---:|\n",
        plan.burst, plan.paced
    );
    for (kind, same, cross) in rows {
        for (name, p) in [("same node", same), ("cross node", cross)] {
            out.push_str(&format!(
                "| {} | {name} | {:.0} | {:.0} | {:.0} | {} |\n",
                kind.name(),
                p.per_sec,
                p.p50_us,
                p.p99_us,
                p.lost
            ));
        }
        out.push_str(&format!(
            "| {} | cross ÷ same | {:.2}× | {:.2}× | {:.2}× | |\n",
            kind.name(),
            cross.per_sec / same.per_sec,
            cross.p50_us / same.p50_us,
            cross.p99_us / same.p99_us
        ));
    }
    out
}
