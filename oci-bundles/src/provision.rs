//! Assembling a container's root filesystem from an image's layers
//! (`--image_provisioner_backend`):
//! * `overlay`: the layers are overlayfs lowerdirs (topmost first) under a per-container
//!   writable upper layer, so nothing is copied and the store stays read-only;
//! * `copy`: the layers are copied bottom to top, applying whiteouts, for filesystems
//!   without overlay support. Hard links inside a layer become separate copies.
//!
//! Layout under the container's provisioner directory: `rootfs/` (what the container gets),
//! plus `upper/` and `work/` for overlay.

use std::ffi::CString;
use std::os::unix::fs::{FileTypeExt, MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

use nix::mount::{mount, umount2, MntFlags, MsFlags};

use crate::mount_points;
use crate::store::{io_err, Store, StoreError, StoredImage};
use crate::unpack::is_whiteout;

/// How root filesystems are assembled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// overlayfs.
    Overlay,
    /// A full copy.
    Copy,
}

impl std::str::FromStr for Backend {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "overlay" => Ok(Self::Overlay),
            "copy" => Ok(Self::Copy),
            "aufs" | "bind" => Err(format!(
                "--image_provisioner_backend={s} is not supported by Meseta (use overlay or copy)"
            )),
            other => Err(format!(
                "unknown --image_provisioner_backend '{other}' (use overlay or copy)"
            )),
        }
    }
}

/// Builds `dir/rootfs` for `image` and returns its path.
pub fn provision(
    store: &Store,
    image: &StoredImage,
    dir: &Path,
    backend: Backend,
) -> Result<PathBuf, StoreError> {
    provision_with(store, image, dir, backend, &[])
}

/// [`provision`], with the `mount_points` the runtime will mount over that the image lacks
/// in a shared layer on top of the image's ([`crate::mount_points`]; overlay only). A layer
/// that cannot be made is left out: the runtime then creates them itself.
pub fn provision_with(
    store: &Store,
    image: &StoredImage,
    dir: &Path,
    backend: Backend,
    mount_points: &[(PathBuf, mount_points::Kind)],
) -> Result<PathBuf, StoreError> {
    let rootfs = dir.join("rootfs");
    std::fs::create_dir_all(&rootfs).map_err(io_err(format!("creating {}", rootfs.display())))?;
    let mut lowers = store.lowerdirs(image)?;
    if backend == Backend::Overlay && !mount_points.is_empty() {
        if let Ok(Some(layer)) = mount_points::layer(store, image, mount_points) {
            lowers.insert(0, layer);
        }
    }
    match backend {
        Backend::Overlay => {
            let (upper, work) = (dir.join("upper"), dir.join("work"));
            for d in [&upper, &work] {
                std::fs::create_dir_all(d).map_err(io_err(format!("creating {}", d.display())))?;
            }
            let lower = lowers
                .iter()
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>()
                .join(":");
            let data = format!(
                "lowerdir={lower},upperdir={},workdir={}",
                upper.display(),
                work.display()
            );
            // The kernel takes one page of mount options: about 40 layers with store paths.
            if data.len() + VOLATILE.len() >= 4096 {
                return Err(io_err("mounting overlay")(std::io::Error::other(format!(
                    "{} layers make the overlay options too long",
                    lowers.len()
                ))));
            }
            mount_overlay(&rootfs, &data).map_err(|e| {
                io_err(format!("mounting overlay on {}", rootfs.display()))(e.into())
            })?;
        }
        Backend::Copy => {
            for layer in lowers.iter().rev() {
                copy_layer(layer, &rootfs)?;
            }
        }
    }
    Ok(rootfs)
}

/// `volatile` (Linux 5.10+): the upper layer is the container's own and is thrown away with
/// it (after a crash too: orphan root filesystems are removed, never mounted again), so
/// overlayfs need not sync it. Without it, the unmount at destroy syncs the whole upper
/// filesystem (`syncfs`), which costs a warm image launch milliseconds on a busy disk.
const VOLATILE: &str = ",volatile";

/// Mounts the overlay, `volatile` where the kernel knows it.
fn mount_overlay(rootfs: &Path, data: &str) -> nix::Result<()> {
    let mount = |data: &str| {
        mount(
            Some("overlay"),
            rootfs,
            Some("overlay"),
            MsFlags::empty(),
            Some(data),
        )
    };
    match mount(&format!("{data}{VOLATILE}")) {
        Err(nix::errno::Errno::EINVAL) => mount(data),
        r => r,
    }
}

/// Unmounts a provisioned root filesystem (overlay), if mounted.
pub fn unmount(dir: &Path) -> Result<(), StoreError> {
    let rootfs = dir.join("rootfs");
    match umount2(&rootfs, MntFlags::MNT_DETACH) {
        Ok(()) | Err(nix::errno::Errno::EINVAL | nix::errno::Errno::ENOENT) => Ok(()),
        Err(e) => Err(io_err(format!("unmounting {}", rootfs.display()))(e.into())),
    }
}

/// Unmounts (for overlay) and removes a provisioned root filesystem and its directory.
pub fn destroy(dir: &Path) -> Result<(), StoreError> {
    unmount(dir)?;
    match std::fs::remove_dir_all(dir) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(io_err(format!("removing {}", dir.display()))(e)),
    }
}

fn is_opaque(dir: &Path) -> bool {
    let Ok(path) = CString::new(dir.as_os_str().as_encoded_bytes()) else {
        return false;
    };
    let mut buf = [0u8; 2];
    // SAFETY: NUL-terminated path and attribute name; `buf` outlives the call.
    let n = unsafe {
        libc::lgetxattr(
            path.as_ptr(),
            c"trusted.overlay.opaque".as_ptr(),
            buf.as_mut_ptr().cast(),
            buf.len(),
        )
    };
    n == 1 && buf[0] == b'y'
}

fn remove_any(path: &Path) -> Result<(), StoreError> {
    match std::fs::symlink_metadata(path) {
        Ok(m) if m.is_dir() => {
            std::fs::remove_dir_all(path).map_err(io_err(format!("removing {}", path.display())))
        }
        Ok(_) => std::fs::remove_file(path).map_err(io_err(format!("removing {}", path.display()))),
        Err(_) => Ok(()),
    }
}

/// Copies one unpacked layer over `dest`, applying its whiteouts. Layers come from the
/// store, whose unpacker refused anything unsafe, and symlinks are copied, never followed.
fn copy_layer(src: &Path, dest: &Path) -> Result<(), StoreError> {
    if is_opaque(src) {
        for e in std::fs::read_dir(dest)
            .map_err(io_err(format!("reading {}", dest.display())))?
            .flatten()
        {
            remove_any(&e.path())?;
        }
    }
    for entry in std::fs::read_dir(src).map_err(io_err(format!("reading {}", src.display())))? {
        let entry = entry.map_err(io_err(format!("reading {}", src.display())))?;
        let from = entry.path();
        let to = dest.join(entry.file_name());
        let meta =
            std::fs::symlink_metadata(&from).map_err(io_err(format!("stat {}", from.display())))?;
        let ft = meta.file_type();
        if is_whiteout(&meta) {
            remove_any(&to)?;
            continue;
        }
        if ft.is_dir() {
            if std::fs::symlink_metadata(&to)
                .map(|m| !m.is_dir())
                .unwrap_or(false)
            {
                remove_any(&to)?;
            }
            if !to.exists() {
                std::fs::create_dir(&to).map_err(io_err(format!("mkdir {}", to.display())))?;
            }
            copy_layer(&from, &to)?;
        } else {
            remove_any(&to)?;
            if ft.is_symlink() {
                let target = std::fs::read_link(&from)
                    .map_err(io_err(format!("readlink {}", from.display())))?;
                std::os::unix::fs::symlink(&target, &to)
                    .map_err(io_err(format!("symlink {}", to.display())))?;
            } else if ft.is_file() {
                std::fs::copy(&from, &to).map_err(io_err(format!("copying {}", from.display())))?;
            } else if ft.is_char_device() || ft.is_block_device() || ft.is_fifo() {
                let kind = nix::sys::stat::SFlag::from_bits_truncate(meta.mode() & libc::S_IFMT);
                nix::sys::stat::mknod(
                    &to,
                    kind,
                    nix::sys::stat::Mode::from_bits_truncate(meta.mode() & 0o7777),
                    meta.rdev(),
                )
                .map_err(|e| io_err(format!("mknod {}", to.display()))(e.into()))?;
            } else {
                continue;
            }
        }
        let (uid, gid) = (
            Some(nix::unistd::Uid::from_raw(meta.uid())),
            Some(nix::unistd::Gid::from_raw(meta.gid())),
        );
        nix::unistd::fchownat(
            None,
            &to,
            uid,
            gid,
            nix::fcntl::AtFlags::AT_SYMLINK_NOFOLLOW,
        )
        .map_err(|e| io_err(format!("chown {}", to.display()))(e.into()))?;
        if !ft.is_symlink() {
            std::fs::set_permissions(&to, std::fs::Permissions::from_mode(meta.mode() & 0o7777))
                .map_err(io_err(format!("chmod {}", to.display())))?;
        }
    }
    Ok(())
}
