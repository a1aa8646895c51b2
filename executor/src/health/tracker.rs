//! The counting of Mesos' `HealthCheckerProcess::success`/`failure`, without I/O.

use std::time::Duration;

use tokio::time::Instant;

/// What the executor is told after a check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HealthUpdate {
    /// The task's health.
    pub healthy: bool,
    /// Failures in a row so far (0 when healthy).
    pub consecutive_failures: u32,
    /// The failures ran out: kill the task.
    pub kill_task: bool,
}

/// Counts consecutive failures; knows the grace period.
#[derive(Debug, Clone)]
pub struct Tracker {
    start: Instant,
    grace_period: Duration,
    max_failures: u32,
    /// Until the first success.
    initializing: bool,
    failures: u32,
}

impl Tracker {
    /// Checking started at `start`.
    pub fn new(start: Instant, grace_period: Duration, max_failures: u32) -> Self {
        Self {
            start,
            grace_period,
            max_failures,
            initializing: true,
            failures: 0,
        }
    }

    /// Records one check's result at `now`; returns the update to send, if any.
    pub fn record(&mut self, ok: bool, now: Instant) -> Option<HealthUpdate> {
        if ok {
            // Reported on the first success and on the first success after failures.
            let report = self.initializing || self.failures > 0;
            self.initializing = false;
            self.failures = 0;
            return report.then_some(HealthUpdate {
                healthy: true,
                consecutive_failures: 0,
                kill_task: false,
            });
        }
        if self.initializing
            && !self.grace_period.is_zero()
            && now.duration_since(self.start) <= self.grace_period
        {
            return None;
        }
        self.failures += 1;
        Some(HealthUpdate {
            healthy: false,
            consecutive_failures: self.failures,
            kill_task: self.failures >= self.max_failures,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secs(s: u64) -> Duration {
        Duration::from_secs(s)
    }

    #[test]
    fn failures_in_the_grace_period_are_ignored_until_the_first_success() {
        let t0 = Instant::now();
        let mut t = Tracker::new(t0, secs(10), 3);
        assert_eq!(t.record(false, t0 + secs(5)), None);
        assert_eq!(t.record(false, t0 + secs(10)), None);
        let first = t.record(false, t0 + secs(11)).unwrap();
        assert!(!first.healthy && first.consecutive_failures == 1 && !first.kill_task);
    }

    #[test]
    fn after_a_success_the_grace_period_no_longer_applies() {
        let t0 = Instant::now();
        let mut t = Tracker::new(t0, secs(60), 2);
        assert!(t.record(true, t0 + secs(1)).unwrap().healthy);
        // A second success is no news.
        assert_eq!(t.record(true, t0 + secs(2)), None);
        let f1 = t.record(false, t0 + secs(3)).unwrap();
        assert_eq!(
            (f1.healthy, f1.consecutive_failures, f1.kill_task),
            (false, 1, false)
        );
        assert!(
            t.record(true, t0 + secs(4)).unwrap().healthy,
            "recovery is reported"
        );
        t.record(false, t0 + secs(5)).unwrap();
        let f2 = t.record(false, t0 + secs(6)).unwrap();
        assert_eq!((f2.consecutive_failures, f2.kill_task), (2, true));
    }

    #[test]
    fn zero_grace_counts_every_failure() {
        let t0 = Instant::now();
        let mut t = Tracker::new(t0, Duration::ZERO, 1);
        assert!(t.record(false, t0).unwrap().kill_task);
    }
}
