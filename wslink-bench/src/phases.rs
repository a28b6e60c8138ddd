//! The measured phases, each for a wslink server (Rust client, test protocol) and for
//! the raw baseline (same sizes, bare frames). Every phase stops at a time limit and at a
//! count limit, whichever comes first.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::Semaphore;
use tokio::task::JoinSet;
use wslink::client::Client;
use wslink::msgpack::MsgpackCodec;
use wslink::ws::ClientTransport;
use wslink::{
    map, Bytes, Close, CloseCode, Codec, Frame, FrameSink, FrameStream, Map, Message, Publication,
    Request, Transport, Value,
};

use crate::plan::{Plan, Step};
use crate::progress::Phases;
use crate::sys::{self, Placement, ProcStats};

/// The chunk size of the raw bulk transfers: the wslink servers' `maxMsgSize`.
const BULK_CHUNK: usize = 4 * 1024 * 1024;
/// The echo payload of the call phases.
const ECHO_PAYLOAD: usize = 32;
const TOPIC: &str = "bench.pub";
/// Any single network wait longer than this is a failure.
pub(crate) const WAIT: Duration = Duration::from_secs(30);

/// What a target speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Wslink,
    Raw,
}

/// A server under test.
#[derive(Debug, Clone)]
pub(crate) struct Target {
    pub(crate) name: String,
    pub(crate) kind: Kind,
    pub(crate) url: String,
    pub(crate) secret: String,
    pub(crate) pid: Option<u32>,
    /// Only these phases of the plan (all when `None`): the one-write raw baseline is
    /// only a ceiling where write batching matters.
    pub(crate) only: Option<&'static [&'static str]>,
}

/// One figure.
#[derive(Debug, Clone)]
pub(crate) struct Row {
    pub(crate) key: String,
    pub(crate) label: String,
    pub(crate) unit: &'static str,
    pub(crate) value: f64,
}

/// Everything measured on one target.
#[derive(Debug, Default)]
pub(crate) struct Results {
    pub(crate) rows: Vec<Row>,
    pub(crate) notes: Vec<String>,
    pub(crate) server_placement: Placement,
    pub(crate) client_placement: Placement,
    pub(crate) server_allowed: String,
}

impl Results {
    pub(crate) fn put(
        &mut self,
        key: impl Into<String>,
        label: impl Into<String>,
        unit: &'static str,
        value: f64,
    ) {
        self.rows.push(Row {
            key: key.into(),
            label: label.into(),
            unit,
            value,
        });
    }

    pub(crate) fn get(&self, key: &str) -> Option<f64> {
        self.rows.iter().find(|r| r.key == key).map(|r| r.value)
    }
}

pub(crate) fn size_label(n: usize) -> String {
    if n >= 1 << 20 && n % (1 << 20) == 0 {
        format!("{} MiB", n >> 20)
    } else if n >= 1024 && n % 1024 == 0 {
        format!("{} KiB", n >> 10)
    } else {
        format!("{n} B")
    }
}

pub(crate) fn percentile(sorted: &[u64], q: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let i = ((q * sorted.len() as f64) as usize).min(sorted.len() - 1);
    sorted[i] as f64 / 1000.0
}

pub(crate) async fn timed<T>(
    what: &str,
    f: impl std::future::Future<Output = T>,
) -> Result<T, String> {
    tokio::time::timeout(WAIT, f)
        .await
        .map_err(|_| format!("{what}: no progress within {WAIT:?}"))
}

// ---------------------------------------------------------------- connections

/// Whether the tool's clients offer permessage-deflate (`--no-client-deflate` clears it).
static CLIENT_DEFLATE: AtomicBool = AtomicBool::new(true);

/// Makes the tool's clients offer permessage-deflate, or not.
pub(crate) fn set_client_deflate(on: bool) {
    CLIENT_DEFLATE.store(on, Ordering::Relaxed);
}

/// A WebSocket to `url`, offering permessage-deflate unless `--no-client-deflate`.
pub(crate) async fn ws_connect(url: &str) -> Result<ClientTransport, wslink::TransportError> {
    let deflate = if CLIENT_DEFLATE.load(Ordering::Relaxed) {
        wslink::ws::Deflate::default()
    } else {
        wslink::ws::Deflate::off()
    };
    let options = wslink::ws::ConnectOptions {
        deflate,
        ..wslink::ws::ConnectOptions::default()
    };
    wslink::ws::connect_with(url, &options).await
}

/// A client; with `tell` off it keeps its subscriptions to itself, so the server
/// broadcasts (the path every phase but `filter` measures, as the Python server has).
pub(crate) async fn wslink_connect(t: &Target, tell: bool) -> Result<Client, String> {
    timed("connect", async {
        let transport = ws_connect(&t.url)
            .await
            .map_err(|e| format!("connect {}: {e}", t.url))?;
        // A deep subscription queue: the bench's receivers must not lose publications
        // to the client's drop-newest policy while they count.
        Client::builder()
            .secret(t.secret.as_str())
            .configure(|c| {
                c.subscription_capacity = 1 << 20;
                c.server_subscriptions = tell;
            })
            .connect(transport)
            .await
            .map_err(|e| format!("hello: {e}"))
    })
    .await?
}

type RawSink = <ClientTransport as Transport>::Sink;
type RawStream = <ClientTransport as Transport>::Stream;

async fn raw_connect(t: &Target) -> Result<ClientTransport, String> {
    timed("connect", async {
        ws_connect(&t.url)
            .await
            .map_err(|e| format!("connect {}: {e}", t.url))
    })
    .await?
}

async fn raw_split(t: &Target) -> Result<(RawSink, RawStream), String> {
    Ok(raw_connect(t).await?.split())
}

async fn raw_recv(stream: &mut RawStream) -> Result<Frame, String> {
    match timed("raw recv", stream.recv()).await? {
        Some(Ok(frame)) => Ok(frame),
        Some(Err(e)) => Err(format!("raw recv: {e}")),
        None => Err("raw recv: closed".into()),
    }
}

async fn raw_send(sink: &mut RawSink, frame: Frame) -> Result<(), String> {
    sink.send(frame).await.map_err(|e| format!("raw send: {e}"))
}

/// One `test.echo` call, bounded by [`WAIT`].
async fn echo(client: &Client, payload: &Value) -> Result<(), String> {
    timed(
        "echo",
        client.call("test.echo", vec![payload.clone()], Map::new()),
    )
    .await?
    .map_err(|e| e.to_string())?;
    Ok(())
}

/// One raw round trip: `frame` out, its echo back.
async fn raw_echo(sink: &mut RawSink, stream: &mut RawStream, frame: &Frame) -> Result<(), String> {
    raw_send(sink, frame.clone()).await?;
    raw_recv(stream).await?;
    Ok(())
}

/// Waits for a text frame, counting the bytes of binary frames on the way.
async fn raw_until_text(stream: &mut RawStream) -> Result<(String, u64), String> {
    let mut bytes = 0;
    loop {
        match raw_recv(stream).await? {
            Frame::Text(t) => return Ok((t, bytes)),
            Frame::Binary(b) => bytes += b.len() as u64,
        }
    }
}

/// Opens `n` wslink connections (hello included), `parallel` at a time, that keep their
/// subscriptions to themselves.
async fn wslink_many(t: &Target, n: usize, parallel: usize) -> Result<Vec<Client>, String> {
    wslink_many_telling(t, n, parallel, false).await
}

/// As [`wslink_many`]; with `tell`, the clients tell a server that takes subscriptions
/// about theirs.
pub(crate) async fn wslink_many_telling(
    t: &Target,
    n: usize,
    parallel: usize,
    tell: bool,
) -> Result<Vec<Client>, String> {
    let gate = Arc::new(Semaphore::new(parallel));
    let mut set = JoinSet::new();
    for i in 0..n {
        let (t, gate) = (t.clone(), gate.clone());
        set.spawn(async move {
            let _permit = gate.acquire_owned().await;
            wslink_connect(&t, tell).await.map(|c| (i, c))
        });
    }
    let mut clients = Vec::with_capacity(n);
    while let Some(joined) = set.join_next().await {
        clients.push(joined.map_err(|e| e.to_string())??);
    }
    clients.sort_by_key(|(i, _)| *i);
    Ok(clients.into_iter().map(|(_, c)| c).collect())
}

async fn raw_many(
    t: &Target,
    n: usize,
    parallel: usize,
) -> Result<Vec<(RawSink, RawStream)>, String> {
    let gate = Arc::new(Semaphore::new(parallel));
    let mut set = JoinSet::new();
    for i in 0..n {
        let (t, gate) = (t.clone(), gate.clone());
        set.spawn(async move {
            let _permit = gate.acquire_owned().await;
            raw_split(&t).await.map(|c| (i, c))
        });
    }
    let mut conns = Vec::with_capacity(n);
    while let Some(joined) = set.join_next().await {
        conns.push(joined.map_err(|e| e.to_string())??);
    }
    // One echo on each: the server's side of every connection is running (and registered
    // for `fan`) once it answers, as a wslink hello reply shows for wslink connections.
    for (_, (sink, stream)) in conns.iter_mut() {
        raw_send(sink, Frame::Binary(Bytes::from_static(b"?"))).await?;
        raw_recv(stream).await?;
    }
    conns.sort_by_key(|(i, _)| *i);
    Ok(conns.into_iter().map(|(_, c)| c).collect())
}

// ---------------------------------------------------------------- sizes

fn echo_payload() -> Value {
    Value::from("x".repeat(ECHO_PAYLOAD))
}

/// The size of the frame a wslink client sends for `test.echo(payload)`: the raw
/// baseline echoes frames of this size.
fn echo_frame_len() -> usize {
    let request = Message::Request(Request {
        id: format!("rpc:c{}:{}", "0".repeat(32), 100_000),
        method: "test.echo".into(),
        args: vec![echo_payload()],
        kwargs: Map::new(),
    });
    MsgpackCodec::new()
        .encode(&request, 0)
        .map(|e| e.len())
        .unwrap_or(96)
}

/// The size of a `test.publish` publication frame with `size` bytes of padding.
fn publication_frame_len(size: usize) -> usize {
    let publication = Message::Publication(Publication {
        topic: TOPIC.into(),
        counter: 100_000,
        data: map! { "seq" => 100_000u64, "pad" => "x".repeat(size) },
    });
    MsgpackCodec::new()
        .encode(&publication, 0)
        .map(|e| e.len())
        .unwrap_or(size + 64)
}

// ---------------------------------------------------------------- running

struct ServerWatch {
    pid: Option<u32>,
    before: Option<ProcStats>,
}

impl ServerWatch {
    fn start(pid: Option<u32>) -> ServerWatch {
        ServerWatch {
            pid,
            before: pid.and_then(sys::proc_stats),
        }
    }

    /// Server CPU seconds since `start`.
    fn cpu(&self) -> Option<f64> {
        let now = sys::proc_stats(self.pid?)?;
        Some(now.cpu_secs - self.before?.cpu_secs)
    }
}

/// Runs `steps` of `plan` against `t`, telling `progress` where it is.
pub(crate) async fn run_all(t: &Target, plan: &Plan, steps: &[Step], progress: &Phases) -> Results {
    let mut r = Results::default();
    if let Some(pid) = t.pid {
        r.server_allowed = sys::allowed_cpus(pid);
    }
    for step in steps {
        progress.start(&step.label());
        for (name, result) in run_step(t, plan, step, &mut r).await {
            if let Err(e) = result {
                progress.failed(&name, &e);
                r.notes.push(format!("{name}: {e}"));
            }
        }
        progress.done();
    }
    if let Some(pid) = t.pid {
        if let Some(stats) = sys::proc_stats(pid) {
            r.put(
                "mem.peak",
                "server peak RSS (whole run)",
                "MiB",
                stats.hwm_kib as f64 / 1024.0,
            );
        }
    }
    r
}

/// Runs one step: (the name of each phase in it, its outcome).
async fn run_step(
    t: &Target,
    plan: &Plan,
    step: &Step,
    r: &mut Results,
) -> Vec<(String, Result<(), String>)> {
    let name = step.name();
    match *step {
        Step::Seq => vec![(name, sequential(t, plan, r).await)],
        Step::Pipe(k) => vec![(name, pipelined(t, plan, k, r).await)],
        Step::Pub { subs, size } => vec![(name, publications(t, plan, subs, size, r).await)],
        Step::Fanout(subs) => vec![(name, publications(t, plan, subs, 100, r).await)],
        Step::Filter(subs) => vec![(name, crate::filtered::filtered(t, plan, subs, r).await)],
        Step::Bin(size) => vec![
            (format!("down{size}"), binary(t, plan, size, true, r).await),
            (format!("up{size}"), binary(t, plan, size, false, r).await),
        ],
        Step::Conn => vec![(name, connections(t, plan, r).await)],
        Step::Idle(_) => vec![(name, idle(t, plan, r).await)],
    }
}

async fn sequential(t: &Target, plan: &Plan, r: &mut Results) -> Result<(), String> {
    let mut latencies: Vec<u64> = Vec::with_capacity(plan.seq_max.min(1 << 20) as usize);
    let watch;
    let start;
    match t.kind {
        Kind::Wslink => {
            let client = wslink_connect(t, false).await?;
            let payload = echo_payload();
            for _ in 0..50 {
                echo(&client, &payload).await?;
            }
            watch = ServerWatch::start(t.pid);
            start = Instant::now();
            let deadline = start + Duration::from_secs_f64(plan.secs);
            while (latencies.len() as u64) < plan.seq_max && Instant::now() < deadline {
                let t0 = Instant::now();
                echo(&client, &payload).await?;
                latencies.push(t0.elapsed().as_nanos() as u64);
            }
            client.close().await;
        }
        Kind::Raw => {
            let (mut sink, mut stream) = raw_split(t).await?;
            let frame = Frame::Binary(Bytes::from(vec![b'x'; echo_frame_len()]));
            for _ in 0..50 {
                raw_echo(&mut sink, &mut stream, &frame).await?;
            }
            watch = ServerWatch::start(t.pid);
            start = Instant::now();
            let deadline = start + Duration::from_secs_f64(plan.secs);
            while (latencies.len() as u64) < plan.seq_max && Instant::now() < deadline {
                let t0 = Instant::now();
                raw_echo(&mut sink, &mut stream, &frame).await?;
                latencies.push(t0.elapsed().as_nanos() as u64);
            }
            let _ = sink.close(Close::new(CloseCode::NORMAL, "")).await;
        }
    }
    let elapsed = start.elapsed().as_secs_f64();
    let calls = latencies.len() as f64;
    latencies.sort_unstable();
    r.put("seq.rate", "sequential echo", "calls/s", calls / elapsed);
    r.put(
        "seq.p50",
        "  latency p50",
        "µs",
        percentile(&latencies, 0.50),
    );
    r.put(
        "seq.p99",
        "  latency p99",
        "µs",
        percentile(&latencies, 0.99),
    );
    r.put(
        "seq.p999",
        "  latency p99.9",
        "µs",
        percentile(&latencies, 0.999),
    );
    if let Some(cpu) = watch.cpu() {
        r.put(
            "seq.cpu",
            "  server CPU per 1 000 calls",
            "ms",
            cpu * 1e6 / calls,
        );
    }
    Ok(())
}

async fn pipelined(t: &Target, plan: &Plan, k: usize, r: &mut Results) -> Result<(), String> {
    let done = Arc::new(AtomicU64::new(0));
    let sampling = Arc::new(std::sync::atomic::AtomicBool::new(true));
    let sampler = {
        let (sampling, pid) = (sampling.clone(), t.pid);
        tokio::spawn(async move {
            let (mut client, mut server) = (Placement::default(), Placement::default());
            while sampling.load(Ordering::Relaxed) {
                tokio::time::sleep(Duration::from_millis(50)).await;
                client.sample(std::process::id());
                if let Some(pid) = pid {
                    server.sample(pid);
                }
            }
            (client, server)
        })
    };
    let result: Result<(), String> = async {
        let watch;
        let start;
        match t.kind {
            Kind::Wslink => {
                let client = wslink_connect(t, false).await?;
                let payload = echo_payload();
                for _ in 0..20 {
                    echo(&client, &payload).await?;
                }
                watch = ServerWatch::start(t.pid);
                start = Instant::now();
                let deadline = start + Duration::from_secs_f64(plan.secs);
                let mut set = JoinSet::new();
                for _ in 0..k {
                    let (client, done, payload, max) =
                        (client.clone(), done.clone(), payload.clone(), plan.pipe_max);
                    // No timer per call (the raw loop has none either): the phase as a
                    // whole is bounded below.
                    set.spawn(async move {
                        while Instant::now() < deadline && done.load(Ordering::Relaxed) < max {
                            client
                                .call("test.echo", vec![payload.clone()], Map::new())
                                .await
                                .map_err(|e| e.to_string())?;
                            done.fetch_add(1, Ordering::Relaxed);
                        }
                        Ok::<(), String>(())
                    });
                }
                let all_done = async {
                    while let Some(j) = set.join_next().await {
                        j.map_err(|e| e.to_string())??;
                    }
                    Ok::<(), String>(())
                };
                match tokio::time::timeout_at((deadline + WAIT).into(), all_done).await {
                    Ok(result) => result?,
                    Err(_) => {
                        return Err(format!("echo: answers missing {WAIT:?} after the phase"))
                    }
                }
                client.close().await;
            }
            Kind::Raw => {
                let (mut sink, mut stream) = raw_split(t).await?;
                let frame = Frame::Binary(Bytes::from(vec![b'x'; echo_frame_len()]));
                for _ in 0..20 {
                    raw_echo(&mut sink, &mut stream, &frame).await?;
                }
                watch = ServerWatch::start(t.pid);
                start = Instant::now();
                let deadline = start + Duration::from_secs_f64(plan.secs);
                let window = Arc::new(Semaphore::new(k));
                let sent = Arc::new(AtomicU64::new(0));
                let writer = {
                    let (window, sent, max) = (window.clone(), sent.clone(), plan.pipe_max);
                    tokio::spawn(async move {
                        while Instant::now() < deadline && sent.load(Ordering::Relaxed) < max {
                            let Ok(permit) = window.acquire().await else {
                                break;
                            };
                            permit.forget();
                            sink.feed(frame.clone()).await.map_err(|e| e.to_string())?;
                            let mut n = 1;
                            while n < 64 {
                                let Ok(permit) = window.try_acquire() else {
                                    break;
                                };
                                permit.forget();
                                sink.feed(frame.clone()).await.map_err(|e| e.to_string())?;
                                n += 1;
                            }
                            sent.fetch_add(n, Ordering::Relaxed);
                            sink.flush().await.map_err(|e| e.to_string())?;
                        }
                        Ok::<RawSink, String>(sink)
                    })
                };
                loop {
                    let finished = writer.is_finished();
                    let received = done.load(Ordering::Relaxed);
                    if finished && received >= sent.load(Ordering::Relaxed) {
                        break;
                    }
                    match tokio::time::timeout(Duration::from_millis(50), stream.recv()).await {
                        Ok(Some(Ok(Frame::Binary(_)))) => {
                            done.fetch_add(1, Ordering::Relaxed);
                            window.add_permits(1);
                        }
                        Ok(Some(Ok(_))) => {}
                        Ok(_) => return Err("raw connection closed".into()),
                        Err(_) if Instant::now() > deadline + WAIT => {
                            return Err("raw pipelined: answers missing".into())
                        }
                        Err(_) => {}
                    }
                }
                let mut sink = writer.await.map_err(|e| e.to_string())??;
                let _ = sink.close(Close::new(CloseCode::NORMAL, "")).await;
            }
        }
        let elapsed = start.elapsed().as_secs_f64();
        let calls = done.load(Ordering::Relaxed) as f64;
        r.put(
            format!("pipe{k}.rate"),
            format!("pipelined, {k} in flight"),
            "calls/s",
            calls / elapsed,
        );
        if let Some(cpu) = watch.cpu() {
            r.put(
                format!("pipe{k}.cpu"),
                "  server CPU per 1 000 calls",
                "ms",
                cpu * 1e6 / calls,
            );
        }
        Ok(())
    }
    .await;
    sampling.store(false, Ordering::Relaxed);
    if let Ok((client, server)) = sampler.await {
        if k == 64 || r.client_placement.samples.is_empty() {
            r.client_placement = client;
            r.server_placement = server;
        }
    }
    result
}

/// Publications received per second by `subs` connections, `size` bytes of padding each.
async fn publications(
    t: &Target,
    plan: &Plan,
    subs: usize,
    size: usize,
    r: &mut Results,
) -> Result<(), String> {
    enum Conns {
        Wslink(Vec<Client>),
        Raw(Vec<RawSink>, Vec<Option<RawStream>>),
    }
    let mut conns = match t.kind {
        Kind::Wslink => Conns::Wslink(wslink_many(t, subs, 32).await?),
        Kind::Raw => {
            let (sinks, streams) = raw_many(t, subs, 32)
                .await?
                .into_iter()
                .unzip::<_, _, Vec<_>, Vec<_>>();
            Conns::Raw(sinks, streams.into_iter().map(Some).collect())
        }
    };
    let frame_len = publication_frame_len(size);
    // One round: every connection must see `count` publications.
    async fn round(
        conns: &mut Conns,
        count: u64,
        size: usize,
        frame_len: usize,
        limit: Duration,
    ) -> Result<(u64, f64), String> {
        let start = Instant::now();
        let deadline = start + limit;
        let mut set = JoinSet::new();
        match conns {
            Conns::Wslink(clients) => {
                for client in clients.iter() {
                    let mut sub = client.subscribe(TOPIC).map_err(|e| e.to_string())?;
                    set.spawn(async move {
                        let (n, last) = receive_until(&mut sub, count, deadline).await;
                        (n, last, None)
                    });
                }
                let control = clients[0].clone();
                let args = vec![TOPIC.into(), count.into(), (size as u64).into()];
                let call = tokio::time::timeout_at(
                    deadline.into(),
                    control.call("test.publish", args, Map::new()),
                )
                .await;
                if let Ok(Err(e)) = call {
                    return Err(format!("test.publish: {e}"));
                }
            }
            Conns::Raw(sinks, streams) => {
                for slot in streams.iter_mut() {
                    let mut stream = slot.take().ok_or("raw stream lost")?;
                    set.spawn(async move {
                        let (mut n, mut last) = (0u64, Instant::now());
                        while n < count {
                            match tokio::time::timeout_at(deadline.into(), stream.recv()).await {
                                Ok(Some(Ok(Frame::Binary(_)))) => {
                                    n += 1;
                                    last = Instant::now();
                                }
                                Ok(Some(Ok(_))) => {}
                                _ => break,
                            }
                        }
                        (n, last, Some(stream))
                    });
                }
                let command = format!("fan {count} {frame_len}");
                raw_send(&mut sinks[0], Frame::Text(command)).await?;
            }
        }
        let (mut total, mut last) = (0u64, start);
        let mut returned = Vec::new();
        while let Some(j) = set.join_next().await {
            let (n, at, stream) = j.map_err(|e| e.to_string())?;
            total += n;
            last = last.max(at);
            returned.push(stream);
        }
        if let Conns::Raw(_, streams) = conns {
            // Put the streams back (order does not matter for a broadcast), then drain the
            // `done` text of the control connection if it is still queued.
            for (slot, stream) in streams.iter_mut().zip(returned.into_iter().flatten()) {
                *slot = Some(stream);
            }
        }
        Ok((total, last.duration_since(start).as_secs_f64()))
    }
    // Probe, then size the measured round to the time budget.
    let probe = (2000 / subs as u64).clamp(5, 200);
    let probe_limit = Duration::from_secs_f64((plan.secs * 10.0).clamp(3.0, 30.0));
    let (got, secs) = round(&mut conns, probe, size, frame_len, probe_limit).await?;
    if got < probe * subs as u64 {
        return Err(format!(
            "probe: {got} of {} publications arrived",
            probe * subs as u64
        ));
    }
    let per_sec = got as f64 / secs.max(1e-6);
    let count = ((per_sec * plan.secs) as u64 / subs as u64)
        .clamp(5, (plan.pub_max_msgs / subs as u64).max(5));
    let limit = Duration::from_secs_f64(plan.secs * 5.0 + 5.0);
    let watch = ServerWatch::start(t.pid);
    let (got, secs) = round(&mut conns, count, size, frame_len, limit).await?;
    let cpu = watch.cpu();
    let expected = count * subs as u64;
    let key = if subs == plan.fanout && size == 100 && !plan.subscribers.contains(&subs) {
        format!("fanout{subs}")
    } else {
        format!("pub{subs}x{size}")
    };
    r.put(
        format!("{key}.rate"),
        format!(
            "publications, {subs} subscriber{}, {}",
            if subs == 1 { "" } else { "s" },
            size_label(size)
        ),
        "msgs/s rcvd",
        got as f64 / secs.max(1e-6),
    );
    if let Some(cpu) = cpu.filter(|_| got > 0) {
        r.put(
            format!("{key}.cpu"),
            "  server CPU per 1 000 received",
            "ms",
            cpu * 1e6 / got as f64,
        );
    }
    if got < expected {
        r.notes.push(format!(
            "{key}: {got} of {expected} publications arrived within the limit"
        ));
    }
    match conns {
        Conns::Wslink(clients) => {
            for c in clients {
                c.close().await;
            }
        }
        Conns::Raw(mut sinks, _) => {
            for s in sinks.iter_mut() {
                let _ = s.close(Close::new(CloseCode::NORMAL, "")).await;
            }
        }
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    Ok(())
}

/// MiB/s of `size`-byte binary results (`down`) or arguments (up), and the server's
/// memory while doing it.
async fn binary(
    t: &Target,
    plan: &Plan,
    size: usize,
    down: bool,
    r: &mut Results,
) -> Result<(), String> {
    let blob = Bytes::from((0..size).map(|i| i as u8).collect::<Vec<u8>>());
    let before = t.pid.and_then(|pid| {
        sys::reset_peak(pid);
        sys::proc_stats(pid)
    });
    let start = Instant::now();
    let deadline = start + Duration::from_secs_f64(plan.secs);
    let mut iters = 0u64;
    match t.kind {
        Kind::Wslink => {
            let client = wslink_connect(t, false).await?;
            while iters < plan.bin_max_iters && (iters == 0 || Instant::now() < deadline) {
                let value = if down {
                    client.call("test.bytes", vec![(size as u64).into()], Map::new())
                } else {
                    client.call("test.byte_len", vec![Value::Bin(blob.clone())], Map::new())
                };
                let value = timed("binary", value).await?.map_err(|e| e.to_string())?;
                let len = match (&value, down) {
                    (Value::Bin(b), true) => b.len(),
                    (v, false) => v["len"].as_i64().unwrap_or(-1) as usize,
                    _ => 0,
                };
                if len != size {
                    return Err(format!("expected {size} bytes, got {value}"));
                }
                iters += 1;
            }
            client.close().await;
        }
        Kind::Raw => {
            let (mut sink, mut stream) = raw_split(t).await?;
            while iters < plan.bin_max_iters && (iters == 0 || Instant::now() < deadline) {
                if down {
                    raw_send(&mut sink, Frame::Text(format!("bulk {size} {BULK_CHUNK}"))).await?;
                    let (_, got) = raw_until_text(&mut stream).await?;
                    if got != size as u64 {
                        return Err(format!("raw bulk: {got} of {size} bytes"));
                    }
                } else {
                    raw_send(&mut sink, Frame::Text(format!("sink {size}"))).await?;
                    for start in (0..size).step_by(BULK_CHUNK) {
                        let end = (start + BULK_CHUNK).min(size);
                        sink.feed(Frame::Binary(blob.slice(start..end)))
                            .await
                            .map_err(|e| e.to_string())?;
                    }
                    sink.flush().await.map_err(|e| e.to_string())?;
                    raw_until_text(&mut stream).await?;
                }
                iters += 1;
            }
            let _ = sink.close(Close::new(CloseCode::NORMAL, "")).await;
        }
    }
    let elapsed = start.elapsed().as_secs_f64();
    let dir = if down { "down" } else { "up" };
    let label = size_label(size);
    r.put(
        format!("bin.{dir}.{size}"),
        format!("binary {dir}, {label} per call"),
        "MiB/s",
        (iters as f64 * size as f64) / (1 << 20) as f64 / elapsed,
    );
    if size >= 16 << 20 {
        if let (Some(pid), Some(before)) = (t.pid, before) {
            if let Some(after) = sys::proc_stats(pid) {
                r.put(
                    format!("bin.{dir}.{size}.mem"),
                    format!("  server peak RSS above idle ({label} {dir})"),
                    "MiB",
                    after.hwm_kib.saturating_sub(before.rss_kib) as f64 / 1024.0,
                );
            }
        }
    }
    Ok(())
}

async fn connections(t: &Target, plan: &Plan, r: &mut Results) -> Result<(), String> {
    let done = Arc::new(AtomicU64::new(0));
    let start = Instant::now();
    let deadline = start + Duration::from_secs_f64(plan.secs);
    let mut set = JoinSet::new();
    for _ in 0..4 {
        let (t, done, max) = (t.clone(), done.clone(), plan.conn_max);
        set.spawn(async move {
            while Instant::now() < deadline && done.load(Ordering::Relaxed) < max {
                match t.kind {
                    Kind::Wslink => wslink_connect(&t, false).await?.close().await,
                    Kind::Raw => {
                        let (mut sink, _stream) = raw_split(&t).await?;
                        let _ = sink.close(Close::new(CloseCode::NORMAL, "")).await;
                    }
                }
                done.fetch_add(1, Ordering::Relaxed);
            }
            Ok::<(), String>(())
        });
    }
    while let Some(j) = set.join_next().await {
        j.map_err(|e| e.to_string())??;
    }
    let elapsed = start.elapsed().as_secs_f64();
    let label = if t.kind == Kind::Wslink {
        "connections (hello included)"
    } else {
        "connections (WebSocket handshake)"
    };
    r.put(
        "conn.rate",
        label,
        "conn/s",
        done.load(Ordering::Relaxed) as f64 / elapsed,
    );
    tokio::time::sleep(Duration::from_millis(500)).await;
    Ok(())
}

async fn idle(t: &Target, plan: &Plan, r: &mut Results) -> Result<(), String> {
    tokio::time::sleep(Duration::from_millis(500)).await;
    let before = t.pid.and_then(sys::proc_stats);
    let start = Instant::now();
    let deadline = start + Duration::from_secs_f64(plan.idle_secs);
    let gate = Arc::new(Semaphore::new(64));
    let mut set = JoinSet::new();
    for _ in 0..plan.idle {
        let (t, gate) = (t.clone(), gate.clone());
        set.spawn(async move {
            let _permit = gate.acquire_owned().await;
            if Instant::now() > deadline {
                return Err("time limit".to_owned());
            }
            let conn = tokio::time::timeout_at(deadline.into(), async {
                match t.kind {
                    Kind::Wslink => wslink_connect(&t, false).await.map(|c| (Some(c), None)),
                    Kind::Raw => raw_connect(&t).await.map(|c| (None, Some(c))),
                }
            })
            .await
            .map_err(|_| "time limit".to_owned())??;
            Ok(conn)
        });
    }
    let mut held = Vec::with_capacity(plan.idle);
    let mut first_error = None;
    let mut errors = 0;
    while let Some(j) = set.join_next().await {
        match j.map_err(|e| e.to_string()).and_then(|x| x) {
            Ok(conn) => held.push(conn),
            Err(e) => {
                errors += 1;
                first_error.get_or_insert(e);
            }
        }
    }
    let open_secs = start.elapsed().as_secs_f64();
    tokio::time::sleep(Duration::from_millis(1000)).await;
    // Still open? (a server at its connection limit closes the extra ones)
    let alive = held
        .iter()
        .filter(|(c, _)| c.as_ref().is_none_or(|c| c.is_connected()))
        .count();
    let after = t.pid.and_then(sys::proc_stats);
    r.put("idle.count", "idle connections held", "conns", alive as f64);
    r.put(
        "idle.rate",
        "  opened at",
        "conn/s",
        held.len() as f64 / open_secs,
    );
    if let (Some(b), Some(a)) = (before, after) {
        if alive > 0 {
            r.put(
                "idle.mem",
                "  server memory per idle connection",
                "KiB",
                a.rss_kib.saturating_sub(b.rss_kib) as f64 / alive as f64,
            );
        }
    }
    if alive < plan.idle {
        r.notes.push(format!(
            "idle: {alive} of {} connections held ({errors} failed to open; first error: {}; fd limit of this process: {:?})",
            plan.idle,
            first_error.unwrap_or_else(|| "none, closed by the server after opening".into()),
            sys::nofile(std::process::id()),
        ));
    }
    // By value: a connection not yet split is `Send` but not `Sync`.
    for (client, raw) in held {
        if let Some(c) = client {
            c.close().await;
        }
        drop(raw);
    }
    tokio::time::sleep(Duration::from_millis(1500)).await;
    Ok(())
}

/// Receives up to `count` publications on `sub` before `deadline`; returns how many came
/// and when the last one did.
pub(crate) async fn receive_until(
    sub: &mut wslink::client::Subscription,
    count: u64,
    deadline: Instant,
) -> (u64, Instant) {
    let (mut n, mut last) = (0u64, Instant::now());
    while n < count {
        match tokio::time::timeout_at(deadline.into(), sub.recv()).await {
            Ok(Some(_)) => {
                n += 1;
                last = Instant::now();
            }
            _ => break,
        }
    }
    (n, last)
}
