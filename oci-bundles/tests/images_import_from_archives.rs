//! Importing images from a `docker save` tarball and from an OCI image layout (directory and
//! tarball), built here from a busybox layer: layers are verified, stored once and shared;
//! tampered blobs and archives that point outside themselves are refused. Needs root (layer
//! ownership); skips with a message otherwise.

// An integration test file is its own crate: its tests belong at the top level.
#![allow(clippy::tests_outside_test_module)]

use std::io::Write;
use std::path::Path;

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

fn tar_of(files: &[(&str, &[u8], u32)], symlinks: &[(&str, &str)]) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    for (name, data, mode) in files {
        let mut h = tar::Header::new_gnu();
        h.set_size(data.len() as u64);
        h.set_mode(*mode);
        h.set_uid(0);
        h.set_gid(0);
        h.set_mtime(0);
        h.set_cksum();
        b.append_data(&mut h, name, *data).unwrap();
    }
    for (name, target) in symlinks {
        let mut h = tar::Header::new_gnu();
        h.set_entry_type(tar::EntryType::Symlink);
        h.set_size(0);
        h.set_mode(0o777);
        h.set_uid(0);
        h.set_gid(0);
        b.append_link(&mut h, name, target).unwrap();
    }
    b.into_inner().unwrap()
}

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(data).unwrap();
    gz.finish().unwrap()
}

/// Three layers: busybox + sh, a file, and a whiteout of that file.
fn layers() -> Vec<Vec<u8>> {
    let busybox = std::fs::read("/bin/busybox")
        .or_else(|_| std::fs::read("/usr/bin/busybox"))
        .expect("busybox-static");
    vec![
        tar_of(
            &[("bin/busybox", &busybox, 0o755)],
            &[("bin/sh", "busybox")],
        ),
        tar_of(
            &[
                ("etc/hello", b"hello\n", 0o644),
                ("etc/keep", b"keep\n", 0o644),
            ],
            &[],
        ),
        tar_of(&[("etc/.wh.hello", b"", 0o644)], &[]),
    ]
}

fn config(layers: &[Vec<u8>]) -> Vec<u8> {
    let diff_ids: Vec<String> = layers.iter().map(|l| Digest::of(l).to_string()).collect();
    serde_json::to_vec(&json!({
        "architecture": "amd64", "os": "linux",
        "config": {"Entrypoint": ["/bin/sh", "-c"], "Cmd": ["echo hi"], "Env": ["PATH=/bin"], "WorkingDir": "/tmp", "User": "0"},
        "rootfs": {"type": "layers", "diff_ids": diff_ids}
    }))
    .unwrap()
}

fn docker_save(layers: &[Vec<u8>], tamper: bool) -> Vec<u8> {
    let cfg = config(layers);
    let cfg_name = format!("{}.json", Digest::of(&cfg).hex());
    let mut files: Vec<(String, Vec<u8>)> = vec![(cfg_name.clone(), cfg)];
    let mut names = Vec::new();
    for (i, l) in layers.iter().enumerate() {
        let mut l = l.clone();
        if tamper && i == 1 {
            l[600] ^= 0xff; // inside the first file's content
        }
        let name = format!("layer{i}/layer.tar");
        files.push((name.clone(), l));
        names.push(name);
    }
    let manifest = json!([{"Config": cfg_name, "RepoTags": ["busybox:latest"], "Layers": names}]);
    files.push((
        "manifest.json".into(),
        serde_json::to_vec(&manifest).unwrap(),
    ));
    let refs: Vec<(&str, &[u8], u32)> = files
        .iter()
        .map(|(n, d)| (n.as_str(), d.as_slice(), 0o644))
        .collect();
    tar_of(&refs, &[])
}

fn write_oci_layout(dir: &Path, layers: &[Vec<u8>]) {
    let blobs = dir.join("blobs/sha256");
    std::fs::create_dir_all(&blobs).unwrap();
    let put = |bytes: &[u8]| {
        let d = Digest::of(bytes);
        std::fs::write(blobs.join(d.hex()), bytes).unwrap();
        d
    };
    let cfg = config(layers);
    let cfg_d = put(&cfg);
    let layer_descs: Vec<_> = layers
        .iter()
        .map(|l| {
            let gz = gzip(l);
            let d = put(&gz);
            json!({"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": d.to_string(), "size": gz.len()})
        })
        .collect();
    let manifest = serde_json::to_vec(&json!({
        "schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": cfg_d.to_string(), "size": cfg.len()},
        "layers": layer_descs
    }))
    .unwrap();
    let m_d = put(&manifest);
    // An index for two platforms; the importer must pick linux/amd64.
    let arm = put(b"{\"schemaVersion\":2,\"config\":{\"digest\":\"sha256:0000000000000000000000000000000000000000000000000000000000000000\"},\"layers\":[]}");
    let index = serde_json::to_vec(&json!({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json", "manifests": [
        {"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": arm.to_string(), "size": 1, "platform": {"architecture": "arm64", "os": "linux"}},
        {"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": m_d.to_string(), "size": manifest.len(), "platform": {"architecture": "amd64", "os": "linux"}}
    ]}))
    .unwrap();
    let i_d = put(&index);
    let top = json!({"schemaVersion": 2, "manifests": [{"mediaType": "application/vnd.oci.image.index.v1+json", "digest": i_d.to_string(), "size": index.len(),
        "annotations": {"org.opencontainers.image.ref.name": "latest"}}]});
    std::fs::write(dir.join("index.json"), serde_json::to_vec(&top).unwrap()).unwrap();
    std::fs::write(dir.join("oci-layout"), br#"{"imageLayoutVersion":"1.0.0"}"#).unwrap();
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
