//! A real Docker registry for tests and benchmarks: Debian's `docker-registry` started on
//! loopback with its storage in a temporary directory, and images pushed to it through the
//! Registry HTTP API v2 (blob uploads, then an OCI manifest).

use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::json;

use crate::images::Digest;

/// A running `docker-registry serve`; killed on drop.
#[derive(Debug)]
pub struct Registry {
    child: Child,
    /// `http://127.0.0.1:<port>`.
    pub url: String,
    /// Its storage (and config).
    pub dir: tempfile::TempDir,
}

impl Drop for Registry {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Registry {
    /// Starts a registry on a free loopback port; `None` (with a message) when
    /// `docker-registry` is not installed.
    pub fn start() -> Option<Self> {
        let Some(bin) = ["/usr/bin/docker-registry", "/usr/sbin/docker-registry"]
            .into_iter()
            .find(|p| Path::new(p).exists())
        else {
            eprintln!(
                "SKIPPED: docker-registry is not installed (apt-get install docker-registry)"
            );
            return None;
        };
        let dir = tempfile::tempdir().expect("tempdir");
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("free port")
            .port();
        let config = format!(
            "version: 0.1\nlog:\n  level: warn\nstorage:\n  filesystem:\n    rootdirectory: {}\nhttp:\n  addr: 127.0.0.1:{port}\n",
            dir.path().join("data").display()
        );
        std::fs::write(dir.path().join("config.yml"), config).expect("registry config");
        let child = Command::new(bin)
            .arg("serve")
            .arg(dir.path().join("config.yml"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start docker-registry");
        let url = format!("http://127.0.0.1:{port}");
        let registry = Self { child, url, dir };
        let deadline = Instant::now() + Duration::from_secs(20);
        while ureq::get(&format!("{}/v2/", registry.url)).call().is_err() {
            assert!(Instant::now() < deadline, "docker-registry did not start");
            std::thread::sleep(Duration::from_millis(50));
        }
        Some(registry)
    }

    /// Uploads one blob to `repo`.
    pub fn push_blob(&self, repo: &str, bytes: &[u8]) -> Digest {
        let d = Digest::of(bytes);
        let resp = ureq::post(&format!("{}/v2/{repo}/blobs/uploads/", self.url))
            .send_empty()
            .expect("start upload");
        let location = resp
            .headers()
            .get("location")
            .and_then(|l| l.to_str().ok())
            .expect("upload location")
            .to_owned();
        let location = if location.starts_with("http") {
            location
        } else {
            format!("{}{location}", self.url)
        };
        let sep = if location.contains('?') { '&' } else { '?' };
        ureq::put(&format!("{location}{sep}digest=sha256:{}", d.hex()))
            .header("Content-Type", "application/octet-stream")
            .send(bytes)
            .expect("upload blob");
        d
    }

    /// Pushes an image as `repo:tag`: the config from [`crate::images::config`] and the
    /// layers as given (uncompressed tars, pushed as-is).
    pub fn push_image(&self, repo: &str, tag: &str, layers: &[Vec<u8>]) {
        let cfg = crate::images::config(layers);
        let cfg_d = self.push_blob(repo, &cfg);
        let descs: Vec<_> = layers
            .iter()
            .map(|l| {
                let d = self.push_blob(repo, l);
                json!({"mediaType": "application/vnd.oci.image.layer.v1.tar",
                       "digest": format!("sha256:{}", d.hex()), "size": l.len()})
            })
            .collect();
        let mt = "application/vnd.oci.image.manifest.v1+json";
        let manifest = serde_json::to_vec(&json!({"schemaVersion": 2, "mediaType": mt,
            "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                       "digest": format!("sha256:{}", cfg_d.hex()), "size": cfg.len()},
            "layers": descs}))
        .expect("manifest");
        ureq::put(&format!("{}/v2/{repo}/manifests/{tag}", self.url))
            .header("Content-Type", mt)
            .send(&manifest[..])
            .expect("push manifest");
    }
}

/// A layer holding one file of `size` incompressible bytes: makes a pull slow enough to
/// watch its progress.
pub fn big_layer(path: &str, size: usize) -> Vec<u8> {
    // xorshift64: fast even unoptimised, and incompressible enough for a registry.
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut data = Vec::with_capacity(size);
    while data.len() < size {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        data.extend_from_slice(&x.to_le_bytes());
    }
    data.truncate(size);
    crate::images::tar_of(&[(path, &data, 0o644)], &[])
}
