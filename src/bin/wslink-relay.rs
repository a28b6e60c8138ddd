//! `wslink-relay`: bridges browsers to wslink servers that cannot accept connections.
//!
//! ```text
//! wslink-relay --port 8080 --mode relay        # servers connect with --reverse-url ws://HOST:8080/proxy/NAME
//! wslink-relay --port 8080 --mode forward      # browsers at /proxy/PORT[/PATH] reach ws://localhost:PORT/PATH
//! ```
//! See `wslink::ws::relay` for the pairing rules; every bound has a flag.

use std::num::NonZeroUsize;
use std::path::PathBuf;
use std::time::Duration;

use clap::{Parser, ValueEnum};
use wslink::ws::relay::{run_relay, RelayConfig, RelayLimits, RelayMode};
use wslink::ws::{ConnectOptions, HttpOptions, WsListener};

#[derive(Clone, Copy, ValueEnum)]
enum Mode {
    /// Connections marked `?wslink-relay=server` are servers (`--reverse-url` marks
    /// them), the others browsers, each paired with a waiting server connection.
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
    /// Server connections that may wait, unpaired, on one path (more are closed with 1013).
    #[arg(long = "max-waiting-servers", default_value = "8")]
    max_waiting_servers: NonZeroUsize,
    /// Seconds an unpaired server connection waits for a browser before it is closed.
    #[arg(long = "server-wait", default_value_t = 300.0)]
    server_wait: f64,
    /// Browsers that may wait for a server connection on one path (more get 1013 at once).
    #[arg(long = "max-waiting-browsers", default_value = "16")]
    max_waiting_browsers: NonZeroUsize,
    /// Seconds a browser waits for a server (or, in forward mode, for the upstream) before
    /// it is closed with 1013.
    #[arg(long = "browser-wait", default_value_t = 5.0)]
    browser_wait: f64,
    /// Paths with connections waiting on them (a connection on one more gets 1013).
    #[arg(long = "max-paths", default_value = "1024")]
    max_paths: NonZeroUsize,
    /// Browser-server pairs relayed at once (one more browser gets 1013).
    #[arg(long = "max-pairs", default_value = "1024")]
    max_pairs: NonZeroUsize,
    /// Seconds a close handshake through the relay may take.
    #[arg(long = "close-timeout", default_value_t = 5.0)]
    close_timeout: f64,
    /// Seconds a browser paired with a server connection may stay silent before both are
    /// closed with 1008 (the server learns of its browser from its first message).
    #[arg(long = "first-message-wait", default_value_t = 30.0)]
    first_message_wait: f64,
    /// Debug logging.
    #[arg(short, long)]
    debug: bool,
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let cli = Cli::parse();
    wslink::cli::init_tracing(cli.debug);
    let limits = RelayLimits {
        max_waiting_servers: cli.max_waiting_servers.get(),
        server_wait: seconds("--server-wait", cli.server_wait)?,
        max_waiting_browsers: cli.max_waiting_browsers.get(),
        browser_wait: seconds("--browser-wait", cli.browser_wait)?,
        max_paths: cli.max_paths.get(),
        max_pairs: cli.max_pairs.get(),
        close_timeout: seconds("--close-timeout", cli.close_timeout)?,
        first_message_wait: seconds("--first-message-wait", cli.first_message_wait)?,
    };
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
    run_relay(
        listener,
        RelayConfig {
            mode,
            upstream,
            limits,
        },
    )
    .await;
    Ok(())
}

/// A duration flag: finite, not negative.
fn seconds(flag: &str, value: f64) -> std::io::Result<Duration> {
    Duration::try_from_secs_f64(value).map_err(|_| {
        std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            format!("{flag} wants a number of seconds (0 or more), got {value}"),
        )
    })
}
