//! Scalar resource quantities and limits (Mesos `ResourceQuantities` and
//! `ResourceLimits`), used for quota, sorter totals and
//! `--min_allocatable_resources`.

use std::fmt;
use std::str::FromStr;
use std::sync::Arc;

use thiserror::Error;

use super::scalar::Scalar;

/// Error returned when quantity text cannot be parsed.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("invalid resource quantities '{0}'")]
pub struct QuantitiesError(pub String);

/// A map from resource name to a strictly positive scalar amount, kept
/// sorted by name. Absent names mean zero.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct Quantities {
    items: Vec<(Arc<str>, Scalar)>,
}

impl Quantities {
    /// No resources.
    pub const fn new() -> Self {
        Quantities { items: Vec::new() }
    }

    /// Builds quantities from `(name, amount)` pairs (amounts are summed;
    /// non-positive results are dropped).
    pub fn from_pairs<'a>(pairs: impl IntoIterator<Item = (&'a str, Scalar)>) -> Self {
        let mut q = Quantities::new();
        for (n, v) in pairs {
            q.add_named(n, v);
        }
        q
    }

    /// Entries sorted by name.
    pub fn iter(&self) -> impl Iterator<Item = (&str, Scalar)> + '_ {
        self.items.iter().map(|(n, v)| (&**n, *v))
    }

    /// True if every amount is zero.
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// Amount of `name` (zero if absent).
    pub fn get(&self, name: &str) -> Scalar {
        match self.items.binary_search_by(|(n, _)| (**n).cmp(name)) {
            Ok(i) => self.items[i].1,
            Err(_) => Scalar::ZERO,
        }
    }

    /// Entries with their interned names.
    pub(crate) fn iter_arc(&self) -> impl Iterator<Item = (&Arc<str>, Scalar)> + '_ {
        self.items.iter().map(|(n, v)| (n, *v))
    }

    /// Amount of an interned `name`, comparing pointers first.
    pub(crate) fn get_arc(&self, name: &Arc<str>) -> Scalar {
        match self.items.iter().find(|(n, _)| Arc::ptr_eq(n, name)) {
            Some((_, v)) => *v,
            None => self.get(name),
        }
    }

    /// Adds `amount` of `name` (negative amounts subtract, clamped at zero).
    pub fn add_named(&mut self, name: &str, amount: Scalar) {
        match self.items.binary_search_by(|(n, _)| (**n).cmp(name)) {
            Ok(i) => {
                let v = self.items[i].1 + amount;
                if v.is_positive() {
                    self.items[i].1 = v;
                } else {
                    self.items.remove(i);
                }
            }
            Err(i) => {
                if amount.is_positive() {
                    self.items.insert(i, (Arc::from(name), amount));
                }
            }
        }
    }

    /// Adds `amount` of an interned `name`, avoiding a new allocation.
    pub(crate) fn add_arc(&mut self, name: &Arc<str>, amount: Scalar) {
        // Names are usually shared `Arc`s: compare pointers before bytes.
        let found = self
            .items
            .iter()
            .position(|(n, _)| Arc::ptr_eq(n, name))
            .ok_or(0)
            .or_else(|_| self.items.binary_search_by(|(n, _)| (**n).cmp(name)));
        match found {
            Ok(i) => {
                let v = self.items[i].1 + amount;
                if v.is_positive() {
                    self.items[i].1 = v;
                } else {
                    self.items.remove(i);
                }
            }
            Err(i) => {
                if amount.is_positive() {
                    self.items.insert(i, (Arc::clone(name), amount));
                }
            }
        }
    }

    /// `self += other`.
    pub fn add(&mut self, other: &Quantities) {
        for (n, v) in &other.items {
            self.add_arc(n, *v);
        }
    }

    /// `self -= other`, clamping each amount at zero.
    pub fn subtract(&mut self, other: &Quantities) {
        for (n, v) in &other.items {
            self.add_arc(n, -*v);
        }
    }

    /// `self - other` clamped at zero.
    pub fn minus(&self, other: &Quantities) -> Quantities {
        let mut q = self.clone();
        q.subtract(other);
        q
    }

    /// True if every amount of `other` is `<=` the amount in `self`.
    pub fn contains(&self, other: &Quantities) -> bool {
        other.items.iter().all(|(n, v)| self.get(n) >= *v)
    }
}

impl FromStr for Quantities {
    type Err = QuantitiesError;

    /// Parses `cpus:1;mem:32` (scalars only).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let mut q = Quantities::new();
        for part in s.split(';').map(str::trim).filter(|p| !p.is_empty()) {
            let (n, v) = part
                .split_once(':')
                .ok_or_else(|| QuantitiesError(s.to_string()))?;
            let v: Scalar = v.parse().map_err(|_| QuantitiesError(s.to_string()))?;
            let n = n.trim();
            if n.is_empty() || v.milli() < 0 {
                return Err(QuantitiesError(s.to_string()));
            }
            q.add_named(n, v);
        }
        Ok(q)
    }
}

impl fmt::Display for Quantities {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, (n, v)) in self.items.iter().enumerate() {
            if i > 0 {
                f.write_str(";")?;
            }
            write!(f, "{n}:{v}")?;
        }
        Ok(())
    }
}

/// Upper bounds per resource name; absent names are unlimited.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct Limits {
    items: Vec<(Arc<str>, Scalar)>,
}

impl Limits {
    /// No limits at all.
    pub const fn unlimited() -> Self {
        Limits { items: Vec::new() }
    }

    /// Builds limits from `(name, bound)` pairs; later pairs win.
    pub fn from_pairs<'a>(pairs: impl IntoIterator<Item = (&'a str, Scalar)>) -> Self {
        let mut l = Limits::unlimited();
        for (n, v) in pairs {
            l.set(n, v);
        }
        l
    }

    /// Sets the bound for `name` (clamped at zero).
    pub fn set(&mut self, name: &str, bound: Scalar) {
        let bound = bound.max(Scalar::ZERO);
        match self.items.binary_search_by(|(n, _)| (**n).cmp(name)) {
            Ok(i) => self.items[i].1 = bound,
            Err(i) => self.items.insert(i, (Arc::from(name), bound)),
        }
    }

    /// True if no name is limited.
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// Bound for `name`, or `None` if unlimited.
    pub fn get(&self, name: &str) -> Option<Scalar> {
        self.items
            .binary_search_by(|(n, _)| (**n).cmp(name))
            .ok()
            .map(|i| self.items[i].1)
    }

    /// Entries sorted by name.
    pub fn iter(&self) -> impl Iterator<Item = (&str, Scalar)> + '_ {
        self.items.iter().map(|(n, v)| (&**n, *v))
    }

    /// `self - q` with each bound clamped at zero (unlimited stays unlimited).
    pub fn minus(&self, q: &Quantities) -> Limits {
        Limits {
            items: self
                .items
                .iter()
                .map(|(n, v)| (Arc::clone(n), v.saturating_sub_zero(q.get(n))))
                .collect(),
        }
    }

    /// True if every amount in `q` is within its bound.
    pub fn allows(&self, q: &Quantities) -> bool {
        self.items.iter().all(|(n, v)| q.get(n) <= *v)
    }

    /// True if `q` (e.g. guarantees) does not exceed these limits.
    pub fn covers(&self, q: &Quantities) -> bool {
        q.iter().all(|(n, v)| self.get(n).is_none_or(|b| v <= b))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arithmetic() {
        let mut a: Quantities = "cpus:1.5;mem:32".parse().unwrap();
        let b: Quantities = "cpus:0.5;disk:10".parse().unwrap();
        a.add(&b);
        assert_eq!(a.to_string(), "cpus:2;disk:10;mem:32");
        a.subtract(&"cpus:5".parse().unwrap());
        assert_eq!(a.get("cpus"), Scalar::ZERO);
        assert!(a.contains(&"mem:32".parse().unwrap()));
        assert!(!a.contains(&"mem:33".parse().unwrap()));
        let l = Limits::from_pairs([("cpus", Scalar::from_units(2))]);
        assert_eq!(l.minus(&b).get("cpus"), Some(Scalar::from_milli(1500)));
        assert_eq!(l.get("mem"), None);
        assert!("cpus".parse::<Quantities>().is_err());
        assert!("cpus:-1".parse::<Quantities>().is_err());
    }
}
