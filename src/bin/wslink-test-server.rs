//! The test protocol (crate `wslink-test-protocol`) over WebSockets: every method any
//! client can be checked against, and the chat example's methods, with the reference
//! server's flags.
//!
//! ```text
//! cargo run --features cli --bin wslink-test-server -- --host 127.0.0.1 --port 8080 [--authKey S] [--timeout 0]
//! ```
//! Prints `wslink: Starting factory ws://HOST:PORT/ws` once it listens.

use clap::Parser;
use wslink::cli::{run, ServerArgs};
use wslink::server::Server;
use wslink_test_protocol as test_protocol;

#[derive(Parser)]
#[command(about = "wslink test-protocol server")]
struct Cli {
    #[command(flatten)]
    server: ServerArgs,
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let cli = Cli::parse();
    let server = Server::builder()
        .router(test_protocol::router())
        .router(test_protocol::chat::router("Rust server"));
    run(server, cli.server).await
}
