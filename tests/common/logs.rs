//! Capturing the logs of a test: a subscriber for this thread that writes into a buffer.
//! With the in-process transport (or loopback sockets) and a single-threaded runtime,
//! every task's logs land on it.
#![allow(dead_code, unreachable_pub)]

use std::io::Write;
use std::sync::{Arc, Mutex};

use tracing::subscriber::DefaultGuard;

/// What was logged so far.
#[derive(Clone, Default)]
pub struct Captured(Arc<Mutex<Vec<u8>>>);

impl Captured {
    /// The logs as text.
    pub fn text(&self) -> String {
        String::from_utf8(self.0.lock().unwrap().clone()).unwrap()
    }
}

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Captures everything this thread logs, down to TRACE, while the guard lives.
pub fn capture() -> (Captured, DefaultGuard) {
    capture_at(tracing::Level::TRACE)
}

/// Captures what this thread logs at `level` and above, while the guard lives (INFO is
/// what `wslink::cli` servers log by default).
pub fn capture_at(level: tracing::Level) -> (Captured, DefaultGuard) {
    let logs = Captured::default();
    let writer = logs.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(level)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    (logs, tracing::subscriber::set_default(subscriber))
}
