//! The servers to measure: those named on the command line (`run`), or those the tool
//! starts (ours, the raw baselines, and Python).

use crate::cli::{Cli, Cmd};
use crate::phases::{Kind, Target};
use crate::spawn::{spawn_python, spawn_server, Spawned};

/// The phases measured on the one-write raw baseline: those where batching writes matters.
const ONE_WRITE_PHASES: &[&str] = &["pipe", "pub", "fanout"];

/// One server the tool starts: (column, what to `serve`, kind, extra flag, phases to run
/// when not all).
type Server = (
    &'static str,
    &'static str,
    Kind,
    Option<String>,
    Option<&'static [&'static str]>,
);

/// The servers of `wslink-bench run …` (already running).
pub(crate) fn given(run: &Cmd) -> Vec<Target> {
    let Cmd::Run {
        url,
        secret,
        server_pid,
        raw_url,
        raw_pid,
        raw_1w_url,
        raw_1w_pid,
        name,
    } = run
    else {
        return Vec::new();
    };
    let target = |name: &str, kind, url: &str, pid: &Option<u32>, only| Target {
        name: name.into(),
        kind,
        url: url.into(),
        secret: secret.clone(),
        pid: *pid,
        only,
    };
    let mut targets = vec![target(name, Kind::Wslink, url, server_pid, None)];
    if let Some(url) = raw_url {
        targets.push(target("raw", Kind::Raw, url, raw_pid, None));
    }
    if let Some(url) = raw_1w_url {
        let only = Some(ONE_WRITE_PHASES);
        targets.push(target("raw-1w", Kind::Raw, url, raw_1w_pid, only));
    }
    targets
}

/// Our server and the raw baselines, and with `--compare` the
/// Python server: started, each its own process, ready.
pub(crate) fn start(
    cli: &Cli,
    notes: &mut Vec<String>,
) -> Result<(Vec<Target>, Vec<Spawned>), String> {
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    let pin = cli.pin_server.as_deref();
    let (mut targets, mut spawned) = (Vec::new(), Vec::new());
    for (name, which, kind, extra, only) in servers(cli)? {
        let mut argv = vec![exe.display().to_string(), "serve".into(), which.into()];
        argv.extend(["--secret".into(), cli.secret.clone()]);
        argv.extend(extra);
        let s = spawn_server(name, argv, Vec::new(), pin)?;
        targets.push(spawned_target(name, kind, &s, cli, only));
        spawned.push(s);
    }
    if cli.compare {
        let s = spawn_python(&cli.repo, &cli.secret, pin, notes)?;
        targets.push(spawned_target("python", Kind::Wslink, &s, cli, None));
        spawned.push(s);
    }
    Ok((targets, spawned))
}

fn servers(cli: &Cli) -> Result<Vec<Server>, String> {
    let servers: Vec<Server> = vec![
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
    let _ = cli;
    Ok(servers)
}

fn spawned_target(
    name: &str,
    kind: Kind,
    s: &Spawned,
    cli: &Cli,
    only: Option<&'static [&'static str]>,
) -> Target {
    Target {
        name: name.into(),
        kind,
        url: s.url.clone(),
        secret: cli.secret.clone(),
        pid: Some(s.child.id()),
        only,
    }
}
