//! The containerizer's runtime directory, laid out as Mesos does
//! (`src/slave/containerizer/mesos/paths.hpp`):
//!
//! ```text
//! <runtime_dir>/containers/<container_id>/
//!     launch_info      what to run and how to isolate it (JSON, written by the agent)
//!     supervisor.pid   pid of the supervisor (`mesos-containerizer launch`)
//!     pid              pid of the container's first process, as the host sees it
//!     termination      how it ended (JSON, written once by the supervisor)
//!     supervisor.log   the supervisor's own diagnostics
//! ```
//!
//! `--runtime_dir` is expected on a tmpfs: it is meant to vanish on reboot.

use std::io::Write;
use std::path::{Path, PathBuf};

/// Paths of one container's runtime state.
#[derive(Debug, Clone)]
pub struct ContainerPaths {
    dir: PathBuf,
}

impl ContainerPaths {
    /// The paths for `container_id` under `runtime_dir`.
    pub fn new(runtime_dir: &Path, container_id: &str) -> Self {
        Self {
            dir: containers_dir(runtime_dir).join(container_id),
        }
    }
    /// The container's runtime directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }
    /// `launch_info`.
    pub fn launch_info(&self) -> PathBuf {
        self.dir.join("launch_info")
    }
    /// `supervisor.pid`.
    pub fn supervisor_pid(&self) -> PathBuf {
        self.dir.join("supervisor.pid")
    }
    /// `pid`.
    pub fn pid(&self) -> PathBuf {
        self.dir.join("pid")
    }
    /// `termination`.
    pub fn termination(&self) -> PathBuf {
        self.dir.join("termination")
    }
    /// `supervisor.log`.
    pub fn supervisor_log(&self) -> PathBuf {
        self.dir.join("supervisor.log")
    }
}

/// `<runtime_dir>/containers`.
pub fn containers_dir(runtime_dir: &Path) -> PathBuf {
    runtime_dir.join("containers")
}

/// Writes `data` to `path` atomically: a temp file in the same directory, fsync, rename,
/// fsync of the directory. A reader sees the old content or the new, never a torn file.
pub fn write_atomic(path: &Path, data: &[u8]) -> std::io::Result<()> {
    replace(path, data, true)
}

/// Replaces `path` with `data` atomically (temp file + rename) but without fsync: for the
/// runtime dir, which lives on tmpfs and is meant to vanish on reboot, so durability across
/// a power loss buys nothing while an agent crash cannot tear a renamed file.
pub fn replace_file(path: &Path, data: &[u8]) -> std::io::Result<()> {
    replace(path, data, false)
}

/// Writes `.<name>.tmp` beside `path` and renames it over `path`; with `durable`, the file
/// and then the directory are fsync'd around the rename.
fn replace(path: &Path, data: &[u8], durable: bool) -> std::io::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = dir.join(format!(".{name}.tmp"));
    {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(data)?;
        if durable {
            f.sync_all()?;
        }
    }
    std::fs::rename(&tmp, path)?;
    if durable {
        std::fs::File::open(dir)?.sync_all()?;
    }
    Ok(())
}

/// Reads a pid file.
pub fn read_pid(path: &Path) -> Option<i32> {
    std::fs::read_to_string(path).ok()?.trim().parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn atomic_write_replaces_content() {
        let tmp = tempfile::tempdir().unwrap();
        let p = tmp.path().join("termination");
        write_atomic(&p, b"one").unwrap();
        write_atomic(&p, b"two").unwrap();
        assert_eq!(std::fs::read_to_string(&p).unwrap(), "two");
        assert_eq!(std::fs::read_dir(tmp.path()).unwrap().count(), 1);
    }

    #[test]
    fn layout_matches_mesos() {
        let p = ContainerPaths::new(Path::new("/var/run/mesos"), "abc");
        assert_eq!(
            p.termination(),
            Path::new("/var/run/mesos/containers/abc/termination")
        );
        assert_eq!(p.pid(), Path::new("/var/run/mesos/containers/abc/pid"));
    }
}
