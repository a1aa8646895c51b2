//! A shared read-only layer holding the mount points an image lacks (`/proc`, `/dev`, `/sys`,
//! the sandbox, `/etc/hosts`...), put topmost among an overlay root filesystem's lower layers,
//! as Docker's init layer does. Without it every launch creates them in the container's own
//! upper layer (through overlayfs: a temporary file in the work dir, then a rename, and a
//! copy-up of `/etc`), journaled metadata writes on the launch path. With it a warm launch
//! writes nothing to its upper layer before the task runs.
//!
//! The layer is made once per image and set of mount points, under the store's
//! `mountpoints/` directory (staged, then renamed into place). It only adds what the merged
//! image certainly lacks, read from the unpacked layers without following any symlink: a
//! mount point is added when no layer has an entry at its path and every ancestor that any
//! layer has is a plain directory in every layer that has it; anything else (a symlink, a
//! file, a whiteout on the way) is left to the runtime, which then creates the mount point at
//! launch as before. Ancestors the image has keep its mode and owner (overlayfs shows the
//! topmost layer's).

use std::fs::Metadata;
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt};
use std::path::{Component, Path, PathBuf};

use sha2::{Digest as _, Sha256};

use crate::store::{io_err, Store, StoreError, StoredImage};
use crate::Digest;

/// What the runtime mounts over at a path.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    /// A directory (a filesystem or a bound directory).
    Dir,
    /// An empty file (a bound file).
    File,
}

/// The layer of `image`'s missing `points` (paths relative to the root, plain names only),
/// made if needed; `None` when the image lacks none of them.
pub fn layer(
    store: &Store,
    image: &StoredImage,
    points: &[(PathBuf, Kind)],
) -> Result<Option<PathBuf>, StoreError> {
    let layers = image
        .layers
        .iter()
        .rev()
        .map(|l| Ok(store.layer_rootfs(&Digest::parse(l)?)))
        .collect::<Result<Vec<_>, StoreError>>()?;
    let mut hash = Sha256::new();
    for l in &image.layers {
        hash.update(l.as_bytes());
        hash.update(b"\n");
    }
    for (p, kind) in points {
        hash.update(format!("{kind:?} {}\n", p.display()).as_bytes());
    }
    let dest = store
        .root()
        .join("mountpoints")
        .join(format!("{:x}", hash.finalize()));
    if dest.is_dir() {
        return Ok(Some(dest));
    }
    let missing: Vec<_> = points.iter().filter(|(p, _)| addable(&layers, p)).collect();
    if missing.is_empty() {
        return Ok(None);
    }
    let parent = store.root().join("mountpoints");
    std::fs::create_dir_all(&parent).map_err(io_err(format!("creating {}", parent.display())))?;
    let staging = parent.join(format!(".staging.{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&staging);
    let built = build(&layers, &staging, &missing).and_then(|()| {
        std::fs::rename(&staging, &dest).or_else(|e| {
            // Another provisioning placed the same layer first.
            if dest.is_dir() {
                Ok(())
            } else {
                Err(io_err(format!("placing {}", dest.display()))(e))
            }
        })
    });
    let _ = std::fs::remove_dir_all(&staging);
    built.map(|()| Some(dest))
}

/// Whether `path` can be added: absent from every layer, its ancestors plain directories
/// (or absent) in every layer.
fn addable(layers: &[PathBuf], path: &Path) -> bool {
    let mut names = Vec::new();
    for c in path.components() {
        match c {
            Component::Normal(n) => names.push(n),
            Component::RootDir | Component::CurDir => {}
            Component::ParentDir | Component::Prefix(_) => return false,
        }
    }
    let Some((last, ancestors)) = names.split_last() else {
        return false;
    };
    layers.iter().all(|layer| {
        let mut p = layer.clone();
        for a in ancestors {
            p.push(a);
            match std::fs::symlink_metadata(&p) {
                Ok(m) if m.file_type().is_dir() => {}
                // Absent here: nothing below it in this layer either.
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => return true,
                _ => return false,
            }
        }
        p.push(last);
        matches!(std::fs::symlink_metadata(&p), Err(e) if e.kind() == std::io::ErrorKind::NotFound)
    })
}

/// The topmost layer's metadata of the directory `rel`, if any layer has it.
fn image_dir(layers: &[PathBuf], rel: &Path) -> Option<Metadata> {
    layers
        .iter()
        .find_map(|l| std::fs::symlink_metadata(l.join(rel)).ok())
        .filter(|m| m.file_type().is_dir())
}

fn build(layers: &[PathBuf], root: &Path, points: &[&(PathBuf, Kind)]) -> Result<(), StoreError> {
    std::fs::create_dir(root).map_err(io_err(format!("creating {}", root.display())))?;
    for (path, kind) in points {
        let rel = path.strip_prefix("/").unwrap_or(path);
        let mut sofar = PathBuf::new();
        let parents: Vec<_> = rel
            .parent()
            .map(|p| p.components().collect())
            .unwrap_or_default();
        for c in parents {
            sofar.push(c);
            let dir = root.join(&sofar);
            if dir.is_dir() {
                continue;
            }
            let (mode, owner) = match image_dir(layers, &sofar) {
                Some(m) => (m.mode() & 0o7777, Some((m.uid(), m.gid()))),
                None => (0o755, None),
            };
            make_dir(&dir, mode, owner)?;
        }
        let target = root.join(rel);
        match kind {
            Kind::Dir => make_dir(&target, 0o755, None)?,
            Kind::File => {
                std::fs::OpenOptions::new()
                    .write(true)
                    .create_new(true)
                    .mode(0o644)
                    .open(&target)
                    .map_err(io_err(format!("creating {}", target.display())))?;
            }
        }
    }
    Ok(())
}

fn make_dir(dir: &Path, mode: u32, owner: Option<(u32, u32)>) -> Result<(), StoreError> {
    std::fs::DirBuilder::new()
        .mode(mode)
        .create(dir)
        .map_err(io_err(format!("creating {}", dir.display())))?;
    // The umask may have dropped bits of the image's mode.
    std::fs::set_permissions(dir, std::os::unix::fs::PermissionsExt::from_mode(mode))
        .map_err(io_err(format!("chmod {}", dir.display())))?;
    if let Some((uid, gid)) = owner {
        std::os::unix::fs::lchown(dir, Some(uid), Some(gid))
            .map_err(io_err(format!("chown {}", dir.display())))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::symlink;

    use super::*;

    #[test]
    fn only_what_no_layer_has_is_added() {
        let dir = tempfile::tempdir().unwrap();
        let (top, bottom) = (dir.path().join("top"), dir.path().join("bottom"));
        for d in ["etc", "usr", "sbin"] {
            std::fs::create_dir_all(bottom.join(d)).unwrap();
        }
        std::fs::create_dir_all(top.join("etc")).unwrap();
        std::fs::write(bottom.join("etc/hosts"), "").unwrap();
        symlink("usr/sbin", top.join("opt")).unwrap();
        std::fs::write(top.join("mnt"), "a file").unwrap();
        let layers = [top, bottom];
        let can = |p: &str| addable(&layers, Path::new(p));
        assert!(can("/proc"));
        assert!(can("/etc/hostname"));
        assert!(can("/srv/a/b"));
        assert!(!can("/etc/hosts"), "present in a lower layer");
        assert!(!can("/opt/x"), "through a symlink");
        assert!(!can("/mnt/mesos/sandbox"), "through a file");
        assert!(!can("/etc"), "present");
        assert!(!can("/../x"));
        assert!(!can("/"));
    }

    #[test]
    fn the_layer_keeps_the_images_directory_modes() {
        let dir = tempfile::tempdir().unwrap();
        let layer = dir.path().join("layer");
        std::fs::create_dir_all(layer.join("etc")).unwrap();
        std::fs::set_permissions(
            layer.join("etc"),
            std::os::unix::fs::PermissionsExt::from_mode(0o750),
        )
        .unwrap();
        let root = dir.path().join("points");
        let points = [
            (PathBuf::from("/etc/hostname"), Kind::File),
            (PathBuf::from("/mnt/mesos/sandbox"), Kind::Dir),
        ];
        build(
            std::slice::from_ref(&layer),
            &root,
            &points.iter().collect::<Vec<_>>(),
        )
        .unwrap();
        let mode = |p: &str| std::fs::metadata(root.join(p)).unwrap().mode() & 0o7777;
        assert_eq!(mode("etc"), 0o750);
        assert_eq!(mode("mnt/mesos"), 0o755);
        assert!(root.join("mnt/mesos/sandbox").is_dir());
        assert!(root.join("etc/hostname").is_file());
        assert_eq!(std::fs::read_dir(root.join("etc")).unwrap().count(), 1);
    }
}
