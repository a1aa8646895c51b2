//! libFuzzer target: `cargo +nightly fuzz run recordio` from api/ (see ../Cargo.toml).
#![no_main]

mod bodies;

libfuzzer_sys::fuzz_target!(|data: &[u8]| bodies::recordio(data));
