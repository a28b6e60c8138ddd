//! Calls and publications between our client and our server over the in-process
//! transport, on one thread: everything wslink does per message (codec, envelopes,
//! routing, the client's bookkeeping, tokio's scheduling) and nothing of the kernel's.
//!
//! Run under callgrind for instruction counts that do not depend on a noisy machine:
//!
//! ```text
//! cargo bench --bench round_trips --no-run        # prints the binary's path
//! valgrind --tool=callgrind target/release/deps/round_trips-HASH 20000
//! cargo bench --bench round_trips                 # wall time (2 000 of each)
//! ```
//!
//! The one argument is how many calls (and publications) to make; the output gives wall
//! time per call and per publication.
#![allow(missing_docs)]

use std::time::Instant;

use tokio::task::JoinSet;
use wslink::client::Client;
use wslink::server::Server;
use wslink::{memory, Map, Value};
use wslink_test_protocol as test_protocol;

const IN_FLIGHT: usize = 64;

fn main() {
    let count: usize = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(2000);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    runtime.block_on(async move {
        let server = Server::builder()
            .secret("bench")
            .router(test_protocol::router())
            .build();
        let (listener, connector) = memory::listener(1024);
        tokio::spawn(server.serve(listener));
        let client = Client::builder()
            .secret("bench")
            .configure(|c| c.subscription_capacity = 1 << 20)
            .connect(connector.connect().await.expect("connects"))
            .await
            .expect("hello");

        // Calls: `count` echoes of a 32-byte string, IN_FLIGHT at a time.
        let payload = Value::from("x".repeat(32));
        let started = Instant::now();
        let mut set = JoinSet::new();
        for task in 0..IN_FLIGHT {
            let (client, payload) = (client.clone(), payload.clone());
            let share = count / IN_FLIGHT + usize::from(task < count % IN_FLIGHT);
            set.spawn(async move {
                for _ in 0..share {
                    let echoed = client
                        .call("test.echo", vec![payload.clone()], Map::new())
                        .await
                        .expect("echo answered");
                    assert_eq!(echoed, payload);
                }
            });
        }
        while let Some(done) = set.join_next().await {
            done.expect("a caller");
        }
        let per_call = started.elapsed().as_secs_f64() / count as f64;

        // Publications: `count` of 100 bytes to one subscriber.
        let mut sub = client.subscribe("bench.pub").expect("subscribes");
        let started = Instant::now();
        let args = vec!["bench.pub".into(), (count as u64).into(), 100u64.into()];
        client
            .call("test.publish", args, Map::new())
            .await
            .expect("publishes");
        for _ in 0..count {
            sub.recv().await.expect("a publication");
        }
        let per_publication = started.elapsed().as_secs_f64() / count as f64;
        println!(
            "round_trips: {count} calls ({IN_FLIGHT} in flight): {:.2} µs per call; {count} publications: {:.2} µs each",
            per_call * 1e6,
            per_publication * 1e6
        );
        client.close().await;
    });
}
