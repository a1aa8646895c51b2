//! A pull from a real registry (Debian's `docker-registry` on loopback) that its
//! [`Progress`] cancels stops reading at once, returns `PullError::Cancelled`, and leaves the
//! store as if it had never started the unfinished layer: nothing under its digest, nothing
//! in staging, no image record. A later pull of the same image succeeds. What a process
//! killed mid-unpack left in staging is removed when the store is next opened. The pulls
//! need root (layers keep file ownership) and `docker-registry`.

// An integration test file is its own crate: its tests belong at the top level.
#![allow(clippy::tests_outside_test_module)]

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Mutex;

use meseta_tests::registry::{big_layer, Registry};
use meseta_tests::{images, root_or_skip};
use oci_bundles::pull::{NoProgress, Progress, PullError, Puller};
use oci_bundles::{Digest, Limits, Reference, Store};

/// Cancels once `after` bytes of a layer were fetched, and records what it saw.
struct CancelAfter {
    after: u64,
    cancelled: AtomicBool,
    done_at_cancel: AtomicU64,
    reports_after_cancel: Mutex<Vec<u64>>,
}

impl CancelAfter {
    fn new(after: u64) -> Self {
        Self {
            after,
            cancelled: AtomicBool::new(after == 0),
            done_at_cancel: AtomicU64::new(0),
            reports_after_cancel: Mutex::default(),
        }
    }
}

impl Progress for CancelAfter {
    fn layer(&self, _: &str, done: u64, _: Option<u64>, cached: bool) {
        if self.cancelled.load(Ordering::SeqCst) {
            self.reports_after_cancel.lock().unwrap().push(done);
        } else if !cached && done >= self.after {
            self.done_at_cancel.store(done, Ordering::SeqCst);
            self.cancelled.store(true, Ordering::SeqCst);
        }
    }

    fn cancelled(&self) -> bool {
        self.cancelled.load(Ordering::SeqCst)
    }
}

fn entries(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    std::fs::read_dir(dir)
        .map(|d| d.flatten().map(|e| e.path()).collect())
        .unwrap_or_default()
}

/// The test image plus a 24 MiB incompressible layer on top.
fn push(registry: &Registry, repo: &str) -> Vec<Vec<u8>> {
    let mut layers = images::layers();
    layers.push(big_layer("data/blob", 24 << 20));
    registry.push_image(repo, "v1", &layers);
    layers
}

#[test]
fn a_pull_cancelled_mid_layer_stops_and_leaves_nothing_half_written() {
    if !root_or_skip("a_pull_cancelled_mid_layer_stops_and_leaves_nothing_half_written") {
        return;
    }
    let Some(registry) = Registry::start() else {
        return;
    };
    let layers = push(&registry, "team/big");
    let store_dir = tempfile::tempdir().unwrap();
    let store = Store::open(store_dir.path(), Limits::default()).unwrap();
    let puller = Puller::new(&registry.url, None).unwrap();
    let reference = Reference::parse("team/big:v1").unwrap();

    // The small layers come first; cancel 4 MiB into the big one.
    let progress = CancelAfter::new(4 << 20);
    let err = puller.pull(&store, &reference, &progress).unwrap_err();
    assert!(matches!(err, PullError::Cancelled), "{err}");
    let at = progress.done_at_cancel.load(Ordering::SeqCst);
    assert!(at >= 4 << 20, "cancelled at {at}");
    assert_eq!(
        *progress.reports_after_cancel.lock().unwrap(),
        Vec::<u64>::new(),
        "bytes were still read after the cancellation"
    );
    let big = Digest::of(layers.last().unwrap());
    assert!(
        !store.has_layer(&big),
        "the cancelled layer is in the store"
    );
    assert_eq!(
        entries(&store_dir.path().join("staging")),
        Vec::<std::path::PathBuf>::new()
    );
    assert_eq!(store.image("team/big:v1").unwrap(), None);
    // The layers finished before the cancellation are whole and stay.
    for small in &layers[..layers.len() - 1] {
        assert!(store.has_layer(&Digest::of(small)));
    }

    // A later pull fetches the rest and records the image.
    let image = puller.pull(&store, &reference, &NoProgress).unwrap();
    assert_eq!(image.layers.len(), layers.len());
    assert!(store.has_layer(&big));
    let blob = store.layer_rootfs(&big).join("data/blob");
    assert_eq!(std::fs::metadata(blob).unwrap().len(), 24 << 20);
    assert_eq!(
        entries(&store_dir.path().join("staging")),
        Vec::<std::path::PathBuf>::new()
    );
}

#[test]
fn a_pull_cancelled_before_it_starts_fetches_no_layer() {
    if !root_or_skip("a_pull_cancelled_before_it_starts_fetches_no_layer") {
        return;
    }
    let Some(registry) = Registry::start() else {
        return;
    };
    let layers = push(&registry, "team/early");
    let store_dir = tempfile::tempdir().unwrap();
    let store = Store::open(store_dir.path(), Limits::default()).unwrap();
    let puller = Puller::new(&registry.url, None).unwrap();
    let progress = CancelAfter::new(0);
    let reference = Reference::parse("team/early:v1").unwrap();
    let err = puller.pull(&store, &reference, &progress).unwrap_err();
    assert!(matches!(err, PullError::Cancelled), "{err}");
    assert_eq!(
        entries(&store_dir.path().join("layers")),
        Vec::<std::path::PathBuf>::new()
    );
    assert_eq!(store.image("team/early:v1").unwrap(), None);
    let image = puller.pull(&store, &reference, &NoProgress).unwrap();
    assert_eq!(image.layers.len(), layers.len());
}

#[test]
fn staging_left_by_a_dead_process_is_removed_when_the_store_opens() {
    let store_dir = tempfile::tempdir().unwrap();
    Store::open(store_dir.path(), Limits::default()).unwrap();
    let mut child = std::process::Command::new("true").spawn().unwrap();
    let dead = child.id();
    child.wait().unwrap();
    let staging = store_dir.path().join("staging");
    let left = staging.join(format!("{}.{dead}.1.0", "ab".repeat(32)));
    std::fs::create_dir_all(left.join("rootfs/data")).unwrap();
    std::fs::write(left.join("rootfs/data/blob"), b"half").unwrap();
    let live = staging.join(format!("{}.{}.1.0", "cd".repeat(32), std::process::id()));
    std::fs::create_dir_all(&live).unwrap();
    Store::open(store_dir.path(), Limits::default()).unwrap();
    assert!(!left.exists(), "a dead process's staging is still there");
    assert!(live.exists(), "a live process's staging was removed");
}
