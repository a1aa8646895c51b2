//! The task's process: started from its `CommandInfo` in its own process group with the
//! sandbox as working directory, watched through a pidfd, signalled as a group, and its exit
//! described the way the Mesos command executor words it.
//!
//! A pidfd rather than tokio's child handling (a SIGCHLD handler and a `Child` that only
//! this process image knows): the pidfd and the child relation survive the executor's
//! `execve` into its park and back (see [`crate::park`]), so a resumed executor adopts the
//! task with [`TaskProcess::adopt`] and reaps it with `waitpid`.

use std::os::fd::{AsFd, BorrowedFd, FromRawFd, OwnedFd};
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::Path;
use std::process::{Command, ExitStatus};

use meseta_api::{CommandInfo, Environment, TaskInfo};
use nix::sys::signal::{killpg, Signal};
use nix::unistd::Pid;
use tokio::io::unix::AsyncFd;
use tokio::io::Interest;

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

/// A running task process (the leader of its own process group), our child until reaped.
#[derive(Debug)]
pub struct TaskProcess {
    pidfd: AsyncFd<OwnedFd>,
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
        let failed = |source| SpawnError::Exec {
            command: info.value.clone().unwrap_or_default(),
            source,
        };
        let mut command = build_command(info, environment, sandbox)?;
        // Dropping std's `Child` neither waits nor kills: the task stays our child, reaped
        // in `wait` through its pid.
        let child = command.spawn().map_err(failed)?;
        let pid = i32::try_from(child.id())
            .map_err(|_| failed(std::io::Error::other("child pid out of range")))?;
        // Race-free: an unreaped child's pid cannot be reused.
        let adopted = pidfd_open(pid).and_then(|pidfd| Self::adopt(pid, pidfd));
        adopted.map_err(|err| {
            let _ = killpg(Pid::from_raw(pid), Signal::SIGKILL);
            let _ = nix::sys::wait::waitpid(Pid::from_raw(pid), None);
            failed(err)
        })
    }

    /// Takes over our child `pid` through its pidfd (after [`crate::park`]).
    pub fn adopt(pid: i32, pidfd: OwnedFd) -> std::io::Result<Self> {
        // SAFETY: the `OwnedFd` moves into the `AsyncFd`, which owns it from now on; nothing
        // closes or replaces the descriptor while it is registered.
        let pidfd = unsafe { AsyncFd::register_with_interest(pidfd, Interest::READABLE)? };
        Ok(Self {
            pidfd,
            pgid: Pid::from_raw(pid),
        })
    }

    /// The task's pid (also its process group id).
    pub fn pid(&self) -> i32 {
        self.pgid.as_raw()
    }

    /// The task's pidfd (readable once it exited).
    pub fn pidfd(&self) -> BorrowedFd<'_> {
        self.pidfd.get_ref().as_fd()
    }

    /// Waits for the task's leader process to exit and reaps it. Cancel-safe; call it no
    /// more once it returned.
    pub async fn wait(&mut self) -> std::io::Result<ExitStatus> {
        loop {
            let mut ready = self.pidfd.readable().await?;
            let mut status = 0;
            // SAFETY: waitpid(2) on our own child with a valid status pointer.
            let reaped = unsafe { libc::waitpid(self.pgid.as_raw(), &mut status, libc::WNOHANG) };
            match reaped {
                0 => ready.clear_ready(),
                r if r > 0 => return Ok(ExitStatus::from_raw(status)),
                _ => {
                    let err = std::io::Error::last_os_error();
                    if err.kind() != std::io::ErrorKind::Interrupted {
                        return Err(err);
                    }
                }
            }
        }
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

/// `pidfd_open(2)`: close-on-exec, like every fd of ours until it is handed to the park.
fn pidfd_open(pid: i32) -> std::io::Result<OwnedFd> {
    // SAFETY: pidfd_open takes a pid and flags and returns a new fd or -1.
    let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, pid, 0) };
    if fd < 0 {
        return Err(std::io::Error::last_os_error());
    }
    let fd = i32::try_from(fd).map_err(|_| std::io::Error::other("pidfd out of range"))?;
    // SAFETY: pidfd_open just returned this fd; nobody else owns it.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
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
        assert_eq!(command.get_program(), "/bin/echo");
        let args: Vec<_> = command.get_args().collect();
        assert_eq!(args, ["a", "b"]);
    }
}
