//! Durations and byte sizes in Mesos (stout) syntax, as flags and executor environment
//! variables carry them: `10ns`, `5us`, `100ms`, `10secs`, `2mins`, `1hrs`, `1days`, `2weeks`
//! (fractions allowed: `1.5secs`), and `512MB`, `1GB` (`B`, `KB`, `MB`, `GB`, `TB`, powers of
//! 1024). Mirrors `stout/duration.hpp` `Duration::parse` and `stout/bytes.hpp` `Bytes::parse`:
//! the number is the leading run of digits and dots, the rest must be a unit exactly, so a sign,
//! an exponent or a space is an error. Hand-written: no crate speaks stout's unit names.

use std::time::Duration;

/// A value Mesos would reject; prints as one line naming the value and the reason.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid value '{value}': {reason}")]
pub struct UnitError {
    /// The text given.
    pub value: String,
    /// What is wrong.
    pub reason: &'static str,
}

/// Splits `text` (trimmed) into its leading number (digits and dots) and the unit after it.
fn split_number(text: &str) -> (&str, &str) {
    let t = text.trim();
    let end = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(t.len());
    t.split_at(end)
}

/// Parses a Mesos duration: `<number><unit>` with unit `ns`, `us`, `ms`, `secs`, `mins`,
/// `hrs`, `days` or `weeks` (`1.5secs`, `100ms`). A bare number has no unit and is refused.
pub fn parse_duration(text: &str) -> Result<Duration, UnitError> {
    let err = |reason| UnitError {
        value: text.to_string(),
        reason,
    };
    let (number, unit) = split_number(text);
    if unit.is_empty() {
        return Err(err(
            "missing unit (ns, us, ms, secs, mins, hrs, days, weeks)",
        ));
    }
    let n: f64 = number.parse().map_err(|_| err("not a number"))?;
    let secs_per_unit = match unit {
        "ns" => 1e-9,
        "us" => 1e-6,
        "ms" => 1e-3,
        "secs" => 1.0,
        "mins" => 60.0,
        "hrs" => 3_600.0,
        "days" => 86_400.0,
        "weeks" => 604_800.0,
        _ => {
            return Err(err(
                "unknown unit (ns, us, ms, secs, mins, hrs, days, weeks)",
            ))
        }
    };
    Duration::try_from_secs_f64(n * secs_per_unit).map_err(|_| err("out of range"))
}

/// Parses a byte size: a plain number of bytes or `<n>B|KB|MB|GB|TB` (powers of 1024, as
/// stout's `Bytes`); between 1 byte and 10^15 bytes.
pub fn parse_bytes(text: &str) -> Result<u64, UnitError> {
    let err = |reason| UnitError {
        value: text.to_string(),
        reason,
    };
    let (number, unit) = split_number(text);
    let n: f64 = number.parse().map_err(|_| err("not a number"))?;
    let multiplier: f64 = match unit {
        "" | "B" => 1.0,
        "KB" => 1024.0,
        "MB" => 1024.0 * 1024.0,
        "GB" => 1024.0 * 1024.0 * 1024.0,
        "TB" => 1024.0 * 1024.0 * 1024.0 * 1024.0,
        _ => return Err(err("unknown unit (B, KB, MB, GB, TB)")),
    };
    let v = n * multiplier;
    if !(1.0..=1e15).contains(&v) {
        return Err(err("out of range"));
    }
    #[allow(clippy::cast_possible_truncation)] // range checked above
    Ok(v as u64)
}

/// Formats a duration in the largest unit that divides it (`5secs`, `2mins`, `1500ms`), as
/// Mesos prints flags; whole seconds that no larger unit divides stay in `secs`.
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
    fn every_duration_unit() {
        let cases = [
            ("10ns", Duration::from_nanos(10)),
            ("5us", Duration::from_micros(5)),
            ("100ms", Duration::from_millis(100)),
            ("10secs", Duration::from_secs(10)),
            ("2mins", Duration::from_secs(120)),
            ("1hrs", Duration::from_secs(3_600)),
            ("1days", Duration::from_secs(86_400)),
            ("2weeks", Duration::from_secs(2 * 604_800)),
            ("1.5secs", Duration::from_millis(1_500)),
            ("2.5mins", Duration::from_secs(150)),
            ("0ns", Duration::ZERO),
            (" 5secs ", Duration::from_secs(5)),
        ];
        for (text, want) in cases {
            assert_eq!(parse_duration(text), Ok(want), "{text}");
        }
    }

    #[test]
    fn durations_mesos_refuses() {
        for (text, reason) in [
            ("5", "missing unit"),
            ("", "missing unit"),
            ("5seconds", "unknown unit"),
            ("5 secs", "unknown unit"),
            ("5SECS", "unknown unit"),
            ("-1secs", "not a number"),
            ("1e3secs", "unknown unit"),
            ("1.2.3secs", "not a number"),
            ("secs", "not a number"),
            ("999999999999999999999weeks", "out of range"),
        ] {
            let e = parse_duration(text).unwrap_err();
            assert!(e.reason.starts_with(reason), "{text}: {e}");
            assert_eq!(e.value, text);
        }
    }

    #[test]
    fn every_byte_unit() {
        let cases = [
            ("512", 512),
            ("1B", 1),
            ("4KB", 4 << 10),
            ("512MB", 512 << 20),
            ("8MB", 8 << 20),
            ("1GB", 1 << 30),
            ("1.5GB", 3 << 29),
            ("2TB", 2 << 40),
        ];
        for (text, want) in cases {
            assert_eq!(parse_bytes(text), Ok(want), "{text}");
        }
    }

    #[test]
    fn byte_sizes_out_of_range_or_unknown() {
        for (text, reason) in [
            ("0", "out of range"),
            ("0.5B", "out of range"),
            ("2000TB", "out of range"),
            ("1mb", "unknown unit"),
            ("1 MB", "unknown unit"),
            ("1PB", "unknown unit"),
            ("MB", "not a number"),
        ] {
            let e = parse_bytes(text).unwrap_err();
            assert!(e.reason.starts_with(reason), "{text}: {e}");
        }
    }

    #[test]
    fn formats_in_the_largest_dividing_unit() {
        assert_eq!(format_duration(Duration::from_secs(5)), "5secs");
        assert_eq!(format_duration(Duration::from_secs(120)), "2mins");
        assert_eq!(format_duration(Duration::from_secs(600)), "10mins");
        assert_eq!(format_duration(Duration::from_secs(7_200)), "2hrs");
        assert_eq!(format_duration(Duration::from_secs(86_400)), "1days");
        assert_eq!(format_duration(Duration::from_secs(604_800)), "1weeks");
        assert_eq!(format_duration(Duration::from_millis(1_500)), "1500ms");
        assert_eq!(format_duration(Duration::from_nanos(10)), "10ns");
        for text in ["15secs", "100ms", "3hrs", "2weeks"] {
            assert_eq!(format_duration(parse_duration(text).unwrap()), text);
        }
    }
}
