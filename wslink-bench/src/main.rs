//! `wslink-bench`: a load tool for wslink servers, with a bare-WebSocket ceiling.
//!
//! ```text
//! wslink-bench                       # our server and the raw baseline, one table
//! wslink-bench --compare             # … and the Python reference server (wslink 2.x)
//! wslink-bench --quick               # tiny counts (CI smoke)
//! wslink-bench --pin-client 0 --pin-server 1 --json out.json --chart out.svg
//! wslink-bench --chart-from out.json --chart out.svg    # redraw a saved run
//! wslink-bench run --url ws://127.0.0.1:8080/ws [--server-pid PID] [--raw-url URL] [--raw-1w-url URL]
//! wslink-bench serve rust|raw [--one-write] --port 0    # what the tool spawns
//! ```
//!
//! Servers run as separate processes (the tool spawns itself, or the Python server), so
//! their CPU time (`/proc/PID/stat`) and memory (`VmRSS`, `VmHWM`) are theirs alone.

mod bench_methods;
mod chart;
mod cli;
mod deflate;
mod filtered;
mod phases;
mod plan;
mod progress;
mod protocol;
mod ratios;
mod raw;
mod report;
mod spawn;
mod sys;
mod targets;

use std::process::ExitCode;

use clap::Parser;

use cli::{Cli, Cmd, Which};
use phases::{Results, Target};
use plan::Plan;
use progress::Progress;

fn main() -> ExitCode {
    let cli = Cli::parse();
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
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
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
            }) => serve(which, port, &secret, one_write, no_deflate).await,
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
            let server = Server::builder()
                .secret(secret)
                .router(protocol::router())
                .router(bench_methods::router(handle.clone()))
                .build();
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
    let results = measure(&targets, &plan).await?;
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
    println!("{}", table.markdown());
    if cli.deflate {
        let ours = targets
            .iter()
            .find(|t| t.name == "rust")
            .ok_or("no rust target")?;
        deflate::run(ours).await?;
    }
    write_outputs(&cli, &table.json())
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
