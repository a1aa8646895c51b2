//! Why a step of setting up or starting a container failed. The message (`Display`) is what
//! the agent shows: the step, then the cause. The cause stays typed, so callers can tell an
//! errno from an I/O error without parsing text.

use std::path::PathBuf;

use nix::errno::Errno;

/// A failed step of the container's setup.
#[derive(Debug, thiserror::Error)]
pub enum StepError {
    /// A system call failed.
    #[error("{step}: {source}")]
    Sys {
        /// What was being done (`mounting proc on /proc`).
        step: String,
        /// The errno.
        source: Errno,
    },
    /// A file operation failed.
    #[error("{step}: {source}")]
    Io {
        /// What was being done.
        step: String,
        /// The I/O error.
        source: std::io::Error,
    },
    /// Changing capabilities failed.
    #[error("{step}: {source}")]
    Caps {
        /// What was being done.
        step: String,
        /// The error from the `caps` crate.
        source: caps::errors::CapsError,
    },
    /// Joining the container's cgroups failed.
    #[error("{step}: {source}")]
    Cgroup {
        /// What was being done.
        step: String,
        /// The cgroup error.
        source: isolators::cgroups::CgroupError,
    },
    /// No candidate path of the command exists.
    #[error("executable '{0}' not found")]
    NotFound(String),
    /// The command exists but may not be executed.
    #[error("executable '{0}': permission denied")]
    PermissionDenied(String),
    /// `execve` failed otherwise.
    #[error("executing '{name}': {source}")]
    Exec {
        /// `argv[0]`.
        name: String,
        /// The errno of the most telling attempt.
        source: Errno,
    },
    /// The supervisor closed the "go" pipe without writing: it failed to set the limits.
    #[error("the supervisor did not finish setting up the container's cgroups")]
    NoGo,
    /// A mount point in the image is a symlink (it could point anywhere on the host).
    #[error("{} is a symlink in the image: refusing to mount over it", .0.display())]
    SymlinkMountPoint(PathBuf),
    /// A string for `execve` holds a NUL byte.
    #[error("NUL byte in {0:?}")]
    NulByte(String),
}

/// Attaches the step being done to a failed call: `mount(..).step("mounting proc")?`.
pub trait Step<T> {
    /// Maps the error into a [`StepError`] naming `step`.
    fn step(self, step: impl Into<String>) -> Result<T, StepError>;
}

impl<T> Step<T> for Result<T, Errno> {
    fn step(self, step: impl Into<String>) -> Result<T, StepError> {
        self.map_err(|source| StepError::Sys {
            step: step.into(),
            source,
        })
    }
}

impl<T> Step<T> for Result<T, std::io::Error> {
    fn step(self, step: impl Into<String>) -> Result<T, StepError> {
        self.map_err(|source| StepError::Io {
            step: step.into(),
            source,
        })
    }
}

impl<T> Step<T> for Result<T, caps::errors::CapsError> {
    fn step(self, step: impl Into<String>) -> Result<T, StepError> {
        self.map_err(|source| StepError::Caps {
            step: step.into(),
            source,
        })
    }
}

impl<T> Step<T> for Result<T, isolators::cgroups::CgroupError> {
    fn step(self, step: impl Into<String>) -> Result<T, StepError> {
        self.map_err(|source| StepError::Cgroup {
            step: step.into(),
            source,
        })
    }
}
