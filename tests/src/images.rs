//! Test images built by hand from the static busybox: a three-layer image (busybox + `sh`, a
//! file, a whiteout of that file) as a `docker save` tarball and as an OCI image layout.

use std::io::Write;
use std::path::Path;

use serde_json::json;
use sha2::Digest as _;

/// `sha256:<hex>` of `bytes`, with `hex()` for blob paths.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Digest(String);

impl Digest {
    /// The digest of `bytes`.
    pub fn of(bytes: &[u8]) -> Self {
        Self(format!(
            "sha256:{}",
            hex::encode(sha2::Sha256::digest(bytes))
        ))
    }
    /// The hex part.
    pub fn hex(&self) -> &str {
        &self.0[7..]
    }
}

impl std::fmt::Display for Digest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// A test-image helper.
pub fn tar_of(files: &[(&str, &[u8], u32)], symlinks: &[(&str, &str)]) -> Vec<u8> {
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

/// A test-image helper.
pub fn gzip(data: &[u8]) -> Vec<u8> {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(data).unwrap();
    gz.finish().unwrap()
}

/// Three layers: busybox + sh, a file, and a whiteout of that file.
/// A test-image helper.
pub fn layers() -> Vec<Vec<u8>> {
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

/// A test-image helper.
pub fn config(layers: &[Vec<u8>]) -> Vec<u8> {
    let diff_ids: Vec<String> = layers.iter().map(|l| Digest::of(l).to_string()).collect();
    serde_json::to_vec(&json!({
        "architecture": "amd64", "os": "linux",
        "config": {"Entrypoint": ["/bin/sh", "-c"], "Cmd": ["echo hi"], "Env": ["PATH=/bin"], "WorkingDir": "/tmp", "User": "0"},
        "rootfs": {"type": "layers", "diff_ids": diff_ids}
    }))
    .unwrap()
}

/// A test-image helper.
pub fn docker_save(layers: &[Vec<u8>], tamper: bool) -> Vec<u8> {
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

/// A test-image helper.
pub fn write_oci_layout(dir: &Path, layers: &[Vec<u8>]) {
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
