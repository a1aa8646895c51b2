//! Pulling images from a Docker Registry HTTP API v2 server (`--docker_registry=https://host`
//! or `http://host:port`): manifest lists / OCI indexes (linux/amd64 is picked), schema2 and
//! OCI manifests, bearer-token auth (`WWW-Authenticate: Bearer realm=...`), and basic
//! credentials from a Docker `config.json` (`--docker_config`). Every blob is checked against
//! its digest; layers already in the store are not fetched again. Blocking: run it on a
//! thread of its own.

use std::collections::HashMap;
use std::io::Read;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use base64::Engine as _;
use serde::Deserialize;

mod auth;

use crate::digest::{decompressed, Digest, HashingReader};
use crate::reference::Reference;
use crate::store::{ImageConfig, Store, StoreError, StoredImage};

const ACCEPT: &str = "application/vnd.oci.image.index.v1+json, application/vnd.docker.distribution.manifest.list.v2+json, \
     application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json";
const MAX_DOCUMENT: u64 = 16 << 20;

/// Progress of a pull, reported as bytes arrive.
pub trait Progress {
    /// `done` of `total` bytes of layer `digest` fetched; `cached` when it was already stored.
    fn layer(&self, digest: &str, done: u64, total: Option<u64>, cached: bool);

    /// Whether nobody wants the image any more: checked before each layer and between
    /// chunks, it ends the pull with [`PullError::Cancelled`] (nothing half-written stays).
    fn cancelled(&self) -> bool {
        false
    }
}

/// Progress that goes nowhere.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoProgress;

impl Progress for NoProgress {
    fn layer(&self, _: &str, _: u64, _: Option<u64>, _: bool) {}
}

/// Why a pull failed.
#[derive(Debug, thiserror::Error)]
pub enum PullError {
    /// The registry answered with an unexpected status.
    #[error("{url}: HTTP {status}{}", if body.is_empty() { String::new() } else { format!(": {body}") })]
    Http {
        /// What was requested.
        url: String,
        /// Status code.
        status: u16,
        /// The start of the response body.
        body: String,
    },
    /// The registry could not be reached or the transfer broke.
    #[error("{url}: {message}")]
    Transport {
        /// What was requested.
        url: String,
        /// Why.
        message: String,
    },
    /// A document from the registry is not what the API defines.
    #[error("{0}")]
    Malformed(String),
    /// A blob or manifest does not match its digest.
    #[error("{what}: digest mismatch: expected {expected}, got {actual}")]
    DigestMismatch {
        /// Which document or blob.
        what: String,
        /// The digest asked for.
        expected: String,
        /// What arrived.
        actual: String,
    },
    /// Storing failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The token server named by the registry's Bearer challenge gave no token.
    #[error("{registry}: getting a pull token from {realm} failed: HTTP {status}: {body}")]
    Token {
        /// The registry that asked for a token.
        registry: String,
        /// The token server (the challenge's `realm`).
        realm: String,
        /// Its status code.
        status: u16,
        /// Why, or the start of its response.
        body: String,
    },
    /// [`Progress::cancelled`] said stop.
    #[error("the pull was cancelled")]
    Cancelled,
}

/// A registry client.
#[derive(Debug)]
pub struct Puller {
    agent: ureq::Agent,
    base: String,
    host: String,
    basic: Option<String>,
    /// Set once the registry challenged with `Basic`: only then are credentials sent to it
    /// (a token registry gets them only through its token server).
    basic_challenged: AtomicBool,
    token: std::sync::Mutex<HashMap<String, String>>,
}

impl Puller {
    /// A client for `registry` (`https://host[:port]` or `http://host:port`), with basic
    /// credentials for it taken from a Docker `config.json` document when one is given.
    pub fn new(registry: &str, docker_config: Option<&str>) -> Result<Self, PullError> {
        let base = registry.trim_end_matches('/').to_owned();
        let host = base
            .strip_prefix("https://")
            .or_else(|| base.strip_prefix("http://"))
            .ok_or_else(|| {
                PullError::Malformed(format!(
                    "--docker_registry {registry}: expected http:// or https://"
                ))
            })?
            .to_owned();
        let basic = match docker_config {
            None => None,
            Some(text) => meseta_api::docker_config::credentials(text, &host)
                .map_err(PullError::Malformed)?
                .map(|c| basic_auth(&c.username, &c.password)),
        };
        let config = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_connect(Some(Duration::from_secs(30)))
            .timeout_per_read(Some(Duration::from_secs(60)))
            .build();
        Ok(Self {
            agent: config.into(),
            base,
            host,
            basic,
            basic_challenged: AtomicBool::new(false),
            token: std::sync::Mutex::default(),
        })
    }

    fn repository(&self, reference: &Reference) -> String {
        // Docker Hub keeps official images under library/.
        if self.host.ends_with("docker.io") && !reference.repository.contains('/') {
            format!("library/{}", reference.repository)
        } else {
            reference.repository.clone()
        }
    }

    /// GET with the right auth; on 401 with a Bearer challenge, fetch a token and retry once.
    fn get(
        &self,
        url: &str,
        accept: Option<&str>,
        scope_repo: &str,
    ) -> Result<ureq::http::Response<ureq::Body>, PullError> {
        for attempt in 0..2 {
            let mut req = self.agent.get(url);
            if let Some(a) = accept {
                req = req.header("Accept", a);
            }
            let token = self
                .token
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .get(scope_repo)
                .cloned();
            let basic = self
                .basic
                .as_ref()
                .filter(|_| self.basic_challenged.load(Ordering::Relaxed));
            if let Some(t) = &token {
                req = req.header("Authorization", &format!("Bearer {t}"));
            } else if let Some(b) = basic {
                req = req.header("Authorization", &format!("Basic {b}"));
            }
            let resp = req.call().map_err(|e| PullError::Transport {
                url: url.to_owned(),
                message: e.to_string(),
            })?;
            if resp.status() == 401 && attempt == 0 {
                let challenge = resp
                    .headers()
                    .get("www-authenticate")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or_default()
                    .to_owned();
                let is_basic = challenge
                    .trim_start()
                    .to_ascii_lowercase()
                    .starts_with("basic");
                if is_basic
                    && self.basic.is_some()
                    && !self.basic_challenged.swap(true, Ordering::Relaxed)
                {
                    continue;
                }
                if let Some(token) = self.fetch_token(&challenge, scope_repo)? {
                    self.token
                        .lock()
                        .unwrap_or_else(|p| p.into_inner())
                        .insert(scope_repo.to_owned(), token);
                    continue;
                }
            }
            if !resp.status().is_success() {
                let (status, body) = self.failure(resp, &[401]);
                return Err(PullError::Http {
                    url: url.to_owned(),
                    status,
                    body,
                });
            }
            return Ok(resp);
        }
        Err(PullError::Http {
            url: url.to_owned(),
            status: 401,
            body: "unauthorized even with a token from the registry's token server".into(),
        })
    }

    /// Why a 401 happened, for its error.
    fn unauthorized(&self) -> String {
        match &self.basic {
            None => format!(
                "unauthorized (no credentials for {} in --docker_config)",
                self.host
            ),
            Some(_) => format!(
                "unauthorized (the credentials for {} from --docker_config were refused)",
                self.host
            ),
        }
    }

    fn fetch_token(&self, challenge: &str, repo: &str) -> Result<Option<String>, PullError> {
        let Some(params) = parse_bearer_challenge(challenge) else {
            return Ok(None);
        };
        let Some(realm) = params.get("realm") else {
            return Ok(None);
        };
        let url = auth::token_url(realm, params.get("service"), repo);
        let mut req = self.agent.get(&url);
        if let Some(b) = &self.basic {
            req = req.header("Authorization", &format!("Basic {b}"));
        }
        let resp = req.call().map_err(|e| PullError::Transport {
            url: url.clone(),
            message: e.to_string(),
        })?;
        if !resp.status().is_success() {
            let (status, body) = self.failure(resp, &[401, 403]);
            return Err(PullError::Token {
                registry: self.base.clone(),
                realm: realm.clone(),
                status,
                body,
            });
        }
        let doc: serde_json::Value = read_json_body(resp, &url)?;
        Ok(doc["token"]
            .as_str()
            .or(doc["access_token"].as_str())
            .map(str::to_owned))
    }

    /// A failed response as (status, why): for a status in `refused`, what was wrong with the
    /// credentials; otherwise the start of its body on one line.
    fn failure(&self, resp: ureq::http::Response<ureq::Body>, refused: &[u16]) -> (u16, String) {
        let status = resp.status().as_u16();
        if refused.contains(&status) {
            return (status, self.unauthorized());
        }
        let mut body = String::new();
        let _ = resp
            .into_body()
            .into_reader()
            .take(512)
            .read_to_string(&mut body);
        (status, auth::one_line(&body))
    }

    fn document(
        &self,
        repo: &str,
        path: &str,
        expected: Option<&Digest>,
    ) -> Result<(Vec<u8>, String), PullError> {
        let url = format!("{}/v2/{repo}/{path}", self.base);
        let resp = self.get(&url, Some(ACCEPT), repo)?;
        let media_type = resp
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        let mut bytes = Vec::new();
        resp.into_body()
            .into_reader()
            .take(MAX_DOCUMENT)
            .read_to_end(&mut bytes)
            .map_err(|e| PullError::Transport {
                url: url.clone(),
                message: e.to_string(),
            })?;
        if let Some(d) = expected {
            let actual = Digest::of(&bytes);
            if &actual != d {
                return Err(PullError::DigestMismatch {
                    what: url,
                    expected: d.to_string(),
                    actual: actual.to_string(),
                });
            }
        }
        Ok((bytes, media_type))
    }

    /// Pulls `reference` into `store`, recording it under its full name.
    pub fn pull(
        &self,
        store: &Store,
        reference: &Reference,
        progress: &dyn Progress,
    ) -> Result<StoredImage, PullError> {
        let repo = self.repository(reference);
        let (tag_or_digest, pinned) = match &reference.digest {
            Some(d) => (d.clone(), Some(Digest::parse(d).map_err(StoreError::from)?)),
            None => (
                reference.tag.clone().unwrap_or_else(|| "latest".into()),
                None,
            ),
        };
        let (mut bytes, mut media_type) = self.document(
            &repo,
            &format!("manifests/{tag_or_digest}"),
            pinned.as_ref(),
        )?;
        for _ in 0..4 {
            let doc: serde_json::Value = serde_json::from_slice(&bytes)
                .map_err(|e| PullError::Malformed(format!("manifest of {reference}: {e}")))?;
            let mt = doc["mediaType"]
                .as_str()
                .map(str::to_owned)
                .unwrap_or(media_type.clone());
            if !(mt.contains("index") || mt.contains("manifest.list")) {
                break;
            }
            let chosen = doc["manifests"].as_array().into_iter().flatten().find(|m| {
                m["platform"]["os"] == "linux" && m["platform"]["architecture"] == "amd64"
            });
            let digest = chosen.and_then(|m| m["digest"].as_str()).ok_or_else(|| {
                PullError::Malformed(format!("{reference}: no linux/amd64 manifest in the index"))
            })?;
            let d = Digest::parse(digest).map_err(StoreError::from)?;
            (bytes, media_type) = self.document(&repo, &format!("manifests/{d}"), Some(&d))?;
        }
        #[derive(Deserialize)]
        struct Desc {
            digest: String,
            #[serde(default)]
            size: Option<u64>,
        }
        #[derive(Deserialize)]
        struct Manifest {
            config: Desc,
            layers: Vec<Desc>,
        }
        let manifest: Manifest = serde_json::from_slice(&bytes).map_err(|e| {
            PullError::Malformed(format!("manifest of {reference} ({media_type}): {e}"))
        })?;
        let config_digest = Digest::parse(&manifest.config.digest).map_err(StoreError::from)?;
        let (config_bytes, _) = self.document(
            &repo,
            &format!("blobs/{config_digest}"),
            Some(&config_digest),
        )?;
        let config: ImageConfig = serde_json::from_slice(&config_bytes)
            .map_err(|e| PullError::Malformed(format!("config of {reference}: {e}")))?;
        if config.rootfs.diff_ids.len() != manifest.layers.len() {
            return Err(PullError::Malformed(format!(
                "{reference}: {} layers but {} diff_ids",
                manifest.layers.len(),
                config.rootfs.diff_ids.len()
            )));
        }
        for (layer, diff_id) in manifest.layers.iter().zip(&config.rootfs.diff_ids) {
            let diff_id = Digest::parse(diff_id).map_err(StoreError::from)?;
            let blob_digest = Digest::parse(&layer.digest).map_err(StoreError::from)?;
            if progress.cancelled() {
                return Err(PullError::Cancelled);
            }
            if store.has_layer(&diff_id) {
                progress.layer(
                    blob_digest.as_str(),
                    layer.size.unwrap_or(0),
                    layer.size,
                    true,
                );
                continue;
            }
            let url = format!("{}/v2/{repo}/blobs/{blob_digest}", self.base);
            let resp = self.get(&url, None, &repo)?;
            let total = layer.size.or_else(|| {
                resp.headers()
                    .get("content-length")
                    .and_then(|v| v.to_str().ok()?.parse().ok())
            });
            let counting = Counting {
                inner: resp.into_body().into_reader(),
                done: 0,
                total,
                digest: blob_digest.as_str(),
                progress,
            };
            let mut hashing = HashingReader::new(counting);
            let reader = decompressed(&mut hashing).map_err(|e| PullError::Transport {
                url: url.clone(),
                message: e.to_string(),
            })?;
            // A read refused because of cancellation surfaces as an unpack or read error.
            let cancelled = |e: PullError| {
                if progress.cancelled() {
                    PullError::Cancelled
                } else {
                    e
                }
            };
            store
                .put_layer(&diff_id, reader)
                .map_err(|e| cancelled(e.into()))?;
            let (actual, _) = hashing.finish().map_err(|e| {
                cancelled(PullError::Transport {
                    url: url.clone(),
                    message: e.to_string(),
                })
            })?;
            if actual != blob_digest {
                return Err(PullError::DigestMismatch {
                    what: url,
                    expected: blob_digest.to_string(),
                    actual: actual.to_string(),
                });
            }
        }
        let image = StoredImage {
            reference: reference.to_string(),
            config_digest: config_digest.to_string(),
            layers: config.rootfs.diff_ids.clone(),
            runtime: config.config.unwrap_or_default(),
        };
        store.put_image(&image)?;
        Ok(image)
    }
}

fn read_json_body(
    resp: ureq::http::Response<ureq::Body>,
    url: &str,
) -> Result<serde_json::Value, PullError> {
    let mut bytes = Vec::new();
    resp.into_body()
        .into_reader()
        .take(MAX_DOCUMENT)
        .read_to_end(&mut bytes)
        .map_err(|e| PullError::Transport {
            url: url.to_owned(),
            message: e.to_string(),
        })?;
    serde_json::from_slice(&bytes).map_err(|e| PullError::Malformed(format!("{url}: {e}")))
}

/// Reports bytes as they are read.
struct Counting<'a, R> {
    inner: R,
    done: u64,
    total: Option<u64>,
    digest: &'a str,
    progress: &'a dyn Progress,
}

impl<R: Read> Read for Counting<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.progress.cancelled() {
            return Err(std::io::Error::other("the pull was cancelled"));
        }
        let n = self.inner.read(buf)?;
        self.done += n as u64;
        self.progress
            .layer(self.digest, self.done, self.total, false);
        Ok(n)
    }
}

/// Parses `Bearer realm="...",service="...",scope="..."` into its parameters.
pub fn parse_bearer_challenge(header: &str) -> Option<HashMap<String, String>> {
    let rest = header
        .trim()
        .strip_prefix("Bearer ")
        .or_else(|| header.trim().strip_prefix("bearer "))?;
    let mut out = HashMap::new();
    let mut s = rest.trim();
    while !s.is_empty() {
        let (key, after) = s.split_once('=')?;
        let after = after.trim_start();
        let (value, tail) = if let Some(q) = after.strip_prefix('"') {
            let end = q.find('"')?;
            (&q[..end], &q[end + 1..])
        } else {
            let end = after.find(',').unwrap_or(after.len());
            (&after[..end], &after[end..])
        };
        out.insert(key.trim().to_ascii_lowercase(), value.to_owned());
        s = tail.trim_start_matches([',', ' ']);
    }
    Some(out)
}

/// Basic auth value for a Docker `config.json` `auth` field from a user and password.
pub fn basic_auth(user: &str, password: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_docker_hub_challenge() {
        let h = r#"Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/busybox:pull""#;
        let p = parse_bearer_challenge(h).unwrap();
        assert_eq!(p["realm"], "https://auth.docker.io/token");
        assert_eq!(p["service"], "registry.docker.io");
        assert_eq!(p["scope"], "repository:library/busybox:pull");
        assert!(parse_bearer_challenge("Basic realm=x").is_none());
    }

    #[test]
    fn credentials_come_from_docker_config() {
        let cfg = format!(
            r#"{{"auths": {{"https://reg.example:5000": {{"auth": "{}"}}}}}}"#,
            basic_auth("u", "p")
        );
        let p = Puller::new("https://reg.example:5000", Some(&cfg)).unwrap();
        assert_eq!(p.basic.as_deref(), Some("dTpw"));
        assert!(Puller::new("reg.example", None).is_err());
        assert!(Puller::new("http://h:1", Some("{not json")).is_err());
    }
}
