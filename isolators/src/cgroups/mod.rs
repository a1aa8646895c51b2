//! Per-container cgroups on cgroup v1 or v2, behind one interface.
//!
//! Each container gets the cgroup `<cgroups_root>/<container_id>` (Mesos's layout, default root
//! `mesos`): on v1 under each hierarchy Meseta uses ([`V1_USED`]), on v2 one directory under the
//! unified mount. Creation, limits and removal write the cgroup files directly (`create.rs`,
//! `apply.rs`, `container.rs`): youki's `libcgroups` managers parse `/proc/self/mountinfo` and
//! `/proc/self/cgroup` once per controller (~500 system calls, ~1.5 ms per container), and
//! program hierarchies nothing here reads. Usage is read per controller in the `stats` module,
//! best effort, as Mesos does.
//!
//! Lifecycle: [`Cgroups::create`] (mkdir + attach the container's first process + write limits;
//! the supervisor instead prepares the cgroup so that its first process gets in without the
//! kernel's global migration lock, see [`SelfJoin`] and [`CloneInto`])
//! → [`Cgroups::statistics`] / [`Cgroups::oom_killed`] while it runs →
//! [`Cgroups::destroy`] (freeze, SIGKILL every process, thaw, wait until empty, rmdir).
//! Every step is idempotent, so a destroy after a crash can simply be run again.

mod apply;
mod container;
mod create;
pub mod devices;
mod join;
mod oom;
mod stats;

use std::path::{Path, PathBuf};
use std::time::Duration;

use nix::sys::signal::{kill, Signal};
use nix::sys::statfs::{statfs, CGROUP2_SUPER_MAGIC, TMPFS_MAGIC};
use nix::unistd::Pid;

pub use self::container::ContainerCgroup;
pub use self::join::{CloneInto, SelfJoin};
pub use self::oom::OomWatch;
pub use self::stats::read_counter;
use crate::limits::Limits;

/// Which cgroup hierarchy the host runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum CgroupVersion {
    /// Legacy or hybrid: one hierarchy per controller.
    V1,
    /// Unified hierarchy.
    V2,
}

/// A cgroup operation that failed.
#[derive(Debug, thiserror::Error)]
pub enum CgroupError {
    /// The host's cgroup layout could not be determined.
    #[error("cannot detect the cgroup layout under {path}: {source}")]
    Detect {
        /// The hierarchy that was probed.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// Reading or writing a cgroup file failed.
    #[error("cgroup file {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The container id cannot name a cgroup.
    #[error("invalid container id '{0}'")]
    InvalidId(String),
    /// Processes were still in the cgroup after SIGKILL.
    #[error("cgroup {0} still has processes after SIGKILL")]
    NotEmpty(String),
    /// The v1 freezer did not reach `FROZEN`.
    #[error("cgroup {0} could not be frozen")]
    Freeze(PathBuf),
}

/// Maps an I/O error on `path` into a [`CgroupError`].
fn io_error(path: &Path) -> impl FnOnce(std::io::Error) -> CgroupError + '_ {
    move |source| CgroupError::Io {
        path: path.to_owned(),
        source,
    }
}

/// The controllers a container's cgroup uses.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Controllers {
    /// cpu (and cpuacct on v1).
    pub cpu: bool,
    /// memory.
    pub memory: bool,
    /// pids.
    pub pids: bool,
    /// devices (v1): a cgroup of its own only for a container whose processes run in an
    /// image (device rules; an image task's own cgroup nests in it, see
    /// `supervisor/src/run_task/cgroup.rs`). Others stay in their parent's, as in Mesos
    /// without `cgroups/devices`. Absent in the `launch_info` of earlier agents: false.
    #[serde(default)]
    pub devices: bool,
}

/// Access to the containers' cgroups under `--cgroups_root`.
#[derive(Debug, Clone)]
pub struct Cgroups {
    version: CgroupVersion,
    /// `--cgroups_hierarchy` (v1: the tmpfs holding one mount per controller) or the v2 mount.
    hierarchy: PathBuf,
    /// `--cgroups_root`, relative to the hierarchy, e.g. `mesos`.
    root: PathBuf,
}

impl Cgroups {
    /// Detects the layout of `hierarchy` (normally `/sys/fs/cgroup`): a cgroup2 mount is v2, a
    /// tmpfs holding one mount per controller is v1. Hybrid hosts use v1, since their unified
    /// mount has no controllers. (What libcgroups' `get_cgroup_setup_with_root` decides.)
    pub fn detect(hierarchy: &Path, cgroups_root: &str) -> Result<Self, CgroupError> {
        let fs_type = statfs(hierarchy)
            .map(|s| s.filesystem_type())
            .map_err(|e| CgroupError::Detect {
                path: hierarchy.to_owned(),
                source: e.into(),
            })?;
        let version = if fs_type == CGROUP2_SUPER_MAGIC {
            CgroupVersion::V2
        } else if fs_type == TMPFS_MAGIC {
            CgroupVersion::V1
        } else {
            return Err(CgroupError::Detect {
                path: hierarchy.to_owned(),
                source: std::io::Error::other("neither a cgroup2 nor a tmpfs mount"),
            });
        };
        Ok(Self::with_version(version, hierarchy, cgroups_root))
    }

    /// Uses a given layout without probing: how tests drive the v2 code path against a fake
    /// cgroupfs tree in a temporary directory.
    pub fn with_version(version: CgroupVersion, hierarchy: &Path, cgroups_root: &str) -> Self {
        Self {
            version,
            hierarchy: hierarchy.to_owned(),
            root: PathBuf::from(cgroups_root.trim_matches('/')),
        }
    }

    /// The detected version.
    pub fn version(&self) -> CgroupVersion {
        self.version
    }

    /// The container's cgroup relative to each hierarchy, e.g. `/mesos/<id>`.
    pub fn cgroup(&self, container_id: &str) -> Result<PathBuf, CgroupError> {
        validate_id(container_id)?;
        Ok(Path::new("/").join(&self.root).join(container_id))
    }

    /// Directory of a v1 controller hierarchy (`cpu`, `memory`, ...) or the v2 mount.
    fn controller_dir(&self, controller: &str) -> PathBuf {
        match self.version {
            CgroupVersion::V1 => self.hierarchy.join(controller),
            CgroupVersion::V2 => self.hierarchy.clone(),
        }
    }

    /// The absolute directories of the container's cgroup, one per controller on v1.
    pub fn paths(&self, container_id: &str) -> Result<Vec<PathBuf>, CgroupError> {
        let rel = self.cgroup(container_id)?;
        let rel = rel.strip_prefix("/").unwrap_or(&rel).to_owned();
        Ok(match self.version {
            CgroupVersion::V2 => vec![self.hierarchy.join(rel)],
            CgroupVersion::V1 => V1_CONTROLLERS
                .iter()
                .map(|c| self.hierarchy.join(c).join(&rel))
                .filter(|p| p.exists())
                .collect(),
        })
    }

    /// The absolute directory of one controller's cgroup for the container.
    pub fn path(&self, controller: &str, container_id: &str) -> Result<PathBuf, CgroupError> {
        let rel = self.cgroup(container_id)?;
        Ok(self
            .controller_dir(controller)
            .join(rel.strip_prefix("/").unwrap_or(&rel)))
    }

    /// Whether any of the container's cgroup directories exists.
    pub fn exists(&self, container_id: &str) -> bool {
        self.paths(container_id)
            .map(|p| p.iter().any(|d| d.exists()))
            .unwrap_or(false)
    }

    /// Every process in the container's cgroup.
    pub fn pids(&self, container_id: &str) -> Result<Vec<Pid>, CgroupError> {
        let procs = self
            .path(procs_controller(self.version), container_id)?
            .join("cgroup.procs");
        match std::fs::read_to_string(&procs) {
            Ok(text) => Ok(text
                .lines()
                .filter_map(|l| l.trim().parse().ok())
                .map(Pid::from_raw)
                .collect()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Vec::new()),
            Err(source) => Err(CgroupError::Io {
                path: procs,
                source,
            }),
        }
    }

    /// Sends `signal` to every process of the container.
    pub fn signal_all(&self, container_id: &str, signal: Signal) -> Result<(), CgroupError> {
        for pid in self.pids(container_id)? {
            // ESRCH: the process exited meanwhile, which is what we want anyway.
            let _ = kill(pid, signal);
        }
        Ok(())
    }

    /// Kills every process of the container so none can fork away (see
    /// [`ContainerCgroup::kill_all`]).
    pub fn kill_all(&self, container_id: &str) -> Result<(), CgroupError> {
        if !self.exists(container_id) {
            return Ok(());
        }
        self.open(container_id)?.kill_all()
    }

    /// Kills every process, waits (up to `timeout`) for the cgroup to empty and removes it.
    pub fn destroy(&self, container_id: &str, timeout: Duration) -> Result<(), CgroupError> {
        if !self.exists(container_id) {
            return Ok(());
        }
        self.open(container_id)?.destroy(timeout)
    }

    /// Container ids that have a cgroup under the root: used to find orphans and leaks.
    pub fn list(&self) -> Vec<String> {
        let mut ids = std::collections::BTreeSet::new();
        let dirs: Vec<PathBuf> = match self.version {
            CgroupVersion::V2 => vec![self.hierarchy.join(&self.root)],
            CgroupVersion::V1 => V1_CONTROLLERS
                .iter()
                .map(|c| self.hierarchy.join(c).join(&self.root))
                .collect(),
        };
        for dir in dirs {
            let Ok(entries) = std::fs::read_dir(&dir) else {
                continue;
            };
            for entry in entries.flatten() {
                if entry.file_type().map(|t| t.is_dir()).unwrap_or(false) {
                    ids.insert(entry.file_name().to_string_lossy().into_owned());
                }
            }
        }
        ids.into_iter().collect()
    }

    /// Whether the kernel OOM-killed a process of the container: `oom_kill` in
    /// `memory.oom_control` (v1) or `memory.events` (v2).
    pub fn oom_killed(&self, container_id: &str) -> bool {
        let file = match self.version {
            CgroupVersion::V1 => "memory.oom_control",
            CgroupVersion::V2 => "memory.events",
        };
        self.path("memory", container_id)
            .ok()
            .and_then(|p| read_counter(&p.join(file), "oom_kill"))
            .is_some_and(|n| n > 0)
    }

    /// Usage statistics of the container in Mesos's `ResourceStatistics` shape.
    pub fn statistics(
        &self,
        container_id: &str,
        limits: &Limits,
    ) -> Result<meseta_api::ResourceStatistics, CgroupError> {
        stats::read(self, container_id, limits)
    }
}

/// The v1 hierarchies in which a container gets a cgroup: those whose limits are written
/// (cpu, memory, pids), read (cpuacct) or used (freezer: killing every process; devices: the
/// parent of an image task's own cgroup, see `supervisor/src/run_task/cgroup.rs`, only when
/// [`Controllers::devices`]). As Mesos, the container stays in its parent's cgroup in the
/// others (cpuset, blkio, ...).
pub const V1_USED: &[&str] = &["cpu", "cpuacct", "memory", "pids", "freezer", "devices"];

/// Every v1 hierarchy Meseta reads and cleans up: also those in which earlier versions (through
/// libcgroups) created a container's cgroup, so such containers are still removed whole.
const V1_CONTROLLERS: &[&str] = &[
    "cpu",
    "cpuacct",
    "cpuset",
    "memory",
    "pids",
    "freezer",
    "devices",
    "blkio",
    "hugetlb",
    "perf_event",
    "net_cls",
    "net_prio",
    "net_cls,net_prio",
    "cpu,cpuacct",
];

/// A controller whose `cgroup.procs` lists every process (v1 has one per hierarchy).
fn procs_controller(version: CgroupVersion) -> &'static str {
    match version {
        CgroupVersion::V1 => "freezer",
        CgroupVersion::V2 => "",
    }
}

/// Container ids become directory names: no separators, no `.`/`..`, nothing exotic.
pub fn validate_id(id: &str) -> Result<(), CgroupError> {
    let ok = !id.is_empty()
        && id.len() <= 255
        && id != "."
        && id != ".."
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b));
    if ok {
        Ok(())
    } else {
        Err(CgroupError::InvalidId(id.to_owned()))
    }
}

#[cfg(test)]
mod tests;
