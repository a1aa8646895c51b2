//! The task's process: started from its `CommandInfo` in its own process group with the
//! sandbox as working directory, signalled as a group, and its exit described the way the
//! Mesos command executor words it.

use std::os::unix::process::ExitStatusExt;
use std::path::Path;
use std::process::ExitStatus;

use meseta_api::{CommandInfo, Environment, TaskInfo};
use nix::sys::signal::{killpg, Signal};
use nix::unistd::Pid;
use tokio::process::{Child, Command};

/// Why the task could not be started.
#[derive(Debug, thiserror::Error)]
pub enum SpawnError {
    /// `CommandInfo.value` is missing.
    #[error("the task has no command value")]
    NoCommand,
    /// `fork`/`exec` failed.
    #[error("failed to launch command {command:?}: {source}")]
    Exec {
        /// What was run.
        command: String,
        /// The OS error.
        source: std::io::Error,
    },
}

/// A running task process (the leader of its own process group).
#[derive(Debug)]
pub struct TaskProcess {
    child: Child,
    pgid: Pid,
}

/// The variables added to the executor's own environment for the task, later ones winning
/// (Mesos `launcher/executor.cpp`): `--task_environment`, then `CommandInfo.environment`,
/// then `MESOS_ALLOCATION_ROLE` from the task's resources. SECRET variables, which carry no
/// plain value, are skipped.
pub fn task_environment(
    task: &TaskInfo,
    flag_environment: Option<&Environment>,
) -> Vec<(String, String)> {
    let command_environment = task.command.as_ref().and_then(|c| c.environment.as_ref());
    let mut out: Vec<(String, String)> = flag_environment
        .into_iter()
        .chain(command_environment)
        .flat_map(|e| &e.variables)
        .filter_map(|v| {
            v.value
                .as_ref()
                .map(|value| (v.name.clone(), value.clone()))
        })
        .collect();
    let role = task
        .resources
        .first()
        .and_then(|r| r.allocation_info.as_ref())
        .and_then(|a| a.role.clone());
    if let Some(role) = role {
        out.push(("MESOS_ALLOCATION_ROLE".to_owned(), role));
    }
    out
}

/// Builds the OS command for `info`: `/bin/sh -c <value>` when `shell` (the default), else
/// `value` executed directly with `arguments` as argv (`arguments[0]` is argv\[0\], as in
/// Mesos), with `environment` added to the executor's own.
pub fn build_command(
    info: &CommandInfo,
    environment: &[(String, String)],
    sandbox: &Path,
) -> Result<Command, SpawnError> {
    let value = info.value.as_deref().ok_or(SpawnError::NoCommand)?;
    let mut command = if info.is_shell() {
        let mut c = Command::new("/bin/sh");
        c.arg0("sh").arg("-c").arg(value);
        c
    } else {
        let mut c = Command::new(value);
        if let Some((argv0, rest)) = info.arguments.split_first() {
            c.arg0(argv0).args(rest);
        }
        c
    };
    // The executor's token is its own (Mesos's executor library erases it before tasks run).
    command.env_remove(crate::config::AUTHENTICATION_TOKEN_ENV);
    command.envs(environment.iter().map(|(k, v)| (k, v)));
    command.current_dir(sandbox).process_group(0);
    Ok(command)
}

impl TaskProcess {
    /// Starts the task's command.
    pub fn spawn(
        info: &CommandInfo,
        environment: &[(String, String)],
        sandbox: &Path,
    ) -> Result<Self, SpawnError> {
        let mut command = build_command(info, environment, sandbox)?;
        let child = command.spawn().map_err(|source| SpawnError::Exec {
            command: info.value.clone().unwrap_or_default(),
            source,
        })?;
        let pid = child
            .id()
            .and_then(|id| i32::try_from(id).ok())
            .ok_or_else(|| SpawnError::Exec {
                command: info.value.clone().unwrap_or_default(),
                source: std::io::Error::other("child has no pid"),
            })?;
        Ok(Self {
            child,
            pgid: Pid::from_raw(pid),
        })
    }

    /// The task's pid (also its process group id).
    pub fn pid(&self) -> i32 {
        self.pgid.as_raw()
    }

    /// Waits for the task's leader process to exit. Cancel-safe.
    pub async fn wait(&mut self) -> std::io::Result<ExitStatus> {
        self.child.wait().await
    }

    /// Sends `signal` to the task's whole process group. A group that is already gone is
    /// not an error.
    pub fn signal_group(&self, signal: Signal) {
        match killpg(self.pgid, signal) {
            Ok(()) | Err(nix::errno::Errno::ESRCH) => {}
            Err(err) => tracing::warn!(pgid = self.pgid.as_raw(), ?signal, %err, "killpg failed"),
        }
    }
}

/// Sends SIGKILL to a process group that may already be gone: used after the leader exited
/// to reap stragglers it left behind.
pub fn kill_group_remnants(pgid: i32) {
    match killpg(Pid::from_raw(pgid), Signal::SIGKILL) {
        Ok(()) | Err(nix::errno::Errno::ESRCH) => {}
        Err(err) => tracing::debug!(pgid, %err, "killpg of leftover group failed"),
    }
}

/// `"Command exited with status N"` or `"Command terminated with signal SIGNAME"`.
pub fn describe_exit(status: ExitStatus) -> String {
    if let Some(code) = status.code() {
        return format!("Command exited with status {code}");
    }
    match status.signal() {
        Some(signal) => format!("Command terminated with signal {}", signal_name(signal)),
        None => format!("Command ended with {status}"),
    }
}

/// `SIGTERM` for 15; the number for signals nix does not know.
pub fn signal_name(signal: i32) -> String {
    Signal::try_from(signal).map_or_else(|_| format!("signal {signal}"), |s| s.as_str().to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn command_environment_overrides_flag_environment() {
        let task: TaskInfo = serde_json::from_value(serde_json::json!({
            "name": "t", "task_id": {"value": "t"}, "agent_id": {"value": "a"},
            "resources": [{"name": "cpus", "type": "SCALAR", "scalar": {"value": 1},
                           "allocation_info": {"role": "eng"}}],
            "command": {"value": "true", "environment": {"variables": [
                {"name": "A", "value": "from-command"},
                {"name": "S", "type": "SECRET", "secret": {"type": "REFERENCE"}}]}}
        }))
        .unwrap();
        let flag = Environment::from_pairs([("A", "from-flag"), ("B", "b")]);
        let env = task_environment(&task, Some(&flag));
        let last = |name: &str| {
            env.iter()
                .rev()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.as_str())
        };
        assert_eq!(last("A"), Some("from-command"));
        assert_eq!(last("B"), Some("b"));
        assert_eq!(last("S"), None);
        assert_eq!(last("MESOS_ALLOCATION_ROLE"), Some("eng"));
    }

    #[test]
    fn tasks_do_not_inherit_the_executor_token() {
        let info = CommandInfo::shell("env".to_owned());
        let command = build_command(&info, &[], Path::new("/")).unwrap();
        let removed = command
            .as_std()
            .get_envs()
            .any(|(k, v)| k == crate::config::AUTHENTICATION_TOKEN_ENV && v.is_none());
        assert!(removed);
    }

    #[test]
    fn describes_exit_codes_and_signals() {
        assert_eq!(
            describe_exit(ExitStatus::from_raw(3 << 8)),
            "Command exited with status 3"
        );
        assert_eq!(
            describe_exit(ExitStatus::from_raw(15)),
            "Command terminated with signal SIGTERM"
        );
        assert_eq!(
            describe_exit(ExitStatus::from_raw(9)),
            "Command terminated with signal SIGKILL"
        );
    }

    #[test]
    fn shell_false_uses_arguments_as_argv() {
        let info = CommandInfo {
            shell: Some(false),
            value: Some("/bin/echo".into()),
            arguments: vec!["echo".into(), "a".into(), "b".into()],
            ..CommandInfo::default()
        };
        let command = build_command(&info, &[], Path::new("/")).unwrap();
        let std = command.as_std();
        assert_eq!(std.get_program(), "/bin/echo");
        let args: Vec<_> = std.get_args().collect();
        assert_eq!(args, ["a", "b"]);
    }
}
