//! The test protocol (crate `wslink-test-protocol`) over WebSockets: every method any
//! client can be checked against, and the chat example's methods, with the reference
//! server's flags.
//!
//! ```text
//! cargo run --features cli --bin wslink-test-server -- --host 127.0.0.1 --port 8080 [--authKey S] [--timeout 0]
//! ```
//! Prints `wslink: Starting factory ws://HOST:PORT/ws` once it listens.

use std::time::Duration;

use clap::Parser;
use wslink::cli::{run, ServerArgs};
use wslink::server::{Server, SlowClientPolicy};
use wslink_test_protocol as test_protocol;

#[derive(Parser)]
#[command(about = "wslink test-protocol server")]
struct Cli {
    #[command(flatten)]
    server: ServerArgs,
    /// Publications and replies queued per connection before the slow-client policy
    /// applies (the server's default when not given).
    #[arg(long = "outbox-capacity")]
    outbox_capacity: Option<usize>,
    /// How long a publication waits for a full queue before it is dropped for that
    /// client, in milliseconds (the server's default policy when not given).
    #[arg(long = "slow-client-wait-ms")]
    slow_client_wait_ms: Option<u64>,
    /// Publications on this topic (or `prefix.*`) reach only its subscribers
    /// (`wslink.subscribe`); repeatable.
    #[arg(long = "subscribers-only", value_name = "TOPIC")]
    subscribers_only: Vec<String>,
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let cli = Cli::parse();
    let (capacity, wait) = (cli.outbox_capacity, cli.slow_client_wait_ms);
    let mut server = Server::builder();
    for topic in &cli.subscribers_only {
        server = server.subscribers_only(topic);
    }
    let server = server
        .protocol(test_protocol::TestProtocol)
        .protocol(test_protocol::chat::Chat::new("Rust server"))
        .configure(move |c| {
            if let Some(capacity) = capacity {
                c.outbox_capacity = capacity;
            }
            if let Some(ms) = wait {
                c.slow_client = SlowClientPolicy::Wait(Duration::from_millis(ms));
            }
        });
    run(server, cli.server).await
}
