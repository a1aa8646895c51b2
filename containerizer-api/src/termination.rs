//! How a container ended: written once, atomically, by the supervisor that reaped it, and read
//! by the agent (also after an agent restart). The shape follows Mesos's `ContainerTermination`
//! (`status` is the raw wait status), plus decoded fields for people and tools.

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::paths::replace_file;

/// The record in `<runtime_dir>/containers/<id>/termination`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Termination {
    /// Raw `wait(2)` status of the container's first process, when it ran at all.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<i32>,
    /// Exit code, when it exited normally.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exit_code: Option<i32>,
    /// Signal number, when a signal ended it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub signal: Option<i32>,
    /// The kernel OOM-killed a process of the container (memory limit reached).
    #[serde(default)]
    pub oom_killed: bool,
    /// The agent asked for it to be killed.
    #[serde(default)]
    pub killed: bool,
    /// The container never started: why.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub launch_error: Option<String>,
    /// A human-readable summary, Mesos style ("Command exited with status 3").
    pub message: String,
}

impl Termination {
    /// Decodes a wait status.
    pub fn from_wait_status(status: i32, oom_killed: bool, killed: bool) -> Self {
        let (exit_code, signal) = if libc::WIFEXITED(status) {
            (Some(libc::WEXITSTATUS(status)), None)
        } else if libc::WIFSIGNALED(status) {
            (None, Some(libc::WTERMSIG(status)))
        } else {
            (None, None)
        };
        let message = if oom_killed {
            "Memory limit exceeded: the container was OOM-killed".to_owned()
        } else if let Some(code) = exit_code {
            format!("Command exited with status {code}")
        } else if let Some(sig) = signal {
            let name = nix::sys::signal::Signal::try_from(sig)
                .map(|s| s.as_str())
                .unwrap_or("unknown");
            format!("Command terminated with signal {name} ({sig})")
        } else {
            format!("Command ended with wait status {status}")
        };
        Self {
            status: Some(status),
            exit_code,
            signal,
            oom_killed,
            killed,
            launch_error: None,
            message,
        }
    }

    /// A container that failed before its command ran.
    pub fn launch_failed(error: impl Into<String>) -> Self {
        let error = error.into();
        Self {
            status: None,
            exit_code: None,
            signal: None,
            oom_killed: false,
            killed: false,
            message: format!("Failed to launch container: {error}"),
            launch_error: Some(error),
        }
    }

    /// Whether the command exited with status 0 and nothing else went wrong.
    pub fn succeeded(&self) -> bool {
        self.exit_code == Some(0) && !self.oom_killed && self.launch_error.is_none()
    }

    /// Writes the record atomically (see [`replace_file`]).
    pub fn write(&self, path: &Path) -> std::io::Result<()> {
        let json = serde_json::to_vec(self).map_err(std::io::Error::other)?;
        replace_file(path, &json)
    }

    /// Reads a record; `Ok(None)` when there is none yet.
    pub fn read(path: &Path) -> std::io::Result<Option<Self>> {
        match std::fs::read(path) {
            Ok(bytes) => serde_json::from_slice(&bytes).map(Some).map_err(|e| {
                std::io::Error::new(
                    std::io::ErrorKind::InvalidData,
                    format!("{}: {e}", path.display()),
                )
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_exit_and_signal() {
        let t = Termination::from_wait_status(3 << 8, false, false);
        assert_eq!(t.exit_code, Some(3));
        assert_eq!(t.message, "Command exited with status 3");
        let t = Termination::from_wait_status(9, false, true);
        assert_eq!(t.signal, Some(9));
        assert!(t.message.contains("SIGKILL"));
        assert!(!t.succeeded());
        assert!(Termination::from_wait_status(0, false, false).succeeded());
    }

    #[test]
    fn round_trips_and_reports_corruption() {
        let tmp = tempfile::tempdir().unwrap();
        let p = tmp.path().join("termination");
        assert!(Termination::read(&p).unwrap().is_none());
        let t = Termination::from_wait_status(9, true, false);
        t.write(&p).unwrap();
        assert_eq!(Termination::read(&p).unwrap(), Some(t));
        std::fs::write(&p, b"{\"status\": 9, \"mess").unwrap();
        let err = Termination::read(&p).unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::InvalidData);
    }
}
