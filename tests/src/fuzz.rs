//! What the mutation tests (`*_survive_mutated_*`) share: a seeded noise source, so a failing
//! case replays from its seed, and the `MESETA_FUZZ_CASES` / `MESETA_FUZZ_SEED` knobs that
//! size and vary a run. A few lines: `rand` buys nothing for a test's noise source.

/// xorshift64* (a zero state stays zero: seed it with a non-zero value).
#[derive(Debug, Clone)]
pub struct Rng(pub u64);

impl Rng {
    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// A number below `n` (0 when `n` is 0); `n` is small, so the modulo bias is irrelevant.
    pub fn below(&mut self, n: usize) -> usize {
        usize::try_from(self.next_u64() % n.max(1) as u64).unwrap_or(0)
    }

    /// One of `items` (which must not be empty).
    pub fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.below(items.len())]
    }
}

/// `MESETA_FUZZ_CASES`, or `default` when unset or not a number.
pub fn cases(default: usize) -> usize {
    std::env::var("MESETA_FUZZ_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// `MESETA_FUZZ_SEED`, or `default` when unset or not a number.
pub fn seed(default: u64) -> u64 {
    std::env::var("MESETA_FUZZ_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_seed_replays_the_same_sequence() {
        let (mut a, mut b) = (Rng(7), Rng(7));
        let xs: Vec<u64> = (0..4).map(|_| a.next_u64()).collect();
        let ys: Vec<u64> = (0..4).map(|_| b.next_u64()).collect();
        assert_eq!(xs, ys);
        assert_ne!(xs[0], xs[1]);
        assert_eq!(a.below(0), 0);
        assert!((0..100).all(|_| a.below(3) < 3));
        assert_eq!(a.pick(&["only"]), "only");
    }
}
