//! The environment Mesos gives executors (`Slave::executorEnvironment`, reference §2.1),
//! and the sandbox layout `<work_dir>/slaves/<agent>/frameworks/<fw>/executors/<ex>/runs/<c>`.

use std::path::{Path, PathBuf};

use meseta_api::{CommandInfo, ExecutorInfo, FrameworkInfo};

use crate::containerizer::launch_info::DEFAULT_PATH;
use crate::flags::{format_duration, Config};

/// Mesos's `--executor_reregistration_timeout` default.
const SUBSCRIPTION_BACKOFF_MAX: &str = "2secs";

/// The executor's sandbox directory on the host.
pub fn sandbox_dir(
    work_dir: &Path,
    agent_id: &str,
    framework_id: &str,
    executor_id: &str,
    container_id: &str,
) -> PathBuf {
    executor_runs_dir(work_dir, agent_id, framework_id, executor_id).join(container_id)
}

/// `.../executors/<ex>/runs`, where the `latest` symlink lives.
pub fn executor_runs_dir(
    work_dir: &Path,
    agent_id: &str,
    framework_id: &str,
    executor_id: &str,
) -> PathBuf {
    work_dir
        .join("slaves")
        .join(agent_id)
        .join("frameworks")
        .join(framework_id)
        .join("executors")
        .join(executor_id)
        .join("runs")
}

/// Everything needed to build the environment.
#[derive(Debug)]
pub struct EnvInput<'a> {
    /// Flags.
    pub config: &'a Config,
    /// `ip:port` of the agent.
    pub endpoint: String,
    /// The agent id.
    pub agent_id: &'a str,
    /// The framework.
    pub framework: &'a FrameworkInfo,
    /// The executor.
    pub executor: &'a ExecutorInfo,
    /// Its sandbox.
    pub directory: &'a Path,
    /// HOME for the user it runs as.
    pub home: Option<PathBuf>,
}

/// Whether the executor is one of the agent's own programs (the command or docker executor).
fn own_executor(input: &EnvInput<'_>) -> bool {
    let Some(value) = input
        .executor
        .command
        .as_ref()
        .and_then(|c| c.value.as_deref())
    else {
        return false;
    };
    let program = Path::new(value);
    [&input.config.per_task_dir, &input.config.launcher_dir]
        .iter()
        .any(|dir| program.parent() == Some(dir.as_path()))
}

/// Builds the executor's complete environment.
pub fn executor_env(input: &EnvInput<'_>) -> Vec<(String, String)> {
    let fw_id = input
        .framework
        .id
        .as_ref()
        .map(|i| i.value.clone())
        .unwrap_or_default();
    let checkpoint = input.framework.checkpoint.unwrap_or(false);
    let grace = input
        .executor
        .shutdown_grace_period
        .as_ref()
        .and_then(|d| u64::try_from(d.nanoseconds).ok())
        .map(std::time::Duration::from_nanos)
        .unwrap_or(input.config.executor_shutdown_grace_period);
    let dir = input.directory.display().to_string();
    let mut env: Vec<(String, String)> = vec![
        ("MESOS_AGENT_ENDPOINT".into(), input.endpoint.clone()),
        ("MESOS_FRAMEWORK_ID".into(), fw_id),
        (
            "MESOS_EXECUTOR_ID".into(),
            input.executor.executor_id.value.clone(),
        ),
        ("MESOS_DIRECTORY".into(), dir.clone()),
        ("MESOS_SANDBOX".into(), dir),
        ("MESOS_SLAVE_ID".into(), input.agent_id.to_owned()),
        (
            "MESOS_SLAVE_PID".into(),
            format!("slave(1)@{}", input.endpoint),
        ),
        (
            "MESOS_CHECKPOINT".into(),
            if checkpoint { "1" } else { "0" }.into(),
        ),
        ("MESOS_HTTP_COMMAND_EXECUTOR".into(), "1".into()),
        (
            "MESOS_EXECUTOR_SHUTDOWN_GRACE_PERIOD".into(),
            format_duration(grace),
        ),
        ("LIBPROCESS_PORT".into(), "0".into()),
    ];
    // Mesos gives the socket to every executor with --http_executor_domain_sockets; Meseta's
    // own executors (started from the agent's launcher directory) always get it.
    if let Some(socket) = &input.config.domain_socket {
        if input.config.http_executor_domain_sockets || own_executor(input) {
            env.push(("MESOS_DOMAIN_SOCKET".into(), socket.display().to_string()));
        }
    }
    if checkpoint {
        env.push((
            "MESOS_RECOVERY_TIMEOUT".into(),
            input.config.recovery_timeout.clone(),
        ));
        env.push((
            "MESOS_SUBSCRIPTION_BACKOFF_MAX".into(),
            SUBSCRIPTION_BACKOFF_MAX.into(),
        ));
    }
    if let Some(ip) = input.config.ip {
        env.push(("LIBPROCESS_IP".into(), ip.to_string()));
    }
    if let Some(cmd) = &input.executor.command {
        add_command_env(&mut env, cmd);
    }
    if !env.iter().any(|(k, _)| k == "PATH") {
        env.push(("PATH".into(), DEFAULT_PATH.into()));
    }
    if !env.iter().any(|(k, _)| k == "HOME") {
        let home = input
            .home
            .clone()
            .unwrap_or_else(|| input.directory.to_path_buf());
        env.push(("HOME".into(), home.display().to_string()));
    }
    env
}

/// `CommandInfo.environment` values win over the agent's (as in Mesos).
fn add_command_env(env: &mut Vec<(String, String)>, cmd: &CommandInfo) {
    let Some(e) = &cmd.environment else {
        return;
    };
    for var in &e.variables {
        let Some(value) = &var.value else {
            continue;
        };
        env.retain(|(k, _)| k != &var.name);
        env.push((var.name.clone(), value.clone()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sandbox_layout_is_mesos() {
        let p = sandbox_dir(Path::new("/w"), "a-S0", "f-0000", "ex", "c1");
        assert_eq!(
            p,
            Path::new("/w/slaves/a-S0/frameworks/f-0000/executors/ex/runs/c1")
        );
    }
}
