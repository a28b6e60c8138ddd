//! `wslink-bench`: a load tool for wslink servers, with a bare-WebSocket ceiling.
//!
//! ```text
//! wslink-bench                       # our server and the raw baseline, one table
//! wslink-bench --compare             # … and the Python reference server (wslink 2.x)
//! wslink-bench --quick               # tiny counts (CI smoke)
//! wslink-bench --pin-client 0 --pin-server 1 --json out.json --chart out.svg
//! wslink-bench --chart-from out.json --chart out.svg    # redraw a saved run
//! wslink-bench run --url ws://127.0.0.1:8080/ws [--server-pid PID] [--raw-url URL] [--raw-1w-url URL]
//! wslink-bench --client npm-like --npm --rounds 3 --compare   # npm-like client, Node, mixed
//! wslink-bench serve rust|raw|bare [--one-write] --port 0  # what the tool spawns
//! wslink-bench cluster [--broker nats,redis] [--quick]  # across nodes on a broker
//! ```
//!
//! Servers run as separate processes (the tool spawns itself, or the Python server), so
//! their CPU time (`/proc/PID/stat`) and memory (`VmRSS`, `VmHWM`) are theirs alone.

mod bare;
mod bench_methods;
mod broker;
mod chart;
mod cli;
mod cluster;
mod deflate;
mod filtered;
mod lean;
mod lean_report;
mod mixed;
mod npm_like;
mod npm_phase;
mod phases;
mod plan;
mod progress;
mod protocol;
mod ratios;
mod raw;
mod report;
mod spawn;
mod suite;
mod sys;
mod targets;
mod wire;

use std::process::ExitCode;

use clap::Parser;

use cli::{Cli, Cmd, Which};
use phases::{Results, Target};
use plan::Plan;
use progress::Progress;

fn main() -> ExitCode {
    let cli = Cli::parse();
    phases::set_client_deflate(!cli.no_client_deflate);
    if let (Some(input), Some(output)) = (&cli.chart_from, &cli.chart) {
        return match chart::from_file(input, output) {
            Ok(()) => {
                eprintln!("wrote {}", output.display());
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("wslink-bench: {e}");
                ExitCode::FAILURE
            }
        };
    }
    let serving = matches!(cli.command, Some(Cmd::Serve { .. }));
    let nofile = sys::raise_nofile();
    if !serving {
        if let Some(cpus) = &cli.pin_client {
            if let Err(e) = sys::pin_self(cpus) {
                eprintln!("wslink-bench: cannot pin the client: {e}");
                return ExitCode::FAILURE;
            }
        }
    }
    // A server the tool serves may run on a current-thread runtime
    // (`WSLINK_BENCH_RUNTIME=current_thread`), to measure the runtime flavour.
    let current_thread =
        serving && std::env::var("WSLINK_BENCH_RUNTIME").is_ok_and(|v| v == "current_thread");
    let mut builder = if current_thread {
        tokio::runtime::Builder::new_current_thread()
    } else {
        tokio::runtime::Builder::new_multi_thread()
    };
    let runtime = match builder.enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("wslink-bench: runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async move {
        match cli.command {
            Some(Cmd::Serve {
                which,
                port,
                secret,
                one_write,
                no_deflate,
                pubsub,
                pubsub_namespace,
            }) => {
                let pubsub = pubsub.map(|url| (url, pubsub_namespace));
                serve(which, port, &secret, one_write, no_deflate, pubsub).await
            }
            Some(Cmd::Cluster { broker }) => {
                let plan = cluster::ClusterPlan::new(cli.quick);
                cluster::run(&broker, plan, &cli.secret).await
            }
            _ => bench(cli, nofile).await,
        }
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("wslink-bench: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn serve(
    which: Which,
    port: u16,
    secret: &str,
    one_write: bool,
    no_deflate: bool,
    pubsub: Option<(wslink::cli::BrokerUrl, String)>,
) -> Result<(), String> {
    let options = wslink::ws::HttpOptions {
        deflate: if no_deflate {
            wslink::ws::Deflate::off()
        } else {
            wslink::ws::Deflate::default()
        },
        ..Default::default()
    };
    match which {
        Which::Bare => bare::serve(port, secret).await.map_err(|e| e.to_string()),
        Which::Raw => raw::serve(port, one_write, options)
            .await
            .map_err(|e| e.to_string()),
        Which::Rust => {
            use wslink::server::Server;
            use wslink::ws::WsListener;
            let listener = WsListener::bind(("127.0.0.1", port), options)
                .await
                .map_err(|e| e.to_string())?;
            println!("READY ws://{}/ws", listener.local_addr());
            let handle = std::sync::Arc::new(std::sync::OnceLock::new());
            let mut builder = Server::builder()
                .secret(secret)
                .router(protocol::router())
                .router(bench_methods::router(handle.clone()))
                // The mixed phase's stream goes to its subscribers alone (`mixed.rs`).
                .subscribers_only(mixed::TOPIC);
            if let Some((url, namespace)) = &pubsub {
                builder = url.apply(builder, namespace);
            }
            let server = builder.build();
            let _ = handle.set(server.handle());
            server.serve(listener).await;
            Ok(())
        }
    }
}

/// Runs the plan against each target in turn, showing how far it has got.
async fn measure(targets: &[Target], plan: &Plan) -> Result<Vec<(Target, Results)>, String> {
    let progress = Progress::new(targets.len());
    let mut results = Vec::new();
    for t in targets {
        progress.line(&format!(
            "measuring {} at {} (pid {:?})",
            t.name, t.url, t.pid
        ));
        let steps = plan.steps(t.only);
        let phases = progress.server(&t.name, steps.len());
        let started = std::time::Instant::now();
        // On a worker thread, not in `block_on`'s thread: the client's own tasks run on the
        // workers, and a measuring loop elsewhere would add a cross-thread wake-up to each
        // round trip that the raw baseline (no tasks of its own) does not pay.
        let (target, phase_plan, handle) = (t.clone(), plan.clone(), phases.clone());
        let r =
            tokio::spawn(
                async move { phases::run_all(&target, &phase_plan, &steps, &handle).await },
            )
            .await
            .map_err(|e| format!("{}: {e}", t.name))?;
        progress.server_done(&phases, started.elapsed().as_secs_f64());
        results.push((t.clone(), r));
    }
    progress.finish();
    Ok(results)
}

async fn bench(cli: Cli, nofile: u64) -> Result<(), String> {
    let plan = cli.plan();
    let mut notes = Vec::new();
    // The servers the tool started stay up (and are stopped) with `_spawned`.
    let (targets, _spawned) = match &cli.command {
        Some(run @ Cmd::Run { .. }) => (targets::given(run), Vec::new()),
        _ => targets::start(&cli, &mut notes)?,
    };
    let results = if cli.client.batched() {
        measure(&targets, &plan).await?
    } else {
        Vec::new()
    };
    let lean = suite::measure(&cli, &plan, &targets).await?;
    let env = report::Env {
        nofile,
        pin_client: cli.pin_client.clone(),
        pin_server: cli.pin_server.clone(),
        client_allowed: sys::allowed_cpus(std::process::id()),
        quick: cli.quick,
        secs: plan.secs,
        notes,
    };
    let table = report::Table::build(&results, &env);
    let mut json = table.json();
    if !results.is_empty() {
        println!("{}", table.markdown());
    }
    if let Some(lean) = &lean {
        let lean = lean_report::LeanTable::new(lean);
        println!("{}", lean.markdown());
        json["npm_like"] = lean.json();
    }
    if cli.deflate {
        let ours = targets
            .iter()
            .find(|t| t.name == "rust")
            .ok_or("no rust target")?;
        deflate::run(ours).await?;
    }
    write_outputs(&cli, &json)
}

/// The report as JSON (`--json`) and as a chart (`--chart`).
fn write_outputs(cli: &Cli, report: &serde_json::Value) -> Result<(), String> {
    if let Some(path) = &cli.json {
        let text = serde_json::to_string_pretty(report).map_err(|e| e.to_string())?;
        std::fs::write(path, text).map_err(|e| format!("{}: {e}", path.display()))?;
        eprintln!("wrote {}", path.display());
    }
    if let Some(path) = &cli.chart {
        chart::write(report, path)?;
        eprintln!("wrote {}", path.display());
    }
    Ok(())
}
