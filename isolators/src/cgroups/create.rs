//! Creating a container's cgroup so that its first process can get in: on v1 a directory in
//! each hierarchy of [`V1_USED`] that is mounted, on v2 one directory with the controllers
//! enabled in every level above it. One `mkdir` per hierarchy and nothing read from `/proc`.

use std::path::{Path, PathBuf};

use super::{
    io_error, validate_id, CgroupError, CgroupVersion, Cgroups, CloneInto, ContainerCgroup,
    SelfJoin, V1_USED,
};

/// The v2 controllers enabled for containers (those libcgroups' v2 manager enables).
const V2_KNOWN: &[&str] = &["cpu", "cpuset", "hugetlb", "io", "memory", "pids"];

impl Cgroups {
    /// The container's cgroup relative to each hierarchy, without the leading `/`.
    fn relative(&self, container_id: &str) -> Result<PathBuf, CgroupError> {
        validate_id(container_id)?;
        Ok(self.root.join(container_id))
    }

    /// cgroup v1: creates the container's cgroup in each used hierarchy that is mounted
    /// (`devices` only when `devices`) and returns the directories (a co-mounted pair such as
    /// `cpu,cpuacct` appears under both names).
    pub(super) fn make_v1_dirs(
        &self,
        container_id: &str,
        devices: bool,
    ) -> Result<Vec<PathBuf>, CgroupError> {
        let rel = self.relative(container_id)?;
        let mut dirs = Vec::with_capacity(V1_USED.len());
        for ctrl in V1_USED.iter().filter(|c| devices || **c != "devices") {
            let mount = self.hierarchy.join(ctrl);
            let dir = mount.join(&rel);
            match std::fs::create_dir(&dir) {
                // Exists already: the second name of a co-mounted pair (cpu, cpuacct).
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
                // A level above is missing, or the hierarchy is not mounted here.
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                    if !mount.join("tasks").exists() {
                        continue;
                    }
                    std::fs::create_dir_all(&dir).map_err(io_error(&dir))?;
                }
                Err(e) => return Err(io_error(&dir)(e)),
            }
            dirs.push(dir);
        }
        Ok(dirs)
    }

    /// cgroup v2: creates the container's cgroup, enabling every available controller we know
    /// in the `cgroup.subtree_control` of the root and of each level above the container, as
    /// libcgroups' v2 manager does (best effort: a limit needing a missing one fails when
    /// applied).
    pub(super) fn make_v2_dir(&self, container_id: &str) -> Result<PathBuf, CgroupError> {
        let rel = self.relative(container_id)?;
        let hierarchy = &self.hierarchy;
        let controllers_file = hierarchy.join("cgroup.controllers");
        let available =
            std::fs::read_to_string(&controllers_file).map_err(io_error(&controllers_file))?;
        let enable: Vec<&str> = available
            .split_whitespace()
            .filter(|c| V2_KNOWN.contains(c))
            .collect();
        // Each write to `cgroup.subtree_control` takes the cgroup mutex: only the missing
        // controllers are written (after the first container, none).
        let enable_in = |dir: &Path| {
            let file = dir.join("cgroup.subtree_control");
            let enabled = std::fs::read_to_string(&file).unwrap_or_default();
            for c in &enable {
                if !enabled.split_whitespace().any(|e| e == *c) {
                    let _ = std::fs::write(&file, format!("+{c}"));
                }
            }
        };
        enable_in(hierarchy);
        let mut components = rel.components().peekable();
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
        Ok(dir)
    }

    /// cgroup v1: creates the container's cgroup (see [`V1_USED`]; `devices` as
    /// `controllers` say) and opens its `tasks` files, so that the container's first process
    /// can move itself in with [`SelfJoin::join`] without the kernel's global migration lock
    /// (see [`SelfJoin`]). `None` on cgroup v2 (see [`Cgroups::prepare_clone_into`]).
    pub fn prepare_self_join(
        &self,
        container_id: &str,
        controllers: super::Controllers,
    ) -> Result<Option<SelfJoin>, CgroupError> {
        if self.version != CgroupVersion::V1 {
            return Ok(None);
        }
        SelfJoin::open(self.make_v1_dirs(container_id, controllers.devices)?).map(Some)
    }

    /// cgroup v2: creates the container's cgroup and opens it, so that the container's first
    /// process can be created inside it ([`CloneInto`]) instead of being moved there. `None`
    /// on cgroup v1.
    pub fn prepare_clone_into(&self, container_id: &str) -> Result<Option<CloneInto>, CgroupError> {
        if self.version != CgroupVersion::V2 {
            return Ok(None);
        }
        CloneInto::open(&self.make_v2_dir(container_id)?).map(Some)
    }

    /// The container's cgroup (it need not exist yet). Cheap: nothing is read or probed.
    pub fn open(&self, container_id: &str) -> Result<ContainerCgroup, CgroupError> {
        validate_id(container_id)?;
        Ok(ContainerCgroup {
            cgroups: self.clone(),
            id: container_id.to_owned(),
        })
    }

    /// Creates the container's cgroup, moves `pid` into it and applies `limits` to the
    /// enabled controllers. Call it while `pid` is still parked, before it runs any user code.
    pub fn create(
        &self,
        container_id: &str,
        pid: nix::unistd::Pid,
        limits: &crate::Limits,
        controllers: super::Controllers,
    ) -> Result<ContainerCgroup, CgroupError> {
        let cg = self.open(container_id)?;
        cg.attach(pid, limits, controllers)?;
        Ok(cg)
    }
}
