//! Supervising one session's server process.
//!
//! [`spawn`] starts the command (no shell: `cmd[0]` is the program, the rest its
//! arguments) with stdin closed and stdout and stderr captured. Three kinds of tasks
//! then look after it:
//!
//! * **readers** (one per stream) copy every chunk of output, as soon as it arrives, to
//!   the session log `<log_dir>/<id>.txt` and scan it for the ready text. The scan keeps
//!   the current unfinished line, so text without a trailing newline counts — the 2.x
//!   Python server writes `wslink: Starting factory` exactly like that — and so does
//!   text split across two reads. No polling: the session is ready the moment its
//!   output says so.
//! * a **port probe**, for an app without `ready_line`: the session is ready once its
//!   port accepts a TCP connection (tried every 100 ms).
//! * a **waiter** owns the child: it notices the exit (however it happens) and, when
//!   asked, kills the child (SIGKILL) and reaps it. Either way it calls the exit hook
//!   once (the session manager frees the session's port there), then records the exit,
//!   so whoever waits for the exit sees the clean-up done.
//!
//! The child is also spawned with `kill_on_drop`, so a launcher that goes away without
//! stopping its sessions does not leave them running. Commands should `exec` their
//! server (as `interop/run_python_server.sh` does): a kill reaches the direct child
//! only.

use std::path::{Path, PathBuf};
use std::process::{ExitStatus, Stdio};
use std::time::Duration;

use bytes::Bytes;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};
use tokio::process::Command;
use tokio::sync::{mpsc, watch};

/// How a process shows it is ready.
#[derive(Debug, Clone)]
pub enum Readiness {
    /// This text appears in stdout or stderr (anywhere in a line, even unfinished).
    Text(String),
    /// This `(host, port)` accepts a TCP connection.
    Port(String, u16),
}

/// What to run.
#[derive(Debug, Clone)]
pub struct ProcessSpec {
    /// Program and arguments.
    pub cmd: Vec<String>,
    /// The log file (appended to; created with its folder).
    pub log: PathBuf,
    /// The ready condition.
    pub ready: Readiness,
}

/// Where a process is in its life.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProcessState {
    /// Running, not ready yet.
    Starting,
    /// Running and ready.
    Ready,
    /// Gone; the text describes how (`exit status: 1`, `signal: 9 (SIGKILL)`).
    Exited(String),
}

/// Why a process did not become ready.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NotReady {
    /// It ended first.
    #[error("the process exited before it was ready ({0})")]
    Exited(String),
    /// The time ran out.
    #[error("the process was not ready in time")]
    Timeout,
}

/// A running (or finished) supervised process.
#[derive(Debug)]
pub struct Supervised {
    pid: Option<u32>,
    state: watch::Receiver<ProcessState>,
    kill: watch::Sender<bool>,
}

/// Called once when the process has exited and been reaped.
pub type ExitHook = Box<dyn FnOnce(&str) + Send + 'static>;

/// Starts `spec` (see the module documentation); `on_exit` runs once after the exit.
pub fn spawn(spec: &ProcessSpec, on_exit: ExitHook) -> std::io::Result<Supervised> {
    let (program, args) = spec
        .cmd
        .split_first()
        .ok_or_else(|| std::io::Error::new(std::io::ErrorKind::InvalidInput, "empty command"))?;
    let log = open_log(&spec.log)?;
    let mut child = Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()?;
    let pid = child.id();
    let (state_tx, state_rx) = watch::channel(ProcessState::Starting);
    let (kill_tx, mut kill_rx) = watch::channel(false);

    let (log_tx, log_rx) = mpsc::unbounded_channel();
    tokio::spawn(write_log(log, log_rx, spec.log.clone()));
    let text = match &spec.ready {
        Readiness::Text(t) => Some(t.clone()),
        Readiness::Port(..) => None,
    };
    if let Some(out) = child.stdout.take() {
        tokio::spawn(read_output(
            out,
            log_tx.clone(),
            text.clone(),
            state_tx.clone(),
        ));
    }
    if let Some(err) = child.stderr.take() {
        tokio::spawn(read_output(err, log_tx, text, state_tx.clone()));
    }
    if let Readiness::Port(host, port) = &spec.ready {
        tokio::spawn(probe_port(probe_host(host), *port, state_tx.clone()));
    }

    tokio::spawn(async move {
        let kill_requested = async move {
            let _ = kill_rx.wait_for(|k| *k).await;
        };
        let status = tokio::select! {
            status = child.wait() => status,
            () = kill_requested => {
                if let Err(e) = child.start_kill() {
                    tracing::debug!(error = %e, "kill failed (already gone?)");
                }
                child.wait().await
            }
        };
        let how = match status {
            Ok(s) => describe(s),
            Err(e) => format!("wait failed: {e}"),
        };
        tracing::debug!(?pid, exit = %how, "session process ended");
        // The hook first: whoever waits for `Exited` then finds the session already
        // cleaned up (port back, proxy file rewritten).
        on_exit(&how);
        state_tx.send_replace(ProcessState::Exited(how));
    });

    Ok(Supervised {
        pid,
        state: state_rx,
        kill: kill_tx,
    })
}

impl Supervised {
    /// The OS process id (while it runs).
    pub fn pid(&self) -> Option<u32> {
        self.pid
    }

    /// The current state.
    pub fn state(&self) -> ProcessState {
        self.state.borrow().clone()
    }

    /// Waits until ready, exited, or `limit` elapsed.
    pub async fn wait_ready(&self, limit: Duration) -> Result<(), NotReady> {
        let mut state = self.state.clone();
        let outcome = tokio::time::timeout(
            limit,
            state.wait_for(|s| !matches!(s, ProcessState::Starting)),
        )
        .await;
        match outcome {
            Err(_) => Err(NotReady::Timeout),
            Ok(Err(_)) => Err(NotReady::Exited("supervisor gone".into())),
            Ok(Ok(s)) => match &*s {
                ProcessState::Exited(how) => Err(NotReady::Exited(how.clone())),
                _ => Ok(()),
            },
        }
    }

    /// Asks for the process to be killed; returns at once.
    pub fn start_kill(&self) {
        self.kill.send_replace(true);
    }

    /// Kills the process and waits (at most `limit`) until it has been reaped.
    pub async fn kill(&self, limit: Duration) -> bool {
        self.start_kill();
        let mut state = self.state.clone();
        let reaped = tokio::time::timeout(
            limit,
            state.wait_for(|s| matches!(s, ProcessState::Exited(_))),
        )
        .await
        .is_ok();
        reaped
    }
}

fn describe(status: ExitStatus) -> String {
    status.to_string()
}

fn open_log(path: &Path) -> std::io::Result<std::fs::File> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }
    std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
}

async fn write_log(file: std::fs::File, mut chunks: mpsc::UnboundedReceiver<Bytes>, path: PathBuf) {
    let mut file = tokio::fs::File::from_std(file);
    while let Some(chunk) = chunks.recv().await {
        if let Err(e) = async {
            file.write_all(&chunk).await?;
            file.flush().await
        }
        .await
        {
            tracing::warn!(error = %e, log = %path.display(), "cannot write the session log");
            // Keep draining so the readers (and so the child) never block.
            while chunks.recv().await.is_some() {}
            return;
        }
    }
}

async fn read_output(
    mut stream: impl AsyncRead + Unpin,
    log: mpsc::UnboundedSender<Bytes>,
    ready: Option<String>,
    state: watch::Sender<ProcessState>,
) {
    let mut scanner = ready.map(|t| ReadyScanner::new(t.into_bytes()));
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        let n = match stream.read(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(n) => n,
        };
        let chunk = &buf[..n];
        let _ = log.send(Bytes::copy_from_slice(chunk));
        if let Some(s) = &mut scanner {
            if s.feed(chunk) {
                mark_ready(&state);
                scanner = None;
            }
        }
    }
}

fn mark_ready(state: &watch::Sender<ProcessState>) {
    state.send_if_modified(|s| {
        if *s == ProcessState::Starting {
            *s = ProcessState::Ready;
            true
        } else {
            false
        }
    });
}

fn probe_host(host: &str) -> String {
    match host {
        "" | "0.0.0.0" => "127.0.0.1".into(),
        "::" | "[::]" => "::1".into(),
        h => h.trim_start_matches('[').trim_end_matches(']').into(),
    }
}

async fn probe_port(host: String, port: u16, state: watch::Sender<ProcessState>) {
    while *state.borrow() == ProcessState::Starting {
        let attempt = tokio::time::timeout(
            Duration::from_secs(1),
            tokio::net::TcpStream::connect((host.as_str(), port)),
        )
        .await;
        if let Ok(Ok(_connection)) = attempt {
            mark_ready(&state);
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Finds a text in a stream of output chunks, line by line, counting the unfinished
/// last line too.
#[derive(Debug)]
pub struct ReadyScanner {
    needle: Vec<u8>,
    line: Vec<u8>,
}

impl ReadyScanner {
    /// Looks for `needle`.
    pub fn new(needle: Vec<u8>) -> ReadyScanner {
        ReadyScanner {
            needle,
            line: Vec::new(),
        }
    }

    /// Adds output; true once the text has been seen.
    pub fn feed(&mut self, chunk: &[u8]) -> bool {
        if self.needle.is_empty() {
            return true;
        }
        self.line.extend_from_slice(chunk);
        if self
            .line
            .windows(self.needle.len())
            .any(|w| w == self.needle.as_slice())
        {
            return true;
        }
        // Only the unfinished line can still be part of a match.
        if let Some(nl) = self.line.iter().rposition(|&b| b == b'\n') {
            self.line.drain(..=nl);
        }
        // A line without end: keep just enough of its tail for a match across reads.
        let keep = self.needle.len() - 1;
        if self.line.len() > 64 * 1024 {
            let cut = self.line.len() - keep;
            self.line.drain(..cut);
        }
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scanner_finds_text_across_reads_and_without_newline() {
        let mut s = ReadyScanner::new(b"Starting factory".to_vec());
        assert!(!s.feed(b"loading\nwslink: Star"));
        assert!(s.feed(b"ting factory"));
        let mut s = ReadyScanner::new(b"ab".to_vec());
        assert!(!s.feed(b"a\n"));
        assert!(!s.feed(b"b"), "a line end separates");
        let mut s = ReadyScanner::new(b"READY".to_vec());
        let long = vec![b'x'; 100 * 1024];
        assert!(!s.feed(&long));
        assert!(!s.feed(b"REA"));
        assert!(s.feed(b"DY"));
    }

    fn temp(name: &str) -> PathBuf {
        std::env::temp_dir().join(format!("wslink-proc-{}-{name}", std::process::id()))
    }

    #[tokio::test]
    async fn ready_without_newline_and_log_written() {
        let log = temp("a.txt");
        let _ = std::fs::remove_file(&log);
        let spec = ProcessSpec {
            cmd: vec![
                "sh".into(),
                "-c".into(),
                "echo err >&2; printf 'almost ready'; exec sleep 30".into(),
            ],
            log: log.clone(),
            ready: Readiness::Text("almost ready".into()),
        };
        let (tx, mut rx) = mpsc::unbounded_channel();
        let p = spawn(&spec, Box::new(move |how| drop(tx.send(how.to_owned())))).unwrap();
        p.wait_ready(Duration::from_secs(10)).await.unwrap();
        assert_eq!(p.state(), ProcessState::Ready);
        assert!(p.kill(Duration::from_secs(10)).await);
        assert!(matches!(p.state(), ProcessState::Exited(_)));
        assert!(rx.recv().await.unwrap().contains("signal"));
        tokio::time::sleep(Duration::from_millis(100)).await;
        let text = std::fs::read_to_string(&log).unwrap();
        assert!(
            text.contains("err\n") && text.contains("almost ready"),
            "{text}"
        );
        let _ = std::fs::remove_file(&log);
    }

    #[tokio::test]
    async fn exit_and_timeout_are_distinct() {
        let spec = ProcessSpec {
            cmd: vec!["sh".into(), "-c".into(), "exit 3".into()],
            log: temp("b.txt"),
            ready: Readiness::Text("never".into()),
        };
        let p = spawn(&spec, Box::new(|_| {})).unwrap();
        let err = p.wait_ready(Duration::from_secs(10)).await.unwrap_err();
        assert!(
            matches!(err, NotReady::Exited(ref how) if how.contains('3')),
            "{err:?}"
        );

        let spec = ProcessSpec {
            cmd: vec!["sleep".into(), "30".into()],
            log: temp("b.txt"),
            ready: Readiness::Text("never".into()),
        };
        let p = spawn(&spec, Box::new(|_| {})).unwrap();
        let err = p.wait_ready(Duration::from_millis(200)).await.unwrap_err();
        assert_eq!(err, NotReady::Timeout);
        assert!(p.kill(Duration::from_secs(10)).await);
        let _ = std::fs::remove_file(temp("b.txt"));
    }

    #[tokio::test]
    async fn port_readiness() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        drop(listener);
        let spec = ProcessSpec {
            cmd: vec!["sleep".into(), "30".into()],
            log: temp("c.txt"),
            ready: Readiness::Port("127.0.0.1".into(), port),
        };
        let p = spawn(&spec, Box::new(|_| {})).unwrap();
        assert_eq!(
            p.wait_ready(Duration::from_millis(400)).await,
            Err(NotReady::Timeout)
        );
        let _listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
            .await
            .unwrap();
        p.wait_ready(Duration::from_secs(5)).await.unwrap();
        p.kill(Duration::from_secs(10)).await;
        let _ = std::fs::remove_file(temp("c.txt"));
    }

    #[test]
    fn spawn_failure_is_an_error() {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async {
            let spec = ProcessSpec {
                cmd: vec!["/nonexistent/program".into()],
                log: temp("d.txt"),
                ready: Readiness::Text("x".into()),
            };
            assert!(spawn(&spec, Box::new(|_| {})).is_err());
            let _ = std::fs::remove_file(temp("d.txt"));
        });
    }
}
