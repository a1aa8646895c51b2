//! The `devices` cgroup of tasks inside images (`TaskLaunchInfo::cgroups_path`, v1): the only
//! cgroup of their own such tasks need, for Docker's default device rules; their limits are
//! the container's, inherited from the executor, and every other hierarchy stays the
//! container's.
//!
//! One cgroup serves every such task on the host (the agent names it
//! `IMAGE_TASKS_DEVICES_CGROUP`): the rules are the same for all, so it is created once, with
//! its rules, and joined by each task, which costs a launch one write instead of a `mkdir`,
//! thirteen rule writes and an `rmdir` (and needs no process left behind to remove it). It is
//! created under a temporary name and renamed into place once its rules are written, so no
//! task ever joins it half-configured. It is never removed, as Docker's parent cgroup is
//! not: an empty cgroup costs nothing. Killing a container's processes goes through the
//! container's own cgroups (the freezer's), which the task never leaves.
//!
//! The task's process moves itself in by writing `0` to `tasks` before it execs (no global
//! cgroup lock, see `isolators::cgroups::SelfJoin`). A container without a `devices` cgroup of
//! its own (no cgroups isolator) gets no rules, as before; cgroup v2 has no `devices`
//! hierarchy (the eBPF device filter is not used), so there the task stays in the
//! container's cgroup.

use std::path::{Path, PathBuf};

use isolators::cgroups::{devices, CgroupError, SelfJoin};

/// Why the task's devices cgroup could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum TaskCgroupError {
    /// `TaskLaunchInfo::cgroups_path` has no parent or name.
    #[error("invalid task cgroup path {0}")]
    InvalidPath(String),
    /// Creating or renaming the directory failed.
    #[error("setting up the task's cgroup: {}: {source}", .path.display())]
    Create {
        /// The cgroup directory.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// Writing the device rules, opening `tasks` or joining failed.
    #[error("setting up the task's cgroup: {0}")]
    Setup(#[from] CgroupError),
}

const HIERARCHY: &str = "/sys/fs/cgroup/devices";

/// Moves the calling (single-threaded) process into the devices cgroup `cgroups_path`,
/// creating it with the default rules if it does not exist yet. Does nothing without a v1
/// `devices` hierarchy, or when the caller's container has no devices cgroup of its own.
pub(super) fn join(cgroups_path: &str) -> Result<(), TaskCgroupError> {
    let hierarchy = Path::new(HIERARCHY);
    if !hierarchy.join("devices.list").exists() || !in_own_devices_cgroup() {
        return Ok(());
    }
    let dir = cgroup_dir(hierarchy, cgroups_path)?;
    let (Some(parent), Some(name)) = (dir.parent(), dir.file_name()) else {
        return Err(TaskCgroupError::InvalidPath(cgroups_path.to_owned()));
    };
    if !dir.join("devices.list").exists() {
        let temp = parent.join(format!(
            ".{}.{}",
            name.to_string_lossy(),
            std::process::id()
        ));
        create(&temp, &dir)?;
    }
    SelfJoin::open([dir])?.join()?;
    Ok(())
}

/// `cgroups_path` below `hierarchy`: plain names only, at least one.
fn cgroup_dir(hierarchy: &Path, cgroups_path: &str) -> Result<PathBuf, TaskCgroupError> {
    let mut dir = hierarchy.to_owned();
    for c in Path::new(cgroups_path).components() {
        match c {
            std::path::Component::RootDir => {}
            std::path::Component::Normal(name) => dir.push(name),
            _ => return Err(TaskCgroupError::InvalidPath(cgroups_path.to_owned())),
        }
    }
    if dir == hierarchy {
        return Err(TaskCgroupError::InvalidPath(cgroups_path.to_owned()));
    }
    Ok(dir)
}

/// Creates `temp` with the default rules and renames it to `dir`; loses quietly to a
/// concurrent launch that placed `dir` first (cgroupfs refuses the rename then).
fn create(temp: &Path, dir: &Path) -> Result<(), TaskCgroupError> {
    let err = |path: &Path| {
        let path = path.to_owned();
        move |source| TaskCgroupError::Create { path, source }
    };
    match std::fs::create_dir(temp) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
        Err(e) => return Err(err(temp)(e)),
    }
    let placed = devices::restrict_to_defaults(temp)
        .map_err(TaskCgroupError::from)
        .and_then(|()| std::fs::rename(temp, dir).map_err(err(dir)));
    match placed {
        Ok(()) => Ok(()),
        Err(_) if dir.join("devices.list").exists() => {
            let _ = std::fs::remove_dir(temp);
            Ok(())
        }
        Err(e) => {
            let _ = std::fs::remove_dir(temp);
            Err(e)
        }
    }
}

/// Whether this process is in a devices cgroup other than the hierarchy's root: the
/// container's, made by the cgroups isolators.
fn in_own_devices_cgroup() -> bool {
    std::fs::read_to_string("/proc/self/cgroup").is_ok_and(|text| below_devices_root(&text))
}

/// Whether a `/proc/<pid>/cgroup` text puts the process below the `devices` root.
fn below_devices_root(text: &str) -> bool {
    text.lines().any(|l| {
        let mut f = l.splitn(3, ':');
        let (_, controllers, path) = (f.next(), f.next(), f.next());
        controllers.is_some_and(|c| c.split(',').any(|c| c == "devices"))
            && path.is_some_and(|p| p != "/")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_container_with_a_devices_cgroup_gets_device_rules() {
        let container = "12:memory:/mesos/c1\n4:devices:/mesos/c1\n0::/\n";
        let host = "12:memory:/\n4:devices:/\n0::/\n";
        assert!(below_devices_root(container));
        assert!(!below_devices_root(host));
        assert!(!below_devices_root("0::/system.slice/agent.service\n"));
    }

    #[test]
    fn paths_outside_the_hierarchy_are_refused() {
        let h = Path::new(HIERARCHY);
        for bad in ["/", "", "/../escape", "/a/../../b", "./x"] {
            assert!(cgroup_dir(h, bad).is_err(), "{bad:?} accepted");
        }
        assert_eq!(
            cgroup_dir(h, "/meseta-image-tasks").unwrap(),
            h.join("meseta-image-tasks")
        );
    }
}
