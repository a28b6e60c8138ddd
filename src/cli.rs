//! Running a server from the command line, with the reference server's flags.
//!
//! [`ServerArgs`] holds the flags of the Python server (`--host`, `--port`, `--content`,
//! `--authKey`, `--timeout`, `--ws-endpoint`, `--no-ws-endpoint`, `--fs-endpoints`,
//! `--ssl`, `--debug`) as a `clap::Args`, so an application flattens it into its own parser and
//! adds its own flags; [`run`] then serves a [`ServerBuilder`] until Ctrl-C, SIGTERM,
//! `application.exit` or the idle timeout.
//!
//! `--ssl cert.pem,key.pem` serves `https://` and `wss://` with that certificate chain and
//! private key (PEM; PKCS#8, RSA or SEC1 keys); `--ssl adhoc` makes a throw-away
//! self-signed certificate for the `--host` name (plus `localhost`, `127.0.0.1` and `::1`),
//! as the reference does. Clients must trust a self-signed certificate (for the Rust client:
//! `ConnectOptions::trust_pem_file`).
//!
//! ```no_run
//! use clap::Parser;
//! use wslink::cli::{run, ServerArgs};
//! use wslink::server::Server;
//!
//! #[derive(Parser)]
//! struct Cli {
//!     #[command(flatten)]
//!     server: ServerArgs,
//!     /// A flag of the application's own.
//!     #[arg(long, default_value = "World")]
//!     name: String,
//! }
//!
//! #[tokio::main]
//! async fn main() -> std::io::Result<()> {
//!     let cli = Cli::parse();
//!     let name = cli.name.clone();
//!     let server = Server::builder().rpc("app.hello", move || {
//!         let name = name.clone();
//!         async move { Ok(format!("hello {name}")) }
//!     });
//!     run(server, cli.server).await
//! }
//! ```

use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use wslink_core::defaults::{DEFAULT_MAX_FRAME_SIZE, MESSAGE_OVERHEAD};
use wslink_core::Generation;
use wslink_server::{ServerBuilder, ServerHandle};
use wslink_transport_ws::{HttpOptions, TlsConfig, WsListener};

pub use crate::broker::BrokerUrl;

/// Which wire generations a server speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Wire {
    /// 1.x only.
    #[value(name = "1")]
    V1,
    /// 2.x only.
    #[value(name = "2")]
    V2,
    /// Both, decided per connection.
    Both,
}

/// The server flags of the reference CLI.
#[derive(Debug, Clone, clap::Args)]
pub struct ServerArgs {
    /// Address to bind.
    #[arg(long, default_value = "127.0.0.1")]
    pub host: String,

    /// Port to listen on (0 picks a free one).
    #[arg(short, long, default_value_t = 8080)]
    pub port: u16,

    /// Folder of static files served at `/`.
    #[arg(long)]
    pub content: Option<PathBuf>,

    /// The secret clients must send in their hello (applied automatically).
    #[arg(long = "authKey", env = "WSLINK_AUTH_KEY", default_value = wslink_server::DEFAULT_SECRET, hide_env_values = true)]
    pub auth_key: String,

    /// Stop after this many seconds without connections; 0 never stops.
    #[arg(long, default_value_t = 300)]
    pub timeout: u64,

    /// Path of the WebSocket endpoint.
    #[arg(long = "ws-endpoint", default_value = "ws")]
    pub ws_endpoint: String,

    /// Serve no WebSocket endpoint (static files only).
    #[arg(long = "no-ws-endpoint")]
    pub no_ws_endpoint: bool,

    /// Extra static folders: `name=dir|name2=dir2`, served at `/name/`.
    #[arg(long = "fs-endpoints", default_value = "")]
    pub fs_endpoints: String,

    /// Chunk size of outgoing messages, announced as `maxMsgSize`.
    #[arg(long = "max-msg-size", env = "WSLINK_MAX_MSG_SIZE", default_value_t = DEFAULT_MAX_FRAME_SIZE)]
    pub max_msg_size: usize,

    /// Largest message accepted before the hello.
    #[arg(
        long = "auth-msg-size",
        env = "WSLINK_AUTH_MSG_SIZE",
        default_value_t = wslink_core::DecodeLimits::DEFAULT_PRE_AUTH_MESSAGE_SIZE
    )]
    pub auth_msg_size: usize,

    /// TLS: `CERT,KEY` (PEM certificate chain and private key files) or `adhoc` (a
    /// throw-away self-signed certificate); then https:// and wss://.
    #[arg(long, value_name = "CERT,KEY|adhoc")]
    pub ssl: Option<String>,

    /// Largest message accepted after the hello (bytes).
    #[arg(long = "max-message", default_value_t = wslink_core::DecodeLimits::DEFAULT_MESSAGE_SIZE)]
    pub max_message: usize,

    /// Debug logging, and exception detail in error replies.
    #[arg(short, long)]
    pub debug: bool,

    /// Keepalive: ping every SECS seconds and drop a client silent for 1.5 × SECS (the
    /// reference's `WSLINK_HEART_BEAT`); below 1 disables.
    #[arg(
        long = "heartbeat",
        env = "WSLINK_HEART_BEAT",
        default_value_t = 30.0,
        value_name = "SECS"
    )]
    pub heartbeat: f64,

    /// Accept WebSocket upgrades only from these page origins (comma-separated, e.g.
    /// `https://app.example.org`); requests without an Origin (non-browser clients) are
    /// still accepted. Default: any origin.
    #[arg(
        long = "allowed-origins",
        value_delimiter = ',',
        value_name = "ORIGINS"
    )]
    pub allowed_origins: Vec<String>,

    /// Add this header to every HTTP response (`Name: value`; repeatable), e.g.
    /// `Cross-Origin-Opener-Policy: same-origin`.
    #[arg(long = "http-header", value_name = "HEADER")]
    pub http_headers: Vec<String>,

    /// A JSON file `{"Header-Name": "value", …}` of headers for every HTTP response (the
    /// reference's `WSLINK_HTTP_HEADERS`, which works here).
    #[arg(
        long = "http-headers-file",
        env = "WSLINK_HTTP_HEADERS",
        value_name = "FILE"
    )]
    pub http_headers_file: Option<PathBuf>,

    /// Reverse mode: do not listen; connect out to this relay URL (`ws://relay/path`) and
    /// serve the browsers on the other side, one session per relayed connection (the relay
    /// closes it when its browser leaves).
    #[arg(long = "reverse-url", value_name = "URL")]
    pub reverse_url: Option<String>,

    /// Reverse mode: spare connections kept waiting on the relay (at least 1), so that
    /// the next browser never waits; one more is opened as soon as a browser takes one.
    #[arg(
        long = "reverse-spares",
        value_name = "N",
        default_value_t = 1,
        value_parser = clap::value_parser!(u16).range(1..=64)
    )]
    pub reverse_spares: u16,

    /// Wire generations spoken: `2` (msgpack, binary frames), `1` (JSON text frames with
    /// attachments), or `both` (each connection's first frame decides).
    #[arg(long, value_enum, default_value_t = Wire::Both)]
    pub wire: Wire,

    /// Bytes a client's WebSocket message may exceed `--max-msg-size` by (the reference's
    /// `WSLINK_MSG_OVERHEAD`).
    #[arg(long = "msg-overhead", env = "WSLINK_MSG_OVERHEAD", default_value_t = MESSAGE_OVERHEAD)]
    pub msg_overhead: usize,

    /// The start of the ready line, before the URL (the reference's `WSLINK_READY_MSG`);
    /// empty prints no ready line.
    #[arg(
        long = "ready-msg",
        env = "WSLINK_READY_MSG",
        default_value = "wslink: Starting factory"
    )]
    pub ready_msg: String,

    /// Serve static files through symbolic links that lead out of their folder (the
    /// reference's `WSLINK_FOLLOW_SYMLINKS`); by default such links are a 404.
    #[arg(long = "follow-symlinks", env = "WSLINK_FOLLOW_SYMLINKS", value_parser = clap::builder::BoolishValueParser::new(), default_value_t = false, action = clap::ArgAction::Set, num_args = 0..=1, default_missing_value = "true")]
    pub follow_symlinks: bool,

    /// Install no Ctrl-C/SIGTERM handler (the reference's flag): the process then ends on
    /// those signals without closing its clients first.
    #[arg(long = "nosignalhandlers")]
    pub no_signal_handlers: bool,

    /// Refuse permessage-deflate (the reference's flag): by default a client that offers
    /// it (browsers, the `ws` client, our own client) gets compressed messages.
    #[arg(long = "no-ws-compress")]
    pub no_ws_compress: bool,

    /// Share publications with the other nodes of the application through a broker:
    /// `nats://HOST:PORT` (feature `nats`) or `redis://HOST:PORT` (feature `redis`). The
    /// server starts even while the broker is down, and keeps retrying.
    #[arg(long = "pubsub", env = "WSLINK_PUBSUB", value_name = "URL")]
    pub pubsub: Option<BrokerUrl>,

    /// The prefix of this application's subjects/channels on the `--pubsub` broker, so
    /// that several applications can share one broker (dot-separated words).
    #[arg(
        long = "pubsub-namespace",
        env = "WSLINK_PUBSUB_NAMESPACE",
        default_value = "wslink",
        value_name = "NS",
        value_parser = crate::broker::parse_namespace
    )]
    pub pubsub_namespace: String,

    /// zlib level of permessage-deflate, 0 (store) to 9 (smallest).
    #[arg(long = "ws-compress-level", value_name = "LEVEL", default_value_t = wslink_transport_ws::Deflate::default().level, value_parser = clap::value_parser!(u32).range(0..=9))]
    pub ws_compress_level: u32,

    /// Messages smaller than BYTES are sent uncompressed.
    #[arg(long = "ws-compress-threshold", value_name = "BYTES", default_value_t = wslink_transport_ws::Deflate::default().threshold)]
    pub ws_compress_threshold: usize,

    /// Keep the compression context from one message to the next, on both sides: better
    /// ratios for repetitive traffic, but about 300 KiB of zlib state per connection for
    /// its whole life (default: no context takeover, states pooled between messages).
    #[arg(long = "ws-context-takeover")]
    pub ws_context_takeover: bool,

    /// LZ77 window of both compressors, 9 to 15 bits (smaller saves memory when context
    /// takeover is on). Default 15.
    #[arg(long = "ws-window-bits", value_name = "BITS", value_parser = clap::value_parser!(u8).range(9..=15))]
    pub ws_window_bits: Option<u8>,
}

impl ServerArgs {
    /// Parses `--fs-endpoints` (`name=dir|name2=dir2`).
    pub fn fs_endpoints(&self) -> Vec<(String, PathBuf)> {
        self.fs_endpoints
            .split('|')
            .filter_map(|entry| entry.split_once('='))
            .filter(|(name, dir)| !name.trim().is_empty() && !dir.trim().is_empty())
            .map(|(name, dir)| (name.trim().to_owned(), PathBuf::from(dir.trim())))
            .collect()
    }

    /// The TLS configuration of `--ssl`: `None` without the flag (or with an empty value),
    /// the certificate and key of `--ssl CERT,KEY`, or a self-signed certificate for
    /// `--host` with `--ssl adhoc`. Errors name the file and what is wrong with it.
    pub fn tls_config(&self) -> std::io::Result<Option<TlsConfig>> {
        let invalid =
            |message: String| std::io::Error::new(std::io::ErrorKind::InvalidInput, message);
        let Some(ssl) = self.ssl.as_deref().map(str::trim).filter(|s| !s.is_empty()) else {
            return Ok(None);
        };
        if ssl.eq_ignore_ascii_case("adhoc") {
            let names = adhoc_names(&self.host);
            let (config, _pem) =
                TlsConfig::self_signed(&names).map_err(|e| invalid(format!("--ssl adhoc: {e}")))?;
            tracing::warn!(
                ?names,
                "--ssl adhoc: serving a throw-away self-signed certificate; clients must trust it explicitly"
            );
            return Ok(Some(config));
        }
        match ssl.split_once(',') {
            Some((cert, key)) if !cert.trim().is_empty() && !key.trim().is_empty() => {
                TlsConfig::from_pem_files(cert.trim(), key.trim())
                    .map(Some)
                    .map_err(|e| {
                        let e = std::io::Error::from(e);
                        std::io::Error::new(e.kind(), format!("--ssl: {e}"))
                    })
            }
            _ => Err(invalid(format!(
                "--ssl {ssl:?}: expected CERT,KEY (a PEM certificate chain file and a PEM private key file, comma-separated) or adhoc"
            ))),
        }
    }

    /// The HTTP options these flags describe (without TLS: [`bind`] adds
    /// [`tls_config`](Self::tls_config), which reads files and so may fail).
    pub fn http_options(&self) -> HttpOptions {
        HttpOptions {
            ws_endpoint: (!self.no_ws_endpoint)
                .then(|| HttpOptions::endpoint_path(&self.ws_endpoint)),
            content: self.content.clone(),
            fs_endpoints: self.fs_endpoints(),
            max_message_size: self.max_msg_size.saturating_add(self.msg_overhead),
            dead_after: self.heartbeat().map(|every| every.mul_f64(1.5)),
            allowed_origins: (!self.allowed_origins.is_empty())
                .then(|| self.allowed_origins.clone()),
            deflate: self.deflate(),
            follow_symlinks: self.follow_symlinks,
            ..HttpOptions::default()
        }
    }

    /// The permessage-deflate settings of `--no-ws-compress` and the `--ws-*` flags.
    pub fn deflate(&self) -> wslink_transport_ws::Deflate {
        wslink_transport_ws::Deflate {
            enabled: !self.no_ws_compress,
            level: self.ws_compress_level,
            threshold: self.ws_compress_threshold,
            server_context_takeover: self.ws_context_takeover,
            client_context_takeover: self.ws_context_takeover,
            server_max_window_bits: self.ws_window_bits,
            client_max_window_bits: self.ws_window_bits,
            ..wslink_transport_ws::Deflate::default()
        }
    }

    /// The headers of `--http-header` and `--http-headers-file`.
    pub fn extra_headers(&self) -> std::io::Result<Vec<(http::HeaderName, http::HeaderValue)>> {
        let invalid = |what: String| std::io::Error::new(std::io::ErrorKind::InvalidInput, what);
        let mut pairs: Vec<(String, String)> = Vec::new();
        if let Some(file) = &self.http_headers_file {
            let text = std::fs::read_to_string(file)
                .map_err(|e| invalid(format!("--http-headers-file {}: {e}", file.display())))?;
            let map: serde_json::Map<String, serde_json::Value> = serde_json::from_str(&text)
                .map_err(|e| invalid(format!("--http-headers-file {}: {e}", file.display())))?;
            for (name, value) in map {
                let value = match value {
                    serde_json::Value::String(s) => s,
                    other => other.to_string(),
                };
                pairs.push((name, value));
            }
        }
        for header in &self.http_headers {
            let (name, value) = header.split_once(':').ok_or_else(|| {
                invalid(format!("--http-header {header:?}: expected `Name: value`"))
            })?;
            pairs.push((name.trim().to_owned(), value.trim().to_owned()));
        }
        pairs
            .into_iter()
            .map(|(name, value)| {
                let parsed_name = http::HeaderName::from_bytes(name.as_bytes())
                    .map_err(|e| invalid(format!("header name {name:?}: {e}")))?;
                let parsed_value = http::HeaderValue::from_str(&value)
                    .map_err(|e| invalid(format!("header {name:?} value {value:?}: {e}")))?;
                Ok((parsed_name, parsed_value))
            })
            .collect()
    }

    /// The keepalive ping interval, if enabled.
    pub fn heartbeat(&self) -> Option<Duration> {
        (self.heartbeat >= 1.0).then(|| Duration::from_secs_f64(self.heartbeat))
    }

    /// Applies the flags to a server builder.
    pub fn apply(&self, builder: ServerBuilder) -> ServerBuilder {
        // The 1.x codec writes JSON the way the Python server does.
        let json = wslink_codec_json::JsonCodec::with_style(wslink_codec_json::Style::Python);
        let builder = match self.wire {
            Wire::V2 => builder.without(Generation::V1),
            Wire::V1 => builder.codec(json).without(Generation::V2),
            Wire::Both => builder.codec(json),
        };
        let timeout = self.timeout;
        let keepalive = self.heartbeat();
        let (max_frame, pre_auth, max_message, debug) = (
            self.max_msg_size,
            self.auth_msg_size,
            self.max_message,
            self.debug,
        );
        let builder = match &self.pubsub {
            Some(url) => url.apply(builder, &self.pubsub_namespace),
            None => builder,
        };
        builder.secret(self.auth_key.as_str()).configure(move |c| {
            c.idle_timeout = (timeout > 0).then(|| Duration::from_secs(timeout));
            c.max_frame_size = max_frame;
            c.limits.pre_auth_message_size = pre_auth;
            c.limits.message_size = max_message;
            c.limits.partial_bytes = max_message;
            c.error_detail = debug;
            c.keepalive = keepalive;
        })
    }
}

/// The names of an adhoc certificate: `host` (unless it is a wildcard address) and the
/// loopback names.
fn adhoc_names(host: &str) -> Vec<String> {
    let host = host.trim().trim_start_matches('[').trim_end_matches(']');
    let wildcard = host
        .parse::<std::net::IpAddr>()
        .is_ok_and(|ip| ip.is_unspecified());
    let mut names = Vec::new();
    if !host.is_empty() && !wildcard {
        names.push(host.to_owned());
    }
    for name in ["localhost", "127.0.0.1", "::1"] {
        if !names.iter().any(|n| n.eq_ignore_ascii_case(name)) {
            names.push(name.to_owned());
        }
    }
    names
}

/// Logs to stderr; `RUST_LOG` overrides the level (`info`, or `debug` with `debug`).
pub fn init_tracing(debug: bool) {
    let default = if debug { "debug" } else { "info" };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
}

/// A bound, not yet serving, server: its address is known (useful with `--port 0`).
#[derive(Debug)]
pub struct Bound {
    listener: WsListener,
    /// The address bound.
    pub local_addr: SocketAddr,
    /// The WebSocket URL clients connect to (`wss://…` with `--ssl`).
    pub ws_url: Option<String>,
    /// Whether the server speaks TLS (`--ssl`).
    pub tls: bool,
    /// The ready line's start (`--ready-msg`, `WSLINK_READY_MSG`).
    pub ready_msg: String,
}

/// Binds the address of `args` (and loads the `--ssl` certificate first).
pub async fn bind(args: &ServerArgs) -> std::io::Result<Bound> {
    let mut options = args.http_options();
    options.tls = args.tls_config()?;
    options.extra_headers = args.extra_headers()?;
    let tls = options.tls.is_some();
    let endpoint = options.ws_endpoint.clone();
    let listener = WsListener::bind((args.host.as_str(), args.port), options).await?;
    let local_addr = listener.local_addr();
    let scheme = if tls { "wss" } else { "ws" };
    Ok(Bound {
        listener,
        local_addr,
        ws_url: endpoint.map(|path| format!("{scheme}://{local_addr}{path}")),
        tls,
        ready_msg: args.ready_msg.clone(),
    })
}

/// Serves `builder` with the flags of `args` until it is stopped. Prints the ready line
/// (`wslink: Starting factory <url>`, newline-terminated) once listening.
pub async fn run(builder: ServerBuilder, args: ServerArgs) -> std::io::Result<()> {
    init_tracing(args.debug);
    if args.no_signal_handlers {
        SIGNAL_HANDLERS.store(false, std::sync::atomic::Ordering::Relaxed);
    }
    if let Some(url) = &args.reverse_url {
        let server = args.apply(builder).build();
        return serve_reverse(server, url, usize::from(args.reverse_spares)).await;
    }
    let bound = bind(&args).await?;
    let server = args.apply(builder).build();
    serve_bound(server, bound).await
}

/// Serves an already built server on a [`Bound`] address; see [`run`].
pub async fn serve_bound(server: wslink_server::Server, bound: Bound) -> std::io::Result<()> {
    let handle = server.handle();
    if !bound.ready_msg.is_empty() {
        let mut out = std::io::stdout().lock();
        match &bound.ws_url {
            Some(url) => writeln!(out, "{} {url}", bound.ready_msg)?,
            None => {
                let scheme = if bound.tls { "https" } else { "http" };
                writeln!(out, "{} {scheme}://{}/", bound.ready_msg, bound.local_addr)?
            }
        }
        out.flush()?;
    }
    tokio::spawn(stop_on_signal(handle));
    server.serve(bound.listener).await;
    Ok(())
}

/// Reverse mode: keeps `spares` connections (at least one) waiting on the relay at `url`
/// and serves the browser that each one gets, each connection a session of its own with
/// its own hello (timed from the browser's first frame); as soon as a browser takes a
/// spare, another one is opened. Runs until
/// stopped, or until the relay stays unreachable (5 attempts in a row).
///
/// The connections carry the relay's server mark
/// ([`wslink_transport_ws::relay::SERVER_MARK`]) in their query string.
pub async fn serve_reverse(
    server: wslink_server::Server,
    url: &str,
    spares: usize,
) -> std::io::Result<()> {
    let handle = server.handle();
    tokio::spawn(stop_on_signal(handle.clone()));
    let marked = wslink_transport_ws::relay::server_url(url);
    let server = std::sync::Arc::new(server);
    let (events, mut inbox) = tokio::sync::mpsc::channel(64);
    let mut sessions = tokio::task::JoinSet::new();
    for _ in 0..spares.max(1) {
        sessions.spawn(spare(server.clone(), marked.clone(), events.clone()));
    }
    let mut announced = false;
    let mut failures = 0u32;
    let outcome = loop {
        let event = tokio::select! {
            event = inbox.recv() => event,
            _ = handle.stopped() => break Ok(()),
        };
        let delay = match event {
            Some(Spare::Connected) => {
                failures = 0;
                if !announced {
                    announce_reverse(url)?;
                    announced = true;
                }
                continue;
            }
            // The spare is taken: open the next one now.
            Some(Spare::Paired) => Duration::ZERO,
            // The relay closed a spare no browser took (it waited too long, or the relay
            // has enough): open another, without hammering the relay.
            Some(Spare::Unpaired) => Duration::from_millis(500),
            Some(Spare::Unreachable(e)) => {
                failures += 1;
                tracing::warn!(%url, error = %e, failures, "reverse: relay unreachable");
                if failures >= 5 {
                    break Err(std::io::Error::other(format!(
                        "relay {url} unreachable: {e}"
                    )));
                }
                Duration::from_millis(200 << failures)
            }
            None => break Ok(()),
        };
        let (server, marked, events) = (server.clone(), marked.clone(), events.clone());
        sessions.spawn(async move {
            tokio::time::sleep(delay).await;
            spare(server, marked, events).await;
        });
        while sessions.try_join_next().is_some() {}
    };
    // Sessions close on shutdown (1001): give them a moment to say so.
    handle.shutdown();
    let _ = tokio::time::timeout(Duration::from_secs(5), async {
        while sessions.join_next().await.is_some() {}
    })
    .await;
    outcome
}

fn announce_reverse(url: &str) -> std::io::Result<()> {
    let mut out = std::io::stdout().lock();
    writeln!(out, "wslink: Starting factory (reverse) {url}")?;
    out.flush()
}

/// What a spare connection of [`serve_reverse`] reports.
enum Spare {
    /// Connected to the relay, waiting for a browser.
    Connected,
    /// A browser spoke on it: a session has begun.
    Paired,
    /// It ended without a browser.
    Unpaired,
    /// The relay could not be reached.
    Unreachable(wslink_core::TransportError),
}

/// One spare connection: connect, wait for a browser (its first frame), serve its
/// session to the end. The hello timeout counts from the browser's first frame.
async fn spare(
    server: std::sync::Arc<wslink_server::Server>,
    url: String,
    events: tokio::sync::mpsc::Sender<Spare>,
) {
    use wslink_core::{FrameSink, FrameStream, Transport};
    let transport = match wslink_transport_ws::connect(&url).await {
        Ok(transport) => transport,
        Err(e) => {
            let _ = events.send(Spare::Unreachable(e)).await;
            return;
        }
    };
    let _ = events.send(Spare::Connected).await;
    let peer = transport.peer();
    let (mut sink, mut stream) = transport.split();
    let handle = server.handle();
    let first = tokio::select! {
        first = stream.recv() => first,
        _ = handle.stopped() => {
            let bye = wslink_core::Close::new(wslink_core::CloseCode::GOING_AWAY, "Server shutdown");
            let _ = sink.close(bye).await;
            return;
        }
    };
    let Some(Ok(first)) = first else {
        tracing::debug!(close = ?stream.close_frame(), "reverse: spare closed before a browser came");
        let _ = events.send(Spare::Unpaired).await;
        return;
    };
    tracing::info!("reverse: a browser attached");
    let _ = events.send(Spare::Paired).await;
    let transport = wslink_transport_ws::relay::Replay::new(sink, stream, first, peer);
    server.serve_connection(transport).await;
    tracing::info!("reverse: session over");
}

/// Whether [`stop_on_signal`] handles Ctrl-C and SIGTERM (`--nosignalhandlers` turns it
/// off for the process, as the reference's flag does).
static SIGNAL_HANDLERS: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(true);

async fn stop_on_signal(handle: ServerHandle) {
    if !SIGNAL_HANDLERS.load(std::sync::atomic::Ordering::Relaxed) {
        return;
    }
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut sigterm) => {
                sigterm.recv().await;
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
    tracing::info!("signal received: stopping");
    handle.shutdown();
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        server: ServerArgs,
    }

    #[test]
    fn reference_flags_parse() {
        let cli = Cli::try_parse_from([
            "x",
            "--port",
            "0",
            "--authKey",
            "k",
            "--timeout",
            "0",
            "--ws-endpoint",
            "foo/ws",
            "--fs-endpoints",
            "data=/tmp/d|img=/tmp/i|bad",
            "--content",
            "/www",
        ])
        .unwrap();
        let options = cli.server.http_options();
        assert_eq!(options.ws_endpoint.as_deref(), Some("/foo/ws"));
        assert_eq!(
            options.fs_endpoints,
            vec![
                ("data".into(), "/tmp/d".into()),
                ("img".into(), "/tmp/i".into())
            ]
        );
        assert_eq!(options.content, Some(PathBuf::from("/www")));
        assert_eq!(cli.server.auth_key, "k");
        let no_ws = Cli::try_parse_from(["x", "--no-ws-endpoint"]).unwrap();
        assert_eq!(no_ws.server.http_options().ws_endpoint, None);
        assert!(cli.server.tls_config().unwrap().is_none());
    }

    #[test]
    fn the_reference_flags_and_variables_that_tune_the_server() {
        let cli = Cli::try_parse_from([
            "x",
            "--nosignalhandlers",
            "--no-ws-compress",
            "--msg-overhead",
            "100",
            "--max-msg-size",
            "1000",
            "--ready-msg",
            "ready:",
            "--follow-symlinks",
        ])
        .unwrap();
        let options = cli.server.http_options();
        assert_eq!(options.max_message_size, 1100);
        assert!(options.follow_symlinks);
        assert!(cli.server.no_signal_handlers && cli.server.no_ws_compress);
        assert!(!options.deflate.enabled, "--no-ws-compress refuses deflate");
        assert_eq!(cli.server.ready_msg, "ready:");
        let defaults = Cli::try_parse_from(["x"]).unwrap();
        assert_eq!(
            defaults.server.http_options().deflate,
            wslink_transport_ws::Deflate::default()
        );
        let tuned = Cli::try_parse_from([
            "x",
            "--ws-compress-level",
            "6",
            "--ws-compress-threshold",
            "0",
            "--ws-context-takeover",
            "--ws-window-bits",
            "10",
        ])
        .unwrap()
        .server
        .deflate();
        assert!(tuned.enabled && tuned.server_context_takeover && tuned.client_context_takeover);
        assert_eq!((tuned.level, tuned.threshold), (6, 0));
        assert_eq!(tuned.client_max_window_bits, Some(10));
        assert!(Cli::try_parse_from(["x", "--ws-window-bits", "16"]).is_err());
        assert!(!defaults.server.http_options().follow_symlinks);
        assert_eq!(defaults.server.ready_msg, "wslink: Starting factory");
        assert_eq!(
            defaults.server.http_options().max_message_size,
            DEFAULT_MAX_FRAME_SIZE + MESSAGE_OVERHEAD
        );
    }

    fn ssl(value: &str) -> std::io::Result<Option<TlsConfig>> {
        Cli::try_parse_from(["x", "--ssl", value])
            .unwrap()
            .server
            .tls_config()
    }

    #[test]
    fn ssl_flag_errors_are_clear() {
        assert!(ssl("").unwrap().is_none());
        let err = ssl("just-one-file.pem").unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput);
        assert!(err.to_string().contains("expected CERT,KEY"), "{err}");
        let err = ssl("/nonexistent/cert.pem,/nonexistent/key.pem").unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::NotFound);
        assert!(err.to_string().contains("/nonexistent/cert.pem"), "{err}");
    }

    #[test]
    fn adhoc_names_cover_the_host_and_loopback() {
        assert_eq!(
            adhoc_names("0.0.0.0"),
            vec!["localhost", "127.0.0.1", "::1"]
        );
        assert_eq!(
            adhoc_names("example.org"),
            vec!["example.org", "localhost", "127.0.0.1", "::1"]
        );
        assert_eq!(adhoc_names("[::1]"), vec!["::1", "localhost", "127.0.0.1"]);
    }

    #[tokio::test]
    async fn ssl_adhoc_serves_wss() {
        let cli = Cli::try_parse_from(["x", "--port", "0", "--ssl", "adhoc"]).unwrap();
        let bound = bind(&cli.server).await.unwrap();
        assert!(bound.tls);
        let url = bound.ws_url.clone().unwrap();
        assert!(url.starts_with("wss://127.0.0.1:"), "{url}");
        assert!(bound.listener.is_tls());
    }
}
