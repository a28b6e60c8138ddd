//! CPU time as Linux accounts it, read from `/proc`, to say what a frame costs.
//!
//! [`thread_time`] is the calling thread's time on a CPU (nanoseconds, from
//! `/proc/thread-self/schedstat`): read before and after a piece of work on one thread,
//! it gives that work's CPU cost whatever else the machine runs. [`process_time`] is the
//! whole process's user + system time (`/proc/self/stat`, in clock ticks of 10 ms).
//! Elsewhere than Linux both are `None` and the costs are not reported.

use std::time::Duration;

/// The calling thread's CPU time so far.
pub(crate) fn thread_time() -> Option<Duration> {
    let text = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    let nanos = text.split_whitespace().next()?.parse().ok()?;
    Some(Duration::from_nanos(nanos))
}

/// The process's CPU time (user + system) so far.
pub(crate) fn process_time() -> Option<Duration> {
    let text = std::fs::read_to_string("/proc/self/stat").ok()?;
    // The command name (field 2) may hold spaces; the fields after it are plain.
    let after_name = &text[text.rfind(')')? + 1..];
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    // utime and stime are fields 14 and 15, i.e. 11 and 12 after the state (field 3).
    let utime: u64 = fields.get(11)?.parse().ok()?;
    let stime: u64 = fields.get(12)?.parse().ok()?;
    // USER_HZ is 100 on every Linux this runs on.
    Some(Duration::from_millis((utime + stime) * 10))
}

/// Runs `work` and returns its result and the CPU time it took on this thread (zero
/// where that cannot be read).
pub(crate) fn timed<T>(work: impl FnOnce() -> T) -> (T, Duration) {
    let before = thread_time();
    let out = work();
    let spent = match (before, thread_time()) {
        (Some(a), Some(b)) => b.saturating_sub(a),
        _ => Duration::ZERO,
    };
    (out, spent)
}
