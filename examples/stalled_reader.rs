//! Benchmark: does one client that never reads slow down the others?
//!
//! Serves the test protocol over real WebSockets on loopback, connects `--readers`
//! clients subscribed to one topic, and publishes 1 KiB messages as fast as the server
//! takes them for `--seconds`, twice per round: without, then with, an extra client that
//! says hello and never reads again. Prints the readers' publication rate in both cases
//! and their ratio (the target: ≥ 90 %). Figures only, nothing asserted.
//!
//! ```text
//! cargo run --release --features cli --example stalled_reader -- --seconds 10 --rounds 3
//! ```

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::Parser;
use futures_util::{SinkExt, StreamExt};
use wslink::client::Client;
use wslink::map;
use wslink::server::Server;
use wslink::ws::{HttpOptions, WsListener};
use wslink_test_protocol as test_protocol;

#[derive(Parser)]
struct Args {
    /// Reading clients.
    #[arg(long, default_value_t = 4)]
    readers: usize,
    /// Seconds of publishing per measurement.
    #[arg(long, default_value_t = 5.0)]
    seconds: f64,
    /// Rounds (each: without, then with the stalled client).
    #[arg(long, default_value_t = 3)]
    rounds: usize,
    /// Payload bytes per publication.
    #[arg(long, default_value_t = 1024)]
    size: usize,
}

/// Publishes for `seconds` and returns the readers' average rate (publications/s).
async fn measure(
    handle: &wslink::server::ServerHandle,
    counters: &[Arc<AtomicU64>],
    seconds: f64,
    size: usize,
) -> f64 {
    let before: Vec<u64> = counters.iter().map(|c| c.load(Ordering::Relaxed)).collect();
    let pad = "x".repeat(size);
    let started = Instant::now();
    let limit = Duration::from_secs_f64(seconds);
    let mut seq = 0u64;
    while started.elapsed() < limit {
        handle
            .publish("bench.flood", map! { "seq" => seq, "pad" => pad.as_str() })
            .await
            .unwrap();
        seq += 1;
    }
    // Let what is queued arrive.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let elapsed = started.elapsed().as_secs_f64();
    let received: u64 = counters
        .iter()
        .zip(before)
        .map(|(c, b)| c.load(Ordering::Relaxed) - b)
        .sum();
    received as f64 / counters.len() as f64 / elapsed
}

#[tokio::main]
async fn main() {
    let args = Args::parse();
    let listener = WsListener::bind("127.0.0.1:0", HttpOptions::default())
        .await
        .unwrap();
    let url = format!("ws://{}/ws", listener.local_addr());
    let server = Server::builder().router(test_protocol::router()).build();
    let handle = server.handle();
    tokio::spawn(server.serve(listener));

    let mut counters = Vec::new();
    let mut clients = Vec::new();
    for _ in 0..args.readers {
        let client = Client::connect(
            wslink::ws::connect(&url).await.unwrap(),
            wslink::client::DEFAULT_SECRET,
        )
        .await
        .unwrap();
        let mut sub = client.subscribe("bench.flood").unwrap();
        let counter = Arc::new(AtomicU64::new(0));
        let c = counter.clone();
        tokio::spawn(async move {
            while sub.recv().await.is_some() {
                c.fetch_add(1, Ordering::Relaxed);
            }
        });
        counters.push(counter);
        clients.push(client);
    }

    println!("| round | readers' rate without (msg/s) | with one stalled client (msg/s) | ratio |");
    println!("|---|---|---|---|");
    let mut ratios = Vec::new();
    for round in 1..=args.rounds {
        let without = measure(&handle, &counters, args.seconds, args.size).await;
        // A client that says hello and then never reads.
        let (mut stalled, _) = tokio_tungstenite::connect_async(url.as_str())
            .await
            .unwrap();
        let hello = wslink::Message::Request(wslink::Request {
            id: "system:c0:0".into(),
            method: "wslink.hello".into(),
            args: vec![map! { "secret" => wslink::client::DEFAULT_SECRET }],
            kwargs: Default::default(),
        });
        use wslink::Codec as _;
        for frame in wslink::msgpack::MsgpackCodec::new()
            .encode(&hello, 1 << 20)
            .unwrap()
            .to_frames()
        {
            if let wslink::Frame::Binary(b) = frame {
                stalled
                    .send(tokio_tungstenite::tungstenite::Message::Binary(b.clone()))
                    .await
                    .unwrap();
            }
        }
        let _reply = stalled.next().await;
        let with = measure(&handle, &counters, args.seconds, args.size).await;
        drop(stalled);
        let ratio = with / without;
        ratios.push(ratio);
        println!(
            "| {round} | {without:.0} | {with:.0} | {:.1} % |",
            ratio * 100.0
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    ratios.sort_by(f64::total_cmp);
    println!(
        "\nmedian ratio: {:.1} % ({} readers, {} B payloads, {} s per measurement)",
        ratios[ratios.len() / 2] * 100.0,
        args.readers,
        args.size,
        args.seconds
    );
}
