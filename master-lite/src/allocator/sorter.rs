//! Incremental client sorters (Mesos `Sorter`, `DRFSorter`, `RandomSorter`).
//!
//! A [`Sorter`] orders clients (frameworks within a role, or roles within a
//! parent role) for allocation. The DRF sorter keeps clients in a
//! `BTreeSet` keyed by their cached weighted dominant share, so each
//! allocation change costs `O(log n)` and iteration is allocation-free. The
//! random sorter keeps a weighted shuffle refreshed once per cycle.

use std::collections::BTreeSet;

use super::fasthash::IntMap;

use super::quantities::Quantities;

/// Which ordering policy a sorter uses (`--role_sorter`, `--framework_sorter`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SorterKind {
    /// Weighted dominant resource fairness.
    #[default]
    Drf,
    /// Weighted random order, reshuffled every allocation cycle.
    Random,
}

impl std::str::FromStr for SorterKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "drf" => Ok(SorterKind::Drf),
            "random" => Ok(SorterKind::Random),
            other => Err(format!("unknown sorter '{other}'")),
        }
    }
}

/// Sort key: (share bits, allocation count, insertion sequence, id).
type Key = (u64, u64, u64, u32);

#[derive(Debug, Clone)]
struct Client {
    weight: f64,
    share: f64,
    count: u64,
    seq: u64,
    active: bool,
}

impl Client {
    fn key(&self, id: u32) -> Key {
        // Non-negative finite f64 bit patterns order like the values.
        (self.share.max(0.0).to_bits(), self.count, self.seq, id)
    }
}

/// Weighted dominant share of `alloc` against `total`, skipping `excluded` names.
pub fn dominant_share(alloc: &Quantities, total: &Quantities, excluded: &[String]) -> f64 {
    let mut share: f64 = 0.0;
    for (name, amount) in alloc.iter_arc() {
        let t = total.get_arc(name);
        if t.is_positive() && !excluded.iter().any(|e| **e == **name) {
            share = share.max(amount.milli() as f64 / t.milli() as f64);
        }
    }
    share
}

/// An incremental sorter over `u32` client ids.
#[derive(Debug, Clone)]
pub struct Sorter {
    kind: SorterKind,
    clients: IntMap<u32, Client>,
    order: BTreeSet<Key>,
    shuffled: Vec<u32>,
    next_seq: u64,
}

impl Sorter {
    /// An empty sorter.
    pub fn new(kind: SorterKind) -> Self {
        Sorter {
            kind,
            clients: IntMap::default(),
            order: BTreeSet::new(),
            shuffled: Vec::new(),
            next_seq: 0,
        }
    }

    /// Number of clients (active or not).
    pub fn len(&self) -> usize {
        self.clients.len()
    }

    /// True if there are no clients.
    pub fn is_empty(&self) -> bool {
        self.clients.is_empty()
    }

    /// True if `id` is a client.
    pub fn contains(&self, id: u32) -> bool {
        self.clients.contains_key(&id)
    }

    /// Adds an (active) client with a share of `share` and weight `weight`.
    pub fn add(&mut self, id: u32, weight: f64, share: f64) {
        if self.clients.contains_key(&id) {
            return;
        }
        self.next_seq += 1;
        let c = Client {
            weight: sanitize_weight(weight),
            share: share / sanitize_weight(weight),
            count: 0,
            seq: self.next_seq,
            active: true,
        };
        self.order.insert(c.key(id));
        self.shuffled.push(id);
        self.clients.insert(id, c);
    }

    /// Removes a client.
    pub fn remove(&mut self, id: u32) {
        if let Some(c) = self.clients.remove(&id) {
            if c.active {
                self.order.remove(&c.key(id));
                self.shuffled.retain(|x| *x != id);
            }
        }
    }

    /// Includes or excludes a client from the order (suppression, deactivation).
    pub fn set_active(&mut self, id: u32, active: bool) {
        let Some(c) = self.clients.get_mut(&id) else {
            return;
        };
        if c.active == active {
            return;
        }
        c.active = active;
        if active {
            self.order.insert(c.key(id));
            self.shuffled.push(id);
        } else {
            self.order.remove(&c.key(id));
            self.shuffled.retain(|x| *x != id);
        }
    }

    /// True if the client is active.
    pub fn is_active(&self, id: u32) -> bool {
        self.clients.get(&id).is_some_and(|c| c.active)
    }

    /// Sets a new unweighted share for `id`; `allocated` bumps the
    /// allocation counter used to break ties.
    pub fn update_share(&mut self, id: u32, share: f64, allocated: bool) {
        let Some(c) = self.clients.get_mut(&id) else {
            return;
        };
        let new_share = share / c.weight;
        if new_share == c.share && !allocated {
            return;
        }
        if c.active {
            self.order.remove(&c.key(id));
        }
        c.share = new_share;
        if allocated {
            c.count += 1;
        }
        if c.active {
            self.order.insert(c.key(id));
        }
    }

    /// Changes a client's weight; `share` is its current unweighted share.
    pub fn update_weight(&mut self, id: u32, weight: f64, share: f64) {
        if let Some(c) = self.clients.get_mut(&id) {
            c.weight = sanitize_weight(weight);
        }
        self.update_share(id, share, false);
    }

    /// Current weighted share of `id` (0 if unknown).
    pub fn share(&self, id: u32) -> f64 {
        self.clients.get(&id).map_or(0.0, |c| c.share)
    }

    /// Weighted random reshuffle (random sorter only; call once per cycle).
    pub fn reshuffle(&mut self, rng: &mut SplitMix64) {
        if self.kind != SorterKind::Random {
            return;
        }
        let clients = &self.clients;
        let mut keyed: Vec<(f64, u32)> = self
            .shuffled
            .iter()
            .map(|&id| {
                let w = clients.get(&id).map_or(1.0, |c| c.weight);
                // Efraimidis–Spirakis: larger u^(1/w) first.
                (rng.next_f64().powf(1.0 / w), id)
            })
            .collect();
        keyed.sort_by(|a, b| b.0.total_cmp(&a.0));
        self.shuffled = keyed.into_iter().map(|(_, id)| id).collect();
    }

    /// Active clients in allocation order.
    pub fn iter(&self) -> SorterIter<'_> {
        match self.kind {
            SorterKind::Drf => SorterIter::Drf(self.order.iter()),
            SorterKind::Random => SorterIter::Random(self.shuffled.iter()),
        }
    }
}

fn sanitize_weight(w: f64) -> f64 {
    if w.is_finite() && w > 0.0 {
        w
    } else {
        1.0
    }
}

/// Iterator over active clients in allocation order.
#[derive(Debug)]
pub enum SorterIter<'a> {
    /// DRF order.
    Drf(std::collections::btree_set::Iter<'a, Key>),
    /// Random order.
    Random(std::slice::Iter<'a, u32>),
}

impl Iterator for SorterIter<'_> {
    type Item = u32;
    fn next(&mut self) -> Option<u32> {
        match self {
            SorterIter::Drf(it) => it.next().map(|k| k.3),
            SorterIter::Random(it) => it.next().copied(),
        }
    }
}

/// Small deterministic PRNG (SplitMix64) for agent and random-sorter shuffles.
#[derive(Debug, Clone)]
pub struct SplitMix64(u64);

impl SplitMix64 {
    /// Seeds the generator.
    pub fn new(seed: u64) -> Self {
        SplitMix64(seed)
    }

    /// Next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform float in `(0, 1]`.
    pub fn next_f64(&mut self) -> f64 {
        ((self.next_u64() >> 11) + 1) as f64 / (1u64 << 53) as f64
    }

    /// Uniform integer in `0..n` (0 if `n == 0`).
    pub fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            return 0;
        }
        usize::try_from(self.next_u64() % n as u64).unwrap_or(0)
    }

    /// Fisher–Yates shuffle.
    pub fn shuffle<T>(&mut self, v: &mut [T]) {
        for i in (1..v.len()).rev() {
            let j = self.below(i + 1);
            v.swap(i, j);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn drf_order_and_updates() {
        let mut s = Sorter::new(SorterKind::Drf);
        s.add(1, 1.0, 0.0);
        s.add(2, 2.0, 0.0);
        s.add(3, 1.0, 0.0);
        assert_eq!(s.iter().collect::<Vec<_>>(), vec![1, 2, 3]);
        s.update_share(1, 0.5, true);
        s.update_share(2, 0.5, true); // weighted 0.25
        assert_eq!(s.iter().collect::<Vec<_>>(), vec![3, 2, 1]);
        s.set_active(3, false);
        assert_eq!(s.iter().collect::<Vec<_>>(), vec![2, 1]);
        s.remove(2);
        assert_eq!(s.iter().collect::<Vec<_>>(), vec![1]);
        let total: Quantities = "cpus:10;mem:100".parse().unwrap();
        let alloc: Quantities = "cpus:1;mem:50".parse().unwrap();
        assert!((dominant_share(&alloc, &total, &[]) - 0.5).abs() < 1e-12);
        assert!((dominant_share(&alloc, &total, &["mem".into()]) - 0.1).abs() < 1e-12);
    }

    #[test]
    fn random_is_a_permutation() {
        let mut s = Sorter::new(SorterKind::Random);
        for i in 0..50 {
            s.add(i, 1.0 + f64::from(i % 3), 0.0);
        }
        let mut rng = SplitMix64::new(7);
        s.reshuffle(&mut rng);
        let mut v: Vec<u32> = s.iter().collect();
        v.sort_unstable();
        assert_eq!(v, (0..50).collect::<Vec<_>>());
    }
}
