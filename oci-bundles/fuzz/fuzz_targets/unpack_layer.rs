//! libFuzzer target: any byte string as a layer tar stream. The unpacker may refuse it, but
//! must not panic, and must not create, change or remove anything outside the layer directory.

#![no_main]

use libfuzzer_sys::fuzz_target;

mod unpack_body;

fuzz_target!(|data: &[u8]| {
    let _accepted = unpack_body::check(data);
});
