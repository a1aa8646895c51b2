//! Why `mesos-containerizer run-task` could not start the task. The message (`Display`) goes
//! to the sandbox's `stderr` as one line after `mesos-containerizer: `, where the operator
//! (and the executor's TASK_FAILED message) finds it: the step, then the cause.

use std::path::PathBuf;

use nix::errno::Errno;

use super::cgroup::TaskCgroupError;
use crate::error::StepError;
use crate::oci::OciError;

/// A failure of run-task before the task runs.
#[derive(Debug, thiserror::Error)]
pub enum RunTaskError {
    /// The agent's `task_launch_info` could not be read.
    #[error("reading {}: {source}", .path.display())]
    ReadInfo {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The agent's `task_launch_info` is not valid.
    #[error("reading {}: {source}", .path.display())]
    ParseInfo {
        /// The file.
        path: PathBuf,
        /// Why.
        source: serde_json::Error,
    },
    /// A step of the set-up (a mount, a capability, a file) failed.
    #[error(transparent)]
    Step(#[from] StepError),
    /// The task's `devices` cgroup could not be set up.
    #[error(transparent)]
    Cgroup(#[from] TaskCgroupError),
    /// The spec could not be built (an unknown image user, a bad mount).
    #[error(transparent)]
    Spec(#[from] OciError),
    /// The task has no command.
    #[error("empty command")]
    EmptyCommand,
    /// A mount of the spec this runner does not know how to make.
    #[error("unsupported mount of type '{typ}' on {}", .destination.display())]
    UnsupportedMount {
        /// The mount's type.
        typ: String,
        /// Where it goes.
        destination: PathBuf,
    },
    /// No candidate path of `argv[0]` exists in the image.
    #[error("executable '{0}' not found in the image")]
    NotFound(String),
    /// `execve` failed otherwise.
    #[error("executing '{name}': {source}")]
    Exec {
        /// `argv[0]`.
        name: String,
        /// The errno of the most telling attempt.
        source: Errno,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_name_the_step_and_the_cause() {
        let read = RunTaskError::ReadInfo {
            path: "/run/x/task_launch_info".into(),
            source: std::io::Error::from(std::io::ErrorKind::NotFound),
        };
        assert_eq!(
            read.to_string(),
            "reading /run/x/task_launch_info: entity not found"
        );
        assert_eq!(
            RunTaskError::NotFound("app".into()).to_string(),
            "executable 'app' not found in the image"
        );
        let step: RunTaskError = StepError::Sys {
            step: "mounting proc on /proc".into(),
            source: Errno::EPERM,
        }
        .into();
        assert_eq!(
            step.to_string(),
            "mounting proc on /proc: EPERM: Operation not permitted"
        );
        let user: RunTaskError = OciError::UnknownUser("ghost".into()).into();
        assert_eq!(
            user.to_string(),
            "user 'ghost' is not in the image's /etc/passwd"
        );
    }
}
