//! The stable stand-in for the cargo-fuzz target (`oci-bundles/fuzz`, nightly only): the
//! fuzz body (`oci_bundles::fuzzing::unpack_one`) over thousands of randomly mutated layers
//! (byte flips, truncations, splices, duplicated blocks) seeded from the test image's layers
//! and from hostile tarballs (`..`, absolute paths, symlink and hardlink escapes, a symlink
//! then a file through it). Every input must be unpacked or refused without a panic, and
//! nothing may appear outside the destination. Needs root (ownership, device nodes).

// An integration test file is its own crate: its tests belong at the top level.
#![allow(clippy::tests_outside_test_module)]

mod common;

use oci_bundles::fuzzing::{unpack_one, Outcome};

/// One raw ustar entry (names the `tar` crate would refuse can be written).
fn entry(out: &mut Vec<u8>, name: &str, kind: u8, link: &str, data: &[u8]) {
    let mut h = [0u8; 512];
    h[..name.len().min(100)].copy_from_slice(&name.as_bytes()[..name.len().min(100)]);
    h[100..107].copy_from_slice(b"0000755");
    h[108..115].copy_from_slice(b"0000000");
    h[116..123].copy_from_slice(b"0000000");
    h[124..135].copy_from_slice(format!("{:011o}", data.len()).as_bytes());
    h[136..147].copy_from_slice(b"00000000000");
    h[156] = kind;
    h[157..157 + link.len().min(100)].copy_from_slice(&link.as_bytes()[..link.len().min(100)]);
    h[257..263].copy_from_slice(b"ustar\0");
    h[263..265].copy_from_slice(b"00");
    h[148..156].copy_from_slice(b"        ");
    let sum: u32 = h.iter().map(|&b| u32::from(b)).sum();
    h[148..155].copy_from_slice(format!("{sum:06o}\0").as_bytes());
    out.extend_from_slice(&h);
    out.extend_from_slice(data);
    out.resize(out.len().div_ceil(512) * 512, 0);
}

fn hostile_seeds() -> Vec<Vec<u8>> {
    let mut seeds = Vec::new();
    let mut t = Vec::new();
    entry(&mut t, "../escape", b'0', "", b"x");
    seeds.push(t);
    let mut t = Vec::new();
    entry(&mut t, "/abs/escape", b'0', "", b"x");
    seeds.push(t);
    let mut t = Vec::new();
    entry(&mut t, "link", b'2', "../..", b"");
    entry(&mut t, "link/escape", b'0', "", b"x");
    seeds.push(t);
    let mut t = Vec::new();
    entry(&mut t, "hard", b'1', "../../etc/passwd", b"");
    seeds.push(t);
    let mut t = Vec::new();
    entry(&mut t, "dir", b'5', "", b"");
    entry(&mut t, "dir/.wh..wh..opq", b'0', "", b"");
    entry(&mut t, "dir/.wh.x", b'0', "", b"");
    entry(&mut t, "dev", b'3', "", b"");
    seeds.push(t);
    for s in &mut seeds {
        s.extend_from_slice(&[0u8; 1024]);
    }
    seeds
}

/// xorshift64*: deterministic, so a failure is reproducible from its iteration number.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        usize::try_from(self.next() % (n.max(1) as u64)).unwrap_or(0)
    }
}

fn mutate(seed: &[u8], rng: &mut Rng) -> Vec<u8> {
    let mut d = seed.to_vec();
    for _ in 0..=rng.below(8) {
        match rng.below(5) {
            0 if !d.is_empty() => {
                let i = rng.below(d.len());
                d[i] ^= 1 << rng.below(8);
            }
            1 if !d.is_empty() => {
                let i = rng.below(d.len());
                d[i] = [0, 0xff, b'.', b'/', b'0', b'7'][rng.below(6)];
            }
            2 => d.truncate(rng.below(d.len() + 1)),
            3 if d.len() >= 512 => {
                let b = rng.below(d.len() / 512) * 512;
                let block = d[b..b + 512].to_vec();
                let at = rng.below(d.len() / 512 + 1) * 512;
                d.splice(at..at, block);
            }
            _ => {
                let at = rng.below(d.len() + 1);
                let len = rng.below(64);
                let bytes: Vec<u8> = (0..len).map(|_| (rng.next() & 0xff) as u8).collect();
                d.splice(at..at, bytes);
            }
        }
    }
    d
}

#[test]
fn mutated_layers_never_panic_or_escape() {
    if !nix::unistd::Uid::effective().is_root() {
        eprintln!("SKIPPED mutated_layers_never_panic_or_escape: needs root");
        return;
    }
    let mut seeds = hostile_seeds();
    let layers = common::layers();
    // The busybox layer is big: mutate its header region only, keep the small ones whole.
    seeds.push(layers[0][..4096.min(layers[0].len())].to_vec());
    seeds.extend(layers[1..].iter().cloned());
    seeds.push(common::gzip(&layers[1]));
    let mut rng = Rng(0x5EED_0F0C_1BAD_CAFE);
    let (mut unpacked, mut refused) = (0, 0);
    for i in 0..3000 {
        let seed = &seeds[i % seeds.len()];
        let input = mutate(seed, &mut rng);
        let sandbox = tempfile::tempdir().unwrap();
        let result = std::panic::catch_unwind(|| unpack_one(&input, sandbox.path()));
        match result {
            Ok(Outcome::Unpacked) => unpacked += 1,
            Ok(Outcome::Refused) => refused += 1,
            Err(_) => panic!(
                "iteration {i} (seed {}) panicked or escaped",
                i % seeds.len()
            ),
        }
    }
    eprintln!("{unpacked} unpacked, {refused} refused");
    assert!(
        unpacked > 0 && refused > 0,
        "{unpacked} unpacked, {refused} refused"
    );
}

#[test]
fn the_seeds_themselves_are_refused_or_contained() {
    if !nix::unistd::Uid::effective().is_root() {
        eprintln!("SKIPPED the_seeds_themselves_are_refused_or_contained: needs root");
        return;
    }
    for (i, seed) in hostile_seeds().iter().enumerate() {
        let sandbox = tempfile::tempdir().unwrap();
        let outcome = unpack_one(seed, sandbox.path());
        if i < 4 {
            assert_eq!(outcome, Outcome::Refused, "hostile seed {i} was accepted");
        }
    }
}
