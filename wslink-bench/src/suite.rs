//! The npm-like side of a run: the bare server started beside the others, then the
//! npm-like phases ([`crate::npm_like`]), the real npm client ([`crate::npm_phase`],
//! with `--npm`) and the mixed phase ([`crate::mixed`]) against our server, the bare
//! server and (with `--compare`) Python, each server in turn.

use crate::cli::Cli;
use crate::phases::{Kind, Results, Target};
use crate::plan::Plan;
use crate::progress::Progress;
use crate::spawn::spawn_server;

/// Runs the suite when the client mode asks for it (`None` otherwise); the bare server
/// it starts is stopped on return.
pub(crate) async fn measure(
    cli: &Cli,
    plan: &Plan,
    targets: &[Target],
) -> Result<Option<Vec<(Target, Results)>>, String> {
    if !cli.client.npm_like() && !cli.npm {
        return Ok(None);
    }
    if cli.npm {
        crate::npm_phase::check(&cli.repo)?;
    }
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    let argv = vec![
        exe.display().to_string(),
        "serve".into(),
        "bare".into(),
        "--secret".into(),
        cli.secret.clone(),
    ];
    let bare = spawn_server(
        crate::lean_report::BARE,
        argv,
        Vec::new(),
        cli.pin_server.as_deref(),
    )?;
    let bare_target = Target {
        name: crate::lean_report::BARE.into(),
        kind: Kind::Wslink,
        url: bare.url.clone(),
        secret: cli.secret.clone(),
        pid: Some(bare.child.id()),
        only: None,
    };
    let (python, ours): (Vec<&Target>, Vec<&Target>) = targets
        .iter()
        .filter(|t| t.kind == Kind::Wslink)
        .partition(|t| t.name == "python");
    let order: Vec<Target> = ours
        .into_iter()
        .cloned()
        .chain([bare_target])
        .chain(python.into_iter().cloned())
        .collect();
    let progress = Progress::new(order.len());
    let mut out = Vec::new();
    for t in order {
        progress.line(&format!("npm-like phases: {} at {}", t.name, t.url));
        let mixed = plan.phases.iter().any(|p| p == "mixed");
        let like = cli.client.npm_like();
        let count = if like {
            crate::npm_like::steps(plan).len() + usize::from(mixed)
        } else {
            0
        } + if cli.npm { 2 } else { 0 };
        let phases = progress.server(&t.name, count);
        let started = std::time::Instant::now();
        let (target, p, h, repo, npm) = (
            t.clone(),
            plan.clone(),
            phases.clone(),
            cli.repo.clone(),
            cli.npm,
        );
        // On a worker thread, as the batched phases (see `main::measure`).
        let r = tokio::spawn(async move {
            let mut r = Results::default();
            if like {
                merge(&mut r, crate::npm_like::run_all(&target, &p, &h).await);
            }
            if npm {
                merge(
                    &mut r,
                    crate::npm_phase::run_all(&target, &p, &repo, &h).await,
                );
            }
            if like && mixed {
                merge(&mut r, crate::mixed::run(&target, &p, &h).await);
            }
            r
        })
        .await
        .map_err(|e| format!("{}: {e}", t.name))?;
        progress.server_done(&phases, started.elapsed().as_secs_f64());
        out.push((t, r));
    }
    progress.finish();
    drop(bare);
    Ok(Some(out))
}

fn merge(into: &mut Results, from: Results) {
    into.rows.extend(from.rows);
    into.notes.extend(from.notes);
}
