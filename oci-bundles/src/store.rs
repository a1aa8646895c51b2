//! The content-addressed image store under `--docker_store_dir`:
//!
//! ```text
//! <store>/layers/<diff_id hex>/rootfs/   one unpacked layer (overlay whiteouts), shared by images
//! <store>/images/<sha256 of name>.json   StoredImage: reference, config, layer diff_ids
//! <store>/staging/                       layers being unpacked (renamed into place when verified;
//!                                        those of a process that died are removed on open)
//! ```
//!
//! A layer is unpacked once: it appears under `layers/` only after its uncompressed digest was
//! checked against the image config's `diff_id`, so a present layer is a verified one.

use std::io::Read;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::digest::{Digest, HashingReader};
use crate::unpack::{unpack_layer, Limits, Stats, UnpackError};

/// The parts of an image config (OCI `config` / Docker `container_config`) a container uses.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct RuntimeConfig {
    /// `Entrypoint`.
    #[serde(default)]
    pub entrypoint: Option<Vec<String>>,
    /// `Cmd`.
    #[serde(default)]
    pub cmd: Option<Vec<String>>,
    /// `Env`, `KEY=VALUE`.
    #[serde(default)]
    pub env: Option<Vec<String>>,
    /// `WorkingDir`.
    #[serde(default)]
    pub working_dir: Option<String>,
    /// `User`.
    #[serde(default)]
    pub user: Option<String>,
}

/// An image config document (only what Meseta reads).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct ImageConfig {
    /// Runtime defaults.
    #[serde(default)]
    pub config: Option<RuntimeConfig>,
    /// Layer digests, uncompressed.
    pub rootfs: RootFs,
}

/// `rootfs` of an image config.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct RootFs {
    /// `diff_ids`, bottom layer first.
    #[serde(default)]
    pub diff_ids: Vec<String>,
}

/// An image in the store.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredImage {
    /// The name it was imported under, e.g. `busybox:latest`.
    pub reference: String,
    /// Digest of its config document.
    pub config_digest: String,
    /// Layer diff_ids, bottom first; each is in the store.
    pub layers: Vec<String>,
    /// Entrypoint, Cmd, Env, WorkingDir, User.
    pub runtime: RuntimeConfig,
}

/// Store failures.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A layer's content does not match its digest.
    #[error("layer digest mismatch: expected {expected}, got {actual}")]
    DigestMismatch {
        /// The digest the image names.
        expected: String,
        /// What the bytes hash to.
        actual: String,
    },
    /// A digest string is malformed.
    #[error(transparent)]
    BadDigest(#[from] crate::digest::BadDigest),
    /// The layer was refused.
    #[error(transparent)]
    Unpack(#[from] UnpackError),
    /// Store I/O.
    #[error("{context}: {source}")]
    Io {
        /// What was being done.
        context: String,
        /// Why.
        source: std::io::Error,
    },
}

pub(crate) fn io_err(context: impl Into<String>) -> impl FnOnce(std::io::Error) -> StoreError {
    let context = context.into();
    move |source| StoreError::Io { context, source }
}

/// The image store.
#[derive(Debug, Clone)]
pub struct Store {
    root: PathBuf,
    limits: Limits,
}

impl Store {
    /// Opens (creating) a store at `root`.
    pub fn open(root: &Path, limits: Limits) -> Result<Self, StoreError> {
        for d in ["layers", "images", "staging"] {
            std::fs::create_dir_all(root.join(d))
                .map_err(io_err(format!("creating {}", root.join(d).display())))?;
        }
        remove_dead_staging(&root.join("staging"));
        Ok(Self {
            root: root.to_owned(),
            limits,
        })
    }

    /// The store's directory.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The unpacked root filesystem of a layer.
    pub fn layer_rootfs(&self, diff_id: &Digest) -> PathBuf {
        self.root.join("layers").join(diff_id.hex()).join("rootfs")
    }

    /// Whether a verified layer is present.
    pub fn has_layer(&self, diff_id: &Digest) -> bool {
        self.layer_rootfs(diff_id).is_dir()
    }

    /// Unpacks an uncompressed layer stream, verifying it hashes to `diff_id`. A layer already
    /// present is not unpacked again (the stream is not read); returns `None` then.
    pub fn put_layer(
        &self,
        diff_id: &Digest,
        uncompressed: impl Read,
    ) -> Result<Option<Stats>, StoreError> {
        if self.has_layer(diff_id) {
            return Ok(None);
        }
        let staging = tempfile_dir(&self.root.join("staging"), diff_id.hex())?;
        let rootfs = staging.join("rootfs");
        std::fs::create_dir(&rootfs).map_err(io_err("creating a staging rootfs"))?;
        let result = (|| {
            let mut hashing = HashingReader::new(uncompressed);
            let stats = unpack_layer(&mut hashing, &rootfs, &self.limits)?;
            let (actual, _) = hashing.finish().map_err(io_err("reading the layer"))?;
            if &actual != diff_id {
                return Err(StoreError::DigestMismatch {
                    expected: diff_id.to_string(),
                    actual: actual.to_string(),
                });
            }
            let dest = self.root.join("layers").join(diff_id.hex());
            match std::fs::rename(&staging, &dest) {
                Ok(()) => Ok(Some(stats)),
                // Someone else verified and placed the same layer meanwhile.
                Err(_) if self.has_layer(diff_id) => Ok(None),
                Err(e) => Err(io_err(format!("placing layer {diff_id}"))(e)),
            }
        })();
        if staging.exists() {
            let _ = std::fs::remove_dir_all(&staging);
        }
        result
    }

    fn image_path(&self, reference: &str) -> PathBuf {
        self.root
            .join("images")
            .join(format!("{}.json", Digest::of(reference.as_bytes()).hex()))
    }

    /// Records an image whose layers are all in the store.
    pub fn put_image(&self, image: &StoredImage) -> Result<(), StoreError> {
        let json = serde_json::to_vec_pretty(image)
            .map_err(|e| io_err("encoding image")(std::io::Error::other(e)))?;
        let path = self.image_path(&image.reference);
        let tmp = path.with_extension("tmp");
        std::fs::write(&tmp, json).map_err(io_err("writing image record"))?;
        std::fs::rename(&tmp, &path).map_err(io_err("writing image record"))
    }

    /// The image recorded under `reference`, if any.
    pub fn image(&self, reference: &str) -> Result<Option<StoredImage>, StoreError> {
        match std::fs::read(self.image_path(reference)) {
            Ok(bytes) => serde_json::from_slice(&bytes).map(Some).map_err(|e| {
                io_err(format!("reading image record of {reference}"))(std::io::Error::other(e))
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(io_err(format!("reading image record of {reference}"))(e)),
        }
    }

    /// Lower directories for overlayfs, topmost layer first.
    pub fn lowerdirs(&self, image: &StoredImage) -> Result<Vec<PathBuf>, StoreError> {
        image
            .layers
            .iter()
            .rev()
            .map(|l| Ok(self.layer_rootfs(&Digest::parse(l)?)))
            .collect()
    }
}

/// A fresh directory `<parent>/<prefix>.<random>`.
fn tempfile_dir(parent: &Path, prefix: &str) -> Result<PathBuf, StoreError> {
    for i in 0..100u32 {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0);
        let p = parent.join(format!("{prefix}.{}.{nanos}.{i}", std::process::id()));
        match std::fs::create_dir(&p) {
            Ok(()) => return Ok(p),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(io_err(format!("creating {}", p.display()))(e)),
        }
    }
    Err(io_err("creating a staging directory")(
        std::io::Error::other("too many attempts"),
    ))
}

/// Removes what a process that died mid-unpack (an agent killed during a pull) left in
/// staging: directories named by [`tempfile_dir`] whose pid no longer runs. Live ones stay.
fn remove_dead_staging(staging: &Path) {
    let Ok(entries) = std::fs::read_dir(staging) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let pid = name.to_string_lossy().split('.').nth(1).map(str::to_owned);
        let Some(pid) = pid.and_then(|p| p.parse::<u32>().ok()) else {
            continue;
        };
        if !Path::new("/proc").join(pid.to_string()).exists() {
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
}
