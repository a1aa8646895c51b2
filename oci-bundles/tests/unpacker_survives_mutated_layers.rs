//! The cargo-fuzz body (`oci-bundles/fuzz`) on the stable toolchain: thousands of layers
//! generated from hostile building blocks (`..`, absolute names, symlinks to `/` and out of
//! the layer, hardlinks, whiteouts, devices, setuid files, long names) and then byte-mutated.
//! Every one must unpack or be refused without a panic and without touching anything outside
//! the layer directory. `MESETA_FUZZ_SEED` / `MESETA_FUZZ_CASES` vary the run; a failure
//! prints the seed and case that reproduce it.

// An integration test file is its own crate: its tests belong at the top level.
#![allow(clippy::tests_outside_test_module)]

#[path = "../fuzz/fuzz_targets/unpack_body.rs"]
mod unpack_body;

use meseta_tests::fuzz::{self, Rng};

const BENIGN: &[&str] = &[
    "a", "b", "a/b", "a/b/c", "dir", "dir/file", "link", "bin/sh",
];

const NAMES: &[&str] = &[
    "link/x",
    "link/../x",
    "..",
    "../evil",
    "a/../../evil",
    "/abs",
    "/",
    "./a",
    "a/./b",
    "a//b",
    ".wh.a",
    "a/.wh.b",
    "a/.wh..wh..opq",
    ".wh..wh..opq",
    "",
    "store",
    "../outside/secret",
    "../../outside/new",
];

const TARGETS: &[&str] = &[
    "/",
    "..",
    "../..",
    "../outside",
    "../../outside",
    "/etc/passwd",
    "a",
    "a/b",
    "link",
    "dir/file",
    "",
    ".",
];

fn entry(out: &mut Vec<u8>, name: &str, kind: tar::EntryType, data: &[u8], link: &str, mode: u32) {
    let mut h = tar::Header::new_gnu();
    {
        let old = h.as_old_mut();
        let n = name.len().min(old.name.len());
        old.name[..n].copy_from_slice(&name.as_bytes()[..n]);
        let l = link.len().min(old.linkname.len());
        old.linkname[..l].copy_from_slice(&link.as_bytes()[..l]);
    }
    h.set_entry_type(kind);
    h.set_size(data.len() as u64);
    h.set_mode(mode);
    h.set_uid(0);
    h.set_gid(0);
    h.set_mtime(0);
    if matches!(kind, tar::EntryType::Char | tar::EntryType::Block) {
        let _ = h.set_device_major(1);
        let _ = h.set_device_minor(3);
    }
    h.set_cksum();
    out.extend_from_slice(h.as_bytes());
    out.extend_from_slice(data);
    out.extend(std::iter::repeat_n(0u8, (512 - data.len() % 512) % 512));
}

/// A layer of 1-12 entries built from the hostile vocabulary.
fn layer(rng: &mut Rng) -> Vec<u8> {
    use tar::EntryType as T;
    let mut out = Vec::new();
    for _ in 0..=rng.below(8) {
        // Mostly ordinary entries, so whole layers get through and later entries meet what
        // earlier ones wrote; one in six is hostile.
        let name = if rng.below(6) == 0 {
            rng.pick(NAMES)
        } else {
            rng.pick(BENIGN)
        };
        let target = if rng.below(6) == 0 {
            rng.pick(TARGETS)
        } else {
            rng.pick(BENIGN)
        };
        let data = vec![b'x'; rng.below(3) * 700];
        let mode = [0o644, 0o755, 0o4755, 0o2755, 0o777, 0o000][rng.below(6)];
        let kind = [
            T::Regular,
            T::Directory,
            T::Symlink,
            T::Link,
            T::Char,
            T::Block,
            T::Fifo,
            T::Regular,
            T::Directory,
            T::Regular,
        ][rng.below(10)];
        entry(&mut out, name, kind, &data, target, mode);
    }
    out.extend(std::iter::repeat_n(0u8, 1024));
    out
}

/// Flips bytes, truncates, or duplicates a block; sometimes leaves the layer intact.
fn mutate(rng: &mut Rng, mut data: Vec<u8>) -> Vec<u8> {
    match rng.below(6) {
        0..=2 => {}
        3 => {
            for _ in 0..=rng.below(8) {
                let i = rng.below(data.len());
                data[i] = u8::try_from(rng.next_u64() & 0xff).unwrap_or(0);
            }
        }
        4 => data.truncate(rng.below(data.len())),
        _ => {
            let blocks = data.len() / 512;
            let b = rng.below(blocks.max(1)) * 512;
            let block: Vec<u8> = data[b..(b + 512).min(data.len())].to_vec();
            let at = rng.below(blocks.max(1)) * 512;
            data.splice(at..at, block);
        }
    }
    data
}

#[test]
fn mutated_hostile_layers_never_escape_or_panic() {
    let seed = fuzz::seed(0x5eed_4e5e_7a00_0001);
    let cases = fuzz::cases(1000);
    let mut rng = Rng(seed);
    let mut accepted = 0;
    for case in 0..cases {
        let built = layer(&mut rng);
        let data = mutate(&mut rng, built);
        let run = std::panic::catch_unwind(|| unpack_body::check(&data));
        accepted += usize::from(run.as_ref().is_ok_and(|ok| *ok));
        if run.is_err() {
            let file = std::env::temp_dir().join(format!("meseta-fuzz-{seed}-{case}.tar"));
            let _ = std::fs::write(&file, &data);
            panic!(
                "case {case} of MESETA_FUZZ_SEED={seed} failed; the layer is saved at {} \
                 (replay: cargo +nightly fuzz run unpack_layer {})",
                file.display(),
                file.display()
            );
        }
    }
    // The generator must reach the unpacker's success paths too, not only its refusals.
    assert!(
        accepted * 10 >= cases,
        "only {accepted} of {cases} layers were accepted: the generator is too hostile"
    );
    println!("{accepted} of {cases} layers accepted, the rest refused");
}

#[test]
fn random_bytes_are_refused_cleanly() {
    let mut rng = Rng(42);
    for _ in 0..300 {
        let len = rng.below(4096);
        let data: Vec<u8> = (0..len)
            .map(|_| u8::try_from(rng.next_u64() & 0xff).unwrap_or(0))
            .collect();
        let _accepted = unpack_body::check(&data);
    }
}
