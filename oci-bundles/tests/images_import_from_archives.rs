//! Importing images from a `docker save` tarball and from an OCI image layout (directory and
//! tarball), built here from a busybox layer: layers are verified, stored once and shared;
//! tampered blobs and archives that point outside themselves are refused. Needs root (layer
//! ownership); skips with a message otherwise.

// An integration test file is its own crate: its tests belong at the top level.
#![allow(clippy::tests_outside_test_module)]

mod common;

use common::{config, docker_save, layers, tar_of, write_oci_layout};
use oci_bundles::{
    import_docker_archive, import_oci_layout, Digest, ImportError, Limits, Store, StoreError,
};
use serde_json::json;

fn root() -> bool {
    if nix::unistd::Uid::effective().is_root() {
        return true;
    }
    eprintln!("SKIPPED: needs root (layers keep file ownership)");
    false
}

#[test]
fn docker_save_tarball_is_imported_verified_and_shared() {
    if !root() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let store = Store::open(&tmp.path().join("store"), Limits::default()).unwrap();
    let archive = tmp.path().join("busybox:latest.tar");
    let l = layers();
    std::fs::write(&archive, docker_save(&l, false)).unwrap();
    let images = import_docker_archive(&store, &archive).unwrap();
    assert_eq!(images.len(), 1);
    let img = &images[0];
    assert_eq!(img.reference, "busybox:latest");
    assert_eq!(img.layers.len(), 3);
    assert_eq!(
        img.runtime.entrypoint.as_deref(),
        Some(&["/bin/sh".to_string(), "-c".to_string()][..])
    );
    assert_eq!(img.runtime.working_dir.as_deref(), Some("/tmp"));
    assert_eq!(store.image("busybox:latest").unwrap().as_ref(), Some(img));
    let lowers = store.lowerdirs(img).unwrap();
    assert!(lowers[2].join("bin/busybox").is_file());
    assert!(oci_bundles::unpack::is_whiteout(
        &std::fs::symlink_metadata(lowers[0].join("etc/hello")).unwrap()
    ));
    // Nothing is left in staging.
    assert_eq!(
        std::fs::read_dir(tmp.path().join("store/staging"))
            .unwrap()
            .count(),
        0
    );

    // The same layers from an OCI layout are not unpacked again.
    let before = std::fs::metadata(&lowers[2]).unwrap().modified().unwrap();
    let layout = tmp.path().join("layout");
    write_oci_layout(&layout, &l);
    let oci = import_oci_layout(&store, &layout, Some("latest"), "busybox-oci:latest").unwrap();
    assert_eq!(oci.layers, img.layers);
    assert_eq!(
        std::fs::metadata(&lowers[2]).unwrap().modified().unwrap(),
        before
    );
}

#[test]
fn oci_layout_tarball_picks_linux_amd64() {
    if !root() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let store = Store::open(&tmp.path().join("store"), Limits::default()).unwrap();
    let layout = tmp.path().join("layout");
    write_oci_layout(&layout, &layers());
    let tarball = tmp.path().join("layout.tar");
    let mut b = tar::Builder::new(std::fs::File::create(&tarball).unwrap());
    b.append_dir_all(".", &layout).unwrap();
    b.finish().unwrap();
    drop(b);
    let img = import_oci_layout(&store, &tarball, None, "app:1").unwrap();
    assert_eq!(img.layers.len(), 3);
    assert!(store.lowerdirs(&img).unwrap().iter().all(|d| d.is_dir()));
}

#[test]
fn tampered_layers_are_refused_and_not_stored() {
    if !root() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let store = Store::open(&tmp.path().join("store"), Limits::default()).unwrap();
    let archive = tmp.path().join("bad.tar");
    let l = layers();
    std::fs::write(&archive, docker_save(&l, true)).unwrap();
    let err = import_docker_archive(&store, &archive).unwrap_err();
    assert!(
        matches!(err, ImportError::Store(StoreError::DigestMismatch { .. })),
        "{err}"
    );
    assert!(!store.has_layer(&Digest::of(&l[1])));
    assert!(store.image("busybox:latest").unwrap().is_none());
    assert_eq!(
        std::fs::read_dir(tmp.path().join("store/staging"))
            .unwrap()
            .count(),
        0
    );

    // A tampered compressed blob in an OCI layout.
    let layout = tmp.path().join("layout");
    write_oci_layout(&layout, &l);
    let blob = std::fs::read_dir(layout.join("blobs/sha256"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| std::fs::read(p).unwrap().starts_with(&[0x1f, 0x8b]))
        .unwrap();
    let mut bytes = std::fs::read(&blob).unwrap();
    let n = bytes.len();
    bytes[n - 5] ^= 0x01; // gzip trailer: the content still decompresses or fails; the digest never matches
    std::fs::write(&blob, bytes).unwrap();
    let fresh = Store::open(&tmp.path().join("store2"), Limits::default()).unwrap();
    assert!(import_oci_layout(&fresh, &layout, Some("latest"), "x:1").is_err());
}

#[test]
fn archives_cannot_point_outside_themselves() {
    if !root() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let store = Store::open(&tmp.path().join("store"), Limits::default()).unwrap();
    // manifest.json is a symlink to a host file.
    let archive = tmp.path().join("evil.tar");
    std::fs::write(&archive, tar_of(&[], &[("manifest.json", "/etc/passwd")])).unwrap();
    let err = import_docker_archive(&store, &archive).unwrap_err();
    assert!(matches!(err, ImportError::Malformed(_)), "{err}");
    // A layer path with '..' in the manifest.
    let cfg = config(&layers()[..1]);
    let cfg_name = format!("{}.json", Digest::of(&cfg).hex());
    let manifest = serde_json::to_vec(
        &json!([{"Config": cfg_name, "RepoTags": ["x:1"], "Layers": ["../../../etc/passwd"]}]),
    )
    .unwrap();
    std::fs::write(
        &archive,
        tar_of(
            &[
                (&cfg_name, &cfg, 0o644),
                ("manifest.json", &manifest, 0o644),
            ],
            &[],
        ),
    )
    .unwrap();
    let err = import_docker_archive(&store, &archive).unwrap_err();
    assert!(matches!(err, ImportError::Malformed(_)), "{err}");
}
