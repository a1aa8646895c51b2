//! Durations in Mesos (stout) syntax: `10ns`, `5us`, `3ms`, `1secs`, `2mins`, `1hrs`,
//! `1days`, `1weeks`, as flags take them and executors read them from the environment.

use std::time::Duration;

/// Parses a Mesos (stout) duration: `10ns`, `5us`, `3ms`, `1secs`, `2mins`, `1hrs`,
/// `1days`, `1weeks`; fractions allowed (`1.5secs`).
pub fn parse_duration(text: &str) -> Option<Duration> {
    let text = text.trim();
    let split = text.find(|c: char| !(c.is_ascii_digit() || c == '.'))?;
    let (number, unit) = text.split_at(split);
    let value: f64 = number.parse().ok()?;
    let secs = match unit {
        "ns" => 1e-9,
        "us" => 1e-6,
        "ms" => 1e-3,
        "secs" => 1.0,
        "mins" => 60.0,
        "hrs" => 3600.0,
        "days" => 86400.0,
        "weeks" => 604_800.0,
        _ => return None,
    };
    Duration::try_from_secs_f64(value * secs).ok()
}

/// Formats a duration the way Mesos prints one (`5secs`, `1mins`, `500ms`).
pub fn format_duration(d: Duration) -> String {
    let ns = d.as_nanos();
    let units: [(u128, &str); 6] = [
        (604_800_000_000_000, "weeks"),
        (86_400_000_000_000, "days"),
        (3_600_000_000_000, "hrs"),
        (60_000_000_000, "mins"),
        (1_000_000_000, "secs"),
        (1_000_000, "ms"),
    ];
    for (size, unit) in units {
        if ns >= size && ns % size == 0 {
            return format!("{}{unit}", ns / size);
        }
    }
    if ns >= 1_000_000_000 {
        return format!("{}secs", d.as_secs_f64());
    }
    format!("{ns}ns")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_in_mesos_syntax() {
        assert_eq!(parse_duration("1mins"), Some(Duration::from_secs(60)));
        assert_eq!(parse_duration("5secs"), Some(Duration::from_secs(5)));
        assert_eq!(parse_duration("1.5secs"), Some(Duration::from_millis(1500)));
        assert_eq!(parse_duration("200ms"), Some(Duration::from_millis(200)));
        assert_eq!(parse_duration("5"), None);
        assert_eq!(parse_duration("5 parsecs"), None);
        assert_eq!(format_duration(Duration::from_secs(5)), "5secs");
        assert_eq!(format_duration(Duration::from_secs(120)), "2mins");
        assert_eq!(format_duration(Duration::from_millis(1500)), "1500ms");
    }
}
