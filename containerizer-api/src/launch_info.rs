//! `launch_info`: everything the supervisor needs to create one container, written by the
//! agent before it starts the supervisor. Validated on both sides: the agent rejects bad input
//! with a clear error, and the supervisor refuses a file it cannot trust.

use std::path::PathBuf;

use isolators::{CgroupVersion, Controllers, Limits, Namespaces};
use serde::{Deserialize, Serialize};

/// The default `PATH` for commands, as Mesos gives executors.
pub const DEFAULT_PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/// The `devices` cgroup of tasks inside images (`TaskLaunchInfo::cgroups_path`): one for the
/// host, created with Docker's default device rules by the first `run-task` and never removed,
/// outside every `--cgroups_root` so that no container listing sees it.
pub const IMAGE_TASKS_DEVICES_CGROUP: &str = "/meseta-image-tasks";

/// What to run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Command {
    /// `argv`; `argv[0]` is looked up in the container's `PATH` unless it contains a `/`.
    pub argv: Vec<String>,
    /// The complete environment, `KEY=VALUE` pairs.
    pub env: Vec<(String, String)>,
    /// User to run as (`--switch_user`); `None` keeps the agent's user.
    #[serde(default)]
    pub user: Option<String>,
}

impl Command {
    /// `sh -c <value>`, as a Mesos `CommandInfo` with `shell: true`.
    pub fn shell(value: &str) -> Self {
        Self {
            argv: vec!["/bin/sh".into(), "-c".into(), value.into()],
            env: vec![("PATH".into(), DEFAULT_PATH.into())],
            user: None,
        }
    }

    /// The `PATH` the command sees.
    pub fn path_var(&self) -> &str {
        self.env
            .iter()
            .find(|(k, _)| k == "PATH")
            .map(|(_, v)| v.as_str())
            .unwrap_or(DEFAULT_PATH)
    }
}

/// The cgroup settings of one container.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CgroupSpec {
    /// v1 or v2, as detected by the agent.
    pub version: CgroupVersion,
    /// `--cgroups_hierarchy`.
    pub hierarchy: PathBuf,
    /// `--cgroups_root`.
    pub root: String,
    /// Which controllers to use.
    pub controllers: Controllers,
}

/// A container with its own root filesystem.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RootfsSpec {
    /// The root filesystem on the host.
    pub path: PathBuf,
    /// Mount it read-only.
    #[serde(default)]
    pub readonly: bool,
    /// Where the sandbox appears inside (`--sandbox_directory`, `/mnt/mesos/sandbox`).
    pub sandbox_target: PathBuf,
}

/// The whole launch request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LaunchInfo {
    /// The container id (also the cgroup name).
    pub container_id: String,
    /// The command.
    pub command: Command,
    /// The sandbox on the host: working directory, and home of `stdout`/`stderr`.
    pub sandbox: PathBuf,
    /// Working directory inside the container; defaults to the sandbox.
    #[serde(default)]
    pub working_dir: Option<PathBuf>,
    /// Namespaces to create.
    pub namespaces: Namespaces,
    /// Hostname in a new UTS namespace; defaults to the container id.
    #[serde(default)]
    pub hostname: Option<String>,
    /// Cgroups, when a cgroups isolator is on.
    #[serde(default)]
    pub cgroups: Option<CgroupSpec>,
    /// Limits written to the cgroups.
    pub limits: Limits,
    /// A root filesystem (image), when the container has one.
    #[serde(default)]
    pub rootfs: Option<RootfsSpec>,
    /// Grace period between SIGTERM and SIGKILL when the agent kills without saying one.
    pub kill_grace_ms: u64,
}

impl LaunchInfo {
    /// The working directory as seen from inside the container.
    pub fn effective_working_dir(&self) -> PathBuf {
        if let Some(dir) = &self.working_dir {
            return dir.clone();
        }
        match &self.rootfs {
            Some(r) => r.sandbox_target.clone(),
            None => self.sandbox.clone(),
        }
    }
}

// Container images.
/// A task that runs inside an image's root filesystem: written by the agent next to the
/// container's `launch_info` (`task_launch_info`), read by `mesos-containerizer run-task`,
/// which the command executor runs in place of the task's command (Mesos's
/// `--task_launch_info`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TaskLaunchInfo {
    /// The container the task belongs to.
    pub container_id: String,
    /// The provisioned root filesystem on the host.
    pub rootfs: PathBuf,
    /// The sandbox on the host.
    pub sandbox: PathBuf,
    /// Where the sandbox appears inside (`--sandbox_directory`).
    pub sandbox_target: PathBuf,
    /// argv, already combined with the image's Entrypoint/Cmd (argv\[0\] is looked up in
    /// the container's `PATH` unless it contains a `/`).
    pub argv: Vec<String>,
    /// The complete environment inside the container.
    pub env: Vec<(String, String)>,
    /// Working directory inside the container.
    pub working_dir: PathBuf,
    /// `uid`, `uid:gid`, `name` or `name:group`, resolved in the image's `/etc/passwd`;
    /// `None` is root.
    #[serde(default)]
    pub user: Option<String>,
    /// Hostname written to `/etc/hostname`.
    pub hostname: String,
    /// The v1 `devices` cgroup the task joins for its device rules (absolute, relative to the
    /// hierarchy): [`IMAGE_TASKS_DEVICES_CGROUP`], shared by every task inside an image.
    pub cgroups_path: String,
    /// run-task's state directory (the generated `/etc/hostname`), removed with the
    /// container's provisioner directory; the agent names it `run-task`.
    pub state_dir: PathBuf,
}

impl TaskLaunchInfo {
    /// `<container runtime dir>/task_launch_info`.
    pub fn path(paths: &super::paths::ContainerPaths) -> PathBuf {
        paths.dir().join("task_launch_info")
    }
}
