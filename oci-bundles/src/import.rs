//! Importing images from files: `docker save` tarballs (how Mesos's local puller reads
//! `--docker_registry=/dir`: image `busybox:latest` is `/dir/busybox:latest.tar`) and OCI image
//! layouts (a directory or a tarball of one).
//!
//! Archives are untrusted: they are first unpacked with the same rules as layers (devices and
//! setuid refused) into a staging directory, every file is then opened with
//! `RESOLVE_BENEATH` so no symlink inside can make us read a host file, and every blob is
//! checked against its digest before its layer is stored.

use std::collections::HashMap;
use std::fs::File;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::digest::{decompressed, Digest, HashingReader};
use crate::reference::Reference;
use crate::store::{io_err, ImageConfig, Store, StoreError, StoredImage};
use crate::unpack::{unpack_layer, Limits, SpecialFiles};

/// Why an image could not be imported.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    /// The archive's structure is wrong: the message says what.
    #[error("{0}")]
    Malformed(String),
    /// The image is not in the archive.
    #[error("image {0} not found in the archive")]
    NotFound(String),
    /// A blob does not match its digest.
    #[error("blob {name}: digest mismatch: expected {expected}, got {actual}")]
    DigestMismatch {
        /// The blob.
        name: String,
        /// What the manifest says.
        expected: String,
        /// What the bytes hash to.
        actual: String,
    },
    /// Storing failed (including a layer whose content does not match its diff_id).
    #[error(transparent)]
    Store(#[from] StoreError),
}

fn malformed(msg: impl Into<String>) -> ImportError {
    ImportError::Malformed(msg.into())
}

/// Where Mesos's local puller looks for `reference` under `--docker_registry=<dir>`.
pub fn local_archive_path(dir: &Path, reference: &Reference) -> PathBuf {
    dir.join(format!("{}.tar", reference.name()))
}

/// Opens `rel` below `root` without ever leaving it (symlinks included).
fn open_beneath(root: &Path, rel: &str) -> Result<File, ImportError> {
    use std::os::fd::AsFd;
    let dir = File::open(root).map_err(io_err(format!("opening {}", root.display())))?;
    let flags = (libc::O_RDONLY | libc::O_CLOEXEC) as u64;
    let resolve = libc::RESOLVE_BENEATH | libc::RESOLVE_NO_MAGICLINKS;
    let rel = rel.trim_start_matches("./");
    let fd = meseta_base::beneath::openat2(dir.as_fd(), Path::new(rel), flags, resolve)
        .map_err(|e| malformed(format!("{rel}: cannot open inside the archive: {e}")))?;
    Ok(File::from(fd))
}

fn read_json<T: for<'de> Deserialize<'de>>(
    root: &Path,
    rel: &str,
) -> Result<(T, Vec<u8>), ImportError> {
    let mut bytes = Vec::new();
    std::io::Read::read_to_end(
        &mut open_beneath(root, rel)?.take_limited(64 << 20),
        &mut bytes,
    )
    .map_err(io_err(format!("reading {rel}")))?;
    let value = serde_json::from_slice(&bytes).map_err(|e| malformed(format!("{rel}: {e}")))?;
    Ok((value, bytes))
}

trait TakeLimited: std::io::Read + Sized {
    fn take_limited(self, n: u64) -> std::io::Take<Self> {
        self.take(n)
    }
}
impl<R: std::io::Read> TakeLimited for R {}

/// A staging directory holding an unpacked archive; removed on drop.
struct Staged(PathBuf);

impl Drop for Staged {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn stage(store: &Store, archive: &Path) -> Result<Staged, ImportError> {
    // Unique per import: concurrent imports of one archive must not share (and remove) it.
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let dir = store.root().join("staging").join(format!(
        "import.{}.{}.{}",
        std::process::id(),
        NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed),
        Digest::of(archive.as_os_str().as_encoded_bytes()).hex()
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).map_err(io_err(format!("creating {}", dir.display())))?;
    let staged = Staged(dir);
    let file = File::open(archive).map_err(io_err(format!("opening {}", archive.display())))?;
    let limits = Limits {
        special: SpecialFiles::Reject,
        ..Limits::default()
    };
    unpack_layer(file, &staged.0, &limits)
        .map_err(|e| malformed(format!("{}: {e}", archive.display())))?;
    Ok(staged)
}

/// Stores the layers of `config` read from `files` (paths inside `root`, bottom first) and
/// records the image as `name`.
fn store_image(
    store: &Store,
    root: &Path,
    name: &str,
    config_bytes: &[u8],
    layer_files: &[(String, Option<Digest>)],
) -> Result<StoredImage, ImportError> {
    let config: ImageConfig = serde_json::from_slice(config_bytes)
        .map_err(|e| malformed(format!("image config: {e}")))?;
    if config.rootfs.diff_ids.len() != layer_files.len() {
        return Err(malformed(format!(
            "{} layers but {} diff_ids in the config",
            layer_files.len(),
            config.rootfs.diff_ids.len()
        )));
    }
    for ((file, blob_digest), diff_id) in layer_files.iter().zip(&config.rootfs.diff_ids) {
        let diff_id = Digest::parse(diff_id).map_err(StoreError::from)?;
        if store.has_layer(&diff_id) {
            continue;
        }
        let mut blob = HashingReader::new(open_beneath(root, file)?);
        store.put_layer(
            &diff_id,
            decompressed(&mut blob).map_err(io_err(format!("reading {file}")))?,
        )?;
        if let Some(expected) = blob_digest {
            let (actual, _) = blob.finish().map_err(io_err(format!("reading {file}")))?;
            if &actual != expected {
                return Err(ImportError::DigestMismatch {
                    name: file.clone(),
                    expected: expected.to_string(),
                    actual: actual.to_string(),
                });
            }
        }
    }
    let image = StoredImage {
        reference: name.to_owned(),
        config_digest: Digest::of(config_bytes).to_string(),
        layers: config.rootfs.diff_ids.clone(),
        runtime: config.config.unwrap_or_default(),
    };
    store.put_image(&image)?;
    Ok(image)
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct DockerManifestEntry {
    config: String,
    #[serde(default)]
    repo_tags: Option<Vec<String>>,
    layers: Vec<String>,
}

/// Imports every tagged image of a `docker save` tarball.
pub fn import_docker_archive(
    store: &Store,
    archive: &Path,
) -> Result<Vec<StoredImage>, ImportError> {
    let staged = stage(store, archive)?;
    let (entries, _): (Vec<DockerManifestEntry>, _) = read_json(&staged.0, "manifest.json")?;
    let mut images = Vec::new();
    for entry in entries {
        let (_, config_bytes): (serde_json::Value, _) = read_json(&staged.0, &entry.config)?;
        // `<hex>.json` or `blobs/sha256/<hex>`: the name is the config's digest.
        let stem = entry
            .config
            .rsplit('/')
            .next()
            .unwrap_or_default()
            .trim_end_matches(".json");
        if let Ok(expected) = Digest::parse(&format!("sha256:{stem}")) {
            let actual = Digest::of(&config_bytes);
            if actual != expected {
                return Err(ImportError::DigestMismatch {
                    name: entry.config,
                    expected: expected.to_string(),
                    actual: actual.to_string(),
                });
            }
        }
        let layers: Vec<(String, Option<Digest>)> = entry
            .layers
            .iter()
            .map(|l| (l.clone(), blob_digest_of_path(l)))
            .collect();
        for tag in entry.repo_tags.unwrap_or_default() {
            images.push(store_image(store, &staged.0, &tag, &config_bytes, &layers)?);
        }
    }
    if images.is_empty() {
        return Err(malformed(format!(
            "{}: no tagged image in manifest.json",
            archive.display()
        )));
    }
    Ok(images)
}

/// `blobs/sha256/<hex>` names its own digest.
fn blob_digest_of_path(path: &str) -> Option<Digest> {
    let hex = path.strip_prefix("blobs/sha256/")?;
    Digest::parse(&format!("sha256:{hex}")).ok()
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Descriptor {
    #[serde(default)]
    media_type: String,
    digest: String,
    #[serde(default)]
    annotations: HashMap<String, String>,
    #[serde(default)]
    platform: Option<Platform>,
}

#[derive(Debug, Deserialize)]
struct Platform {
    architecture: String,
    os: String,
}

#[derive(Debug, Deserialize)]
struct Index {
    manifests: Vec<Descriptor>,
}

#[derive(Debug, Deserialize)]
struct Manifest {
    config: Descriptor,
    layers: Vec<Descriptor>,
}

fn read_blob(root: &Path, digest: &str) -> Result<Vec<u8>, ImportError> {
    let d = Digest::parse(digest).map_err(StoreError::from)?;
    let rel = format!("blobs/sha256/{}", d.hex());
    let (_, bytes): (serde_json::Value, _) = read_json(root, &rel)?;
    let actual = Digest::of(&bytes);
    if actual != d {
        return Err(ImportError::DigestMismatch {
            name: rel,
            expected: d.to_string(),
            actual: actual.to_string(),
        });
    }
    Ok(bytes)
}

fn is_index(media_type: &str) -> bool {
    media_type.ends_with("image.index.v1+json") || media_type.ends_with("manifest.list.v2+json")
}

/// Picks the manifest for linux/amd64 from an index, following nested indexes.
fn pick_manifest(
    root: &Path,
    descriptors: Vec<Descriptor>,
    tag: Option<&str>,
    depth: u32,
) -> Result<Manifest, ImportError> {
    if depth > 4 {
        return Err(malformed("image indexes nested too deep"));
    }
    let by_tag: Vec<&Descriptor> = descriptors
        .iter()
        .filter(|d| {
            tag.is_some_and(|t| {
                d.annotations
                    .get("org.opencontainers.image.ref.name")
                    .is_some_and(|n| n == t)
            })
        })
        .collect();
    let amd64 = |d: &&Descriptor| {
        d.platform
            .as_ref()
            .is_none_or(|p| p.os == "linux" && p.architecture == "amd64")
    };
    let chosen = by_tag
        .first()
        .copied()
        .or_else(|| {
            descriptors
                .iter()
                .find(|d| amd64(d) && d.platform.is_some())
        })
        .or_else(|| descriptors.iter().find(amd64));
    let Some(desc) = chosen else {
        return Err(ImportError::NotFound(
            tag.unwrap_or("linux/amd64").to_owned(),
        ));
    };
    let bytes = read_blob(root, &desc.digest)?;
    if is_index(&desc.media_type) {
        let index: Index = serde_json::from_slice(&bytes)
            .map_err(|e| malformed(format!("index {}: {e}", desc.digest)))?;
        return pick_manifest(root, index.manifests, None, depth + 1);
    }
    serde_json::from_slice(&bytes).map_err(|e| malformed(format!("manifest {}: {e}", desc.digest)))
}

/// Imports the image tagged `tag` (or the only one) from an OCI image layout, a directory or a
/// tarball, recording it as `name`.
pub fn import_oci_layout(
    store: &Store,
    layout: &Path,
    tag: Option<&str>,
    name: &str,
) -> Result<StoredImage, ImportError> {
    let staged;
    let root = if layout.is_dir() {
        layout.to_owned()
    } else {
        staged = stage(store, layout)?;
        staged.0.clone()
    };
    let (index, _): (Index, _) = read_json(&root, "index.json")?;
    let manifest = pick_manifest(&root, index.manifests, tag, 0)?;
    let config_bytes = read_blob(&root, &manifest.config.digest)?;
    let layers = manifest
        .layers
        .iter()
        .map(|l| {
            let d = Digest::parse(&l.digest).map_err(StoreError::from)?;
            Ok((format!("blobs/sha256/{}", d.hex()), Some(d)))
        })
        .collect::<Result<Vec<_>, ImportError>>()?;
    store_image(store, &root, name, &config_bytes, &layers)
}
