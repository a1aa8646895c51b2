//! The agent side of the `mesos` containerizer (async; never clones, never waits on a
//! container itself: its supervisor does).

use std::collections::{HashMap, HashSet};
use std::os::fd::{FromRawFd, OwnedFd};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use isolators::{Cgroups, Controllers, Isolation, Limits, Namespaces};
use meseta_api::ResourceStatistics;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::sync::watch;

use super::launch_info::{CgroupSpec, Command, LaunchInfo, RootfsSpec};
use super::paths::{containers_dir, read_pid, ContainerPaths};
use super::termination::Termination;

/// How long a supervisor may take to report its launch.
const LAUNCH_REPORT_TIMEOUT: Duration = Duration::from_secs(60);

/// Containerizer-wide settings, from agent flags.
#[derive(Debug, Clone)]
pub struct ContainerConfig {
    /// `--runtime_dir`.
    pub runtime_dir: PathBuf,
    /// `--launcher_dir`: where `mesos-containerizer` lives.
    pub launcher_dir: PathBuf,
    /// `--isolation`.
    pub isolation: Isolation,
    /// `--cgroups_hierarchy`.
    pub cgroups_hierarchy: PathBuf,
    /// `--cgroups_root`.
    pub cgroups_root: String,
    /// `--cgroups_enable_cfs`.
    pub cgroups_enable_cfs: bool,
    /// `--sandbox_directory`: the sandbox's path inside a container with its own rootfs.
    pub sandbox_directory: PathBuf,
    /// Grace period for kills that name none (`--executor_shutdown_grace_period`).
    pub default_kill_grace: Duration,
    /// `<work_dir>/provisioner`: containers' image root filesystems
    /// (`containers/<id>/`), removed when the container is destroyed.
    pub provisioner_dir: Option<PathBuf>,
}

impl ContainerConfig {
    /// Mesos's defaults for everything but the directories.
    pub fn new(runtime_dir: PathBuf, launcher_dir: PathBuf, isolation: Isolation) -> Self {
        Self {
            runtime_dir,
            launcher_dir,
            isolation,
            cgroups_hierarchy: PathBuf::from("/sys/fs/cgroup"),
            cgroups_root: "mesos".into(),
            cgroups_enable_cfs: false,
            sandbox_directory: PathBuf::from("/mnt/mesos/sandbox"),
            default_kill_grace: Duration::from_secs(5),
            provisioner_dir: None,
        }
    }
}

/// One container to launch.
#[derive(Debug, Clone)]
pub struct ContainerSpec {
    /// Unique id; becomes the cgroup and runtime directory name.
    pub container_id: String,
    /// The command.
    pub command: Command,
    /// The sandbox directory (created if missing).
    pub sandbox: PathBuf,
    /// `cpus` resource.
    pub cpus: Option<f64>,
    /// `mem` resource in MB.
    pub mem_mb: Option<f64>,
    /// Optional pids limit.
    pub pids_limit: Option<i64>,
    /// Root filesystem, if the container has an image.
    pub rootfs: Option<PathBuf>,
    /// Mount the root filesystem read-only.
    pub rootfs_readonly: bool,
    /// Hostname inside a UTS namespace.
    pub hostname: Option<String>,
    /// Its tasks run in an image (the command executor's `--rootfs`): the container gets a
    /// `devices` cgroup of its own, below which their device rules hang (cgroup v1).
    pub image_tasks: bool,
}

impl ContainerSpec {
    /// A container running `command` in `sandbox` with no limits.
    pub fn new(
        container_id: impl Into<String>,
        command: Command,
        sandbox: impl Into<PathBuf>,
    ) -> Self {
        Self {
            container_id: container_id.into(),
            command,
            sandbox: sandbox.into(),
            cpus: None,
            mem_mb: None,
            pids_limit: None,
            rootfs: None,
            rootfs_readonly: false,
            hostname: None,
            image_tasks: false,
        }
    }
}

/// What the containerizer refused or failed to do.
#[derive(Debug, thiserror::Error)]
pub enum ContainerizerError {
    /// Bad input: the message says what and why.
    #[error("{0}")]
    Invalid(String),
    /// Cgroups could not be used.
    #[error(transparent)]
    Cgroups(#[from] isolators::CgroupError),
    /// The container could not be started; the message comes from the supervisor.
    #[error("failed to launch container {id}: {message}")]
    Launch {
        /// The container.
        id: String,
        /// Why.
        message: String,
    },
    /// No such container.
    #[error("unknown container '{0}'")]
    Unknown(String),
    /// An id that is already in use.
    #[error("container '{0}' already exists")]
    Exists(String),
    /// I/O on the runtime dir or with the supervisor.
    #[error("{what}: {source}")]
    Io {
        /// What was being done.
        what: String,
        /// Why it failed.
        source: std::io::Error,
    },
}

fn io_err(what: impl Into<String>) -> impl FnOnce(std::io::Error) -> ContainerizerError {
    let what = what.into();
    move |source| ContainerizerError::Io { what, source }
}

/// A running container.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Launched {
    /// The container's first process, as the host sees it.
    pub pid: i32,
    /// Its supervisor.
    pub supervisor_pid: i32,
}

#[derive(Debug, Clone)]
struct Entry {
    launched: Launched,
    limits: Limits,
    done: watch::Receiver<Option<Termination>>,
}

/// The `mesos` containerizer.
#[derive(Debug, Clone)]
pub struct MesosContainerizer {
    config: Arc<ContainerConfig>,
    cgroups: Option<Cgroups>,
    containers: Arc<Mutex<HashMap<String, Entry>>>,
}

impl MesosContainerizer {
    /// Checks the configuration, detects the cgroup version when a cgroups isolator is on,
    /// and prepares the runtime dir.
    pub fn new(config: ContainerConfig) -> Result<Self, ContainerizerError> {
        let launcher = config.launcher_dir.join("mesos-containerizer");
        if !launcher.is_file() {
            return Err(ContainerizerError::Invalid(format!(
                "--launcher_dir: {} not found",
                launcher.display()
            )));
        }
        let cgroups = if config.isolation.uses_cgroups() {
            Some(Cgroups::detect(
                &config.cgroups_hierarchy,
                &config.cgroups_root,
            )?)
        } else {
            None
        };
        let dir = containers_dir(&config.runtime_dir);
        std::fs::create_dir_all(&dir).map_err(io_err(format!("creating {}", dir.display())))?;
        Ok(Self {
            config: Arc::new(config),
            cgroups,
            containers: Arc::default(),
        })
    }

    /// The cgroups in use, if any.
    pub fn cgroups(&self) -> Option<&Cgroups> {
        self.cgroups.as_ref()
    }

    /// Ids of the containers this containerizer knows.
    pub fn containers(&self) -> Vec<String> {
        let map = self.containers.lock().unwrap_or_else(|p| p.into_inner());
        map.keys().cloned().collect()
    }

    fn launch_info(&self, spec: &ContainerSpec) -> Result<LaunchInfo, ContainerizerError> {
        isolators::cgroups::validate_id(&spec.container_id)
            .map_err(|e| ContainerizerError::Invalid(e.to_string()))?;
        if spec.command.argv.is_empty() || spec.command.argv[0].is_empty() {
            return Err(ContainerizerError::Invalid("the command is empty".into()));
        }
        let mut limits = Limits::new(spec.cpus, spec.mem_mb, self.config.cgroups_enable_cfs)
            .map_err(|e| ContainerizerError::Invalid(e.to_string()))?;
        if let Some(p) = spec.pids_limit {
            limits = limits
                .with_pids(p)
                .map_err(|e| ContainerizerError::Invalid(e.to_string()))?;
        }
        if let Some(rootfs) = &spec.rootfs {
            if !rootfs.is_dir() {
                return Err(ContainerizerError::Invalid(format!(
                    "rootfs {} is not a directory",
                    rootfs.display()
                )));
            }
        }
        let iso = &self.config.isolation;
        let mut namespaces = Namespaces::from_isolation(iso);
        if spec.rootfs.is_some() {
            namespaces.mount = true;
        }
        let cgroups = self.cgroups.as_ref().map(|cg| CgroupSpec {
            version: cg.version(),
            hierarchy: self.config.cgroups_hierarchy.clone(),
            root: self.config.cgroups_root.clone(),
            controllers: Controllers {
                cpu: iso.cgroups_cpu,
                memory: iso.cgroups_mem,
                pids: iso.cgroups_pids,
                devices: spec.rootfs.is_some() || spec.image_tasks,
            },
        });
        Ok(LaunchInfo {
            container_id: spec.container_id.clone(),
            command: spec.command.clone(),
            sandbox: spec.sandbox.clone(),
            working_dir: None,
            namespaces,
            hostname: spec.hostname.clone(),
            cgroups,
            limits,
            rootfs: spec.rootfs.as_ref().map(|p| RootfsSpec {
                path: p.clone(),
                readonly: spec.rootfs_readonly,
                sandbox_target: self.config.sandbox_directory.clone(),
            }),
            kill_grace_ms: u64::try_from(self.config.default_kill_grace.as_millis())
                .unwrap_or(u64::MAX),
        })
    }

    /// Launches a container and returns once its command has been exec'd.
    pub async fn launch(&self, spec: ContainerSpec) -> Result<Launched, ContainerizerError> {
        let id = spec.container_id.clone();
        let launched = self.launch_supervised(spec).await;
        // Not when the id is taken: that rootfs is another container's.
        if launched
            .as_ref()
            .is_err_and(|e| !matches!(e, ContainerizerError::Exists(_)))
        {
            self.destroy_rootfs(&id);
        }
        launched
    }

    async fn launch_supervised(&self, spec: ContainerSpec) -> Result<Launched, ContainerizerError> {
        let info = self.launch_info(&spec)?;
        let id = info.container_id.clone();
        let paths = ContainerPaths::new(&self.config.runtime_dir, &id);
        if self
            .containers
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .contains_key(&id)
        {
            return Err(ContainerizerError::Exists(id));
        }
        let json = serde_json::to_vec(&info)
            .map_err(|e| io_err("encoding launch_info")(std::io::Error::other(e)))?;
        // File system work runs on the blocking pool, never on the runtime's thread: the
        // sandbox's disk can be slow (an ext4 without a journal scans recently deleted
        // inodes on every create).
        let (sandbox, files, cid) = (spec.sandbox.clone(), paths.clone(), id.clone());
        let log =
            tokio::task::spawn_blocking(move || write_launch_files(&cid, &sandbox, &files, &json))
                .await
                .map_err(|e| io_err("preparing the launch")(std::io::Error::other(e)))??;

        let mut cmd =
            tokio::process::Command::new(self.config.launcher_dir.join("mesos-containerizer"));
        cmd.arg("launch")
            .arg(format!(
                "--runtime_dir={}",
                self.config.runtime_dir.display()
            ))
            .arg(format!("--container_id={id}"))
            .env_clear()
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(log)
            .kill_on_drop(false);
        // No pre_exec hook (the supervisor calls setsid itself), so std spawns it with
        // posix_spawn rather than forking this multi-threaded process.
        let mut child = cmd
            .spawn()
            .map_err(io_err("starting mesos-containerizer"))?;
        let supervisor_pid = child.id().and_then(|p| i32::try_from(p).ok()).unwrap_or(0);
        let stdout = child
            .stdout
            .take()
            .ok_or_else(|| ContainerizerError::Invalid("no supervisor stdout".into()))?;
        let mut line = String::new();
        let read = tokio::time::timeout(
            LAUNCH_REPORT_TIMEOUT,
            BufReader::new(stdout).read_line(&mut line),
        )
        .await;
        let report = match read {
            Ok(Ok(_)) => line.trim().to_owned(),
            Ok(Err(e)) => format!("error reading the supervisor's report: {e}"),
            Err(_) => "error the supervisor did not report within 60s".to_owned(),
        };
        let pid = match report
            .strip_prefix("ok ")
            .and_then(|p| p.parse::<i32>().ok())
        {
            Some(pid) => pid,
            None => {
                let _ = child.start_kill();
                let _ = child.wait().await;
                let message = report.strip_prefix("error ").unwrap_or(&report).to_owned();
                let message = if message.is_empty() {
                    "the supervisor exited without a report".into()
                } else {
                    message
                };
                let _ = std::fs::remove_dir_all(paths.dir());
                return Err(ContainerizerError::Launch { id, message });
            }
        };
        let (tx, rx) = watch::channel(None);
        let termination_path = paths.termination();
        tokio::spawn(async move {
            let _ = child.wait().await;
            let _ = tx.send(Some(read_termination(&termination_path)));
        });
        let launched = Launched {
            pid,
            supervisor_pid,
        };
        let entry = Entry {
            launched,
            limits: info.limits,
            done: rx,
        };
        self.containers
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(id, entry);
        Ok(launched)
    }

    fn entry(&self, id: &str) -> Result<Entry, ContainerizerError> {
        let map = self.containers.lock().unwrap_or_else(|p| p.into_inner());
        map.get(id)
            .cloned()
            .ok_or_else(|| ContainerizerError::Unknown(id.to_owned()))
    }

    /// Waits for the container to end and returns how it ended.
    pub async fn wait(&self, id: &str) -> Result<Termination, ContainerizerError> {
        let mut rx = self.entry(id)?.done;
        let t = rx
            .wait_for(Option::is_some)
            .await
            .map_err(|_| ContainerizerError::Unknown(id.to_owned()))?;
        Ok(t.clone()
            .unwrap_or_else(|| Termination::launch_failed("unknown")))
    }

    /// Asks the supervisor to kill the container: SIGTERM to its processes, SIGKILL after
    /// `grace` (immediately when zero).
    pub fn kill(&self, id: &str, grace: Duration) -> Result<(), ContainerizerError> {
        let entry = self.entry(id)?;
        if entry.done.borrow().is_some() {
            return Ok(());
        }
        let ms = i32::try_from(grace.as_millis()).unwrap_or(i32::MAX);
        let value = libc::sigval {
            sival_ptr: ms as usize as *mut libc::c_void,
        };
        // SAFETY: sigqueue(3) copies the value; the pid is our supervisor (a stale pid would at
        // worst get ESRCH, since supervisors are never reaped by anyone but us or init).
        let rc = unsafe { libc::sigqueue(entry.launched.supervisor_pid, libc::SIGTERM, value) };
        if rc != 0 {
            let err = std::io::Error::last_os_error();
            if err.raw_os_error() != Some(libc::ESRCH) {
                return Err(io_err(format!("signalling supervisor of {id}"))(err));
            }
        }
        Ok(())
    }

    /// Kills the container (no grace), waits for it and removes its runtime state.
    pub async fn destroy(&self, id: &str) -> Result<Termination, ContainerizerError> {
        self.kill(id, Duration::ZERO)?;
        let t = self.wait(id).await?;
        self.containers
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(id);
        let dir = ContainerPaths::new(&self.config.runtime_dir, id)
            .dir()
            .to_owned();
        let _ = tokio::task::spawn_blocking(move || std::fs::remove_dir_all(dir)).await;
        self.destroy_rootfs(id);
        Ok(t)
    }

    /// Live usage of a running container. Blocking.
    pub fn usage(&self, id: &str) -> Result<ResourceStatistics, ContainerizerError> {
        self.entry(id)?;
        self.usage_many(&[id])
            .remove(id)
            .ok_or_else(|| ContainerizerError::Unknown(id.to_owned()))
    }

    /// Live usage of the running containers among `ids` (unknown ones are left out), from
    /// their cgroups, or without cgroups summed over each container's process tree as Mesos's
    /// `posix/cpu` and `posix/mem` isolators do (one pass over `/proc` for all). Blocking.
    pub fn usage_many(&self, ids: &[&str]) -> HashMap<String, ResourceStatistics> {
        let (entries, supervisors): (Vec<(&str, Entry)>, Vec<i32>) = {
            let map = self.containers.lock().unwrap_or_else(|p| p.into_inner());
            let entries = ids
                .iter()
                .filter_map(|id| Some((*id, map.get(*id)?.clone())))
                .collect();
            let supervisors = map.values().map(|e| e.launched.supervisor_pid).collect();
            (entries, supervisors)
        };
        let procs = match (&self.cgroups, entries.is_empty()) {
            (None, false) => {
                // The agent and the supervisors are in no container's tree (the executor,
                // each tree's root, is a supervisor's child): a third fewer `stat`s to read.
                let roots: HashSet<i32> = entries.iter().map(|(_, e)| e.launched.pid).collect();
                let agent = i32::try_from(std::process::id()).unwrap_or(0);
                let exclude: HashSet<i32> = supervisors
                    .into_iter()
                    .chain(std::iter::once(agent))
                    .filter(|pid| *pid > 0 && !roots.contains(pid))
                    .collect();
                isolators::posix::ProcessTable::read_excluding(Path::new("/proc"), &exclude)
                    .map_err(|err| tracing::warn!(%err, "cannot read /proc for usage"))
                    .ok()
            }
            _ => None,
        };
        if self.cgroups.is_none() {
            // Lookups in the process table only: no file to read, no thread to split over.
            return self
                .usage_of_entries(&entries, procs.as_ref())
                .into_iter()
                .collect();
        }
        // Cgroup reads cost the kernel tens of microseconds each: hundreds of containers are
        // split over the available cores (the caller is on the blocking pool).
        let threads = std::thread::available_parallelism().map_or(1, |n| n.get().min(4));
        let per = entries.len().div_ceil(threads).max(64);
        let procs = procs.as_ref();
        std::thread::scope(|scope| {
            let workers: Vec<_> = entries
                .chunks(per)
                .map(|chunk| scope.spawn(move || self.usage_of_entries(chunk, procs)))
                .collect();
            workers
                .into_iter()
                .flat_map(|w| w.join().unwrap_or_default())
                .collect()
        })
    }

    fn usage_of_entries(
        &self,
        entries: &[(&str, Entry)],
        procs: Option<&isolators::posix::ProcessTable>,
    ) -> Vec<(String, ResourceStatistics)> {
        let mut out = Vec::with_capacity(entries.len());
        for (id, entry) in entries {
            let stats = match &self.cgroups {
                Some(cg) => match cg.statistics(id, &entry.limits) {
                    Ok(stats) => stats,
                    Err(err) => {
                        tracing::debug!(container_id = id, %err, "no cgroup statistics");
                        continue;
                    }
                },
                None => {
                    let mut stats = ResourceStatistics {
                        timestamp: now_secs(),
                        cpus_limit: entry.limits.cpus,
                        mem_limit_bytes: entry.limits.memory_limit(),
                        ..Default::default()
                    };
                    if let Some(tree) = procs.and_then(|p| p.usage(entry.launched.pid)) {
                        tree.fill(&mut stats);
                    }
                    stats
                }
            };
            out.push(((*id).to_owned(), stats));
        }
        out
    }

    /// The container's processes as launched.
    pub fn launched(&self, id: &str) -> Result<Launched, ContainerizerError> {
        Ok(self.entry(id)?.launched)
    }

    /// Re-attaches to containers left by a previous agent: their supervisors are found
    /// through `supervisor.pid` and watched with a pidfd. Returns the recovered ids.
    pub async fn recover(&self) -> Result<Vec<String>, ContainerizerError> {
        let dir = containers_dir(&self.config.runtime_dir);
        let entries =
            std::fs::read_dir(&dir).map_err(io_err(format!("reading {}", dir.display())))?;
        let mut recovered = Vec::new();
        for entry in entries.flatten() {
            let id = entry.file_name().to_string_lossy().into_owned();
            if self
                .containers
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .contains_key(&id)
            {
                continue;
            }
            let paths = ContainerPaths::new(&self.config.runtime_dir, &id);
            let Ok(bytes) = std::fs::read(paths.launch_info()) else {
                continue;
            };
            let Ok(info) = serde_json::from_slice::<LaunchInfo>(&bytes) else {
                continue;
            };
            let pid = read_pid(&paths.pid()).unwrap_or(0);
            let supervisor_pid = read_pid(&paths.supervisor_pid()).unwrap_or(0);
            let (tx, rx) = watch::channel(None);
            let termination_path = paths.termination();
            let pidfd = if supervisor_pid > 0 {
                pidfd_open(supervisor_pid).ok()
            } else {
                None
            };
            tokio::spawn(async move {
                if let Some(fd) = pidfd {
                    // SAFETY: the AsyncFd owns the OwnedFd, so the fd stays open (and is not
                    // reused) for as long as it is registered.
                    if let Ok(afd) = unsafe { tokio::io::unix::AsyncFd::register(fd) } {
                        let _ = afd.readable().await;
                    }
                }
                let _ = tx.send(Some(read_termination(&termination_path)));
            });
            let launched = Launched {
                pid,
                supervisor_pid,
            };
            let e = Entry {
                launched,
                limits: info.limits,
                done: rx,
            };
            self.containers
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .insert(id.clone(), e);
            recovered.push(id);
        }
        self.destroy_orphan_rootfses();
        Ok(recovered)
    }
}

/// Creates the sandbox and the container's runtime directory (which must not exist yet),
/// writes `launch_info` and returns the supervisor's log file. Blocking.
fn write_launch_files(
    id: &str,
    sandbox: &Path,
    paths: &ContainerPaths,
    launch_info: &[u8],
) -> Result<std::fs::File, ContainerizerError> {
    std::fs::create_dir_all(sandbox)
        .map_err(io_err(format!("creating sandbox {}", sandbox.display())))?;
    let dir = paths.dir();
    if let Some(parent) = dir.parent() {
        std::fs::create_dir_all(parent)
            .map_err(io_err(format!("creating {}", parent.display())))?;
    }
    match std::fs::create_dir(dir) {
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            return Err(ContainerizerError::Exists(id.to_owned()))
        }
        other => other.map_err(io_err(format!("creating {}", dir.display())))?,
    }
    // Owner-only: the command's environment may hold the executor's token
    // (MESOS_EXECUTOR_AUTHENTICATION_TOKEN), and tasks of other users share the host.
    write_private(&paths.launch_info(), launch_info).map_err(io_err("writing launch_info"))?;
    std::fs::File::create(paths.supervisor_log()).map_err(io_err("creating supervisor.log"))
}

/// Creates (or truncates) `path` with mode 0600 and writes `bytes`.
fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)?;
    file.write_all(bytes)
}

fn read_termination(path: &Path) -> Termination {
    match Termination::read(path) {
        Ok(Some(t)) => t,
        Ok(None) => {
            Termination::launch_failed("the supervisor exited without recording a termination")
        }
        Err(e) => Termination::launch_failed(format!("unreadable termination record: {e}")),
    }
}

fn pidfd_open(pid: i32) -> std::io::Result<OwnedFd> {
    // SAFETY: pidfd_open(2) takes a pid and flags and returns a new fd or -1.
    let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, pid, 0) };
    if fd < 0 {
        return Err(std::io::Error::last_os_error());
    }
    let fd = i32::try_from(fd).map_err(std::io::Error::other)?;
    // SAFETY: the kernel just returned this fd to us; nobody else owns it.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

fn now_secs() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0)
}

// Container images.
impl MesosContainerizer {
    /// Unmounts the image root filesystem of `id`, if any, and removes it with its writable
    /// layer off the caller's path: the unmount is immediate (nothing of the container stays
    /// mounted), the directory is renamed into `<provisioner>/trash/` at once and deleted on
    /// a blocking thread (a full copy, or a busy disk, can take long; a crash meanwhile leaves
    /// it to the next recovery).
    fn destroy_rootfs(&self, id: &str) {
        let Some(dir) = &self.config.provisioner_dir else {
            return;
        };
        let container = dir.join("containers").join(id);
        if !container.exists() {
            return;
        }
        let trash = dir.join("trash");
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        let moved = trash.join(format!("{id}.{nanos}"));
        let deferred = oci_bundles::provision::unmount(&container).is_ok()
            && std::fs::create_dir_all(&trash).is_ok()
            && std::fs::rename(&container, &moved).is_ok();
        let target = if deferred { moved } else { container };
        let id = id.to_owned();
        let remove = move || {
            if let Err(e) = oci_bundles::provision::destroy(&target) {
                tracing::warn!(container_id = id, %e, "removing the container's rootfs failed");
            }
        };
        match tokio::runtime::Handle::try_current() {
            Ok(rt) if deferred => drop(rt.spawn_blocking(remove)),
            _ => remove(),
        }
    }

    /// Removes root filesystems whose container is not known (an agent crash between
    /// provisioning and launch, or a reboot that emptied the runtime dir).
    fn destroy_orphan_rootfses(&self) {
        let Some(dir) = &self.config.provisioner_dir else {
            return;
        };
        // Whatever a crash left in the trash.
        if let Ok(trash) = std::fs::read_dir(dir.join("trash")) {
            for entry in trash.flatten() {
                let _ = oci_bundles::provision::destroy(&entry.path());
            }
        }
        let Ok(entries) = std::fs::read_dir(dir.join("containers")) else {
            return;
        };
        for entry in entries.flatten() {
            let id = entry.file_name().to_string_lossy().into_owned();
            let known = self
                .containers
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .contains_key(&id);
            if !known {
                tracing::info!(container_id = id, "removing an orphan container rootfs");
                self.destroy_rootfs(&id);
            }
        }
    }
}
