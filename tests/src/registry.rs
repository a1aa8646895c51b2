//! A real Docker registry for tests and benchmarks: Debian's `docker-registry` started on
//! loopback with its storage in a temporary directory, and images pushed to it through the
//! Registry HTTP API v2 (blob uploads, then an OCI manifest).
//!
//! [`Registry::start_with`] turns on the registry's own authentication: `auth: htpasswd`
//! (one bcrypt entry) or `auth: token` (trusting a [`TokenServer`]); the push helpers then
//! authenticate as a client would.

use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::json;

use crate::images::Digest;
use crate::token_server::{TokenServer, ISSUER, SERVICE};

/// How a test registry authenticates its clients.
#[derive(Debug, Default)]
pub enum Auth {
    /// Anyone may pull and push.
    #[default]
    None,
    /// `auth: htpasswd`: HTTP basic auth against one bcrypt entry.
    Htpasswd {
        /// The user.
        user: String,
        /// Its password.
        password: String,
    },
    /// `auth: token`: bearer tokens issued by this server (its user pushes).
    Token(TokenServer),
}

/// A running `docker-registry serve`; killed on drop.
#[derive(Debug)]
pub struct Registry {
    child: Child,
    /// `http://127.0.0.1:<port>`.
    pub url: String,
    /// Its storage (and config).
    pub dir: tempfile::TempDir,
    /// How it authenticates clients.
    pub auth: Auth,
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
        Self::start_with(Auth::None)
    }

    /// [`Registry::start`] with `auth` configured in the registry.
    pub fn start_with(auth: Auth) -> Option<Self> {
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
        let mut config = format!(
            "version: 0.1\nlog:\n  level: warn\nstorage:\n  filesystem:\n    rootdirectory: {}\nhttp:\n  addr: 127.0.0.1:{port}\n",
            dir.path().join("data").display()
        );
        config.push_str(&auth_config(&auth, dir.path()));
        std::fs::write(dir.path().join("config.yml"), config).expect("registry config");
        let child = Command::new(bin)
            .arg("serve")
            .arg(dir.path().join("config.yml"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start docker-registry");
        let url = format!("http://127.0.0.1:{port}");
        let registry = Self {
            child,
            url,
            dir,
            auth,
        };
        let deadline = Instant::now() + Duration::from_secs(20);
        // Up when /v2/ answers at all: 200, or 401 with authentication on.
        while matches!(
            ureq::get(&format!("{}/v2/", registry.url)).call(),
            Err(e) if !matches!(e, ureq::Error::StatusCode(401))
        ) {
            assert!(Instant::now() < deadline, "docker-registry did not start");
            std::thread::sleep(Duration::from_millis(50));
        }
        Some(registry)
    }

    /// Uploads one blob to `repo`.
    pub fn push_blob(&self, repo: &str, bytes: &[u8]) -> Digest {
        let d = Digest::of(bytes);
        let auth = self.authorization(repo);
        let resp = with_auth(
            ureq::post(&format!("{}/v2/{repo}/blobs/uploads/", self.url)),
            &auth,
        )
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
        with_auth(
            ureq::put(&format!("{location}{sep}digest=sha256:{}", d.hex())),
            &auth,
        )
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
        let auth = self.authorization(repo);
        with_auth(
            ureq::put(&format!("{}/v2/{repo}/manifests/{tag}", self.url)),
            &auth,
        )
        .header("Content-Type", mt)
        .send(&manifest[..])
        .expect("push manifest");
    }
}

// Authentication.
impl Registry {
    /// `127.0.0.1:<port>`: the registry's name in image references and docker configs.
    pub fn addr(&self) -> &str {
        self.url.trim_start_matches("http://")
    }

    /// The `Authorization` header a pusher of `repo` sends: basic credentials for htpasswd,
    /// a bearer token fetched from the token server (scope `repository:<repo>:pull,push`)
    /// for token auth.
    pub fn authorization(&self, repo: &str) -> Option<String> {
        match &self.auth {
            Auth::None => None,
            Auth::Htpasswd { user, password } => {
                Some(format!("Basic {}", basic_auth(user, password)))
            }
            Auth::Token(server) => {
                let url = format!(
                    "{}?service={SERVICE}&scope=repository:{repo}:pull,push",
                    server.realm
                );
                let mut resp = ureq::get(&url)
                    .header(
                        "Authorization",
                        &format!("Basic {}", basic_auth(&server.user, server.password())),
                    )
                    .call()
                    .expect("token for pushing");
                let text = resp.body_mut().read_to_string().expect("token response");
                let doc: serde_json::Value = serde_json::from_str(&text).expect("token JSON");
                Some(format!("Bearer {}", doc["token"].as_str().expect("token")))
            }
        }
    }

    /// Uploads a manifest of `media_type` as `repo:reference`; returns its digest.
    pub fn put_manifest(
        &self,
        repo: &str,
        reference: &str,
        media_type: &str,
        bytes: &[u8],
    ) -> String {
        let auth = self.authorization(repo);
        with_auth(
            ureq::put(&format!("{}/v2/{repo}/manifests/{reference}", self.url)),
            &auth,
        )
        .header("Content-Type", media_type)
        .send(bytes)
        .expect("push manifest");
        format!("sha256:{}", Digest::of(bytes).hex())
    }

    /// Pushes `layers` gzip-compressed as a Docker schema 2 image for `architecture`
    /// (the config of [`crate::images::config`] with that architecture); returns the
    /// manifest's digest and bytes. The manifest is stored by digest only.
    pub fn push_schema2(
        &self,
        repo: &str,
        layers: &[Vec<u8>],
        architecture: &str,
    ) -> (String, Vec<u8>) {
        let mut cfg: serde_json::Value =
            serde_json::from_slice(&crate::images::config(layers)).expect("config");
        cfg["architecture"] = json!(architecture);
        let cfg = serde_json::to_vec(&cfg).expect("config");
        let cfg_d = self.push_blob(repo, &cfg);
        let descs: Vec<_> = layers
            .iter()
            .map(|l| {
                let gz = crate::images::gzip(l);
                let d = self.push_blob(repo, &gz);
                json!({"mediaType": "application/vnd.docker.image.rootfs.diff.tar.gzip",
                       "digest": format!("sha256:{}", d.hex()), "size": gz.len()})
            })
            .collect();
        let mt = "application/vnd.docker.distribution.manifest.v2+json";
        let manifest = serde_json::to_vec(&json!({"schemaVersion": 2, "mediaType": mt,
            "config": {"mediaType": "application/vnd.docker.container.image.v1+json",
                       "digest": format!("sha256:{}", cfg_d.hex()), "size": cfg.len()},
            "layers": descs}))
        .expect("manifest");
        let digest = format!("sha256:{}", Digest::of(&manifest).hex());
        self.put_manifest(repo, &digest, mt, &manifest);
        (digest, manifest)
    }

    /// Pushes `repo:tag` as a Docker manifest list: first a linux/arm64 decoy holding only
    /// the first layer, then the linux/amd64 image of all `layers` (both schema 2, gzip).
    /// Returns the amd64 manifest's digest.
    pub fn push_manifest_list(&self, repo: &str, tag: &str, layers: &[Vec<u8>]) -> String {
        let (arm_d, arm) = self.push_schema2(repo, &layers[..1], "arm64");
        let (amd_d, amd) = self.push_schema2(repo, layers, "amd64");
        let mt = "application/vnd.docker.distribution.manifest.v2+json";
        let entry = |d: &str, m: &[u8], arch: &str| {
            json!({"mediaType": mt, "digest": d, "size": m.len(),
                   "platform": {"architecture": arch, "os": "linux"}})
        };
        let list_mt = "application/vnd.docker.distribution.manifest.list.v2+json";
        let list = serde_json::to_vec(&json!({"schemaVersion": 2, "mediaType": list_mt,
            "manifests": [entry(&arm_d, &arm, "arm64"), entry(&amd_d, &amd, "amd64")]}))
        .expect("manifest list");
        self.put_manifest(repo, tag, list_mt, &list);
        amd_d
    }

    /// A Docker `config.json` with `user:password` for this registry, as `docker login`
    /// writes it (`auths` → `"<host:port>": {"auth": base64("user:password")}`).
    pub fn docker_config(&self, user: &str, password: &str) -> String {
        json!({"auths": {self.addr(): {"auth": basic_auth(user, password)}}}).to_string()
    }
}

/// `base64("user:password")`.
pub fn basic_auth(user: &str, password: &str) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"))
}

fn with_auth<B>(req: ureq::RequestBuilder<B>, auth: &Option<String>) -> ureq::RequestBuilder<B> {
    match auth {
        Some(value) => req.header("Authorization", value),
        None => req,
    }
}

/// The registry's `auth:` section; writes the htpasswd file or certificate it names.
fn auth_config(auth: &Auth, dir: &Path) -> String {
    match auth {
        Auth::None => String::new(),
        Auth::Htpasswd { user, password } => {
            // Cost 4, bcrypt's minimum: the registry checks it on every request.
            let hash = bcrypt::hash(password, 4).expect("bcrypt");
            let path = dir.join("htpasswd");
            std::fs::write(&path, format!("{user}:{hash}\n")).expect("htpasswd");
            format!(
                "auth:\n  htpasswd:\n    realm: meseta-test\n    path: {}\n",
                path.display()
            )
        }
        Auth::Token(server) => {
            let path = dir.join("token-root.crt");
            std::fs::write(&path, server.cert_pem()).expect("token certificate");
            format!(
                "auth:\n  token:\n    realm: {}\n    service: {SERVICE}\n    issuer: {ISSUER}\n    rootcertbundle: {}\n",
                server.realm,
                path.display()
            )
        }
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
