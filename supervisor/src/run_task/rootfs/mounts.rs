//! The OCI spec's mounts, made in order beneath the root: each destination resolved inside
//! the image ([`super::resolve`]), the mount then made onto the resolved file through
//! `/proc/self/fd/N` (what runc does).

use std::os::fd::OwnedFd;
use std::path::Path;

use nix::errno::Errno;
use nix::mount::{mount, MsFlags};
use oci_spec::runtime::Mount;

use super::resolve::{fd_path, resolve, Kind};
use crate::error::{Step, StepError};
use crate::run_task::error::RunTaskError;

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
pub(in crate::run_task) fn mount_all(root: &OwnedFd, mounts: &[Mount]) -> Result<(), RunTaskError> {
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
}
