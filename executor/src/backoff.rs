//! The delay before the next SUBSCRIBE after a failed one: exponential from 100 ms, capped by
//! `MESOS_SUBSCRIPTION_BACKOFF_MAX`, and drawn at random below that ("full jitter"). Mesos's
//! executor library also waits a random duration between 0 and the maximum (`backoff()` in
//! `src/executor/executor.cpp`). The randomness matters after an agent restart: the agent gives
//! recovered executors `--executor_reregistration_timeout` (2 s, the same as the default
//! maximum) to re-subscribe, and a fixed 2 s retry could miss that window and get the
//! executor's container destroyed.

use std::time::Duration;

/// First reconnect delay's upper bound; doubled per failed attempt up to the maximum.
pub const INITIAL: Duration = Duration::from_millis(100);
/// Never retry sooner than this (a refused connection fails at once).
const FLOOR: Duration = Duration::from_millis(10);

/// The delay after `failed_attempts` failures in a row, for `fraction` in `[0, 1)`.
pub fn delay(failed_attempts: u32, max: Duration, fraction: f64) -> Duration {
    let bound = INITIAL
        .saturating_mul(1u32 << failed_attempts.min(16))
        .min(max.max(INITIAL));
    bound.mul_f64(fraction.clamp(0.0, 1.0)).max(FLOOR)
}

/// A uniformly distributed fraction in `[0, 1)` from the kernel's random pool (no crate for
/// one number a few times per disconnection); 0.5 if `getrandom` fails.
pub fn random_fraction() -> f64 {
    let mut bytes = [0u8; 8];
    // SAFETY: getrandom(2) writes at most `bytes.len()` bytes into the buffer it is given.
    let n = unsafe { libc::getrandom(bytes.as_mut_ptr().cast(), bytes.len(), 0) };
    if n != 8 {
        return 0.5;
    }
    // 53 random bits: every value an f64 in [0, 1) can hold with uniform spacing.
    (u64::from_ne_bytes(bytes) >> 11) as f64 / (1u64 << 53) as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    const MAX: Duration = Duration::from_secs(2);

    #[test]
    fn grows_exponentially_then_stays_below_the_maximum() {
        assert_eq!(
            delay(0, MAX, 0.999_999),
            Duration::from_millis(100) - Duration::from_nanos(100)
        );
        assert!(delay(3, MAX, 0.999_999) < Duration::from_millis(800));
        assert!(delay(3, MAX, 0.999_999) > Duration::from_millis(799));
        for attempts in [5, 10, 40, u32::MAX] {
            assert!(delay(attempts, MAX, 0.999_999) < MAX, "{attempts}");
            assert!(delay(attempts, MAX, 0.999_999) > MAX - Duration::from_millis(1));
        }
    }

    #[test]
    fn is_drawn_below_the_bound_with_a_floor() {
        assert_eq!(delay(10, MAX, 0.5), Duration::from_secs(1));
        assert_eq!(delay(10, MAX, 0.0), FLOOR);
        // A maximum below the first step still allows the first step.
        assert_eq!(
            delay(4, Duration::from_millis(1), 0.5),
            Duration::from_millis(50)
        );
    }

    #[test]
    fn random_fractions_are_spread_over_the_unit_interval() {
        let draws: Vec<f64> = (0..1000).map(|_| random_fraction()).collect();
        assert!(draws.iter().all(|f| (0.0..1.0).contains(f)));
        // Far from a constant: both halves of the interval are hit.
        assert!(draws.iter().any(|f| *f < 0.25) && draws.iter().any(|f| *f > 0.75));
    }
}
