//! The task's cgroup in the v1 `devices` hierarchy (`TaskLaunchInfo::cgroups_path`, a child
//! of the container's cgroup): the only cgroup of its own a task inside an image needs, for
//! its device rules; its limits are the container's, inherited from the executor.
//!
//! run-task creates it and writes Docker's default device rules to it, and the task's first
//! process moves itself in by writing `0` to its `tasks` file before it execs (no global
//! cgroup lock, see `isolators::cgroups::SelfJoin`), so no pid is ever written anywhere.
//! cgroup v2 has no `devices` hierarchy (the eBPF device filter is not used), so there the
//! task simply stays in the container's cgroup.

use std::path::{Path, PathBuf};
use std::time::Duration;

use isolators::cgroups::{devices, CgroupError, SelfJoin};
use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;

/// Why the task's cgroup could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum TaskCgroupError {
    /// `TaskLaunchInfo::cgroups_path` has no parent or name.
    #[error("invalid task cgroup path {0}")]
    InvalidPath(String),
    /// Creating the directory failed.
    #[error("setting up the task's cgroup: {}: {source}", .path.display())]
    Create {
        /// The cgroup directory.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// Writing the device rules or opening `tasks` failed.
    #[error("setting up the task's cgroup: {0}")]
    Setup(#[from] CgroupError),
}

/// A task's `devices` cgroup, created and ready to be joined.
#[derive(Debug)]
pub(super) struct TaskCgroup {
    dir: PathBuf,
    /// Its `tasks` file, which the task's first process writes `0` to.
    join: SelfJoin,
}

impl TaskCgroup {
    const HIERARCHY: &'static str = "/sys/fs/cgroup/devices";

    /// Creates the cgroup with the default device rules; `None` without a v1 `devices`
    /// hierarchy or when the container has no cgroup there (no cgroups isolator).
    pub(super) fn create(cgroups_path: &str) -> Result<Option<Self>, TaskCgroupError> {
        let hierarchy = Path::new(Self::HIERARCHY);
        if !hierarchy.join("devices.list").exists() {
            return Ok(None);
        }
        let rel = Path::new(cgroups_path);
        let dir = hierarchy.join(rel.strip_prefix("/").unwrap_or(rel));
        let Some(parent) = dir.parent().filter(|_| dir.file_name().is_some()) else {
            return Err(TaskCgroupError::InvalidPath(cgroups_path.to_owned()));
        };
        if !parent.is_dir() {
            return Ok(None);
        }
        match std::fs::create_dir(&dir) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
            Err(source) => return Err(TaskCgroupError::Create { path: dir, source }),
        }
        let ready =
            devices::restrict_to_defaults(&dir).and_then(|()| SelfJoin::open([dir.clone()]));
        match ready {
            Ok(join) => Ok(Some(Self { dir, join })),
            Err(e) => {
                let _ = std::fs::remove_dir(&dir);
                Err(e.into())
            }
        }
    }

    /// Moves the calling (single-threaded) process in: the task's first process, before it
    /// execs.
    pub(super) fn join(&self) -> Result<(), CgroupError> {
        self.join.join()
    }

    /// Removes the cgroup, killing anything the task left in it (as libcgroups' remove does),
    /// retrying briefly while the kernel finishes the exits.
    pub(super) fn remove(&self) {
        for attempt in 0..50 {
            if std::fs::remove_dir(&self.dir).is_ok() || !self.dir.exists() {
                return;
            }
            let procs = std::fs::read_to_string(self.dir.join("cgroup.procs")).unwrap_or_default();
            for pid in procs.lines().filter_map(|l| l.trim().parse::<i32>().ok()) {
                let _ = kill(Pid::from_raw(pid), Signal::SIGKILL);
            }
            std::thread::sleep(Duration::from_millis(if attempt < 10 { 1 } else { 10 }));
        }
    }
}
