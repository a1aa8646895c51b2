//! Offer filters (Mesos `RefusedOfferFilter`) and the `refuse_seconds` rules.
//!
//! When a framework declines resources with `refuse_seconds`, the allocator
//! stops offering it a subset of those resources on that agent, for that
//! role, until the filter expires or the framework revives. Filters are
//! indexed by `(framework-role pair, agent)` in a hash map, and expiries sit
//! in a min-heap so an allocation cycle only touches filters that expired.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::sync::Arc;
use std::time::Duration;

use super::fasthash::{IntMap, IntSet};
use super::resources::Resources;

/// Default `Filters.refuse_seconds` (5 s).
pub const DEFAULT_REFUSE: Duration = Duration::from_secs(5);

/// Longest filter Mesos installs (365 days).
pub const MAX_REFUSE: Duration = Duration::from_secs(365 * 24 * 3600);

/// Nanoseconds on the caller's monotonic clock.
pub type Time = u64;

/// Converts a scheduler's `refuse_seconds` into a filter duration using Mesos
/// rules: above 365 days → 365 days; negative, NaN or unrepresentable →
/// the default 5 s. A zero result means "install no filter".
pub fn refuse_duration(refuse_seconds: f64) -> Duration {
    if refuse_seconds.is_nan() || refuse_seconds < 0.0 {
        DEFAULT_REFUSE
    } else if refuse_seconds > MAX_REFUSE.as_secs_f64() {
        MAX_REFUSE
    } else {
        Duration::try_from_secs_f64(refuse_seconds).unwrap_or(DEFAULT_REFUSE)
    }
}

/// Converts a duration to nanoseconds, saturating.
pub fn nanos(d: Duration) -> Time {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}

/// One refused-offer filter.
#[derive(Debug, Clone)]
pub struct OfferFilter {
    /// Refused resources (allocation tags removed). Offers whose resources
    /// are a subset of these are filtered. Shared between identical filters
    /// on the same agent to keep millions of filters cheap.
    pub resources: Arc<Resources>,
    /// Time at which the filter stops applying.
    pub expires_at: Time,
}

impl OfferFilter {
    /// True if an offer of `offer` (untagged) is filtered.
    pub fn filters(&self, offer: &Resources) -> bool {
        self.resources.contains(offer)
    }
}

/// All filters, keyed by `(pair, agent)` indices.
#[derive(Debug, Default)]
pub struct FilterStore {
    by_key: IntMap<(u32, u32), Vec<OfferFilter>>,
    by_pair: IntMap<u32, IntSet<u32>>,
    by_agent: IntMap<u32, IntSet<u32>>,
    /// Most recent refused set per agent, reused when identical.
    interned: IntMap<u32, Arc<Resources>>,
    expiry: BinaryHeap<Reverse<(Time, u32, u32)>>,
}

impl FilterStore {
    /// Empty store.
    pub fn new() -> Self {
        Self::default()
    }

    /// Number of live filters.
    pub fn len(&self) -> usize {
        self.by_key.values().map(Vec::len).sum()
    }

    /// True if there are no filters.
    pub fn is_empty(&self) -> bool {
        self.by_key.is_empty()
    }

    /// Installs a filter.
    pub fn insert(&mut self, pair: u32, agent: u32, resources: Resources, expires_at: Time) {
        let resources = match self.interned.get(&agent) {
            Some(r) if **r == resources => Arc::clone(r),
            _ => {
                let r = Arc::new(resources);
                self.interned.insert(agent, Arc::clone(&r));
                r
            }
        };
        let filter = OfferFilter {
            resources,
            expires_at,
        };
        self.expiry.push(Reverse((filter.expires_at, pair, agent)));
        let v = self.by_key.entry((pair, agent)).or_default();
        if v.is_empty() {
            self.by_pair.entry(pair).or_default().insert(agent);
            self.by_agent.entry(agent).or_default().insert(pair);
        }
        v.push(filter);
    }

    /// Filters for `(pair, agent)`, if any.
    pub fn get(&self, pair: u32, agent: u32) -> Option<&[OfferFilter]> {
        self.by_key.get(&(pair, agent)).map(Vec::as_slice)
    }

    /// True if an offer of `offer` on `agent` to `pair` is filtered.
    pub fn is_filtered(&self, pair: u32, agent: u32, offer: &Resources) -> bool {
        self.get(pair, agent)
            .is_some_and(|fs| fs.iter().any(|f| f.filters(offer)))
    }

    /// Removes every filter of `pair`; calls `on_agent` for each agent that
    /// had one (so the caller can clear cached bits).
    pub fn remove_pair(&mut self, pair: u32, mut on_agent: impl FnMut(u32)) {
        if let Some(agents) = self.by_pair.remove(&pair) {
            for a in agents {
                if self.by_key.remove(&(pair, a)).is_some() {
                    if let Some(v) = self.by_agent.get_mut(&a) {
                        v.remove(&pair);
                    }
                    on_agent(a);
                }
            }
        }
    }

    /// Removes every filter on `agent`.
    pub fn remove_agent(&mut self, agent: u32) {
        self.interned.remove(&agent);
        for p in self.by_agent.remove(&agent).unwrap_or_default() {
            self.by_key.remove(&(p, agent));
            if let Some(v) = self.by_pair.get_mut(&p) {
                v.remove(&agent);
            }
        }
    }

    /// Drops filters that expired at or before `now`; calls `on_expired`
    /// with `(pair, agent)` for each key that lost a filter.
    pub fn expire(&mut self, now: Time, mut on_expired: impl FnMut(u32, u32)) {
        while let Some(&Reverse((t, pair, agent))) = self.expiry.peek() {
            if t > now {
                break;
            }
            self.expiry.pop();
            let Some(v) = self.by_key.get_mut(&(pair, agent)) else {
                continue;
            };
            let before = v.len();
            v.retain(|f| f.expires_at > now);
            if v.len() == before {
                continue;
            }
            if v.is_empty() {
                self.by_key.remove(&(pair, agent));
                if let Some(a) = self.by_pair.get_mut(&pair) {
                    a.remove(&agent);
                }
                if let Some(p) = self.by_agent.get_mut(&agent) {
                    p.remove(&pair);
                }
            }
            on_expired(pair, agent);
        }
    }
}

/// A growable bitset over pair indices.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BitSet {
    words: Vec<u64>,
}

impl BitSet {
    /// Sets bit `i`.
    pub fn set(&mut self, i: u32) {
        let w = (i / 64) as usize;
        if self.words.len() <= w {
            self.words.resize(w + 1, 0);
        }
        self.words[w] |= 1 << (i % 64);
    }

    /// Clears bit `i`.
    pub fn clear(&mut self, i: u32) {
        if let Some(w) = self.words.get_mut((i / 64) as usize) {
            *w &= !(1 << (i % 64));
        }
    }

    /// Clears every bit.
    pub fn clear_all(&mut self) {
        self.words.iter_mut().for_each(|w| *w = 0);
    }

    /// Tests bit `i`.
    pub fn get(&self, i: u32) -> bool {
        self.words
            .get((i / 64) as usize)
            .is_some_and(|w| w & (1 << (i % 64)) != 0)
    }

    /// True if some bit of `self` is not set in `mask`.
    pub fn any_not_in(&self, mask: &BitSet) -> bool {
        self.words
            .iter()
            .enumerate()
            .any(|(i, w)| w & !mask.words.get(i).copied().unwrap_or(0) != 0)
    }

    /// True if no bit is set.
    pub fn is_empty(&self) -> bool {
        self.words.iter().all(|w| *w == 0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuse_rules() {
        assert_eq!(refuse_duration(-1.0), DEFAULT_REFUSE);
        assert_eq!(refuse_duration(f64::NAN), DEFAULT_REFUSE);
        assert_eq!(refuse_duration(1e12), MAX_REFUSE);
        assert_eq!(refuse_duration(f64::INFINITY), MAX_REFUSE);
        assert_eq!(refuse_duration(2.5), Duration::from_millis(2500));
        assert_eq!(refuse_duration(0.0), Duration::ZERO);
    }

    #[test]
    fn store_expiry_and_bits() {
        let mut s = FilterStore::new();
        s.insert(1, 2, Resources::new(), 10);
        s.insert(1, 3, Resources::new(), 20);
        let mut hit = Vec::new();
        s.expire(10, |p, a| hit.push((p, a)));
        assert_eq!(hit, vec![(1, 2)]);
        assert!(s.get(1, 2).is_none() && s.get(1, 3).is_some());
        let mut cleared = Vec::new();
        s.remove_pair(1, |a| cleared.push(a));
        assert_eq!(cleared, vec![3]);
        assert!(s.is_empty());

        let mut b = BitSet::default();
        let mut m = BitSet::default();
        b.set(70);
        assert!(b.any_not_in(&m));
        m.set(70);
        assert!(!b.any_not_in(&m));
        b.clear(70);
        assert!(b.is_empty());
    }
}
