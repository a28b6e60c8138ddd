//! What the tool shows while it runs. On a terminal (standard error, where it reports):
//! two progress bars, the servers measured so far and the phases of the current one,
//! with the running phase and its elapsed time. Elsewhere (CI, a pipe, a file): one line
//! per server and per phase, as before.

use std::io::IsTerminal;
use std::time::Duration;

use indicatif::{MultiProgress, ProgressBar, ProgressStyle};

/// The run as a whole.
#[derive(Debug)]
pub(crate) struct Progress {
    bars: Option<(MultiProgress, ProgressBar)>,
}

/// The phases of one server; cloned into the task that measures it.
#[derive(Debug, Clone)]
pub(crate) struct Phases {
    server: String,
    bar: Option<ProgressBar>,
}

fn style(template: &str) -> ProgressStyle {
    ProgressStyle::with_template(template)
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> ")
}

impl Progress {
    /// Bars when standard error is a terminal, plain lines otherwise.
    pub(crate) fn new(servers: usize) -> Progress {
        Progress::with_bars(servers, std::io::stderr().is_terminal())
    }

    fn with_bars(servers: usize, bars: bool) -> Progress {
        let bars = bars.then(|| {
            let multi = MultiProgress::new();
            let total = multi.add(ProgressBar::new(servers as u64));
            total.set_style(style("servers [{bar:20}] {pos}/{len}  {msg}"));
            (multi, total)
        });
        Progress { bars }
    }

    /// A line above the bars (or on its own).
    pub(crate) fn line(&self, text: &str) {
        match &self.bars {
            Some((multi, _)) if multi.println(text).is_ok() => {}
            _ => eprintln!("{text}"),
        }
    }

    /// Measuring `server` starts: `phases` steps.
    pub(crate) fn server(&self, server: &str, phases: usize) -> Phases {
        let bar = self.bars.as_ref().map(|(multi, total)| {
            total.set_message(server.to_owned());
            let bar = multi.add(ProgressBar::new(phases as u64));
            bar.set_style(style(
                "{spinner} {prefix} [{bar:30}] {pos}/{len} {msg} ({elapsed} on this server)",
            ));
            bar.set_prefix(server.to_owned());
            bar.enable_steady_tick(Duration::from_millis(200));
            bar
        });
        Phases {
            server: server.to_owned(),
            bar,
        }
    }

    /// Measuring a server ended after `secs`.
    pub(crate) fn server_done(&self, phases: &Phases, secs: f64) {
        if let Some(bar) = &phases.bar {
            bar.finish_and_clear();
        }
        if let Some((_, total)) = &self.bars {
            total.inc(1);
        }
        self.line(&format!("  {} done in {secs:.1} s", phases.server));
    }

    /// Every server measured.
    pub(crate) fn finish(&self) {
        if let Some((_, total)) = &self.bars {
            total.finish_and_clear();
        }
    }
}

impl Phases {
    /// A phase starts.
    pub(crate) fn start(&self, label: &str) {
        match &self.bar {
            Some(bar) => bar.set_message(label.to_owned()),
            None => eprintln!("  [{}] {label}", self.server),
        }
    }

    /// The phase that started last is over.
    pub(crate) fn done(&self) {
        if let Some(bar) = &self.bar {
            bar.inc(1);
        }
    }

    /// A phase failed: said above the bars (or on its own line).
    pub(crate) fn failed(&self, phase: &str, error: &str) {
        let text = format!("  [{}] {phase}: {error}", self.server);
        match &self.bar {
            Some(bar) => bar.println(text),
            None => eprintln!("{text}"),
        }
    }

    /// How many phases are done (0 without bars).
    #[cfg(test)]
    fn position(&self) -> u64 {
        self.bar.as_ref().map_or(0, ProgressBar::position)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn without_a_terminal_no_bars() {
        let progress = Progress::with_bars(2, false);
        assert!(progress.bars.is_none());
        let phases = progress.server("rust", 3);
        phases.start("sequential calls");
        phases.done();
        assert!(phases.bar.is_none());
    }

    #[test]
    fn the_phase_bar_counts_the_phases_done() {
        // Bars drawn nowhere (indicatif hides them when its target is not a terminal),
        // counted all the same.
        let progress = Progress::with_bars(2, true);
        assert!(progress.bars.is_some());
        let phases = progress.server("rust", 3);
        for label in ["a", "b"] {
            phases.start(label);
            phases.done();
        }
        assert_eq!(phases.position(), 2);
        assert_eq!(phases.bar.as_ref().and_then(ProgressBar::length), Some(3));
        progress.server_done(&phases, 1.0);
        let total = progress.bars.as_ref().map(|(_, t)| t.position());
        assert_eq!(total, Some(1));
        progress.finish();
    }
}
