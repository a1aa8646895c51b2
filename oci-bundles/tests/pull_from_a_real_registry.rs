//! Pulling from a real Docker registry (Debian's `docker-registry`, started here on loopback):
//! the three-layer test image is pushed with the registry API, pulled with progress, pulled
//! again from the cache, pulled through a manifest list, and refused when the registry serves a
//! corrupted blob. Needs root (layer ownership) and `docker-registry` (installed by
//! scripts/setup.sh); skips with a message when either is missing.

// An integration test file is its own crate: its tests belong at the top level.
#![allow(clippy::tests_outside_test_module)]

mod common;

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use oci_bundles::pull::{Progress, PullError, Puller};
use oci_bundles::{Digest, Limits, Reference, Store};
use serde_json::json;

struct Registry {
    child: Child,
    url: String,
    dir: tempfile::TempDir,
}

impl Drop for Registry {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start_registry() -> Option<Registry> {
    if !nix::unistd::Uid::effective().is_root() {
        eprintln!("SKIPPED: needs root (layers keep file ownership)");
        return None;
    }
    let Some(bin) = ["/usr/bin/docker-registry", "/usr/sbin/docker-registry"]
        .into_iter()
        .find(|p| std::path::Path::new(p).exists())
    else {
        eprintln!("SKIPPED: docker-registry is not installed (apt-get install docker-registry)");
        return None;
    };
    let dir = tempfile::tempdir().unwrap();
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let config = format!(
        "version: 0.1\nlog:\n  level: warn\nstorage:\n  filesystem:\n    rootdirectory: {}\nhttp:\n  addr: 127.0.0.1:{port}\n",
        dir.path().join("data").display()
    );
    std::fs::write(dir.path().join("config.yml"), config).unwrap();
    let child = Command::new(bin)
        .arg("serve")
        .arg(dir.path().join("config.yml"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let url = format!("http://127.0.0.1:{port}");
    let deadline = Instant::now() + Duration::from_secs(20);
    while ureq::get(&format!("{url}/v2/")).call().is_err() {
        assert!(Instant::now() < deadline, "docker-registry did not start");
        std::thread::sleep(Duration::from_millis(50));
    }
    Some(Registry { child, url, dir })
}

fn push_blob(url: &str, repo: &str, bytes: &[u8]) -> Digest {
    let d = Digest::of(bytes);
    let resp = ureq::post(&format!("{url}/v2/{repo}/blobs/uploads/"))
        .send_empty()
        .unwrap();
    let location = resp
        .headers()
        .get("location")
        .unwrap()
        .to_str()
        .unwrap()
        .to_owned();
    let location = if location.starts_with("http") {
        location
    } else {
        format!("{url}{location}")
    };
    let sep = if location.contains('?') { '&' } else { '?' };
    ureq::put(&format!("{location}{sep}digest={d}"))
        .header("Content-Type", "application/octet-stream")
        .send(bytes)
        .unwrap();
    d
}

/// Pushes the test image as `repo:tag` (gzip layers, OCI manifest) and a manifest list
/// `repo:multi` pointing at it; returns the gzip layer blobs.
fn push_image(url: &str, repo: &str) -> Vec<Vec<u8>> {
    let layers = common::layers();
    let cfg = common::config(&layers);
    let cfg_d = push_blob(url, repo, &cfg);
    let mut gz_layers = Vec::new();
    let descs: Vec<_> = layers
        .iter()
        .map(|l| {
            let gz = common::gzip(l);
            let d = push_blob(url, repo, &gz);
            gz_layers.push(gz.clone());
            json!({"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": d.to_string(), "size": gz.len()})
        })
        .collect();
    let manifest = serde_json::to_vec(&json!({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": cfg_d.to_string(), "size": cfg.len()}, "layers": descs})).unwrap();
    let mt = "application/vnd.oci.image.manifest.v1+json";
    ureq::put(&format!("{url}/v2/{repo}/manifests/v1"))
        .header("Content-Type", mt)
        .send(&manifest[..])
        .unwrap();
    let index = serde_json::to_vec(&json!({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json", "manifests": [
        {"mediaType": mt, "digest": Digest::of(&manifest).to_string(), "size": manifest.len(), "platform": {"architecture": "amd64", "os": "linux"}}]})).unwrap();
    ureq::put(&format!("{url}/v2/{repo}/manifests/multi"))
        .header("Content-Type", "application/vnd.oci.image.index.v1+json")
        .send(&index[..])
        .unwrap();
    gz_layers
}

/// One progress report: digest, bytes done, total, cached.
type Report = (String, u64, Option<u64>, bool);

#[derive(Default)]
struct Recorder(Mutex<Vec<Report>>);

impl Progress for Recorder {
    fn layer(&self, digest: &str, done: u64, total: Option<u64>, cached: bool) {
        self.0
            .lock()
            .unwrap()
            .push((digest.to_owned(), done, total, cached));
    }
}

#[test]
fn pulls_verifies_caches_and_reports_progress() {
    let Some(reg) = start_registry() else { return };
    let gz = push_image(&reg.url, "team/busybox");
    let store = Store::open(&reg.dir.path().join("store"), Limits::default()).unwrap();
    let puller = Puller::new(&reg.url, None).unwrap();

    let progress = Recorder::default();
    let image = puller
        .pull(
            &store,
            &Reference::parse("team/busybox:v1").unwrap(),
            &progress,
        )
        .unwrap();
    assert_eq!(image.layers.len(), 3);
    assert!(store.lowerdirs(&image).unwrap().iter().all(|d| d.is_dir()));
    let events = progress.0.lock().unwrap().clone();
    for g in &gz {
        let d = Digest::of(g).to_string();
        let last = events
            .iter()
            .rev()
            .find(|e| e.0 == d)
            .expect("progress for every layer");
        assert_eq!(
            (last.1, last.2, last.3),
            (g.len() as u64, Some(g.len() as u64), false),
            "{d}"
        );
    }

    // Again, through the manifest list: nothing is fetched, every layer reported cached.
    let again = Recorder::default();
    let image2 = puller
        .pull(
            &store,
            &Reference::parse("team/busybox:multi").unwrap(),
            &again,
        )
        .unwrap();
    assert_eq!(image2.layers, image.layers);
    assert!(
        again.0.lock().unwrap().iter().all(|e| e.3),
        "{:?}",
        again.0.lock().unwrap()
    );
}

#[test]
fn a_corrupted_blob_is_refused() {
    let Some(reg) = start_registry() else { return };
    let gz = push_image(&reg.url, "bad/image");
    // Corrupt the registry's stored copy of the second layer.
    let d = Digest::of(&gz[1]);
    let data = reg.dir.path().join(format!(
        "data/docker/registry/v2/blobs/sha256/{}/{}/data",
        &d.hex()[..2],
        d.hex()
    ));
    let mut bytes = std::fs::read(&data).unwrap();
    let n = bytes.len();
    bytes[n / 2] ^= 0xff;
    std::fs::write(&data, bytes).unwrap();
    let store = Store::open(&reg.dir.path().join("store"), Limits::default()).unwrap();
    let err = Puller::new(&reg.url, None)
        .unwrap()
        .pull(
            &store,
            &Reference::parse("bad/image:v1").unwrap(),
            &oci_bundles::pull::NoProgress,
        )
        .unwrap_err();
    assert!(
        matches!(err, PullError::DigestMismatch { .. } | PullError::Store(_)),
        "{err}"
    );
    assert!(store.image("bad/image:v1").unwrap().is_none());
    let missing = Puller::new(&reg.url, None)
        .unwrap()
        .pull(
            &store,
            &Reference::parse("bad/image:nope").unwrap(),
            &oci_bundles::pull::NoProgress,
        )
        .unwrap_err();
    assert!(
        matches!(missing, PullError::Http { status: 404, .. }),
        "{missing}"
    );
}
