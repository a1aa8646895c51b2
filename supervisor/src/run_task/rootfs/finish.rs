//! What follows the spec's mounts: the standard `/dev` nodes, `pivot_root` into the image,
//! then the spec's read-only and masked paths (made after `pivot_root`, so they name the
//! task's own `/proc` and `/sys`).

use std::os::fd::{AsRawFd, OwnedFd};
use std::path::Path;

use nix::errno::Errno;
use nix::mount::{mount, umount2, MntFlags, MsFlags};
use nix::sys::stat::{fchmodat, makedev, mknodat, FchmodatFlags, Mode, SFlag};
use nix::unistd::{chdir, fchdir, pivot_root, symlinkat};

use super::resolve::resolve;
use crate::error::{Step, StepError};

/// The standard device nodes, the fd symlinks and `ptmx` in the container's `/dev` (a tmpfs
/// mounted by the spec), as libcontainer makes them.
pub(in crate::run_task) fn populate_dev(root: &OwnedFd) -> Result<(), StepError> {
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
    for &(link, target) in crate::child::DEV_LINKS {
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
pub(in crate::run_task) fn pivot(root: &OwnedFd) -> Result<(), StepError> {
    fchdir(root.as_raw_fd()).step("chdir into the rootfs")?;
    pivot_root(".", ".").step("pivot_root")?;
    umount2(".", MntFlags::MNT_DETACH).step("detaching the old root")?;
    chdir("/").step("chdir /")
}

/// The spec's `readonlyPaths`, after `pivot_root`: each bound onto itself read-only.
pub(in crate::run_task) fn readonly_paths(paths: &[String]) -> Result<(), StepError> {
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
pub(in crate::run_task) fn masked_paths(paths: &[String]) -> Result<(), StepError> {
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
