//! `wslink-launcher CONFIG`: the session launcher as a command.
//!
//! ```text
//! wslink-launcher launcher.json [--debug] [--host H] [--port P] [--token T]
//! ```
//!
//! `--host`/`--port` override the config's `configuration.host`/`port`; `--token` (or
//! `WSLINK_LAUNCHER_TOKEN`) overrides `configuration.auth_token`. `WSLINK_LAUNCHER_GET=1`
//! and `WSLINK_LAUNCHER_DELETE=1` enable the GET and DELETE routes, as in the reference.
//! A configuration error exits with status 2. Ctrl-C or SIGTERM stops the service and
//! every session.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use wslink_launcher::{Config, Launcher};

#[derive(Parser)]
#[command(
    name = "wslink-launcher",
    version,
    about = "Start one wslink server process per session (reference launcher config and API)"
)]
struct Cli {
    /// The launcher configuration (JSON, comments allowed).
    config: PathBuf,
    /// Debug logging (RUST_LOG overrides).
    #[arg(short, long)]
    debug: bool,
    /// Address to bind instead of configuration.host.
    #[arg(long)]
    host: Option<String>,
    /// Port to bind instead of configuration.port.
    #[arg(long)]
    port: Option<u16>,
    /// Require `Authorization: Bearer TOKEN` on the API (overrides configuration.auth_token).
    #[arg(long, env = "WSLINK_LAUNCHER_TOKEN", hide_env_values = true)]
    token: Option<String>,
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    let filter = tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| {
        tracing_subscriber::EnvFilter::new(if cli.debug { "debug" } else { "info" })
    });
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .init();

    let mut config = match Config::from_file(&cli.config) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("wslink-launcher: {}: {e}", cli.config.display());
            return ExitCode::from(2);
        }
    };
    config.apply_env();
    if let Some(host) = cli.host {
        config.configuration.host = host;
    }
    if let Some(port) = cli.port {
        config.configuration.port = port;
    }
    if let Some(token) = cli.token.filter(|t| !t.is_empty()) {
        config.configuration.auth_token = Some(token);
    }
    let launcher = match Launcher::start(config).await {
        Ok(l) => l,
        Err(e) => {
            eprintln!("wslink-launcher: cannot listen: {e}");
            return ExitCode::FAILURE;
        }
    };
    println!("wslink-launcher: listening on {}", launcher.url());
    wait_for_signal().await;
    launcher.shutdown().await;
    ExitCode::SUCCESS
}

async fn wait_for_signal() {
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = terminate => {}
    }
}
