//! `wslink-relay`: bridges browsers to wslink servers that cannot accept connections.
//!
//! ```text
//! wslink-relay --port 8080 --mode relay        # servers connect with --reverse-url ws://HOST:8080/proxy/NAME
//! wslink-relay --port 8080 --mode forward      # browsers at /proxy/PORT[/PATH] reach ws://localhost:PORT/PATH
//! ```
//! See `wslink::ws::relay` for the pairing rules.

use std::path::PathBuf;

use clap::{Parser, ValueEnum};
use wslink::ws::relay::{run_relay, RelayMode};
use wslink::ws::{ConnectOptions, HttpOptions, WsListener};

#[derive(Clone, Copy, ValueEnum)]
enum Mode {
    /// The first WebSocket on a path is the server, the next the browser.
    Relay,
    /// Browsers on /proxy/PORT[/PATH] are bridged to ws://UPSTREAM:PORT/PATH.
    Forward,
}

#[derive(Parser)]
#[command(about = "wslink relay: bridges browsers and wslink servers")]
struct Cli {
    /// Address to bind.
    #[arg(long, default_value = "127.0.0.1")]
    host: String,
    /// Port to listen on.
    #[arg(short, long, default_value_t = 8080)]
    port: u16,
    /// Pairing mode.
    #[arg(long, value_enum, default_value_t = Mode::Relay)]
    mode: Mode,
    /// Path prefix of the WebSocket endpoints.
    #[arg(long = "proxy-route", default_value = "/proxy")]
    proxy_route: String,
    /// Upstream host in forward mode.
    #[arg(long, default_value = "localhost")]
    upstream: String,
    /// Static files served at `/`.
    #[arg(long)]
    www: Option<PathBuf>,
    /// Largest WebSocket message relayed (default 64 MiB: above any server's chunk size).
    #[arg(long = "max-message", default_value_t = 64 << 20)]
    max_message: usize,
    /// Debug logging.
    #[arg(short, long)]
    debug: bool,
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let cli = Cli::parse();
    wslink::cli::init_tracing(cli.debug);
    let prefix = HttpOptions::endpoint_path(&cli.proxy_route);
    let options = HttpOptions {
        ws_endpoint: Some(prefix.clone()),
        ws_prefix: true,
        content: cli.www.clone(),
        max_message_size: cli.max_message,
        // Each side keeps its own keepalive; the relay itself does not drop quiet peers.
        dead_after: None,
        ..HttpOptions::default()
    };
    let listener = WsListener::bind((cli.host.as_str(), cli.port), options).await?;
    println!(
        "wslink-relay: listening on ws://{}{prefix}/",
        listener.local_addr()
    );
    let mode = match cli.mode {
        Mode::Relay => RelayMode::Relay,
        Mode::Forward => RelayMode::Forward {
            host: cli.upstream,
            prefix,
        },
    };
    let upstream = ConnectOptions {
        max_message_size: cli.max_message,
        ..ConnectOptions::default()
    };
    run_relay(listener, mode, upstream).await;
    Ok(())
}
