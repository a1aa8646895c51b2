//! The fuzz body shared by the libFuzzer target and the stable mutation test: unpack `data`
//! as a layer into `<tmp>/store/layer` beside a sentinel directory `<tmp>/outside`, then
//! check that the layer stayed inside its directory.

use std::path::Path;

use oci_bundles::{unpack_layer, Limits, SpecialFiles};

/// Small limits keep each run fast; a bomb must stop at them.
fn limits() -> Limits {
    Limits {
        max_bytes: 1 << 20,
        max_entries: 512,
        special: SpecialFiles::Strip,
    }
}

/// Unpacks `data`; panics (a fuzz finding) if anything escaped the layer directory.
/// Returns whether the layer was accepted.
pub fn check(data: &[u8]) -> bool {
    let tmp = tempfile::tempdir().expect("tempdir");
    let layer = tmp.path().join("store/layer");
    let outside = tmp.path().join("outside");
    std::fs::create_dir_all(&layer).expect("layer dir");
    std::fs::create_dir_all(&outside).expect("outside dir");
    std::fs::write(outside.join("secret"), "do not touch").expect("sentinel");
    // Refusals are fine; only escapes and panics are findings.
    let accepted = unpack_layer(data, &layer, &limits()).is_ok();
    assert_eq!(
        names(tmp.path()),
        ["outside", "store"],
        "written next to the store"
    );
    assert_eq!(
        names(&tmp.path().join("store")),
        ["layer"],
        "written next to the layer"
    );
    assert_eq!(names(&outside), ["secret"], "written outside the layer");
    assert_eq!(
        std::fs::read_to_string(outside.join("secret")).expect("sentinel kept"),
        "do not touch"
    );
    // The layer directory itself is still a directory, not replaced by a symlink.
    let meta = std::fs::symlink_metadata(&layer).expect("layer kept");
    assert!(meta.is_dir(), "the layer directory was replaced");
    accepted
}

fn names(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .expect("read_dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}
