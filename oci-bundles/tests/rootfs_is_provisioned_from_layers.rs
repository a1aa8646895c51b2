//! Root filesystems assembled from an imported three-layer image with both backends: overlay
//! (writes land in the container's upper layer, never in the store, which is mounted
//! `volatile`) and copy (whiteouts
//! applied). Needs root (mounts, ownership); skips with a message otherwise.

// An integration test file is its own crate: its tests belong at the top level.
#![allow(clippy::tests_outside_test_module)]

mod common;

use oci_bundles::provision::{destroy, provision, Backend};
use oci_bundles::{import_docker_archive, Limits, Store};

fn check(backend: Backend) {
    if !nix::unistd::Uid::effective().is_root() {
        eprintln!("SKIPPED: needs root (overlay mounts, ownership)");
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let store = Store::open(&tmp.path().join("store"), Limits::default()).unwrap();
    let archive = tmp.path().join("busybox:latest.tar");
    std::fs::write(&archive, common::docker_save(&common::layers(), false)).unwrap();
    let image = import_docker_archive(&store, &archive).unwrap().remove(0);
    let dir = tmp.path().join("containers/c1");
    let rootfs = provision(&store, &image, &dir, backend).unwrap();
    assert!(rootfs.join("bin/busybox").is_file());
    assert_eq!(
        std::fs::read_link(rootfs.join("bin/sh")).unwrap(),
        std::path::Path::new("busybox")
    );
    assert_eq!(
        std::fs::read_to_string(rootfs.join("etc/keep")).unwrap(),
        "keep\n"
    );
    assert!(
        !rootfs.join("etc/hello").exists(),
        "the whiteout in layer 3 hides etc/hello"
    );
    std::fs::write(rootfs.join("etc/new"), "written by the container").unwrap();
    // The store's layers are untouched by the container's writes.
    for layer in store.lowerdirs(&image).unwrap() {
        assert!(!layer.join("etc/new").exists());
    }
    if backend == Backend::Overlay {
        assert!(dir.join("upper/etc/new").exists());
        let mountinfo = std::fs::read_to_string("/proc/self/mountinfo").unwrap();
        let line = mountinfo
            .lines()
            .find(|l| l.contains(rootfs.to_str().unwrap()))
            .expect("overlay not mounted");
        // The upper layer dies with the container: never synced to disk (Linux 5.10+).
        let (major, minor) = kernel_version();
        if (major, minor) >= (5, 10) {
            assert!(line.contains("volatile"), "not volatile: {line}");
        }
    }
    destroy(&dir).unwrap();
    assert!(!dir.exists());
    assert!(
        !std::fs::read_to_string("/proc/self/mountinfo")
            .unwrap()
            .contains(rootfs.to_str().unwrap()),
        "mount leaked"
    );
}

fn kernel_version() -> (u32, u32) {
    let release = nix::sys::utsname::uname().unwrap();
    let release = release.release().to_string_lossy().into_owned();
    let mut parts = release.split(|c: char| !c.is_ascii_digit());
    let mut next = || parts.next().and_then(|p| p.parse().ok()).unwrap_or(0);
    (next(), next())
}

#[test]
fn overlay_backend_stacks_layers_under_a_private_upper() {
    check(Backend::Overlay);
}

#[test]
fn copy_backend_applies_whiteouts() {
    check(Backend::Copy);
}

#[test]
fn unsupported_backends_are_named() {
    assert_eq!(
        "aufs".parse::<Backend>().unwrap_err(),
        "--image_provisioner_backend=aufs is not supported by Meseta (use overlay or copy)"
    );
    assert!("zfs"
        .parse::<Backend>()
        .unwrap_err()
        .starts_with("unknown --image_provisioner_backend 'zfs'"));
}
