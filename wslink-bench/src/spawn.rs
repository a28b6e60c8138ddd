//! The servers the tool starts, each its own process: itself (`serve`) or the Python
//! reference server; each prints `READY ws://…` once listening and is stopped when dropped.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// A server process the tool started; stopped when dropped.
pub(crate) struct Spawned {
    pub(crate) child: Child,
    pub(crate) url: String,
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

pub(crate) fn spawn_server(
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
pub(crate) fn spawn_python(
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
