//! A command task inside an image: its argv (Mesos's CommandInfo × Entrypoint/Cmd rules),
//! environment (the image's `Env`, the `MESOS_*` variables, then `CommandInfo.environment`),
//! working directory, user and cgroup, as `mesos-containerizer run-task` reads them, and the
//! mount points it makes.

use std::path::{Path, PathBuf};

use meseta_api::TaskInfo;
use oci_bundles::RuntimeConfig;

use super::MountPointKind;
use crate::containerizer::launch_info::{TaskLaunchInfo, DEFAULT_PATH, IMAGE_TASKS_DEVICES_CGROUP};
use crate::containerizer::mesos::ContainerSpec;
use crate::daemon::Agent;

/// run-task's state directory in the container's provisioner directory. It was `libcontainer`
/// while run-task used youki's libcontainer; nothing reads it back (run-task keeps no state
/// across a restart, and each run-task reads the path from its own `task_launch_info`), so
/// containers started under the old name keep working and are removed the same way.
const STATE_DIR: &str = "run-task";

/// The task's command, environment, working directory and user inside the image.
pub(super) fn task_launch_info(
    agent: &Agent,
    spec: &ContainerSpec,
    task: &TaskInfo,
    runtime: &RuntimeConfig,
    rootfs: &Path,
    dir: &Path,
) -> Result<TaskLaunchInfo, String> {
    let cmd = task.command.clone().unwrap_or_default();
    let command = oci_bundles::command::launch_command(
        cmd.shell.unwrap_or(true),
        cmd.value.as_deref(),
        &cmd.arguments,
        runtime,
    )
    .map_err(|e| format!("Failed to launch container: {e}"))?;
    let mut argv = command.argv;
    if let Some(first) = argv.first_mut() {
        *first = command.path;
    }
    let target = agent.config.sandbox_directory.clone();
    let mut env = image_env(runtime);
    for (k, v) in spec
        .command
        .env
        .iter()
        .filter(|(k, _)| k.starts_with("MESOS_"))
    {
        set(&mut env, k, v);
    }
    set(&mut env, "MESOS_SANDBOX", &target.display().to_string());
    let vars = cmd.environment.iter().flat_map(|e| &e.variables);
    for var in vars {
        if let Some(value) = &var.value {
            set(&mut env, &var.name, value);
        }
    }
    if !env.iter().any(|(k, _)| k == "PATH") {
        env.push(("PATH".into(), DEFAULT_PATH.into()));
    }
    let working_dir = runtime
        .working_dir
        .as_deref()
        .filter(|w| w.starts_with('/'))
        .map(PathBuf::from)
        .unwrap_or_else(|| target.clone());
    let state_dir = dir.join(STATE_DIR);
    std::fs::create_dir_all(&state_dir)
        .map_err(|e| format!("Failed to create {}: {e}", state_dir.display()))?;
    Ok(TaskLaunchInfo {
        container_id: spec.container_id.clone(),
        rootfs: rootfs.to_owned(),
        sandbox: spec.sandbox.clone(),
        sandbox_target: target,
        argv,
        env,
        working_dir,
        // The task's user (--switch_user) wins over the image's `User`; the executor itself
        // stays root, as run-task needs (mounts, pivot_root).
        user: spec
            .command
            .user
            .clone()
            .or_else(|| runtime.user.clone())
            .filter(|u| !u.is_empty()),
        hostname: agent.config.hostname.clone(),
        cgroups_path: IMAGE_TASKS_DEVICES_CGROUP.to_owned(),
        state_dir,
    })
}

/// The image's `Env` as pairs.
pub(super) fn image_env(runtime: &RuntimeConfig) -> Vec<(String, String)> {
    runtime
        .env
        .iter()
        .flatten()
        .filter_map(|kv| kv.split_once('='))
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
}

/// Sets `key`, replacing an earlier value.
pub(super) fn set(env: &mut Vec<(String, String)>, key: &str, value: &str) {
    env.retain(|(k, _)| k != key);
    env.push((key.to_owned(), value.to_owned()));
}

/// The mount points `mesos-containerizer run-task` mounts over in a command task's root
/// filesystem (its OCI spec: `/proc`, `/dev`, `/sys`, the sandbox at `sandbox_target`, the
/// generated `/etc/hostname`, and the host's `/etc/hosts` and `/etc/resolv.conf` where the
/// host has them). Those the image lacks come from a shared layer instead of being created in
/// each container's upper layer at launch.
pub fn run_task_mount_points(sandbox_target: &Path) -> Vec<(PathBuf, MountPointKind)> {
    let mut points = vec![
        (PathBuf::from("/proc"), MountPointKind::Dir),
        (PathBuf::from("/dev"), MountPointKind::Dir),
        (PathBuf::from("/sys"), MountPointKind::Dir),
        (sandbox_target.to_owned(), MountPointKind::Dir),
        (PathBuf::from("/etc/hostname"), MountPointKind::File),
    ];
    for file in ["/etc/hosts", "/etc/resolv.conf"] {
        if Path::new(file).is_file() {
            points.push((PathBuf::from(file), MountPointKind::File));
        }
    }
    points
}
