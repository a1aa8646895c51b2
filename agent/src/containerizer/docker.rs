//! The agent side of the `docker` containerizer. A DOCKER task's executor,
//! `mesos-docker-executor`, runs as a plain host process (launched by the `mesos`
//! containerizer, without an image) and creates the Docker container `mesos-<container id>`
//! through the Engine API. This side:
//!
//! * checks that dockerd answers before a launch (a clear TASK_FAILED otherwise);
//! * learns the container's host pid to read its cgroup for `/monitor/statistics`;
//! * when the executor is gone, kills a container still running and removes it after
//!   `--docker_remove_delay`, recording the due time on disk ([`removals`]) so that a
//!   restarted agent removes it when due rather than at once as an orphan (or never);
//! * after an agent restart, kills and removes `mesos-*` containers no checkpointed executor
//!   owns (`--docker_kill_orphans`);
//! * writes `--docker_config` to a root-only file under `--runtime_dir` whose path the
//!   executor gets, so its pulls carry the registry's credentials (never the sandbox, which
//!   the container sees).

pub mod removals;

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use isolators::{CgroupVersion, Cgroups, Limits};
use meseta_api::ResourceStatistics;
use meseta_docker::{Docker, DockerError, NAME_PREFIX};

/// How long a launch waits for dockerd to answer `/_ping`.
pub const PING_TIMEOUT: Duration = Duration::from_secs(5);

/// Docker containerizer settings, from agent flags.
#[derive(Debug, Clone)]
pub struct DockerConfig {
    /// `--docker_socket`.
    pub socket: PathBuf,
    /// `--docker`: the CLI path, passed on to the executor for compatibility.
    pub docker: String,
    /// `--docker_stop_timeout`.
    pub stop_timeout: Duration,
    /// `--docker_remove_delay`.
    pub remove_delay: Duration,
    /// `--docker_kill_orphans`.
    pub kill_orphans: bool,
    /// `--cgroups_hierarchy`, where docker's cgroups are read.
    pub cgroups_hierarchy: PathBuf,
    // Authentication.
    /// The file holding `--docker_config` for the executors (see [`write_docker_config`]).
    pub docker_config_file: Option<PathBuf>,
    /// Where pending removals are recorded (`<work_dir>/meta/docker/removals`).
    pub removals_dir: Option<PathBuf>,
}

/// The docker containerizer.
#[derive(Debug, Clone)]
pub struct DockerContainerizer {
    /// Settings.
    pub config: Arc<DockerConfig>,
    docker: Docker,
    cgroup_version: Option<CgroupVersion>,
    /// Host pid of each tracked container by Mesos container id (0 while not running).
    pids: Arc<Mutex<HashMap<String, i32>>>,
}

/// `mesos-<container id>`.
pub fn container_name(container_id: &str) -> String {
    format!("{NAME_PREFIX}{container_id}")
}

impl DockerContainerizer {
    /// A containerizer for the daemon at `config.socket` (not contacted yet).
    pub fn new(config: DockerConfig) -> Self {
        let cgroup_version = Cgroups::detect(&config.cgroups_hierarchy, "docker")
            .ok()
            .map(|c| c.version());
        Self {
            docker: Docker::new(config.socket.clone()),
            config: Arc::new(config),
            cgroup_version,
            pids: Arc::default(),
        }
    }

    /// The Engine API client.
    pub fn docker(&self) -> &Docker {
        &self.docker
    }

    /// Whether dockerd answers; the error names the socket.
    pub async fn available(&self) -> Result<(), DockerError> {
        self.docker.ping_within(PING_TIMEOUT).await
    }

    /// Marks `container_id` as a docker executor's container (its statistics come from Docker).
    pub fn track(&self, container_id: &str) {
        let mut pids = self.pids.lock().unwrap_or_else(|p| p.into_inner());
        pids.entry(container_id.to_owned()).or_insert(0);
    }

    /// Whether `container_id` is a docker executor's container.
    pub fn tracks(&self, container_id: &str) -> bool {
        let pids = self.pids.lock().unwrap_or_else(|p| p.into_inner());
        pids.contains_key(container_id)
    }

    /// Refreshes the host pid of `container_id`'s Docker container; returns whether it runs.
    pub async fn refresh(&self, container_id: &str) -> bool {
        let running = match self.docker.inspect(&container_name(container_id)).await {
            Ok(Some(c)) if c.state.running && c.state.pid > 0 => Some(c.state.pid),
            _ => None,
        };
        let mut pids = self.pids.lock().unwrap_or_else(|p| p.into_inner());
        pids.insert(container_id.to_owned(), running.unwrap_or(0));
        running.is_some()
    }

    /// The host pid of the container's first process, once known.
    pub fn pid(&self, container_id: &str) -> Option<i32> {
        let pids = self.pids.lock().unwrap_or_else(|p| p.into_inner());
        pids.get(container_id).copied().filter(|pid| *pid > 0)
    }

    /// Usage from the Docker container's own cgroup (found through `/proc/<pid>/cgroup`);
    /// `None` when the container does not run (yet).
    pub fn usage(&self, container_id: &str, limits: &Limits) -> Option<ResourceStatistics> {
        let pid = self.pid(container_id)?;
        let version = self.cgroup_version?;
        let text = std::fs::read_to_string(format!("/proc/{pid}/cgroup")).ok()?;
        let path = cgroup_of(&text, version)?;
        let (parent, leaf) = path.rsplit_once('/')?;
        let cgroups = Cgroups::with_version(version, &self.config.cgroups_hierarchy, parent);
        match cgroups.statistics(leaf, limits) {
            Ok(stats) => Some(stats),
            Err(err) => {
                tracing::debug!(container_id, %err, "no statistics for the docker container");
                None
            }
        }
    }

    /// The executor of `container_id` is gone: a container still running is killed (after
    /// `--docker_stop_timeout`), and removed after `--docker_remove_delay`.
    pub async fn cleanup(&self, container_id: &str) {
        let name = container_name(container_id);
        self.pids
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(container_id);
        match self.docker.inspect(&name).await {
            Ok(Some(c)) if c.state.running => {
                tracing::warn!(container = name, "executor gone; stopping its container");
                if let Err(err) = self.docker.stop(&name, self.config.stop_timeout).await {
                    tracing::warn!(container = name, %err, "docker stop failed");
                }
            }
            Ok(Some(_)) => {}
            Ok(None) => return,
            Err(err) => {
                tracing::warn!(container = name, %err, "cannot inspect the container");
            }
        }
        let removals = self.removals();
        if let Some(r) = &removals {
            let due = SystemTime::now() + self.config.remove_delay;
            if let Err(err) = r.record(&name, due) {
                tracing::warn!(container = name, %err, "cannot record the pending removal");
            }
        }
        tokio::time::sleep(self.config.remove_delay).await;
        self.remove_now(&name).await;
    }

    fn removals(&self) -> Option<removals::Removals> {
        self.config
            .removals_dir
            .clone()
            .map(removals::Removals::new)
    }

    /// Removes container `name` and its removal record.
    async fn remove_now(&self, name: &str) {
        match self.docker.remove(name).await {
            Ok(()) => tracing::info!(container = name, "removed the docker container"),
            Err(err) if err.is_not_found() => {}
            Err(err) => tracing::warn!(container = name, %err, "removing the container failed"),
        }
        if let Some(r) = self.removals() {
            r.forget(name);
        }
    }

    /// After a restart: a container whose removal was pending is removed when it falls due
    /// (at once if that time has passed), in the background.
    fn resume_removal(&self, name: String, due: SystemTime) {
        let wait = due.duration_since(SystemTime::now()).unwrap_or_default();
        tracing::info!(container = name, ?wait, "resuming a pending docker removal");
        let me = self.clone();
        tokio::spawn(async move {
            tokio::time::sleep(wait).await;
            me.remove_now(&name).await;
        });
    }

    /// After an agent restart: every `mesos-*` container whose container id is not in
    /// `known` is an orphan, removed (killed) when `--docker_kill_orphans`. Returns the
    /// orphans' names.
    pub async fn recover(&self, known: &[String]) -> Result<Vec<String>, DockerError> {
        let mut orphans = Vec::new();
        let mut pending = self.removals().map(|r| r.pending()).unwrap_or_default();
        for c in self.docker.list(NAME_PREFIX).await? {
            let name = c.name().to_owned();
            let id = name.trim_start_matches(NAME_PREFIX);
            let due = pending.remove(&name);
            if known.iter().any(|k| k == id) {
                // Its recovered executor decides; a removal is recorded again when it ends.
                if due.is_some() {
                    self.removals().inspect(|r| r.forget(&name));
                }
                self.refresh(id).await;
                continue;
            }
            if let Some(due) = due {
                self.resume_removal(name, due);
                continue;
            }
            if !self.config.kill_orphans {
                tracing::info!(
                    container = name,
                    "leaving an orphan container (--docker_kill_orphans=false)"
                );
                continue;
            }
            tracing::warn!(
                container = name,
                state = c.state,
                "removing an orphan docker container"
            );
            if let Err(err) = self.docker.remove(&c.id).await {
                tracing::warn!(container = name, %err, "removing the orphan failed");
            }
            orphans.push(name);
        }
        // Records of containers that are gone (removed by hand, or dockerd lost them).
        if let Some(r) = self.removals() {
            pending.keys().for_each(|name| r.forget(name));
        }
        Ok(orphans)
    }
}

// Authentication.
/// Writes the `--docker_config` JSON to `<runtime_dir>/docker/config.json`, readable by root
/// only (directory 0700, file 0600, replaced atomically); returns its path.
pub fn write_docker_config(runtime_dir: &std::path::Path, json: &str) -> std::io::Result<PathBuf> {
    use std::io::Write as _;
    use std::os::unix::fs::{DirBuilderExt as _, OpenOptionsExt as _, PermissionsExt as _};
    let dir = runtime_dir.join("docker");
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(&dir)?;
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700))?;
    let path = dir.join("config.json");
    let tmp = dir.join(".config.json.tmp");
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&tmp)?;
    file.write_all(json.as_bytes())?;
    file.sync_all()?;
    std::fs::rename(&tmp, &path)?;
    Ok(path)
}

/// The cgroup path (e.g. `/docker/<id>`) of the process in `/proc/<pid>/cgroup` text: the
/// memory controller's line on v1, the `0::` line on v2.
pub fn cgroup_of(proc_cgroup: &str, version: CgroupVersion) -> Option<String> {
    proc_cgroup.lines().find_map(|line| {
        let mut parts = line.splitn(3, ':');
        let (_, controllers, path) = (parts.next()?, parts.next()?, parts.next()?);
        let wanted = match version {
            CgroupVersion::V1 => controllers.split(',').any(|c| c == "memory"),
            CgroupVersion::V2 => controllers.is_empty(),
        };
        (wanted && path.len() > 1).then(|| path.to_owned())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_memory_cgroup_of_a_process() {
        let v1 = "12:pids:/docker/abc\n4:memory:/docker/abc\n0::/\n";
        assert_eq!(
            cgroup_of(v1, CgroupVersion::V1).as_deref(),
            Some("/docker/abc")
        );
        let v2 = "0::/system.slice/docker-abc.scope\n";
        assert_eq!(
            cgroup_of(v2, CgroupVersion::V2).as_deref(),
            Some("/system.slice/docker-abc.scope")
        );
        assert_eq!(container_name("c1"), "mesos-c1");
    }
}
