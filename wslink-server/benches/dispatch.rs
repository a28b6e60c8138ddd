//! Routing and dispatch (the `Router` as a tower `Service`), and publication fan-out
//! (encode once, queue to N connections, written by each connection's writer task) over
//! the in-process transport.
//!
//! ```text
//! cargo bench -p wslink-server --bench dispatch
//! ```
#![allow(missing_docs)]

use std::hint::black_box;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use tower::ServiceExt;
use wslink_codec_msgpack::MsgpackCodec;
use wslink_core::memory;
use wslink_core::session::Session;
use wslink_core::{
    map, Call, CallKind, ClientId, Codec, FrameSink, FrameStream, Generation, Map, Message,
    PeerInfo, PubSub, PublishError, Request, Target, Transport, Value,
};
use wslink_server::{Protocol, Router, Server, ServerHandle};
use wslink_test_protocol as test_protocol;

struct NoPubSub;

#[async_trait]
impl PubSub for NoPubSub {
    async fn publish(&self, _: &str, _: Value, _: Target) -> Result<usize, PublishError> {
        Ok(0)
    }
}

fn current_thread() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
}

/// Makes the calls the router benches dispatch: all on one session, with no pub/sub.
fn call_maker() -> impl Fn(&str, Vec<Value>, Map) -> Call {
    let session = Arc::new(Session::new(
        ClientId::from_wire("c0123456789abcdef0123456789abcdef"),
        Generation::V2,
        4 << 20,
        PeerInfo::default(),
    ));
    let pubsub: Arc<dyn PubSub> = Arc::new(NoPubSub);
    move |method, args, kwargs| Call {
        kind: CallKind::Rpc,
        method: method.to_owned(),
        args,
        kwargs,
        session: session.clone(),
        pubsub: pubsub.clone(),
        state: Default::default(),
    }
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime")
}

fn routing(c: &mut Criterion) {
    let rt = current_thread();
    let router = test_protocol::router()
        .merge(Arc::new(test_protocol::chat::Chat::new("bench")).into_router());
    let call = call_maker();
    let call = |method: &str, args: Vec<Value>| call(method, args, Map::new());
    let mut group = c.benchmark_group("router");
    for (name, method, args) in [
        ("add", "test.add", vec![Value::from(1), Value::from(2)]),
        ("echo_str", "test.echo", vec![Value::from("x".repeat(32))]),
        (
            "echo_map",
            "test.echo",
            vec![
                map! {"a" => 1, "b" => "two", "c" => vec![Value::from(1), Value::from(2), Value::from(3)]},
            ],
        ),
        ("unknown", "test.nope", vec![]),
    ] {
        group.bench_function(name, |b| {
            b.iter(|| {
                let c = call(method, args.clone());
                rt.block_on(router.clone().oneshot(black_box(c)))
            })
        });
    }
    group.finish();
}

/// The same two methods written with `#[protocol]`, for `attribute_vs_closure`.
struct Attributed;

#[test_protocol::protocol(crate = test_protocol)]
impl Attributed {
    #[rpc("bench.add")]
    async fn add(&self, a: i64, b: i64) -> i64 {
        a + b
    }

    #[rpc("bench.echo")]
    async fn echo(&self, #[default] x: Value) -> Value {
        x
    }
}

/// One call through a router whose method is an attribute method, side by side with the
/// same method as a closure (and, for the attribute, its arguments by name).
fn attribute_vs_closure(c: &mut Criterion) {
    let rt = current_thread();
    let call = call_maker();
    let closures = Router::new()
        .rpc("bench.add", |a: i64, b: i64| async move { Ok(a + b) })
        .rpc("bench.echo", |x: Value| async move { Ok(x) });
    let attributed = Arc::new(Attributed).into_router();
    let map_arg = map! {"a" => 1, "b" => "two", "c" => vec![Value::from(1), Value::from(2)]};
    let named = |pairs: &[(&str, Value)]| -> Map {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), v.clone()))
            .collect()
    };
    let cases = [
        (
            "add",
            "closure",
            &closures,
            vec![1.into(), 2.into()],
            Map::new(),
        ),
        (
            "add",
            "attribute",
            &attributed,
            vec![1.into(), 2.into()],
            Map::new(),
        ),
        (
            "add",
            "attribute_by_name",
            &attributed,
            vec![],
            named(&[("a", 1.into()), ("b", 2.into())]),
        ),
        (
            "echo_map",
            "closure",
            &closures,
            vec![map_arg.clone()],
            Map::new(),
        ),
        (
            "echo_map",
            "attribute",
            &attributed,
            vec![map_arg.clone()],
            Map::new(),
        ),
    ];
    let mut group = c.benchmark_group("attribute_vs_closure");
    for (method, how, router, args, kwargs) in cases {
        let uri = format!("bench.{}", method.trim_end_matches("_map"));
        group.bench_function(BenchmarkId::new(method, how), |b| {
            b.iter(|| {
                let c = call(&uri, args.clone(), kwargs.clone());
                rt.block_on(router.clone().oneshot(black_box(c)))
            })
        });
    }
    group.finish();
}

/// A server with `n` authenticated in-process connections, each drained by a task that
/// counts the frames it receives.
/// The connector is returned because the server stops serving once it is dropped.
async fn fan_out_setup(n: usize) -> (ServerHandle, Arc<AtomicU64>, memory::MemoryConnector) {
    let server = Server::builder()
        .secret("s")
        .router(test_protocol::router())
        .build();
    let handle = server.handle();
    let (listener, connector) = memory::listener(n.max(16));
    tokio::spawn(server.serve(listener));
    let received = Arc::new(AtomicU64::new(0));
    let codec = MsgpackCodec::new();
    for i in 0..n {
        let (mut tx, mut rx) = connector.connect().await.expect("listener up").split();
        let hello = Message::Request(Request {
            id: format!("system:c{i}:0"),
            method: "wslink.hello".into(),
            args: vec![map! { "secret" => "s" }],
            kwargs: Map::new(),
        });
        for frame in codec.encode(&hello, 0).expect("encodes").to_frames() {
            tx.send(frame.clone()).await.expect("sends");
        }
        // The hello reply.
        rx.recv().await.expect("reply").expect("frame");
        let received = received.clone();
        tokio::spawn(async move {
            let _keep = tx;
            while let Some(Ok(_)) = rx.recv().await {
                received.fetch_add(1, Ordering::Relaxed);
            }
        });
    }
    while handle.authenticated_count() < n {
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    (handle, received, connector)
}

fn fan_out(c: &mut Criterion) {
    let rt = runtime();
    let mut group = c.benchmark_group("fan_out");
    for n in [1usize, 10, 100, 1000] {
        let (handle, received, _connector) = rt.block_on(fan_out_setup(n));
        let pad = "x".repeat(100);
        group.throughput(Throughput::Elements(n as u64));
        if n >= 100 {
            group.sample_size(10);
        }
        group.bench_with_input(BenchmarkId::new("publish_100B", n), &n, |b, &n| {
            b.iter_custom(|iters| {
                rt.block_on(async {
                    let target = received.load(Ordering::Relaxed) + iters * n as u64;
                    let start = Instant::now();
                    for seq in 0..iters {
                        handle
                            .publish("bench.topic", map! { "seq" => seq, "pad" => pad.as_str() })
                            .await
                            .expect("publishes");
                    }
                    // Bounded: a publication dropped by the slow-client policy must not
                    // hang the bench.
                    let give_up = Instant::now() + Duration::from_secs(10);
                    while received.load(Ordering::Relaxed) < target && Instant::now() < give_up {
                        tokio::time::sleep(Duration::from_micros(50)).await;
                    }
                    let got = received.load(Ordering::Relaxed);
                    if got < target {
                        eprintln!(
                            "fan_out/{n}: {} of {} frames arrived within 10 s",
                            got + iters * n as u64 - target,
                            iters * n as u64
                        );
                    }
                    start.elapsed()
                })
            })
        });
        handle.shutdown();
    }
    group.finish();
}

criterion_group!(benches, routing, attribute_vs_closure, fan_out);
criterion_main!(benches);
