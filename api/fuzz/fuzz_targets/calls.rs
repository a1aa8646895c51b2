//! libFuzzer target: `cargo +nightly fuzz run calls` from api/ (see ../Cargo.toml).
#![no_main]

mod bodies;

libfuzzer_sys::fuzz_target!(|data: &[u8]| bodies::calls(data));
