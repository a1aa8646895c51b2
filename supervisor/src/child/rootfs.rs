//! The container's root filesystem, set up inside its new mount namespace: the image rootfs
//! bind-mounted on itself, `/proc`, a minimal `/dev` (the OCI runtime spec's), a read-only
//! `/sys`, the sandbox, then `pivot_root` into it (read-only when asked).

use std::path::Path;

use meseta_containerizer_api::launch_info::RootfsSpec;
use nix::mount::{mount, umount2, MntFlags, MsFlags};
use nix::sys::stat::{makedev, mknod, Mode, SFlag};
use nix::unistd::{chdir, pivot_root};

use crate::error::{Step, StepError};

/// Mounts a fresh `proc` on `target`.
pub(super) fn mount_proc(target: &Path) -> Result<(), StepError> {
    let flags = MsFlags::MS_NOSUID | MsFlags::MS_NOEXEC | MsFlags::MS_NODEV;
    mount(Some("proc"), target, Some("proc"), flags, None::<&str>)
        .step(format!("mounting proc on {}", target.display()))
}

pub(super) fn enter_rootfs(rootfs: &RootfsSpec, sandbox: &Path) -> Result<(), StepError> {
    let root = &rootfs.path;
    let m =
        |src: Option<&str>, dst: &Path, fs: Option<&str>, flags: MsFlags, data: Option<&str>| {
            mount(src, dst, fs, flags, data).step(format!(
                "mounting {} on {}",
                fs.or(src).unwrap_or("?"),
                dst.display()
            ))
        };
    mount(
        Some(root.as_path()),
        root.as_path(),
        None::<&str>,
        MsFlags::MS_BIND | MsFlags::MS_REC,
        None::<&str>,
    )
    .step(format!("bind-mounting rootfs {}", root.display()))?;
    // Images rarely ship the mount points: make them in the (writable) rootfs.
    for dir in ["proc", "dev", "sys"] {
        mount_point(&root.join(dir))?;
    }
    mount_proc(&root.join("proc"))?;
    let dev = root.join("dev");
    m(
        Some("tmpfs"),
        &dev,
        Some("tmpfs"),
        MsFlags::MS_NOSUID | MsFlags::MS_STRICTATIME,
        Some("mode=755,size=65536k"),
    )?;
    populate_dev(&dev)?;
    let ro_sys = MsFlags::MS_RDONLY | MsFlags::MS_NOSUID | MsFlags::MS_NOEXEC | MsFlags::MS_NODEV;
    if mount(
        Some("sysfs"),
        &root.join("sys"),
        Some("sysfs"),
        ro_sys,
        None::<&str>,
    )
    .is_err()
    {
        m(
            Some("/sys"),
            &root.join("sys"),
            None,
            MsFlags::MS_BIND | MsFlags::MS_REC,
            None,
        )?;
        m(
            None,
            &root.join("sys"),
            None,
            MsFlags::MS_BIND | MsFlags::MS_REMOUNT | ro_sys,
            None,
        )?;
    }
    let target = root.join(
        rootfs
            .sandbox_target
            .strip_prefix("/")
            .unwrap_or(&rootfs.sandbox_target),
    );
    if !target.exists() {
        std::fs::create_dir_all(&target).step(format!("creating {}", target.display()))?;
    }
    m(
        sandbox.to_str(),
        &target,
        None,
        MsFlags::MS_BIND | MsFlags::MS_REC,
        None,
    )?;
    // pivot_root(".", ".") stacks the old root under the new one; detaching it leaves only the
    // new root (the trick runc and crun use, with no temporary directory).
    chdir(root.as_path()).step(format!("chdir {}", root.display()))?;
    pivot_root(".", ".").step("pivot_root")?;
    umount2(".", MntFlags::MNT_DETACH).step("detaching the old root")?;
    chdir("/").step("chdir /")?;
    if rootfs.readonly {
        let keep = nix::sys::statvfs::statvfs("/")
            .map(|s| s.flags())
            .step("statvfs /")?;
        let mut flags = MsFlags::MS_BIND | MsFlags::MS_REMOUNT | MsFlags::MS_RDONLY;
        use nix::sys::statvfs::FsFlags;
        for (have, want) in [
            (FsFlags::ST_NOSUID, MsFlags::MS_NOSUID),
            (FsFlags::ST_NODEV, MsFlags::MS_NODEV),
            (FsFlags::ST_NOEXEC, MsFlags::MS_NOEXEC),
        ] {
            if keep.contains(have) {
                flags |= want;
            }
        }
        m(None, Path::new("/"), None, flags, None)?;
    }
    Ok(())
}

/// Creates the directory `path` when missing; refuses a symlink (it could point anywhere on
/// the host).
fn mount_point(path: &Path) -> Result<(), StepError> {
    match std::fs::symlink_metadata(path) {
        Ok(m) if m.file_type().is_symlink() => Err(StepError::SymlinkMountPoint(path.to_owned())),
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            std::fs::create_dir(path).step(format!("creating mount point {}", path.display()))
        }
        Err(e) => Err(e).step(path.display().to_string()),
    }
}

/// The six character devices of the OCI runtime spec's minimal `/dev`: name, major, minor.
pub(crate) const DEV_NODES: &[(&str, u64, u64)] = &[
    ("null", 1, 3),
    ("zero", 1, 5),
    ("full", 1, 7),
    ("random", 1, 8),
    ("urandom", 1, 9),
    ("tty", 5, 0),
];

/// The symlinks of the OCI runtime spec's minimal `/dev`: name, target.
pub(crate) const DEV_LINKS: &[(&str, &str)] = &[
    ("fd", "/proc/self/fd"),
    ("stdin", "/proc/self/fd/0"),
    ("stdout", "/proc/self/fd/1"),
    ("stderr", "/proc/self/fd/2"),
    ("ptmx", "pts/ptmx"),
];

/// The minimal `/dev` of the OCI runtime spec: the six standard nodes, the fd symlinks, a
/// private `devpts`, `/dev/shm` and `/dev/mqueue`.
fn populate_dev(dev: &Path) -> Result<(), StepError> {
    for &(name, major, minor) in DEV_NODES {
        let path = dev.join(name);
        mknod(
            &path,
            SFlag::S_IFCHR,
            Mode::from_bits_truncate(0o666),
            makedev(major, minor),
        )
        .step(format!("mknod {}", path.display()))?;
        // umask 022 would drop the group/other write bits mknod asked for.
        nix::sys::stat::fchmodat(
            None,
            &path,
            Mode::from_bits_truncate(0o666),
            nix::sys::stat::FchmodatFlags::FollowSymlink,
        )
        .step(format!("chmod {}", path.display()))?;
    }
    for &(link, target) in DEV_LINKS {
        std::os::unix::fs::symlink(target, dev.join(link)).step(format!("symlink /dev/{link}"))?;
    }
    let mkdir = |name: &str| std::fs::create_dir(dev.join(name)).step(format!("mkdir /dev/{name}"));
    mkdir("pts")?;
    mount(
        Some("devpts"),
        &dev.join("pts"),
        Some("devpts"),
        MsFlags::MS_NOSUID | MsFlags::MS_NOEXEC,
        Some("newinstance,ptmxmode=0666,mode=0620"),
    )
    .step("mounting devpts")?;
    mkdir("shm")?;
    mount(
        Some("shm"),
        &dev.join("shm"),
        Some("tmpfs"),
        MsFlags::MS_NOSUID | MsFlags::MS_NOEXEC | MsFlags::MS_NODEV,
        Some("mode=1777,size=65536k"),
    )
    .step("mounting /dev/shm")?;
    mkdir("mqueue")?;
    mount(
        Some("mqueue"),
        &dev.join("mqueue"),
        Some("mqueue"),
        MsFlags::MS_NOSUID | MsFlags::MS_NOEXEC | MsFlags::MS_NODEV,
        None::<&str>,
    )
    .step("mounting /dev/mqueue")?;
    Ok(())
}
