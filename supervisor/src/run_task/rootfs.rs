//! The task's view of its image, made inside the task's own mount namespace from the OCI
//! spec's mounts: the root filesystem bound onto itself, each mount of the spec, the standard
//! `/dev` nodes, `pivot_root`, then the spec's read-only and masked paths.
//!
//! The image is untrusted: every destination is resolved with `openat2(RESOLVE_IN_ROOT)`, so
//! a symlink in the image resolves inside the root filesystem (as the task would see it) and
//! never reaches the host, and missing mount points are created beneath that root only. The
//! mount then goes onto the resolved file through `/proc/self/fd/N` (what runc does).

use std::os::fd::{AsFd, AsRawFd, FromRawFd, OwnedFd};
use std::path::{Path, PathBuf};

use nix::errno::Errno;
use nix::fcntl::{openat, OFlag};
use nix::mount::{mount, umount2, MntFlags, MsFlags};
use nix::sys::stat::{fchmodat, makedev, mkdirat, mknodat, FchmodatFlags, Mode, SFlag};
use nix::unistd::{chdir, fchdir, pivot_root, symlinkat};
use oci_spec::runtime::Mount;

use super::error::RunTaskError;
use crate::error::{Step, StepError};

/// What to create where a mount point is missing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Kind {
    /// A directory.
    Dir,
    /// An empty file (a bind mount of a file).
    File,
}

/// Binds `rootfs` onto itself (so that it is a mount point for `pivot_root`, whichever
/// backend provisioned it) and opens it as the root for [`resolve`].
pub(super) fn open_root(rootfs: &Path) -> Result<OwnedFd, StepError> {
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
pub(super) fn resolve(
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
fn fd_path(fd: &OwnedFd) -> PathBuf {
    PathBuf::from(format!("/proc/self/fd/{}", fd.as_raw_fd()))
}

/// Mount flags and the filesystem data of OCI mount options (runc's table, without the
/// propagation options: every mount here is a slave already).
fn options(options: &[String]) -> (MsFlags, String) {
    let mut flags = MsFlags::empty();
    let mut data: Vec<&str> = Vec::new();
    for o in options {
        flags |= match o.as_str() {
            "ro" => MsFlags::MS_RDONLY,
            "nosuid" => MsFlags::MS_NOSUID,
            "nodev" => MsFlags::MS_NODEV,
            "noexec" => MsFlags::MS_NOEXEC,
            "strictatime" => MsFlags::MS_STRICTATIME,
            "relatime" => MsFlags::MS_RELATIME,
            "noatime" => MsFlags::MS_NOATIME,
            "bind" => MsFlags::MS_BIND,
            "rbind" => MsFlags::MS_BIND | MsFlags::MS_REC,
            "rw" | "suid" | "dev" | "exec" | "atime" | "private" | "rprivate" | "slave"
            | "rslave" | "shared" | "rshared" => MsFlags::empty(),
            other => {
                data.push(other);
                MsFlags::empty()
            }
        };
    }
    (flags, data.join(","))
}

/// Makes every mount of the spec, in order, beneath the root.
pub(super) fn mount_all(root: &OwnedFd, mounts: &[Mount]) -> Result<(), RunTaskError> {
    for m in mounts {
        mount_one(root, m)?;
    }
    Ok(())
}

fn mount_one(root: &OwnedFd, m: &Mount) -> Result<(), RunTaskError> {
    let dst = m.destination();
    let typ = m.typ().as_deref().unwrap_or("bind");
    let (flags, data) = options(m.options().as_deref().unwrap_or_default());
    let step = || format!("mounting {typ} on {}", dst.display());
    if typ == "bind" || flags.contains(MsFlags::MS_BIND) {
        let Some(src) = m.source() else {
            return Err(RunTaskError::UnsupportedMount {
                typ: typ.to_owned(),
                destination: dst.clone(),
            });
        };
        let kind = if src.is_dir() { Kind::Dir } else { Kind::File };
        bind(root, src, dst, kind, flags).step(step())?;
        return Ok(());
    }
    let target = resolve(root, dst, Some(Kind::Dir))?;
    let data = (!data.is_empty()).then_some(data.as_str());
    let src = m.source().as_deref().unwrap_or(Path::new(typ));
    match mount(Some(src), &fd_path(&target), Some(typ), flags, data) {
        Ok(()) => Ok(()),
        // Where a fresh sysfs is refused, the host's is bound read-only instead (as runc).
        Err(Errno::EPERM) if typ == "sysfs" => {
            let flags = flags | MsFlags::MS_BIND | MsFlags::MS_REC;
            bind(root, Path::new("/sys"), dst, Kind::Dir, flags).step(step())?;
            Ok(())
        }
        Err(e) => Err(e).step(step()).map_err(Into::into),
    }
}

/// Binds `src` (a host path) onto `dst` in the root; flags other than the bind's own need a
/// remount of the new mount, reached by resolving `dst` again.
fn bind(root: &OwnedFd, src: &Path, dst: &Path, kind: Kind, flags: MsFlags) -> Result<(), Errno> {
    let target = resolve(root, dst, Some(kind)).map_err(errno)?;
    let rec = flags & MsFlags::MS_REC;
    mount(
        Some(src),
        &fd_path(&target),
        None::<&str>,
        MsFlags::MS_BIND | rec,
        None::<&str>,
    )?;
    let extra = flags - (MsFlags::MS_BIND | MsFlags::MS_REC);
    if extra.is_empty() {
        return Ok(());
    }
    let again = resolve(root, dst, None).map_err(errno)?;
    let remount = MsFlags::MS_BIND | MsFlags::MS_REMOUNT | extra;
    mount(
        None::<&str>,
        &fd_path(&again),
        None::<&str>,
        remount,
        None::<&str>,
    )
}

fn errno(e: StepError) -> Errno {
    match e {
        StepError::Sys { source, .. } => source,
        _ => Errno::EINVAL,
    }
}

/// The standard device nodes, the fd symlinks and `ptmx` in the container's `/dev` (a tmpfs
/// mounted by the spec), as libcontainer makes them.
pub(super) fn populate_dev(root: &OwnedFd) -> Result<(), StepError> {
    let dev = resolve(root, Path::new("/dev"), None)?;
    let at = Some(dev.as_raw_fd());
    for &(name, major, minor) in crate::child::DEV_NODES {
        let mode = Mode::from_bits_truncate(0o666);
        mknodat(at, name, SFlag::S_IFCHR, mode, makedev(major, minor))
            .step(format!("mknod /dev/{name}"))?;
        // The umask would drop the group/other write bits mknod asked for (a node just made
        // in a fresh tmpfs: no symlink to follow).
        fchmodat(at, name, mode, FchmodatFlags::FollowSymlink)
            .step(format!("chmod /dev/{name}"))?;
    }
    for (link, target) in [
        ("fd", "/proc/self/fd"),
        ("stdin", "/proc/self/fd/0"),
        ("stdout", "/proc/self/fd/1"),
        ("stderr", "/proc/self/fd/2"),
        ("ptmx", "pts/ptmx"),
    ] {
        match symlinkat(target, at, link) {
            Ok(()) | Err(Errno::EEXIST) => {}
            Err(e) => return Err(e).step(format!("symlink /dev/{link}")),
        }
    }
    Ok(())
}

/// Makes the root the process's `/`: `pivot_root(".", ".")` stacks the old root on the new
/// one and detaching it leaves only the new root (runc's and crun's trick, no temporary
/// directory).
pub(super) fn pivot(root: &OwnedFd) -> Result<(), StepError> {
    fchdir(root.as_raw_fd()).step("chdir into the rootfs")?;
    pivot_root(".", ".").step("pivot_root")?;
    umount2(".", MntFlags::MNT_DETACH).step("detaching the old root")?;
    chdir("/").step("chdir /")
}

/// The spec's `readonlyPaths`, after `pivot_root`: each bound onto itself read-only.
pub(super) fn readonly_paths(paths: &[String]) -> Result<(), StepError> {
    for p in paths {
        let rec = MsFlags::MS_BIND | MsFlags::MS_REC;
        match mount(
            Some(p.as_str()),
            p.as_str(),
            None::<&str>,
            rec,
            None::<&str>,
        ) {
            Ok(()) => {}
            Err(Errno::ENOENT) => continue,
            Err(e) => return Err(e).step(format!("making {p} read-only")),
        }
        let ro = rec | MsFlags::MS_REMOUNT | MsFlags::MS_RDONLY;
        mount(None::<&str>, p.as_str(), None::<&str>, ro, None::<&str>)
            .step(format!("making {p} read-only"))?;
    }
    Ok(())
}

/// The spec's `maskedPaths`, after `pivot_root`: directories hidden under an empty read-only
/// tmpfs, files under `/dev/null`.
pub(super) fn masked_paths(paths: &[String]) -> Result<(), StepError> {
    for p in paths {
        let masked = match std::fs::metadata(p) {
            Ok(m) if m.is_dir() => mount(
                Some("tmpfs"),
                p.as_str(),
                Some("tmpfs"),
                MsFlags::MS_RDONLY,
                None::<&str>,
            ),
            Ok(_) => mount(
                Some("/dev/null"),
                p.as_str(),
                None::<&str>,
                MsFlags::MS_BIND,
                None::<&str>,
            ),
            Err(_) => continue,
        };
        masked.step(format!("masking {p}"))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mount_options_split_into_flags_and_data() {
        let o = |list: &[&str]| options(&list.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>());
        assert_eq!(
            o(&["nosuid", "strictatime", "mode=755", "size=65536k"]),
            (
                MsFlags::MS_NOSUID | MsFlags::MS_STRICTATIME,
                "mode=755,size=65536k".to_owned()
            )
        );
        assert_eq!(
            o(&["rbind", "ro", "nosuid"]),
            (
                MsFlags::MS_BIND | MsFlags::MS_REC | MsFlags::MS_RDONLY | MsFlags::MS_NOSUID,
                String::new()
            )
        );
        assert_eq!(o(&["rw", "rprivate"]), (MsFlags::empty(), String::new()));
    }

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
