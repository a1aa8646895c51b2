//! Where things go in the image: the root filesystem bound onto itself and opened, and every
//! path inside it resolved with `openat2(RESOLVE_IN_ROOT)`, so a symlink in the image resolves
//! inside the root filesystem (as the task would see it) and never reaches the host. Missing
//! mount points are created beneath that root only.

use std::os::fd::{AsFd, AsRawFd, FromRawFd, OwnedFd};
use std::path::{Path, PathBuf};

use nix::errno::Errno;
use nix::fcntl::{openat, OFlag};
use nix::mount::{mount, MsFlags};
use nix::sys::stat::{mkdirat, Mode};

use crate::error::{Step, StepError};

/// What to create where a mount point is missing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(in crate::run_task) enum Kind {
    /// A directory.
    Dir,
    /// An empty file (a bind mount of a file).
    File,
}

/// Binds `rootfs` onto itself (so that it is a mount point for `pivot_root`, whichever
/// backend provisioned it) and opens it as the root for [`resolve`].
pub(in crate::run_task) fn open_root(rootfs: &Path) -> Result<OwnedFd, StepError> {
    let rec = MsFlags::MS_BIND | MsFlags::MS_REC;
    mount(Some(rootfs), rootfs, None::<&str>, rec, None::<&str>)
        .step(format!("bind-mounting rootfs {}", rootfs.display()))?;
    let flags = OFlag::O_PATH | OFlag::O_DIRECTORY | OFlag::O_CLOEXEC;
    let fd = nix::fcntl::open(rootfs, flags, Mode::empty())
        .step(format!("opening rootfs {}", rootfs.display()))?;
    // SAFETY: open(2) just returned this fd; nothing else owns it.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// `path` inside the root, symlinks resolved within it, as an `O_PATH` fd. A missing `path`
/// (and its missing parents, as directories) is created as `create` when given; a dangling
/// symlink in the image (`/etc/resolv.conf -> ../run/...`) gets its target created, inside
/// the root, as runc and libcontainer do.
pub(in crate::run_task) fn resolve(
    root: &OwnedFd,
    path: &Path,
    create: Option<Kind>,
) -> Result<OwnedFd, StepError> {
    resolve_within(root, path, create, 0)
}

/// Dangling symlinks followed at most this many times (a loop ends with ELOOP).
const MAX_LINK_HOPS: u32 = 8;

fn resolve_within(
    root: &OwnedFd,
    path: &Path,
    create: Option<Kind>,
    hops: u32,
) -> Result<OwnedFd, StepError> {
    let rel = path.strip_prefix("/").unwrap_or(path);
    let rel = if rel.as_os_str().is_empty() {
        Path::new(".")
    } else {
        rel
    };
    let flags = (libc::O_PATH | libc::O_CLOEXEC) as u64;
    let resolve = libc::RESOLVE_IN_ROOT | libc::RESOLVE_NO_MAGICLINKS;
    let open = || {
        meseta_base::beneath::openat2(root.as_fd(), rel, flags, resolve)
            .map_err(|e| Errno::from_raw(e.raw_os_error().unwrap_or(libc::EIO)))
    };
    let step = || format!("resolving {} in the image", path.display());
    match open() {
        Ok(fd) => return Ok(fd),
        Err(Errno::ENOENT) if create.is_some() => {}
        Err(e) => return Err(e).step(step()),
    }
    let (Some(parent), Some(name), Some(kind)) = (rel.parent(), rel.file_name(), create) else {
        return Err(Errno::ENOENT).step(step());
    };
    let dir = resolve_within(root, parent, Some(Kind::Dir), hops)?;
    let made = match kind {
        Kind::Dir => mkdirat(Some(dir.as_raw_fd()), name, Mode::from_bits_truncate(0o755)),
        Kind::File => {
            let flags = OFlag::O_CREAT | OFlag::O_EXCL | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC;
            openat(
                Some(dir.as_raw_fd()),
                name,
                flags | OFlag::O_WRONLY,
                Mode::from_bits_truncate(0o644),
            )
            .map(|fd| {
                let _ = nix::unistd::close(fd);
            })
        }
    };
    match made {
        Ok(()) | Err(Errno::EEXIST) => {}
        Err(e) => return Err(e).step(format!("creating {} in the image", path.display())),
    }
    match open() {
        Ok(fd) => Ok(fd),
        // The name exists but leads nowhere: a dangling symlink, followed inside the root.
        Err(Errno::ENOENT) if hops < MAX_LINK_HOPS => {
            let target = nix::fcntl::readlinkat(Some(dir.as_raw_fd()), name).step(step())?;
            let next = Path::new("/").join(parent).join(target);
            resolve_within(root, &next, create, hops + 1)
        }
        Err(Errno::ENOENT) => Err(Errno::ELOOP).step(step()),
        Err(e) => Err(e).step(step()),
    }
}

/// The path through which a syscall reaches the file behind `fd`.
pub(super) fn fd_path(fd: &OwnedFd) -> PathBuf {
    PathBuf::from(format!("/proc/self/fd/{}", fd.as_raw_fd()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn symlinks_in_the_image_resolve_inside_it() {
        let dir = tempfile::tempdir().unwrap();
        let rootfs = dir.path().join("rootfs");
        std::fs::create_dir_all(rootfs.join("etc")).unwrap();
        // Both would reach the host if followed from the host's root.
        std::os::unix::fs::symlink("/", rootfs.join("escape")).unwrap();
        std::os::unix::fs::symlink("../../../..", rootfs.join("etc/up")).unwrap();
        let flags = OFlag::O_PATH | OFlag::O_DIRECTORY | OFlag::O_CLOEXEC;
        let fd = nix::fcntl::open(&rootfs, flags, Mode::empty()).unwrap();
        // SAFETY: open(2) just returned this fd.
        let root = unsafe { OwnedFd::from_raw_fd(fd) };
        let made = resolve(&root, Path::new("/escape/meseta-made/x"), Some(Kind::Dir)).unwrap();
        let real = std::fs::read_link(fd_path(&made)).unwrap();
        assert_eq!(real, rootfs.join("meseta-made/x"));
        let up = resolve(&root, Path::new("/etc/up/etc"), None).unwrap();
        assert_eq!(
            std::fs::read_link(fd_path(&up)).unwrap(),
            rootfs.join("etc")
        );
        let file = resolve(&root, Path::new("/etc/hostname"), Some(Kind::File)).unwrap();
        // A dangling link gets its target made, inside the image; a loop is refused.
        std::os::unix::fs::symlink("../run/resolv.conf", rootfs.join("etc/resolv.conf")).unwrap();
        let linked = resolve(&root, Path::new("/etc/resolv.conf"), Some(Kind::File)).unwrap();
        assert_eq!(
            std::fs::read_link(fd_path(&linked)).unwrap(),
            rootfs.join("run/resolv.conf")
        );
        std::os::unix::fs::symlink("/etc/loop", rootfs.join("etc/loop")).unwrap();
        assert!(resolve(&root, Path::new("/etc/loop"), Some(Kind::File)).is_err());
        assert!(std::fs::read_link(fd_path(&file))
            .unwrap()
            .ends_with("rootfs/etc/hostname"));
        assert!(resolve(&root, Path::new("/missing"), None).is_err());
    }
}
