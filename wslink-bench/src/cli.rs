//! The command line.

use std::path::PathBuf;

use clap::{Parser, Subcommand, ValueEnum};

use crate::plan::Plan;

#[derive(Parser)]
#[command(
    name = "wslink-bench",
    about = "Load tool for wslink servers (test protocol), with a raw WebSocket baseline"
)]
pub(crate) struct Cli {
    #[command(subcommand)]
    pub(crate) command: Option<Cmd>,
    /// Also start the Python reference server (PyPI wslink 2.x, interop/) and compare.
    #[arg(long)]
    pub(crate) compare: bool,
    /// Tiny counts and durations (CI smoke; well under a minute).
    #[arg(long, global = true)]
    pub(crate) quick: bool,
    /// Seconds per phase (default 2, or 0.25 with --quick).
    #[arg(long, global = true)]
    pub(crate) secs: Option<f64>,
    /// Idle connections to open in the scale phase (default 10000, 300 with --quick).
    #[arg(long, global = true)]
    pub(crate) idle: Option<usize>,
    /// Subscribers of the fan-out phase (default 1000, 200 with --quick).
    #[arg(long, global = true)]
    pub(crate) fanout: Option<usize>,
    /// Subscriber counts of the publication phase (default 1,10,100).
    #[arg(long, global = true, value_delimiter = ',')]
    pub(crate) subscribers: Option<Vec<usize>>,
    /// Payload sizes in bytes of the publication phase (default 100,10240).
    #[arg(long, global = true, value_delimiter = ',')]
    pub(crate) pub_sizes: Option<Vec<usize>>,
    /// Calls in flight of the pipelined phase (default 1,16,64,256).
    #[arg(long, global = true, value_delimiter = ',')]
    pub(crate) pipelines: Option<Vec<usize>>,
    /// Phases to run, comma-separated: seq,pipe,pub,fanout,filter,bin,conn,idle (default
    /// all).
    #[arg(long, global = true, value_delimiter = ',')]
    pub(crate) phases: Option<Vec<String>>,
    /// Pin this process (the client) to these CPUs (taskset list, e.g. `0`).
    #[arg(long, global = true)]
    pub(crate) pin_client: Option<String>,
    /// Pin the servers the tool starts to these CPUs (taskset list, e.g. `1`).
    #[arg(long, global = true)]
    pub(crate) pin_server: Option<String>,
    /// Also measure our server with permessage-deflate agreed and refused (bytes on the
    /// wire, server CPU per call, memory per idle connection) on typical traffic.
    #[arg(long)]
    pub(crate) deflate: bool,
    /// The tool's own clients (batched, npm-like, raw) offer no permessage-deflate, so
    /// none is agreed whatever the server accepts.
    #[arg(long, global = true)]
    pub(crate) no_client_deflate: bool,
    /// Also write the table as JSON to FILE.
    #[arg(long, global = true, value_name = "FILE")]
    pub(crate) json: Option<PathBuf>,
    /// Also draw the results as a chart (SVG) to FILE: each server's figures as ratios
    /// to the raw baseline's and to Python's.
    #[arg(long, global = true, value_name = "FILE")]
    pub(crate) chart: Option<PathBuf>,
    /// Measure nothing: draw the chart (`--chart`) of a report written with `--json`.
    #[arg(long, value_name = "FILE", requires = "chart")]
    pub(crate) chart_from: Option<PathBuf>,
    /// The repository (for interop/ and the Python server).
    #[arg(long, default_value = concat!(env!("CARGO_MANIFEST_DIR"), "/.."))]
    pub(crate) repo: PathBuf,
    /// The secret of the servers the tool starts.
    #[arg(long, default_value = "wslink-secret")]
    pub(crate) secret: String,
    /// Which client drives the servers: `npm-like` (one message per write, like the npm
    /// client; our server, the bare server and Python, with ratios to bare), `batched`
    /// (the wslink Rust client; the phases against the raw baselines) or `both`.
    #[arg(long, global = true, value_enum, default_value = "both")]
    pub(crate) client: ClientMode,
    /// Rounds of each npm-like, Node and mixed phase; their figures are medians (default
    /// 3, or 1 with --quick).
    #[arg(long, global = true)]
    pub(crate) rounds: Option<usize>,
    /// Also drive each server with the real npm client in Node (interop/node/load.js;
    /// needs interop/setup.sh).
    #[arg(long, global = true)]
    pub(crate) npm: bool,
}

/// The client(s) of a run.
#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum ClientMode {
    NpmLike,
    Batched,
    Both,
}

impl ClientMode {
    pub(crate) fn batched(self) -> bool {
        self != ClientMode::NpmLike
    }

    pub(crate) fn npm_like(self) -> bool {
        self != ClientMode::Batched
    }
}

#[derive(Subcommand)]
pub(crate) enum Cmd {
    /// Measure an already running wslink server.
    Run {
        /// Its WebSocket URL.
        #[arg(long)]
        url: String,
        /// Its hello secret.
        #[arg(long, default_value = "wslink-secret")]
        secret: String,
        /// Its process id (for CPU time and memory from /proc).
        #[arg(long)]
        server_pid: Option<u32>,
        /// A raw baseline server (`wslink-bench serve raw`) to measure too.
        #[arg(long)]
        raw_url: Option<String>,
        /// The raw server's process id.
        #[arg(long)]
        raw_pid: Option<u32>,
        /// A raw baseline server writing one message per write
        /// (`wslink-bench serve raw --one-write`) to measure too.
        #[arg(long)]
        raw_1w_url: Option<String>,
        /// That server's process id.
        #[arg(long)]
        raw_1w_pid: Option<u32>,
        /// The column name of the measured server.
        #[arg(long, default_value = "server")]
        name: String,
    },
    /// Serve the test protocol (`rust`), the raw baseline (`raw`) or the bare wslink
    /// server (`bare`); prints `READY ws://…`.
    Serve {
        #[arg(value_enum)]
        which: Which,
        /// Port on 127.0.0.1 (0 picks one).
        #[arg(long, default_value_t = 0)]
        port: u16,
        /// The hello secret (rust, bare).
        #[arg(long, default_value = "wslink-secret")]
        secret: String,
        /// raw: flush after every message (one write per message) instead of once per
        /// burst of queued messages.
        #[arg(long)]
        one_write: bool,
        /// Refuse permessage-deflate (the server's `--no-ws-compress`).
        #[arg(long)]
        no_deflate: bool,
        /// rust: share publications with other nodes through this broker.
        #[arg(long, value_name = "URL")]
        pubsub: Option<wslink::cli::BrokerUrl>,
        /// rust: the namespace on the broker.
        #[arg(long, default_value = "bench")]
        pubsub_namespace: String,
    },
    /// Publications across two nodes on a broker (started by the tool) beside the same
    /// node's: publications/s and p50/p99 delivery latency.
    Cluster {
        /// The brokers to measure, in turn.
        #[arg(long, value_enum, value_delimiter = ',', default_value = "nats,redis")]
        broker: Vec<crate::broker::BrokerKind>,
    },
}

#[derive(Clone, Copy, ValueEnum)]
pub(crate) enum Which {
    Rust,
    Raw,
    Bare,
}

impl Cli {
    /// The plan: full or quick, with the counts given on the command line.
    pub(crate) fn plan(&self) -> Plan {
        let mut plan = if self.quick {
            Plan::quick()
        } else {
            Plan::full()
        };
        if let Some(s) = self.secs {
            plan.secs = s;
        }
        if let Some(n) = self.idle {
            plan.idle = n;
        }
        if let Some(n) = self.fanout {
            plan.fanout = n;
        }
        if let Some(n) = self.subscribers.clone() {
            plan.subscribers = n;
        }
        if let Some(n) = self.pub_sizes.clone() {
            plan.pub_sizes = n;
        }
        if let Some(n) = self.pipelines.clone() {
            plan.pipelines = n;
        }
        if let Some(p) = self.phases.clone() {
            plan.phases = p;
        }
        if let Some(n) = self.rounds {
            plan.rounds = n.max(1);
        }
        plan
    }
}
