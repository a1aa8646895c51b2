//! `mesos-docker-executor` flags, with the names Mesos' docker executor takes
//! (`src/docker/executor.hpp`).

use std::path::PathBuf;
use std::time::Duration;

use clap::Parser;
use meseta_api::Environment;

const HELP: &str = "\
Besides these flags the executor reads the environment the agent sets (MESOS_AGENT_ENDPOINT,
MESOS_FRAMEWORK_ID, MESOS_EXECUTOR_ID, MESOS_DIRECTORY, MESOS_CHECKPOINT, ...), like
mesos-executor. The container is created through the Docker Engine API on --docker_socket
(never the docker CLI), named by --container, with the sandbox bind-mounted at
--mapped_directory. A KILL stops the container with the KILL's kill_policy grace period, else
the task's, else --stop_timeout. The container's stdout/stderr are copied to the executor's
(the sandbox's stdout and stderr files).";

/// `mesos-docker-executor` flags.
#[derive(Debug, Clone, Parser)]
#[command(
    name = "mesos-docker-executor",
    version,
    args_override_self = true,
    about = "The Mesos docker executor: runs one task in a Docker container through the \
             Docker Engine API and reports its states to the agent",
    after_help = HELP
)]
pub struct DockerFlags {
    /// Name of the Docker container to run the task in (`mesos-<container id>`).
    #[arg(long = "container", value_name = "NAME")]
    pub container: String,
    /// Path of the docker CLI (accepted for compatibility; the Engine API is used).
    #[arg(long = "docker", value_name = "PATH", default_value = "docker")]
    pub docker: String,
    /// The Docker daemon's unix socket.
    #[arg(long = "docker_socket", value_name = "PATH", default_value = meseta_docker::DEFAULT_SOCKET)]
    pub docker_socket: PathBuf,
    /// The sandbox on the host (default: MESOS_DIRECTORY).
    #[arg(long = "sandbox_directory", value_name = "DIR")]
    pub sandbox_directory: Option<PathBuf>,
    /// Where the sandbox is mounted inside the container; also MESOS_SANDBOX and the
    /// working directory.
    #[arg(
        long = "mapped_directory",
        value_name = "DIR",
        default_value = "/mnt/mesos/sandbox"
    )]
    pub mapped_directory: PathBuf,
    /// Grace period of `docker stop` when neither the KILL nor the task has a kill policy
    /// (the agent's --docker_stop_timeout), e.g. `10secs`.
    #[arg(long = "stop_timeout", value_name = "DURATION", default_value = "0ns",
          value_parser = parse_duration)]
    pub stop_timeout: Duration,
    /// Directory of the Mesos binaries (accepted for compatibility).
    #[arg(long = "launcher_dir", value_name = "DIR")]
    pub launcher_dir: Option<PathBuf>,
    /// JSON `Environment` added to the container's environment (before CommandInfo's).
    #[arg(long = "task_environment", value_name = "JSON", value_parser = parse_environment)]
    pub task_environment: Option<Environment>,
    /// Enforce the cpu limit with a CFS quota (`--cpu-quota`), not only shares.
    #[arg(long = "cgroups_enable_cfs", default_value = "false", num_args = 0..=1,
          default_missing_value = "true", action = clap::ArgAction::Set)]
    pub cgroups_enable_cfs: bool,
    /// A Docker `config.json` (the agent's --docker_config, written by the agent to a file
    /// only root can read): the credentials for the image's registry are sent to dockerd
    /// with the pull. A Meseta addition; Mesos's agent pulls before starting the executor.
    #[arg(long = "docker_config", value_name = "PATH")]
    pub docker_config: Option<PathBuf>,
}

fn parse_duration(text: &str) -> Result<Duration, String> {
    meseta_base::parse_duration(text).map_err(|e| e.to_string())
}

fn parse_environment(text: &str) -> Result<Environment, String> {
    serde_json::from_str(text).map_err(|err| format!("not a JSON Environment: {err}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_mesos_docker_executor_flags() {
        let f = DockerFlags::try_parse_from([
            "mesos-docker-executor",
            "--container=mesos-c1",
            "--docker=docker",
            "--docker_socket=/run/d.sock",
            "--sandbox_directory=/w/sb",
            "--mapped_directory=/mnt/mesos/sandbox",
            "--stop_timeout=10secs",
            "--launcher_dir=/usr/libexec/mesos",
            "--docker_config=/run/mesos/docker/config.json",
        ])
        .unwrap();
        assert_eq!(f.container, "mesos-c1");
        assert_eq!(
            f.docker_config.as_deref(),
            Some(std::path::Path::new("/run/mesos/docker/config.json"))
        );
        assert_eq!(f.stop_timeout, Duration::from_secs(10));
        assert!(DockerFlags::try_parse_from(["x", "--container=c", "--stop_timeout=10"]).is_err());
        assert!(DockerFlags::try_parse_from(["x"]).is_err());
    }
}
