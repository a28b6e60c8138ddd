//! What to measure: the plan (counts, durations, phases) and the steps it makes, one per
//! measured configuration.

use crate::phases::size_label;

/// How much of each phase to do.
#[derive(Debug, Clone)]
pub(crate) struct Plan {
    pub(crate) secs: f64,
    pub(crate) seq_max: u64,
    pub(crate) pipe_max: u64,
    pub(crate) pipelines: Vec<usize>,
    pub(crate) subscribers: Vec<usize>,
    pub(crate) pub_sizes: Vec<usize>,
    pub(crate) pub_max_msgs: u64,
    pub(crate) fanout: usize,
    pub(crate) bin_sizes: Vec<usize>,
    pub(crate) bin_max_iters: u64,
    pub(crate) conn_max: u64,
    pub(crate) idle: usize,
    pub(crate) idle_secs: f64,
    pub(crate) phases: Vec<String>,
    /// Rounds of each npm-like, Node and mixed phase (their figures are medians).
    pub(crate) rounds: usize,
    /// Calls in flight of the npm-like and Node pipelined phases.
    pub(crate) npm_depth: usize,
    /// Bytes of the npm-like bulk transfers.
    pub(crate) npm_bulk: usize,
    /// The most publications (summed over receivers) of an npm-like publication round
    /// (a probe sizes it to `secs`).
    pub(crate) npm_pub_count: u64,
    /// The mixed phase's load.
    pub(crate) mixed: Mixed,
}

/// The mixed phase: `conns` connections calling at `call_hz` each, and one stream of
/// `pub_size`-byte publications at `pub_hz` to `receivers` of them, for `secs`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Mixed {
    pub(crate) conns: usize,
    pub(crate) call_hz: f64,
    pub(crate) receivers: usize,
    pub(crate) pub_size: usize,
    pub(crate) pub_hz: f64,
    pub(crate) secs: f64,
}

impl Plan {
    pub(crate) fn full() -> Plan {
        Plan {
            secs: 2.0,
            seq_max: 200_000,
            pipe_max: 1_000_000,
            pipelines: vec![1, 16, 64, 256],
            subscribers: vec![1, 10, 100],
            pub_sizes: vec![100, 10 * 1024],
            pub_max_msgs: 400_000,
            fanout: 1000,
            bin_sizes: vec![1 << 20, 64 << 20],
            bin_max_iters: 400,
            conn_max: 3000,
            idle: 10_000,
            idle_secs: 30.0,
            phases: all_phases(),
            rounds: 3,
            npm_depth: 64,
            npm_bulk: 16 << 20,
            npm_pub_count: 400_000,
            mixed: Mixed {
                conns: 200,
                call_hz: 20.0,
                receivers: 50,
                pub_size: 200_000,
                pub_hz: 30.0,
                secs: 10.0,
            },
        }
    }

    pub(crate) fn quick() -> Plan {
        Plan {
            secs: 0.25,
            seq_max: 5_000,
            pipe_max: 20_000,
            pipelines: vec![1, 16, 64, 256],
            subscribers: vec![1, 10, 100],
            pub_sizes: vec![100, 10 * 1024],
            pub_max_msgs: 20_000,
            fanout: 200,
            bin_sizes: vec![1 << 20, 8 << 20],
            bin_max_iters: 20,
            conn_max: 200,
            idle: 300,
            idle_secs: 5.0,
            phases: all_phases(),
            rounds: 1,
            npm_depth: 64,
            npm_bulk: 5 << 20,
            npm_pub_count: 5_000,
            mixed: Mixed {
                conns: 40,
                call_hz: 20.0,
                receivers: 10,
                pub_size: 200_000,
                pub_hz: 30.0,
                secs: 2.0,
            },
        }
    }

    fn wants(&self, phase: &str, only: Option<&[&str]>) -> bool {
        self.phases.iter().any(|p| p == phase) && only.is_none_or(|o| o.contains(&phase))
    }

    /// The steps of the plan, in order, for a target that runs `only` these phases (all
    /// when `None`).
    pub(crate) fn steps(&self, only: Option<&[&str]>) -> Vec<Step> {
        let mut steps = Vec::new();
        if self.wants("seq", only) {
            steps.push(Step::Seq);
        }
        if self.wants("pipe", only) {
            steps.extend(self.pipelines.iter().map(|&k| Step::Pipe(k)));
        }
        if self.wants("pub", only) {
            for &size in &self.pub_sizes {
                let subs = self.subscribers.iter();
                steps.extend(subs.map(|&subs| Step::Pub { subs, size }));
            }
        }
        if self.wants("fanout", only) {
            steps.push(Step::Fanout(self.fanout));
        }
        if self.wants("filter", only) {
            steps.push(Step::Filter(self.fanout));
        }
        if self.wants("bin", only) {
            steps.extend(self.bin_sizes.iter().map(|&size| Step::Bin(size)));
        }
        if self.wants("conn", only) {
            steps.push(Step::Conn);
        }
        if self.wants("idle", only) {
            steps.push(Step::Idle(self.idle));
        }
        steps
    }
}

pub(crate) fn all_phases() -> Vec<String> {
    [
        "seq", "pipe", "pub", "fanout", "filter", "bin", "conn", "idle", "mixed",
    ]
    .map(String::from)
    .to_vec()
}

/// One measured configuration of a phase.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Step {
    /// Sequential calls.
    Seq,
    /// Pipelined calls, this many in flight.
    Pipe(usize),
    /// Publications to `subs` subscribers, `size` bytes of padding each.
    Pub { subs: usize, size: usize },
    /// Publications of 100 bytes to this many subscribers.
    Fanout(usize),
    /// Publications to this many server-side subscribers, without filters and with ten
    /// distinct ones.
    Filter(usize),
    /// Binary results then arguments of this many bytes.
    Bin(usize),
    /// Connections per second.
    Conn,
    /// This many idle connections held.
    Idle(usize),
}

impl Step {
    /// What a person reads while it runs.
    pub(crate) fn label(&self) -> String {
        match *self {
            Step::Seq => "sequential calls".into(),
            Step::Pipe(k) => format!("pipelined, {k} in flight"),
            Step::Pub { subs, size } => {
                format!(
                    "publications, {subs} subscribers, {} each",
                    size_label(size)
                )
            }
            Step::Fanout(subs) => format!("fan-out to {subs} subscribers"),
            Step::Filter(subs) => format!("{subs} subscribers, without and with 10 filters"),
            Step::Bin(size) => format!("binary {} down/up", size_label(size)),
            Step::Conn => "connections per second".into(),
            Step::Idle(n) => format!("{n} idle connections"),
        }
    }

    /// The name notes give it.
    pub(crate) fn name(&self) -> String {
        match *self {
            Step::Seq => "seq".into(),
            Step::Pipe(k) => format!("pipe{k}"),
            Step::Pub { subs, size } => format!("pub{subs}x{size}"),
            Step::Fanout(_) => "fanout".into(),
            Step::Filter(_) => "filter".into(),
            Step::Bin(size) => format!("bin{size}"),
            Step::Conn => "conn".into(),
            Step::Idle(_) => "idle".into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_quick_plan_in_order() {
        let steps = Plan::quick().steps(None);
        assert_eq!(steps[0], Step::Seq);
        assert_eq!(steps[1..5], [1, 16, 64, 256].map(Step::Pipe));
        assert_eq!(steps[5], Step::Pub { subs: 1, size: 100 });
        assert_eq!(steps[11], Step::Fanout(200));
        assert_eq!(steps[12], Step::Filter(200));
        assert_eq!(steps[13..15], [Step::Bin(1 << 20), Step::Bin(8 << 20)]);
        assert_eq!(steps[15..], [Step::Conn, Step::Idle(300)]);
    }

    #[test]
    fn only_the_phases_asked_for_and_allowed() {
        let mut plan = Plan::quick();
        plan.phases = vec!["seq".into(), "fanout".into(), "conn".into()];
        assert_eq!(plan.steps(None), [Step::Seq, Step::Fanout(200), Step::Conn]);
        assert_eq!(plan.steps(Some(&["pipe", "fanout"])), [Step::Fanout(200)]);
    }

    #[test]
    fn labels_and_names() {
        let step = Step::Pub {
            subs: 10,
            size: 10 * 1024,
        };
        assert_eq!(step.label(), "publications, 10 subscribers, 10 KiB each");
        assert_eq!(step.name(), "pub10x10240");
    }
}
