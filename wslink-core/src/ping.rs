//! [`PingTicker`]: when a connection's writer sends its next keepalive ping.
//!
//! Servers and clients ping from the task that writes a connection, between batches of
//! frames; this ticker is the one timer both use.

use std::time::Duration;

use tokio::time::{Instant, Interval, MissedTickBehavior};

/// Ticks every period, the first tick one period after it is made; without a period it
/// never ticks. A late tick is not caught up: the next one comes a period later.
///
/// ```
/// use std::time::Duration;
/// use wslink_core::ping::PingTicker;
///
/// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
/// let mut ticker = PingTicker::new(Some(Duration::from_millis(5)));
/// ticker.tick().await; // about 5 ms later: time to ping
/// let mut never = PingTicker::new(None);
/// assert!(tokio::time::timeout(Duration::from_millis(20), never.tick()).await.is_err());
/// # });
/// ```
#[derive(Debug)]
pub struct PingTicker {
    interval: Option<Interval>,
}

impl PingTicker {
    /// A ticker for a ping every `every`; `None` never ticks.
    pub fn new(every: Option<Duration>) -> Self {
        let interval = every.map(|every| {
            let mut interval = tokio::time::interval_at(Instant::now() + every, every);
            interval.set_missed_tick_behavior(MissedTickBehavior::Delay);
            interval
        });
        PingTicker { interval }
    }

    /// Waits for the next tick (forever without a period). Cancel-safe, so it can race
    /// the writer's queue in a `select!`.
    pub async fn tick(&mut self) {
        match &mut self.interval {
            Some(interval) => {
                interval.tick().await;
            }
            None => std::future::pending().await,
        }
    }
}
