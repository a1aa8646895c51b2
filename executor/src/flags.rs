//! Command-line flags. The agent configures the executor mostly through the environment
//! (see [`crate::config`]); these are the flags Mesos' `mesos-executor` accepts, so an agent
//! passing them does not make the executor fail.

use std::path::PathBuf;

use clap::Parser;
use meseta_api::Environment;

const ENVIRONMENT_HELP: &str = "\
Configuration comes from the environment the agent sets:
  MESOS_AGENT_ENDPOINT                 agent host:port (required)
  MESOS_FRAMEWORK_ID                   framework id (required)
  MESOS_EXECUTOR_ID                    executor id (required)
  MESOS_DIRECTORY                      sandbox path on the host (required)
  MESOS_SANDBOX                        sandbox as seen by the task, its cwd (default MESOS_DIRECTORY)
  MESOS_CHECKPOINT                     \"1\" if the framework checkpoints
  MESOS_EXECUTOR_SHUTDOWN_GRACE_PERIOD e.g. 5secs; SHUTDOWN kills the task with this minus 2 s
  MESOS_SUBSCRIPTION_BACKOFF_MAX       e.g. 2secs: cap of the reconnect backoff
  MESOS_RECOVERY_TIMEOUT               e.g. 15mins: give up (kill the task, exit 1) when the
                                       agent is unreachable this long

A KILL uses the grace period of the KILL's kill_policy, else the task's kill_policy, else 3 s,
between SIGTERM and SIGKILL to the task's process group.
Logs go to stderr (RUST_LOG sets the level); the task's stdout/stderr are the executor's.
Exit status: 0 when done, 1 on bad configuration or when the agent stayed unreachable.";

/// `mesos-executor` flags.
#[derive(Debug, Clone, Parser)]
#[command(
    name = "mesos-executor",
    version,
    args_override_self = true,
    about = "The Mesos command executor: runs one task's command in its sandbox and reports \
             its states to the agent over the v1 executor HTTP API",
    after_help = ENVIRONMENT_HELP
)]
pub struct Flags {
    /// Directory of the Mesos binaries (accepted for compatibility; unused).
    #[arg(long = "launcher_dir", value_name = "DIR")]
    pub launcher_dir: Option<PathBuf>,
    /// JSON `Environment` (`{"variables":[{"name":..,"value":..}]}`) added to the task's
    /// environment; CommandInfo.environment wins on conflicts.
    #[arg(long = "task_environment", value_name = "JSON", value_parser = parse_environment)]
    pub task_environment: Option<Environment>,
    /// Sandbox path inside a container image (accepted for compatibility; MESOS_SANDBOX is used).
    #[arg(long = "sandbox_directory", value_name = "DIR")]
    pub sandbox_directory: Option<PathBuf>,
    /// Working directory inside a container image (accepted for compatibility; unused).
    #[arg(long = "working_directory", value_name = "DIR")]
    pub working_directory: Option<PathBuf>,
    /// User to run the task as (accepted for compatibility; the containerizer switches user).
    #[arg(long = "user", value_name = "USER")]
    pub user: Option<String>,
    /// Image root filesystem (accepted for compatibility; the containerizer sets up the rootfs).
    #[arg(long = "rootfs", value_name = "DIR")]
    pub rootfs: Option<PathBuf>,
    /// A task that runs inside a container image: the agent's `task_launch_info` file. The
    /// task is then started as `<launcher_dir>/mesos-containerizer run-task
    /// --task_launch_info=FILE`, which runs it inside the image's root filesystem.
    #[arg(long = "task_launch_info", value_name = "FILE")]
    pub task_launch_info: Option<PathBuf>,
}

fn parse_environment(text: &str) -> Result<Environment, String> {
    serde_json::from_str(text).map_err(|err| format!("not a JSON Environment: {err}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_task_environment_json() {
        let flags = Flags::try_parse_from([
            "mesos-executor",
            "--launcher_dir=/usr/libexec/mesos",
            r#"--task_environment={"variables":[{"name":"A","type":"VALUE","value":"1"}]}"#,
        ])
        .unwrap();
        let environment = flags.task_environment.unwrap();
        assert_eq!(environment.get("A"), Some("1"));
        assert!(Flags::try_parse_from(["mesos-executor", "--task_environment=nope"]).is_err());
    }
}
