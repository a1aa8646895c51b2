//! The body of the layer-unpacker fuzz target (`oci-bundles/fuzz`, cargo-fuzz) and of its
//! stable stand-in test (`tests/unpacker_survives_mutated_layers.rs`): unpack arbitrary bytes
//! as a layer into a fresh directory inside a sandbox directory, and check the unpacker's
//! promises whatever the input: no panic, and nothing written outside the destination.

use std::path::Path;

use crate::unpack::{unpack_layer, Limits, SpecialFiles};

/// What one fuzz input did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// The layer was unpacked.
    Unpacked,
    /// The layer was refused (with an error, never a panic).
    Refused,
}

/// Unpacks `data` (plain or gzip tar) into `<sandbox>/dest` with small limits, then panics if
/// anything other than `dest` appeared in `sandbox` (an escape). `sandbox` must be empty.
pub fn unpack_one(data: &[u8], sandbox: &Path) -> Outcome {
    let dest = sandbox.join("dest");
    std::fs::create_dir_all(&dest).expect("creating the destination");
    let limits = Limits {
        max_bytes: 8 << 20,
        max_entries: 10_000,
        special: SpecialFiles::Strip,
    };
    let reader = match crate::digest::decompressed(data) {
        Ok(r) => r,
        Err(_) => return Outcome::Refused,
    };
    let outcome = match unpack_layer(reader, &dest, &limits) {
        Ok(_) => Outcome::Unpacked,
        Err(_) => Outcome::Refused,
    };
    let outside: Vec<_> = std::fs::read_dir(sandbox)
        .expect("reading the sandbox")
        .flatten()
        .map(|e| e.file_name())
        .filter(|n| n != "dest")
        .collect();
    assert!(
        outside.is_empty(),
        "the layer escaped its destination: {outside:?}"
    );
    outcome
}
