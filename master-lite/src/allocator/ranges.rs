//! Range resources (e.g. `ports:[31000-32000]`).
//!
//! A [`Ranges`] value is a normalised list of disjoint, non-adjacent,
//! inclusive `u64` intervals, sorted by start. All operations keep it
//! normalised, so equality is structural.

use std::fmt;
use std::str::FromStr;

use thiserror::Error;

/// Error returned when range text cannot be parsed.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("invalid ranges '{0}'")]
pub struct RangesError(pub String);

/// A normalised set of inclusive `u64` intervals.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct Ranges {
    spans: Vec<(u64, u64)>,
}

impl Ranges {
    /// Empty ranges.
    pub const fn new() -> Self {
        Ranges { spans: Vec::new() }
    }

    /// Builds normalised ranges from arbitrary (possibly overlapping)
    /// inclusive intervals; intervals with `begin > end` are ignored.
    pub fn from_spans(spans: impl IntoIterator<Item = (u64, u64)>) -> Self {
        let mut v: Vec<(u64, u64)> = spans.into_iter().filter(|(b, e)| b <= e).collect();
        v.sort_unstable();
        let mut out: Vec<(u64, u64)> = Vec::with_capacity(v.len());
        for (b, e) in v {
            match out.last_mut() {
                Some(last) if b <= last.1.saturating_add(1) => last.1 = last.1.max(e),
                _ => out.push((b, e)),
            }
        }
        Ranges { spans: out }
    }

    /// The normalised intervals.
    pub fn spans(&self) -> &[(u64, u64)] {
        &self.spans
    }

    /// True if no value is contained.
    pub fn is_empty(&self) -> bool {
        self.spans.is_empty()
    }

    /// Number of values contained (saturating).
    pub fn count(&self) -> u64 {
        self.spans
            .iter()
            .fold(0u64, |a, (b, e)| a.saturating_add(e - b).saturating_add(1))
    }

    /// True if every value of `other` is contained in `self`.
    pub fn contains(&self, other: &Ranges) -> bool {
        let mut i = 0;
        for &(b, e) in &other.spans {
            while i < self.spans.len() && self.spans[i].1 < b {
                i += 1;
            }
            match self.spans.get(i) {
                Some(&(sb, se)) if sb <= b && e <= se => {}
                _ => return false,
            }
        }
        true
    }

    /// Union with `other`.
    pub fn add(&mut self, other: &Ranges) {
        if other.is_empty() {
            return;
        }
        if self.is_empty() {
            self.spans.clone_from(&other.spans);
            return;
        }
        let merged = self.spans.iter().chain(other.spans.iter()).copied();
        *self = Ranges::from_spans(merged.collect::<Vec<_>>());
    }

    /// Removes every value of `other` from `self` (values not present are ignored).
    pub fn subtract(&mut self, other: &Ranges) {
        if other.is_empty() || self.is_empty() {
            return;
        }
        let mut out = Vec::with_capacity(self.spans.len() + other.spans.len());
        let mut j = 0;
        for &(mut b, e) in &self.spans {
            while j < other.spans.len() && other.spans[j].1 < b {
                j += 1;
            }
            let mut k = j;
            let mut alive = true;
            while k < other.spans.len() && other.spans[k].0 <= e {
                let (ob, oe) = other.spans[k];
                if ob > b {
                    out.push((b, ob - 1));
                }
                if oe >= e {
                    alive = false;
                    break;
                }
                b = oe + 1;
                k += 1;
            }
            if alive {
                out.push((b, e));
            }
        }
        self.spans = out;
    }

    /// Splits `[begin, end]` into `parts` contiguous fragments and keeps
    /// every other one (handy for building fragmented port sets in tests
    /// and benchmarks).
    pub fn fragment(begin: u64, end: u64, parts: u64) -> Ranges {
        let parts = parts.max(1);
        let len = (end.saturating_sub(begin) + 1) / (2 * parts);
        let step = len.max(1);
        let spans = (0..parts).map(|i| {
            let b = begin.saturating_add(i.saturating_mul(2).saturating_mul(step));
            (b, b.saturating_add(step - 1).min(end))
        });
        Ranges::from_spans(spans.collect::<Vec<_>>())
    }
}

impl FromStr for Ranges {
    type Err = RangesError;

    /// Parses `[a-b, c-d]` (brackets optional); a single number `a` means `a-a`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let err = || RangesError(s.to_string());
        let t = s.trim();
        let inner = t
            .strip_prefix('[')
            .and_then(|x| x.strip_suffix(']'))
            .unwrap_or(t);
        let mut spans = Vec::new();
        for part in inner.split(',') {
            let part = part.trim();
            if part.is_empty() {
                continue;
            }
            let (b, e) = part.split_once('-').unwrap_or((part, part));
            let b: u64 = b.trim().parse().map_err(|_| err())?;
            let e: u64 = e.trim().parse().map_err(|_| err())?;
            if b > e {
                return Err(err());
            }
            spans.push((b, e));
        }
        Ok(Ranges::from_spans(spans))
    }
}

impl fmt::Display for Ranges {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[")?;
        for (i, (b, e)) in self.spans.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            write!(f, "{b}-{e}")?;
        }
        f.write_str("]")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(s: &str) -> Ranges {
        s.parse().unwrap()
    }

    #[test]
    fn normalise_add_subtract_contains() {
        let mut a = r("[1-5, 4-10, 12-12]");
        assert_eq!(a.spans(), &[(1, 10), (12, 12)]);
        a.add(&r("[11-11]"));
        assert_eq!(a, r("[1-12]"));
        a.subtract(&r("[3-4, 8-20]"));
        assert_eq!(a, r("[1-2, 5-7]"));
        assert!(a.contains(&r("[1-1, 5-6]")));
        assert!(!a.contains(&r("[2-5]")));
        assert!(a.contains(&Ranges::new()));
        assert_eq!(a.count(), 5);
        a.subtract(&r("[0-100]"));
        assert!(a.is_empty());
        assert!("[5-1]".parse::<Ranges>().is_err());
        assert!("[a-b]".parse::<Ranges>().is_err());
    }

    #[test]
    fn fragments() {
        let f = Ranges::fragment(31000, 32000, 16);
        assert_eq!(f.spans().len(), 16);
        assert!(r("[31000-32000]").contains(&f));
    }
}
