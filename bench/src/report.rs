//! Percentiles, markdown tables and the `BENCHMARKS.md` section writer.

use std::path::Path;
use std::time::Duration;

/// Summary of one series of timings.
#[derive(Debug, Clone, Copy)]
pub struct Summary {
    /// Number of samples.
    pub n: usize,
    /// Median.
    pub p50: Duration,
    /// 90th percentile.
    pub p90: Duration,
    /// Fastest.
    pub min: Duration,
    /// Mean.
    pub mean: Duration,
}

/// Summarises samples (nearest-rank percentiles). Empty input gives zeros.
pub fn summarize(samples: &[Duration]) -> Summary {
    let mut s = samples.to_vec();
    s.sort();
    let n = s.len();
    if n == 0 {
        return Summary {
            n,
            p50: Duration::ZERO,
            p90: Duration::ZERO,
            min: Duration::ZERO,
            mean: Duration::ZERO,
        };
    }
    let rank = |pct: usize| s[(pct * n).div_ceil(100).clamp(1, n) - 1];
    let total: Duration = s.iter().sum();
    Summary {
        n,
        p50: rank(50),
        p90: rank(90),
        min: s[0],
        mean: total / u32::try_from(n).unwrap_or(u32::MAX),
    }
}

/// Milliseconds with two decimals.
pub fn ms(d: Duration) -> String {
    format!("{:.2}", d.as_secs_f64() * 1000.0)
}

/// Replaces (or appends) the section between `<!-- begin NAME -->` and `<!-- end NAME -->`.
pub fn record(file: &Path, name: &str, body: &str) -> std::io::Result<()> {
    let begin = format!("<!-- begin {name} -->");
    let end = format!("<!-- end {name} -->");
    let old = std::fs::read_to_string(file).unwrap_or_else(|_| "# Meseta benchmarks\n".into());
    let section = format!("{begin}\n{}\n{end}", body.trim_end());
    let new = match (old.find(&begin), old.find(&end)) {
        (Some(b), Some(e)) if e > b => format!("{}{section}{}", &old[..b], &old[e + end.len()..]),
        _ => format!("{}\n\n{section}\n", old.trim_end()),
    };
    std::fs::write(file, new)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_are_nearest_rank() {
        let v: Vec<Duration> = (1..=10).map(Duration::from_millis).collect();
        let s = summarize(&v);
        assert_eq!(s.p50, Duration::from_millis(5));
        assert_eq!(s.p90, Duration::from_millis(9));
        assert_eq!(s.min, Duration::from_millis(1));
    }

    #[test]
    fn record_replaces_only_its_section() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("B.md");
        record(&f, "a", "one").unwrap();
        record(&f, "b", "two").unwrap();
        record(&f, "a", "three").unwrap();
        let text = std::fs::read_to_string(&f).unwrap();
        assert!(text.contains("three") && text.contains("two") && !text.contains("one"));
    }
}
