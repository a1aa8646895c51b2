//! Exponential backoff with jitter between subscription attempts, as Mesos' v1 scheduler
//! library and pymesos do (pymesos: 2 s doubling up to 15 s): each delay is drawn uniformly
//! from `[d/2, d]` where `d` doubles from `min` up to `max`, so many frameworks that lost the
//! same master do not reconnect in lock step.

use std::time::Duration;

/// The delay sequence of one outage; [`Backoff::reset`] after a successful subscription.
#[derive(Debug, Clone)]
pub(crate) struct Backoff {
    min: Duration,
    max: Duration,
    next: Duration,
}

impl Backoff {
    /// Starts at `min`, caps at `max` (`max` is raised to `min` if smaller).
    pub(crate) fn new(min: Duration, max: Duration) -> Self {
        Self {
            min,
            max: max.max(min),
            next: min,
        }
    }

    /// The next delay (jittered) and doubles the ceiling.
    pub(crate) fn next_delay(&mut self) -> Duration {
        let ceiling = self.next;
        self.next = (self.next * 2).min(self.max);
        let low = ceiling / 2;
        let span = ceiling - low;
        low + span.mul_f64(fastrand::f64())
    }

    /// Back to `min` (after a session that reached SUBSCRIBED).
    pub(crate) fn reset(&mut self) {
        self.next = self.min;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn doubles_up_to_the_cap_with_jitter_below_the_ceiling() {
        let mut b = Backoff::new(Duration::from_millis(100), Duration::from_millis(700));
        let ceilings = [100, 200, 400, 700, 700];
        for c in ceilings {
            let d = b.next_delay();
            let c = Duration::from_millis(c);
            assert!(d >= c / 2 && d <= c, "{d:?} not in [{:?}, {c:?}]", c / 2);
        }
        b.reset();
        assert!(b.next_delay() <= Duration::from_millis(100));
    }

    #[test]
    fn jitter_spreads_delays() {
        let mut seen = std::collections::HashSet::new();
        for _ in 0..20 {
            let mut b = Backoff::new(Duration::from_secs(1), Duration::from_secs(1));
            seen.insert(b.next_delay());
        }
        assert!(seen.len() > 1, "no jitter: {seen:?}");
    }
}
