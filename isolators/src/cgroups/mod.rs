//! Per-container cgroups on cgroup v1 or v2, behind one interface.
//!
//! Each container gets the cgroup `<cgroups_root>/<container_id>` (Mesos's layout, default root
//! `mesos`): on v1 under every mounted controller hierarchy, on v2 one directory under the
//! unified mount. Creation and limits go through youki's `libcgroups` managers; usage is read
//! per controller in the `stats` module, best effort, as Mesos does.
//!
//! Lifecycle: [`Cgroups::create`] (mkdir + attach the container's first process + write limits;
//! the supervisor instead prepares the cgroup so that its first process gets in without the
//! kernel's global migration lock, see [`SelfJoin`] and [`CloneInto`])
//! → [`Cgroups::statistics`] / [`Cgroups::oom_killed`] while it runs →
//! [`Cgroups::destroy`] (freeze, SIGKILL every process, thaw, wait until empty, rmdir).
//! Every step is idempotent, so a destroy after a crash can simply be run again.

pub mod devices;
mod join;
mod oom;
mod stats;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use libcgroups::common::{
    AnyCgroupManager, CgroupManager, CgroupSetup, ControllerOpt, FreezerState,
};
use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;

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
        source: libcgroups::common::GetCgroupSetupError,
    },
    /// A cgroup manager could not be built for the container.
    #[error("cgroup manager for {cgroup}: {message}")]
    Manager {
        /// The container's cgroup, relative to the hierarchy.
        cgroup: String,
        /// The libcgroups error, rendered.
        message: String,
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
}

fn manager_error(cgroup: &Path, err: impl std::fmt::Display) -> CgroupError {
    CgroupError::Manager {
        cgroup: cgroup.display().to_string(),
        message: err.to_string(),
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
    /// Detects the layout of `hierarchy` (normally `/sys/fs/cgroup`). Hybrid hosts use v1,
    /// since their unified mount has no controllers.
    pub fn detect(hierarchy: &Path, cgroups_root: &str) -> Result<Self, CgroupError> {
        let setup =
            libcgroups::common::get_cgroup_setup_with_root(hierarchy).map_err(|source| {
                CgroupError::Detect {
                    path: hierarchy.to_owned(),
                    source,
                }
            })?;
        let version = match setup {
            CgroupSetup::Unified => CgroupVersion::V2,
            CgroupSetup::Legacy | CgroupSetup::Hybrid => CgroupVersion::V1,
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

    fn manager(&self, container_id: &str) -> Result<AnyCgroupManager, CgroupError> {
        let cgroup = self.cgroup(container_id)?;
        match self.version {
            CgroupVersion::V1 => libcgroups::v1::Manager::new(&cgroup)
                .map(|m| m.any())
                .map_err(|e| manager_error(&cgroup, e)),
            CgroupVersion::V2 => {
                libcgroups::v2::manager::Manager::new(self.hierarchy.clone(), cgroup.clone())
                    .map(|m| m.any())
                    .map_err(|e| manager_error(&cgroup, e))
            }
        }
    }

    /// cgroup v1: creates the container's cgroup in every mounted hierarchy (a cpuset seeded
    /// from its parent) and opens them, so that the container's first process can move itself
    /// in with [`SelfJoin::join`] without the kernel's global migration lock (see
    /// [`SelfJoin`]). `None` on cgroup v2 (see [`Cgroups::prepare_clone_into`]). Needs no
    /// libcgroups manager (building one parses mountinfo once per controller, ~1.5 ms), so it
    /// can run before the clone while [`Cgroups::open`] runs after it.
    pub fn prepare_self_join(&self, container_id: &str) -> Result<Option<SelfJoin>, CgroupError> {
        if self.version != CgroupVersion::V1 {
            return Ok(None);
        }
        let rel = self.cgroup(container_id)?;
        let rel = rel.strip_prefix("/").unwrap_or(&rel);
        let mut dirs = Vec::new();
        for ctrl in V1_CONTROLLERS.iter().filter(|c| !c.contains(',')) {
            let mount = self.hierarchy.join(ctrl);
            if !mount.join("tasks").exists() {
                continue;
            }
            let dir = mount.join(rel);
            std::fs::create_dir_all(&dir).map_err(|source| CgroupError::Io {
                path: dir.clone(),
                source,
            })?;
            if *ctrl == "cpuset" {
                join::seed_cpuset(&mount, &dir)?;
            }
            dirs.push(dir);
        }
        SelfJoin::open(dirs).map(Some)
    }

    /// cgroup v2: creates the container's cgroup and opens it, so that the container's first
    /// process can be created inside it ([`CloneInto`]) instead of being moved there. As
    /// libcgroups' v2 manager does, every available controller it knows is enabled in the
    /// `cgroup.subtree_control` of the root and of each level above the container (best
    /// effort: a limit needing a missing one fails when applied). `None` on cgroup v1.
    pub fn prepare_clone_into(&self, container_id: &str) -> Result<Option<CloneInto>, CgroupError> {
        if self.version != CgroupVersion::V2 {
            return Ok(None);
        }
        const KNOWN: &[&str] = &["cpu", "cpuset", "hugetlb", "io", "memory", "pids"];
        let hierarchy = &self.hierarchy;
        let controllers_file = hierarchy.join("cgroup.controllers");
        let available =
            std::fs::read_to_string(&controllers_file).map_err(|source| CgroupError::Io {
                path: controllers_file,
                source,
            })?;
        let enable: Vec<String> = available
            .split_whitespace()
            .filter(|c| KNOWN.contains(c))
            .map(|c| format!("+{c}"))
            .collect();
        let enable_in = |dir: &Path| {
            for c in &enable {
                let _ = std::fs::write(dir.join("cgroup.subtree_control"), c);
            }
        };
        enable_in(hierarchy);
        let rel = self.cgroup(container_id)?;
        let mut components = rel.components().skip(1).peekable();
        let mut dir = hierarchy.clone();
        while let Some(component) = components.next() {
            dir.push(component);
            match std::fs::create_dir(&dir) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
                Err(source) => return Err(CgroupError::Io { path: dir, source }),
            }
            if components.peek().is_some() {
                enable_in(&dir);
            }
        }
        CloneInto::open(&dir).map(Some)
    }

    /// Opens the container's cgroup (it need not exist yet). On v1 this discovers every
    /// controller's mount point, so open once and keep the handle.
    pub fn open(&self, container_id: &str) -> Result<ContainerCgroup, CgroupError> {
        Ok(ContainerCgroup {
            manager: self.manager(container_id)?,
            cgroups: self.clone(),
            id: container_id.to_owned(),
        })
    }

    /// Creates the container's cgroup, moves `pid` into it and applies `limits` to the
    /// enabled controllers. Call it while `pid` is still parked, before it runs any user code.
    pub fn create(
        &self,
        container_id: &str,
        pid: Pid,
        limits: &Limits,
        controllers: Controllers,
    ) -> Result<ContainerCgroup, CgroupError> {
        let cg = self.open(container_id)?;
        cg.attach(pid, limits, controllers)?;
        Ok(cg)
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

/// One container's cgroup, opened: the handle a supervisor keeps for the container's life.
pub struct ContainerCgroup {
    manager: AnyCgroupManager,
    cgroups: Cgroups,
    id: String,
}

impl std::fmt::Debug for ContainerCgroup {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ContainerCgroup")
            .field("cgroups", &self.cgroups)
            .field("id", &self.id)
            .finish()
    }
}

impl ContainerCgroup {
    fn cgroup(&self) -> PathBuf {
        Path::new("/").join(&self.cgroups.root).join(&self.id)
    }

    /// Creates the cgroup if needed, moves `pid` into it and applies `limits` to the enabled
    /// controllers.
    pub fn attach(
        &self,
        pid: Pid,
        limits: &Limits,
        controllers: Controllers,
    ) -> Result<(), CgroupError> {
        self.manager
            .add_task(pid)
            .map_err(|e| manager_error(&self.cgroup(), e))?;
        self.limit(limits, controllers)
    }

    /// Writes `limits` to the enabled controllers of the (existing) cgroup.
    pub fn limit(&self, limits: &Limits, controllers: Controllers) -> Result<(), CgroupError> {
        let resources = limits.to_oci(controllers.cpu, controllers.memory, controllers.pids);
        let opts = ControllerOpt {
            resources: &resources,
            disable_oom_killer: false,
            oom_score_adj: None,
            freezer_state: None,
        };
        self.manager
            .apply(&opts)
            .map_err(|e| manager_error(&self.cgroup(), e))
    }

    /// Sends `signal` to every process in the cgroup.
    pub fn signal_all(&self, signal: Signal) -> Result<(), CgroupError> {
        self.cgroups.signal_all(&self.id, signal)
    }

    /// Whether the kernel OOM-killed a process of the container.
    pub fn oom_killed(&self) -> bool {
        self.cgroups.oom_killed(&self.id)
    }

    /// Kills every process so none can fork away: freeze, SIGKILL all, thaw (on v2 with
    /// `cgroup.kill`, the kernel does it atomically).
    pub fn kill_all(&self) -> Result<(), CgroupError> {
        if self.cgroups.version == CgroupVersion::V2 {
            let kill_file = self.cgroups.path("", &self.id)?.join("cgroup.kill");
            if kill_file.exists() {
                return std::fs::write(&kill_file, "1").map_err(|source| CgroupError::Io {
                    path: kill_file,
                    source,
                });
            }
        }
        let frozen = self.manager.freeze(FreezerState::Frozen).is_ok();
        self.cgroups.signal_all(&self.id, Signal::SIGKILL)?;
        if frozen {
            self.manager
                .freeze(FreezerState::Thawed)
                .map_err(|e| manager_error(&self.cgroup(), e))?;
        }
        Ok(())
    }

    /// Kills every process, waits (up to `timeout`) for the cgroup to empty and removes it.
    pub fn destroy(&self, timeout: Duration) -> Result<(), CgroupError> {
        // Usually empty already: a pid namespace dies with its init.
        if !self.cgroups.pids(&self.id)?.is_empty() {
            self.kill_all()?;
        }
        let deadline = Instant::now() + timeout;
        while !self.cgroups.pids(&self.id)?.is_empty() {
            if Instant::now() >= deadline {
                return Err(CgroupError::NotEmpty(self.cgroup().display().to_string()));
            }
            std::thread::sleep(Duration::from_millis(1));
        }
        self.manager
            .remove()
            .map_err(|e| manager_error(&self.cgroup(), e))
    }
}

/// The v1 hierarchies Meseta reads and cleans up (libcgroups creates the container's cgroup
/// in every mounted one).
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
