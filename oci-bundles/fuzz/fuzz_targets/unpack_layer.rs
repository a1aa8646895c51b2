//! Fuzzes the layer unpacker: any bytes, as a plain or gzip tar layer, must unpack or be
//! refused without a panic and without writing outside the destination.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let sandbox = tempfile::tempdir().expect("tempdir");
    let _ = oci_bundles::fuzzing::unpack_one(data, sandbox.path());
});
