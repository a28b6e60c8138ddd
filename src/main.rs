//! `wslink`: poke any wslink server from the command line.
//!
//! ```text
//! wslink call ws://127.0.0.1:8080/ws test.add '[1, 2]'
//! wslink call ws://127.0.0.1:8080/ws test.bytes '[1000]' --out blob.bin
//! wslink subscribe ws://127.0.0.1:8080/ws wslink.communication.channel --count 3
//! ```

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Parser, Subcommand};
use wslink::client::{Client, ClientError};
use wslink::{Bytes, Filter, Map, Value};

#[derive(Parser)]
#[command(
    name = "wslink",
    version,
    about = "Call methods of, and listen to, any wslink server"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
    /// Speak the 1.x wire (JSON text frames with attachments) instead of 2.x.
    #[arg(long, global = true)]
    v1: bool,
    /// Also trust this PEM certificate for wss:// (a self-signed or private-CA server).
    #[arg(long, global = true, value_name = "PEM")]
    ca: Option<PathBuf>,
}

/// How to reach the server.
struct Target {
    url: String,
    secret: String,
    v1: bool,
    ca: Option<PathBuf>,
}

#[derive(Subcommand)]
enum Command {
    /// Call a method and print its result as JSON.
    Call {
        /// The server's WebSocket URL, e.g. ws://127.0.0.1:8080/ws
        url: String,
        /// The method, e.g. test.add
        method: String,
        /// Positional arguments: a JSON array (a single JSON value is one argument).
        args: Option<String>,
        /// Keyword arguments: a JSON object.
        #[arg(long)]
        kwargs: Option<String>,
        /// Append the content of FILE as a binary argument (repeatable).
        #[arg(long = "bin-arg", value_name = "FILE")]
        bin_args: Vec<PathBuf>,
        /// The hello secret.
        #[arg(
            long,
            default_value = wslink::server::DEFAULT_SECRET,
            env = "WSLINK_SECRET",
            hide_env_values = true
        )]
        secret: String,
        /// Write a binary result to FILE instead of describing it.
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
        /// Give up after this many seconds.
        #[arg(long, default_value_t = 60.0)]
        timeout: f64,
    },
    /// Print each publication of a topic as a JSON line.
    Subscribe {
        /// The server's WebSocket URL.
        url: String,
        /// The topic, e.g. wslink.communication.channel
        topic: String,
        /// Only publications whose map payload has FIELD equal to the JSON value
        /// (repeatable); sent to a server that takes subscriptions, applied here too.
        #[arg(long = "where", value_name = "FIELD=JSON")]
        conditions: Vec<String>,
        /// Keep only these top-level keys of a map payload (comma-separated).
        #[arg(long, value_delimiter = ',')]
        fields: Option<Vec<String>>,
        /// Stop after this many publications.
        #[arg(long)]
        count: Option<u64>,
        /// Stop after this many seconds.
        #[arg(long)]
        timeout: Option<f64>,
        /// The hello secret.
        #[arg(
            long,
            default_value = wslink::server::DEFAULT_SECRET,
            env = "WSLINK_SECRET",
            hide_env_values = true
        )]
        secret: String,
    },
}

/// JSON for display: binary as a length and a hex prefix, extensions as `<ext …>` or
/// `<timestamp …>`, non-finite floats as strings.
fn to_json(value: &Value) -> serde_json::Value {
    use serde_json::Value as J;
    match value {
        Value::Nil => J::Null,
        Value::Bool(b) => J::Bool(*b),
        Value::Int(i) => J::from(*i),
        Value::UInt(u) => J::from(*u),
        Value::Float(f) => {
            serde_json::Number::from_f64(*f).map_or_else(|| J::String(f.to_string()), J::Number)
        }
        Value::Str(s) => J::String(s.clone()),
        Value::Bin(_) | Value::Ext(_) => J::String(value.to_string()),
        Value::Array(items) => J::Array(items.iter().map(to_json).collect()),
        Value::Map(map) => J::Object(map.iter().map(|(k, v)| (k.clone(), to_json(v))).collect()),
    }
}

fn parse_json(text: &str, what: &str) -> Result<Value, String> {
    serde_json::from_str(text).map_err(|e| format!("{what} is not valid JSON: {e}"))
}

async fn connect(target: &Target) -> Result<Client, String> {
    let url = target.url.as_str();
    let mut options = wslink::ws::ConnectOptions::default();
    if let Some(ca) = &target.ca {
        options = options
            .trust_pem_file(ca)
            .map_err(|e| format!("--ca {}: {e}", ca.display()))?;
    }
    let transport = wslink::ws::connect_with(url, &options)
        .await
        .map_err(|e| format!("cannot connect to {url}: {e}"))?;
    let connected = if target.v1 {
        let codec = wslink::json::JsonCodec::new();
        wslink::client::ClientBuilder::with_codec(codec)
            .secret(target.secret.as_str())
            .connect(transport)
            .await
    } else {
        Client::connect(transport, &target.secret).await
    };
    connected.map_err(|e| match e {
        ClientError::Auth(wire) => format!("hello rejected: {} ({})", wire.message, wire.code),
        other => format!("hello failed: {other}"),
    })
}

async fn call(
    target: Target,
    method: String,
    args: Option<String>,
    kwargs: Option<String>,
    bin_args: Vec<PathBuf>,
    out: Option<PathBuf>,
) -> Result<(), String> {
    let mut args = match args.as_deref().map(|a| parse_json(a, "ARGS")).transpose()? {
        None => Vec::new(),
        Some(Value::Array(items)) => items,
        Some(single) => vec![single],
    };
    for path in bin_args {
        let data =
            std::fs::read(&path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        args.push(Value::Bin(Bytes::from(data)));
    }
    let kwargs = match kwargs
        .as_deref()
        .map(|k| parse_json(k, "--kwargs"))
        .transpose()?
    {
        None => Map::new(),
        Some(Value::Map(map)) => map,
        Some(other) => {
            return Err(format!(
                "--kwargs must be a JSON object, got {}",
                other.kind()
            ))
        }
    };
    let client = connect(&target).await?;
    let result = client.call(&method, args, kwargs).await;
    client.close().await;
    match result {
        Ok(Value::Bin(bytes)) if out.is_some() => {
            let path = out.expect("checked");
            std::fs::write(&path, &bytes)
                .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
            println!(
                "{}",
                serde_json::json!({ "written": path.display().to_string(), "len": bytes.len() })
            );
            Ok(())
        }
        Ok(value) => {
            println!("{}", to_json(&value));
            Ok(())
        }
        Err(ClientError::Rpc(wire)) => {
            let data = wire
                .data
                .as_ref()
                .map(|d| format!(" {}", to_json(d)))
                .unwrap_or_default();
            Err(format!("error {}: {}{data}", wire.code, wire.message))
        }
        Err(e) => Err(e.to_string()),
    }
}

/// The filter of `--where FIELD=JSON …` and `--fields a,b`.
fn filter_of(conditions: &[String], fields: Option<Vec<String>>) -> Result<Filter, String> {
    let mut filter = Filter::all();
    for condition in conditions {
        let Some((field, json)) = condition.split_once('=') else {
            return Err(format!("--where {condition:?}: use FIELD=JSON"));
        };
        filter = filter.where_eq(field, parse_json(json, "--where value")?);
    }
    if let Some(fields) = fields {
        filter = filter.fields(fields);
    }
    Ok(filter)
}

async fn subscribe(
    target: Target,
    topic: String,
    filter: Filter,
    count: Option<u64>,
) -> Result<(), String> {
    let client = connect(&target).await?;
    let mut subscription = client
        .subscribe_filtered(&topic, filter)
        .await
        .map_err(|e| e.to_string())?;
    let mut seen = 0;
    while count.is_none_or(|n| seen < n) {
        let Some(item) = subscription.recv().await else {
            return Err("connection closed".into());
        };
        println!("{}", to_json(&item));
        seen += 1;
    }
    client.close().await;
    Ok(())
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    let (v1, ca) = (cli.v1, cli.ca);
    let target = |url: String, secret: String| Target {
        url,
        secret,
        v1,
        ca: ca.clone(),
    };
    let result = match cli.command {
        Command::Call {
            url,
            method,
            args,
            kwargs,
            bin_args,
            secret,
            out,
            timeout,
        } => {
            let work = call(target(url, secret), method, args, kwargs, bin_args, out);
            tokio::time::timeout(Duration::from_secs_f64(timeout.max(0.0)), work)
                .await
                .unwrap_or_else(|_| Err(format!("no answer within {timeout} s")))
        }
        Command::Subscribe {
            url,
            topic,
            conditions,
            fields,
            count,
            timeout,
            secret,
        } => {
            let work = async {
                let filter = filter_of(&conditions, fields)?;
                subscribe(target(url, secret), topic, filter, count).await
            };
            match timeout {
                Some(t) => tokio::time::timeout(Duration::from_secs_f64(t.max(0.0)), work)
                    .await
                    .unwrap_or(Ok(())),
                None => work.await,
            }
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("wslink: {message}");
            ExitCode::FAILURE
        }
    }
}
