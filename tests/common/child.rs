//! Our test server as a child process (the `wslink-test-server` binary of this package),
//! so that its memory can be measured alone, apart from the test's own.
#![allow(dead_code, unreachable_pub)]

use std::process::Stdio;
use std::sync::{Arc, Mutex};

use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

use super::{SECRET, WAIT};

/// The server process, killed when dropped.
pub struct ChildServer {
    child: Child,
    /// Its `ws://…/ws` URL.
    pub url: String,
    /// What it wrote on stderr (its logs) so far.
    pub stderr: Arc<Mutex<String>>,
}

/// A process's resident memory, in bytes.
#[derive(Debug, Clone, Copy)]
pub struct Memory {
    /// Resident now (`VmRSS`).
    pub rss: usize,
    /// The most it was ever resident (`VmHWM`).
    pub peak: usize,
}

impl ChildServer {
    /// Starts the test server on a free loopback port with the test secret and `extra`
    /// flags, and waits for its ready line.
    pub async fn start(extra: &[&str]) -> ChildServer {
        let mut child = Command::new(env!("CARGO_BIN_EXE_wslink-test-server"))
            .args(["--host", "127.0.0.1", "--port", "0", "--authKey", SECRET])
            .args(["--timeout", "0"])
            .args(extra)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("spawn wslink-test-server");
        let stderr = Arc::new(Mutex::new(String::new()));
        let mut err_lines = BufReader::new(child.stderr.take().expect("piped stderr")).lines();
        let logs = stderr.clone();
        tokio::spawn(async move {
            while let Ok(Some(line)) = err_lines.next_line().await {
                let mut logs = logs.lock().unwrap();
                // Bounded: the start of a long run is what the tests look at.
                if logs.len() < 1 << 20 {
                    logs.push_str(&line);
                    logs.push('\n');
                }
            }
        });
        let stdout = child.stdout.take().expect("piped stdout");
        let mut lines = BufReader::new(stdout).lines();
        let ready = async {
            while let Some(line) = lines.next_line().await.expect("read its output") {
                if let Some(url) = line.strip_prefix("wslink: Starting factory ") {
                    return url.trim().to_owned();
                }
            }
            panic!("wslink-test-server exited before its ready line");
        };
        let url = tokio::time::timeout(WAIT, ready)
            .await
            .expect("wslink-test-server starts in time");
        // Keep draining its output so it never blocks on a full pipe.
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        ChildServer { child, url, stderr }
    }

    /// Its process id.
    pub fn pid(&self) -> u32 {
        self.child.id().expect("the server is running")
    }

    /// Its logs so far.
    pub fn logs(&self) -> String {
        self.stderr.lock().unwrap().clone()
    }

    /// Kills it and waits for it to be gone.
    pub async fn kill(&mut self) {
        let _ = self.child.kill().await;
    }

    /// The server's memory, from `/proc/<pid>/status`.
    pub fn memory(&self) -> Memory {
        let pid = self.child.id().expect("the server is running");
        let status =
            std::fs::read_to_string(format!("/proc/{pid}/status")).expect("/proc is readable");
        let field = |name: &str| -> usize {
            let line = status
                .lines()
                .find(|l| l.starts_with(name))
                .unwrap_or_else(|| panic!("{name} in /proc/{pid}/status"));
            let kib: usize = line.split_whitespace().nth(1).unwrap().parse().unwrap();
            kib * 1024
        };
        Memory {
            rss: field("VmRSS:"),
            peak: field("VmHWM:"),
        }
    }
}
