//! `wslink-bench`: a load tool for wslink servers, with a bare-WebSocket ceiling.
//!
//! ```text
//! wslink-bench                       # our server and the raw baseline, one table
//! wslink-bench --compare             # … and the Python reference server (wslink 2.x)
//! wslink-bench --quick               # tiny counts (CI smoke)
//! wslink-bench --pin-client 0 --pin-server 1 --json out.json
//! wslink-bench run --url ws://127.0.0.1:8080/ws [--server-pid PID] [--raw-url URL] [--raw-1w-url URL]
//! wslink-bench serve rust|raw [--one-write] --port 0    # what the tool spawns
//! ```
//!
//! Servers run as separate processes (the tool spawns itself, or the Python server), so
//! their CPU time (`/proc/PID/stat`) and memory (`VmRSS`, `VmHWM`) are theirs alone.

mod phases;
mod raw;
mod report;
mod sys;

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, ExitCode, Stdio};
use std::time::Duration;

use clap::{Parser, Subcommand, ValueEnum};

use phases::{Kind, Plan, Results, Target};

#[derive(Parser)]
#[command(
    name = "wslink-bench",
    about = "Load tool for wslink servers (test protocol), with a raw WebSocket baseline"
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Cmd>,
    /// Also start the Python reference server (PyPI wslink 2.x, interop/) and compare.
    #[arg(long)]
    compare: bool,
    /// Tiny counts and durations (CI smoke; well under a minute).
    #[arg(long, global = true)]
    quick: bool,
    /// Seconds per phase (default 2, or 0.25 with --quick).
    #[arg(long, global = true)]
    secs: Option<f64>,
    /// Idle connections to open in the scale phase (default 10000, 300 with --quick).
    #[arg(long, global = true)]
    idle: Option<usize>,
    /// Subscribers of the fan-out phase (default 1000, 200 with --quick).
    #[arg(long, global = true)]
    fanout: Option<usize>,
    /// Subscriber counts of the publication phase (default 1,10,100).
    #[arg(long, global = true, value_delimiter = ',')]
    subscribers: Option<Vec<usize>>,
    /// Payload sizes in bytes of the publication phase (default 100,10240).
    #[arg(long, global = true, value_delimiter = ',')]
    pub_sizes: Option<Vec<usize>>,
    /// Calls in flight of the pipelined phase (default 1,16,64,256).
    #[arg(long, global = true, value_delimiter = ',')]
    pipelines: Option<Vec<usize>>,
    /// Phases to run, comma-separated: seq,pipe,pub,fanout,bin,conn,idle (default all).
    #[arg(long, global = true, value_delimiter = ',')]
    phases: Option<Vec<String>>,
    /// Pin this process (the client) to these CPUs (taskset list, e.g. `0`).
    #[arg(long, global = true)]
    pin_client: Option<String>,
    /// Pin the servers the tool starts to these CPUs (taskset list, e.g. `1`).
    #[arg(long, global = true)]
    pin_server: Option<String>,
    /// Also measure our server and the raw baseline on this second WebSocket
    /// implementation (`fastwebsockets`; build with `--features fastwebsockets`), as
    /// columns `rust-fws` and `raw-fws`.
    #[arg(long, value_name = "NAME")]
    also_backend: Option<wslink::ws::WsBackend>,
    /// Also write the table as JSON to FILE.
    #[arg(long, global = true, value_name = "FILE")]
    json: Option<PathBuf>,
    /// The repository (for interop/ and the Python server).
    #[arg(long, default_value = env!("CARGO_MANIFEST_DIR"))]
    repo: PathBuf,
    /// The secret of the servers the tool starts.
    #[arg(long, default_value = "wslink-secret")]
    secret: String,
}

#[derive(Subcommand)]
enum Cmd {
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
    /// Serve the test protocol (`rust`) or the raw baseline (`raw`); prints `READY ws://…`.
    Serve {
        #[arg(value_enum)]
        which: Which,
        /// Port on 127.0.0.1 (0 picks one).
        #[arg(long, default_value_t = 0)]
        port: u16,
        /// The hello secret (rust).
        #[arg(long, default_value = "wslink-secret")]
        secret: String,
        /// raw: flush after every message (one write per message) instead of once per
        /// burst of queued messages.
        #[arg(long)]
        one_write: bool,
        /// The server's WebSocket implementation (`fastwebsockets` needs a build with
        /// the `fastwebsockets` feature).
        #[arg(long, default_value = "tungstenite")]
        backend: wslink::ws::WsBackend,
    },
}

#[derive(Clone, Copy, ValueEnum)]
enum Which {
    Rust,
    Raw,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
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
                backend,
            }) => serve(which, port, &secret, one_write, backend).await,
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
    backend: wslink::ws::WsBackend,
) -> Result<(), String> {
    let options = wslink::ws::HttpOptions {
        backend,
        ..Default::default()
    };
    match which {
        Which::Raw => raw::serve(port, one_write, options)
            .await
            .map_err(|e| e.to_string()),
        Which::Rust => {
            use wslink::server::Server;
            use wslink::ws::WsListener;
            use wslink_test_protocol as test_protocol;
            let listener = WsListener::bind(("127.0.0.1", port), options)
                .await
                .map_err(|e| e.to_string())?;
            println!("READY ws://{}/ws", listener.local_addr());
            Server::builder()
                .secret(secret)
                .router(test_protocol::router())
                .build()
                .serve(listener)
                .await;
            Ok(())
        }
    }
}

/// The phases measured on the one-write raw baseline: those where batching writes matters.
const ONE_WRITE_PHASES: &[&str] = &["pipe", "pub", "fanout"];

/// A server process the tool started; stopped when dropped.
struct Spawned {
    child: Child,
    url: String,
}

impl Drop for Spawned {
    fn drop(&mut self) {
        let pid = self.child.id().to_string();
        let _ = Command::new("kill").args(["-TERM", &pid]).status();
        for _ in 0..20 {
            if matches!(self.child.try_wait(), Ok(Some(_))) {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn spawn_server(
    name: &str,
    mut argv: Vec<String>,
    envs: Vec<(String, String)>,
    pin: Option<&str>,
) -> Result<Spawned, String> {
    if let Some(cpus) = pin {
        argv.splice(
            0..0,
            ["taskset".to_owned(), "-c".to_owned(), cpus.to_owned()],
        );
    }
    let log_path =
        std::env::temp_dir().join(format!("wslink-bench-{name}-{}.log", std::process::id()));
    let log =
        std::fs::File::create(&log_path).map_err(|e| format!("{}: {e}", log_path.display()))?;
    let mut child = Command::new(&argv[0])
        .args(&argv[1..])
        .envs(envs)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(log)
        .spawn()
        .map_err(|e| format!("cannot start {name} ({}): {e}", argv.join(" ")))?;
    let stdout = child.stdout.take().ok_or("no stdout")?;
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut tx = Some(tx);
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if let Some(pos) = line.find("READY ") {
                if let Some(tx) = tx.take() {
                    let _ = tx.send(line[pos + 6..].trim().to_owned());
                }
            }
        }
    });
    let mut spawned = Spawned {
        child,
        url: String::new(),
    };
    match rx.recv_timeout(Duration::from_secs(60)) {
        Ok(url) => {
            spawned.url = url;
            Ok(spawned)
        }
        Err(_) => Err(format!(
            "{name} did not print READY within 60 s (log: {})",
            log_path.display()
        )),
    }
}

/// The Python test server: `interop/run_python_server.sh 2 0 SECRET`, or, when the
/// virtualenv has no interpreter, `python3 interop/python/test_server.py` with the
/// virtualenv's site-packages on `PYTHONPATH`.
fn spawn_python(
    repo: &std::path::Path,
    secret: &str,
    pin: Option<&str>,
    notes: &mut Vec<String>,
) -> Result<Spawned, String> {
    let interop = repo.join("interop");
    let venv = interop.join(".venv2");
    if venv.join("bin/python").exists() {
        let argv = vec![
            "bash".into(),
            interop.join("run_python_server.sh").display().to_string(),
            "2".into(),
            "0".into(),
            secret.into(),
        ];
        return spawn_server("python", argv, Vec::new(), pin);
    }
    let site = std::fs::read_dir(venv.join("lib"))
        .ok()
        .and_then(|mut d| {
            d.find_map(|e| {
                e.ok()
                    .map(|e| e.path().join("site-packages"))
                    .filter(|p| p.join("wslink").exists())
            })
        })
        .ok_or_else(|| {
            format!(
                "no Python wslink in {} (run interop/setup.sh)",
                venv.display()
            )
        })?;
    notes.push(format!(
        "python: {} has no interpreter; ran python3 with PYTHONPATH={}",
        venv.join("bin").display(),
        site.display()
    ));
    let argv = vec![
        "python3".into(),
        "-u".into(),
        interop.join("python/test_server.py").display().to_string(),
        "--host".into(),
        "127.0.0.1".into(),
        "--port".into(),
        "0".into(),
        "--authKey".into(),
        secret.into(),
    ];
    spawn_server(
        "python",
        argv,
        vec![("PYTHONPATH".into(), site.display().to_string())],
        pin,
    )
}

async fn bench(cli: Cli, nofile: u64) -> Result<(), String> {
    let mut plan = if cli.quick {
        Plan::quick()
    } else {
        Plan::full()
    };
    if let Some(s) = cli.secs {
        plan.secs = s;
    }
    if let Some(n) = cli.idle {
        plan.idle = n;
    }
    if let Some(n) = cli.fanout {
        plan.fanout = n;
    }
    if let Some(n) = cli.subscribers.clone() {
        plan.subscribers = n;
    }
    if let Some(n) = cli.pub_sizes.clone() {
        plan.pub_sizes = n;
    }
    if let Some(n) = cli.pipelines.clone() {
        plan.pipelines = n;
    }
    if let Some(p) = cli.phases.clone() {
        plan.phases = p;
    }
    let mut notes = Vec::new();
    let mut spawned = Vec::new();
    let mut targets = Vec::new();
    let pin_server = cli.pin_server.as_deref();
    match cli.command {
        Some(Cmd::Run {
            url,
            secret,
            server_pid,
            raw_url,
            raw_pid,
            raw_1w_url,
            raw_1w_pid,
            name,
        }) => {
            targets.push(Target {
                name,
                kind: Kind::Wslink,
                url,
                secret: secret.clone(),
                pid: server_pid,
                only: None,
            });
            if let Some(url) = raw_url {
                targets.push(Target {
                    name: "raw".into(),
                    kind: Kind::Raw,
                    url,
                    secret: secret.clone(),
                    pid: raw_pid,
                    only: None,
                });
            }
            if let Some(url) = raw_1w_url {
                targets.push(Target {
                    name: "raw-1w".into(),
                    kind: Kind::Raw,
                    url,
                    secret,
                    pid: raw_1w_pid,
                    only: Some(ONE_WRITE_PHASES),
                });
            }
        }
        _ => {
            let exe = std::env::current_exe()
                .map_err(|e| e.to_string())?
                .display()
                .to_string();
            // (column, what to serve, kind, extra flag, phases to run when not all)
            let mut servers = vec![
                ("rust", "rust", Kind::Wslink, None, None),
                ("raw", "raw", Kind::Raw, None, None),
                (
                    "raw-1w",
                    "raw",
                    Kind::Raw,
                    Some("--one-write".to_owned()),
                    Some(ONE_WRITE_PHASES),
                ),
            ];
            if let Some(backend) = cli.also_backend {
                if !backend.is_available() {
                    return Err(format!(
                        "--also-backend {backend}: this build lacks it (cargo run --features {backend} …)"
                    ));
                }
                let flag = format!("--backend={backend}");
                servers.push(("rust-fws", "rust", Kind::Wslink, Some(flag.clone()), None));
                servers.push(("raw-fws", "raw", Kind::Raw, Some(flag), None));
            }
            for (name, which, kind, extra, only) in servers {
                let mut argv = vec![
                    exe.clone(),
                    "serve".into(),
                    which.into(),
                    "--secret".into(),
                    cli.secret.clone(),
                ];
                argv.extend(extra);
                let s = spawn_server(name, argv, Vec::new(), pin_server)?;
                targets.push(Target {
                    name: name.into(),
                    kind,
                    url: s.url.clone(),
                    secret: cli.secret.clone(),
                    pid: Some(s.child.id()),
                    only,
                });
                spawned.push(s);
            }
            if cli.compare {
                let s = spawn_python(&cli.repo, &cli.secret, pin_server, &mut notes)?;
                targets.push(Target {
                    name: "python".into(),
                    kind: Kind::Wslink,
                    url: s.url.clone(),
                    secret: cli.secret.clone(),
                    pid: Some(s.child.id()),
                    only: None,
                });
                spawned.push(s);
            }
        }
    }
    let mut results: Vec<(Target, Results)> = Vec::new();
    for t in &targets {
        eprintln!("measuring {} at {} (pid {:?})", t.name, t.url, t.pid);
        let started = std::time::Instant::now();
        // On a worker thread, not in `block_on`'s thread: the client's own tasks run on the
        // workers, and a measuring loop elsewhere would add a cross-thread wake-up to each
        // round trip that the raw baseline (no tasks of its own) does not pay.
        let (target, phase_plan) = (t.clone(), plan.clone());
        let r = tokio::spawn(async move { phases::run_all(&target, &phase_plan).await })
            .await
            .map_err(|e| format!("{}: {e}", t.name))?;
        eprintln!(
            "  {} done in {:.1} s",
            t.name,
            started.elapsed().as_secs_f64()
        );
        results.push((t.clone(), r));
    }
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
    if let Some(path) = &cli.json {
        std::fs::write(path, table.json()).map_err(|e| format!("{}: {e}", path.display()))?;
        eprintln!("wrote {}", path.display());
    }
    drop(spawned);
    Ok(())
}
