//! What the tool reads from `/proc` and asks of the system: CPU time and memory of a
//! process, where its threads run, CPU affinity and the open-file limit.
//!
//! The workspace forbids `unsafe`, so affinity and limits go through `taskset` and
//! `prlimit` (util-linux) rather than libc calls.

use std::collections::BTreeMap;
use std::process::Command;
use std::sync::OnceLock;

/// CPU time and memory of one process.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct ProcStats {
    /// utime + stime, seconds.
    pub(crate) cpu_secs: f64,
    /// VmRSS, KiB.
    pub(crate) rss_kib: u64,
    /// VmHWM (peak RSS since start or the last reset), KiB.
    pub(crate) hwm_kib: u64,
}

fn clock_ticks() -> f64 {
    static TICKS: OnceLock<f64> = OnceLock::new();
    *TICKS.get_or_init(|| {
        Command::new("getconf")
            .arg("CLK_TCK")
            .output()
            .ok()
            .and_then(|o| String::from_utf8(o.stdout).ok())
            .and_then(|s| s.trim().parse().ok())
            .unwrap_or(100.0)
    })
}

/// The fields of a `stat` line after the `(comm)`: index 0 is field 3 (`state`).
fn stat_fields(text: &str) -> Vec<&str> {
    match text.rfind(')') {
        Some(pos) => text[pos + 1..].split_whitespace().collect(),
        None => Vec::new(),
    }
}

fn field(fields: &[&str], number: usize) -> Option<u64> {
    fields.get(number - 3).and_then(|f| f.parse().ok())
}

fn status_kib(status: &str, key: &str) -> u64 {
    status
        .lines()
        .find(|l| l.starts_with(key))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

/// Reads the stats of `pid` (None if it is gone).
pub(crate) fn proc_stats(pid: u32) -> Option<ProcStats> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let fields = stat_fields(&stat);
    let ticks = field(&fields, 14)? + field(&fields, 15)?;
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    Some(ProcStats {
        cpu_secs: ticks as f64 / clock_ticks(),
        rss_kib: status_kib(&status, "VmRSS:"),
        hwm_kib: status_kib(&status, "VmHWM:"),
    })
}

/// Resets the peak-RSS mark (VmHWM) of `pid` (`echo 5 > /proc/PID/clear_refs`).
pub(crate) fn reset_peak(pid: u32) -> bool {
    std::fs::write(format!("/proc/{pid}/clear_refs"), "5").is_ok()
}

/// The CPU each thread of `pid` last ran on (field 39 of `/proc/PID/task/TID/stat`).
pub(crate) fn thread_cpus(pid: u32) -> Vec<u32> {
    let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
        return Vec::new();
    };
    tasks
        .filter_map(Result::ok)
        .filter_map(|t| std::fs::read_to_string(t.path().join("stat")).ok())
        .filter_map(|s| field(&stat_fields(&s), 39).map(|c| c as u32))
        .collect()
}

/// `Cpus_allowed_list` of `pid`.
pub(crate) fn allowed_cpus(pid: u32) -> String {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("Cpus_allowed_list:"))
                .map(|l| l["Cpus_allowed_list:".len()..].trim().to_owned())
        })
        .unwrap_or_else(|| "?".into())
}

/// Samples of "which CPU did a thread of this process last run on".
#[derive(Debug, Default, Clone)]
pub(crate) struct Placement {
    pub(crate) samples: BTreeMap<u32, u64>,
}

impl Placement {
    pub(crate) fn sample(&mut self, pid: u32) {
        for cpu in thread_cpus(pid) {
            *self.samples.entry(cpu).or_default() += 1;
        }
    }

    pub(crate) fn describe(&self) -> String {
        let total: u64 = self.samples.values().sum();
        if total == 0 {
            return "no samples".into();
        }
        self.samples
            .iter()
            .map(|(cpu, n)| format!("cpu{cpu} {:.0}%", 100.0 * *n as f64 / total as f64))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// Pins every thread of this process to `cpus` (a taskset list such as `0` or `0,1`).
/// Call before starting any runtime: threads started later inherit the mask.
pub(crate) fn pin_self(cpus: &str) -> Result<(), String> {
    let pid = std::process::id().to_string();
    let out = Command::new("taskset")
        .args(["-a", "-cp", cpus, &pid])
        .output()
        .map_err(|e| format!("taskset: {e} (install util-linux)"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "taskset -a -cp {cpus} {pid}: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        ))
    }
}

/// (soft, hard) RLIMIT_NOFILE of `pid`, from `/proc/PID/limits`.
pub(crate) fn nofile(pid: u32) -> Option<(u64, u64)> {
    let limits = std::fs::read_to_string(format!("/proc/{pid}/limits")).ok()?;
    let line = limits.lines().find(|l| l.starts_with("Max open files"))?;
    let mut nums = line["Max open files".len()..].split_whitespace();
    let parse = |s: Option<&str>| match s {
        Some("unlimited") => Some(u64::MAX),
        Some(s) => s.parse().ok(),
        None => None,
    };
    Some((parse(nums.next())?, parse(nums.next())?))
}

/// Raises the soft open-file limit of this process to its hard limit (with `prlimit`).
/// Returns the soft limit in force afterwards.
pub(crate) fn raise_nofile() -> u64 {
    let pid = std::process::id();
    let Some((soft, hard)) = nofile(pid) else {
        return 0;
    };
    if soft < hard {
        let hard_s = if hard == u64::MAX {
            "unlimited".to_owned()
        } else {
            hard.to_string()
        };
        let _ = Command::new("prlimit")
            .args([
                "--pid",
                &pid.to_string(),
                &format!("--nofile={hard_s}:{hard_s}"),
            ])
            .status();
    }
    nofile(pid).map_or(soft, |(s, _)| s)
}

/// The CPU time of every current thread of `pid`, in seconds, from the nanosecond
/// run times of `/proc/PID/task/TID/schedstat` (finer than the clock ticks of
/// [`proc_stats`], which short phases need). Threads that exited are not counted.
pub(crate) fn cpu_secs_fine(pid: u32) -> Option<f64> {
    let tasks = std::fs::read_dir(format!("/proc/{pid}/task")).ok()?;
    let mut ns = 0u64;
    let mut any = false;
    for task in tasks.filter_map(Result::ok) {
        let Ok(text) = std::fs::read_to_string(task.path().join("schedstat")) else {
            continue;
        };
        if let Some(run) = text
            .split_whitespace()
            .next()
            .and_then(|v| v.parse::<u64>().ok())
        {
            ns += run;
            any = true;
        }
    }
    any.then_some(ns as f64 / 1e9)
}
