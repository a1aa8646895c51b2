//! Mesos duration strings (`5secs`, `2.5mins`, `100ms`), as the agent puts them in
//! `MESOS_EXECUTOR_SHUTDOWN_GRACE_PERIOD`, `MESOS_SUBSCRIPTION_BACKOFF_MAX` and
//! `MESOS_RECOVERY_TIMEOUT` (stout `Duration::parse`: a decimal number followed by one of
//! `ns, us, ms, secs, mins, hrs, days, weeks`).

use std::time::Duration;

/// Why a duration string was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DurationError {
    /// No unit, or an unknown one.
    #[error("unknown or missing unit (expected ns, us, ms, secs, mins, hrs, days or weeks)")]
    Unit,
    /// The numeric part is not a non-negative decimal number.
    #[error("invalid number")]
    Number,
}

/// Parses a Mesos duration such as `5secs`.
pub fn parse(text: &str) -> Result<Duration, DurationError> {
    let text = text.trim();
    let number = text.trim_end_matches(|c: char| c.is_ascii_alphabetic());
    let unit = &text[number.len()..];
    let nanos_per_unit: f64 = match unit {
        "ns" => 1.0,
        "us" => 1e3,
        "ms" => 1e6,
        "secs" => 1e9,
        "mins" => 60e9,
        "hrs" => 3_600e9,
        "days" => 86_400e9,
        "weeks" => 604_800e9,
        _ => return Err(DurationError::Unit),
    };
    let value: f64 = number.trim().parse().map_err(|_| DurationError::Number)?;
    if !value.is_finite() || value < 0.0 {
        return Err(DurationError::Number);
    }
    Duration::try_from_secs_f64(value * nanos_per_unit / 1e9).map_err(|_| DurationError::Number)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_mesos_units() {
        assert_eq!(parse("5secs"), Ok(Duration::from_secs(5)));
        assert_eq!(parse("15mins"), Ok(Duration::from_secs(900)));
        assert_eq!(parse("100ms"), Ok(Duration::from_millis(100)));
        assert_eq!(parse("2.5secs"), Ok(Duration::from_millis(2500)));
        assert_eq!(parse("1weeks"), Ok(Duration::from_secs(604_800)));
        assert_eq!(parse("0ns"), Ok(Duration::ZERO));
    }

    #[test]
    fn rejects_garbage() {
        assert_eq!(parse("5"), Err(DurationError::Unit));
        assert_eq!(parse("5seconds"), Err(DurationError::Unit));
        assert_eq!(parse("1.2.3secs"), Err(DurationError::Number));
        assert_eq!(parse("-1secs"), Err(DurationError::Number));
    }
}
