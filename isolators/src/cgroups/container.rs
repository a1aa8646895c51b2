//! One container's cgroup: moving a process in, killing every process (freezer or
//! `cgroup.kill`), and removing it, with the cgroup files written directly.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;

use super::{io_error, CgroupError, CgroupVersion, Cgroups, Controllers};
use crate::limits::Limits;

/// How long a removal retries `rmdir` while the kernel still counts a process that just died
/// (libcgroups gives up after about as long).
const RMDIR_PATIENCE: Duration = Duration::from_millis(100);

/// One container's cgroup: the handle a supervisor keeps for the container's life.
#[derive(Debug, Clone)]
pub struct ContainerCgroup {
    pub(super) cgroups: Cgroups,
    pub(super) id: String,
}

/// Writes `value` to an existing cgroup file, in one `write(2)`, as the kernel expects.
pub(super) fn write_file(path: &Path, value: &str) -> Result<(), CgroupError> {
    std::fs::OpenOptions::new()
        .write(true)
        .open(path)
        .and_then(|mut f| f.write_all(value.as_bytes()))
        .map_err(io_error(path))
}

impl ContainerCgroup {
    fn cgroup(&self) -> PathBuf {
        Path::new("/").join(&self.cgroups.root).join(&self.id)
    }

    /// Creates the cgroup if needed, moves `pid` into it and applies `limits` to the enabled
    /// controllers.
    pub fn attach(
        &self,
        pid: Pid,
        limits: &Limits,
        controllers: Controllers,
    ) -> Result<(), CgroupError> {
        let dirs = match self.cgroups.version {
            CgroupVersion::V1 => self.cgroups.make_v1_dirs(&self.id, controllers.devices)?,
            CgroupVersion::V2 => vec![self.cgroups.make_v2_dir(&self.id)?],
        };
        let pid = pid.to_string();
        for dir in dirs {
            write_file(&dir.join("cgroup.procs"), &pid)?;
        }
        self.limit(limits, controllers)
    }

    /// Sends `signal` to every process in the cgroup.
    pub fn signal_all(&self, signal: Signal) -> Result<(), CgroupError> {
        self.cgroups.signal_all(&self.id, signal)
    }

    /// Whether the kernel OOM-killed a process of the container.
    pub fn oom_killed(&self) -> bool {
        self.cgroups.oom_killed(&self.id)
    }

    /// Kills every process so none can fork away: freeze, SIGKILL all, thaw (on v2 with
    /// `cgroup.kill`, the kernel does it atomically).
    pub fn kill_all(&self) -> Result<(), CgroupError> {
        if self.cgroups.version == CgroupVersion::V2 {
            let kill_file = self.cgroups.path("", &self.id)?.join("cgroup.kill");
            if kill_file.exists() {
                return write_file(&kill_file, "1");
            }
        }
        let frozen = self.freeze().is_ok();
        self.cgroups.signal_all(&self.id, Signal::SIGKILL)?;
        if frozen {
            self.thaw()?;
        }
        Ok(())
    }

    /// The freezer's state file and its frozen/thawed values.
    fn freezer(&self) -> Result<(PathBuf, &'static str, &'static str), CgroupError> {
        Ok(match self.cgroups.version {
            CgroupVersion::V1 => (
                self.cgroups
                    .path("freezer", &self.id)?
                    .join("freezer.state"),
                "FROZEN",
                "THAWED",
            ),
            CgroupVersion::V2 => (
                self.cgroups.path("", &self.id)?.join("cgroup.freeze"),
                "1",
                "0",
            ),
        })
    }

    /// Freezes the cgroup and waits until it is frozen (v1 passes through `FREEZING`; as
    /// runc and libcgroups, the write is repeated and, now and then, a pause made).
    fn freeze(&self) -> Result<(), CgroupError> {
        let (file, frozen, thawed) = self.freezer()?;
        if self.cgroups.version == CgroupVersion::V2 {
            return write_file(&file, frozen);
        }
        for i in 0..1000 {
            write_file(&file, frozen)?;
            let state = std::fs::read_to_string(&file).map_err(io_error(&file))?;
            if state.trim() == frozen {
                return Ok(());
            }
            if i % 25 == 24 {
                std::thread::sleep(Duration::from_millis(10));
            }
        }
        // Never leave it half frozen.
        let _ = write_file(&file, thawed);
        Err(CgroupError::Freeze(file))
    }

    fn thaw(&self) -> Result<(), CgroupError> {
        let (file, _, thawed) = self.freezer()?;
        write_file(&file, thawed)
    }

    /// Kills every process, waits (up to `timeout`) for the cgroup to empty and removes it,
    /// with any cgroups nested in it.
    pub fn destroy(&self, timeout: Duration) -> Result<(), CgroupError> {
        // Usually empty already (a pid namespace dies with its init): then the directories
        // just go, without reading `cgroup.procs` (on v1 each read leaves the kernel a pid
        // list that a worker destroys a second later, and freeing the cgroup waits for that).
        if self.remove_if_empty()? {
            return Ok(());
        }
        if !self.cgroups.pids(&self.id)?.is_empty() {
            self.kill_all()?;
            let deadline = Instant::now() + timeout;
            while !self.cgroups.pids(&self.id)?.is_empty() {
                if Instant::now() >= deadline {
                    return Err(CgroupError::NotEmpty(self.cgroup().display().to_string()));
                }
                std::thread::sleep(Duration::from_millis(1));
            }
        }
        for dir in self.cgroups.paths(&self.id)? {
            remove_dir(&dir)?;
        }
        Ok(())
    }

    /// Removes every directory of the cgroup, as long as each is empty; false at the first
    /// one that cannot go (processes or nested cgroups in it), which
    /// [`ContainerCgroup::destroy`] then empties and removes with the rest.
    fn remove_if_empty(&self) -> Result<bool, CgroupError> {
        for dir in self.cgroups.paths(&self.id)? {
            match std::fs::remove_dir(&dir) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                // Busy, or anything else: the full way below empties it or says why not.
                Err(_) => return Ok(false),
            }
        }
        Ok(true)
    }
}

/// Removes one cgroup directory: SIGKILL to anything still listed, then `rmdir`, retried
/// briefly. A cgroup with cgroups nested in it (a task run inside an image has one:
/// `<container>/task`) is busy: those are removed first, deepest first. Already gone is fine
/// (co-mounted hierarchies share one directory).
fn remove_dir(dir: &Path) -> Result<(), CgroupError> {
    let procs = dir.join("cgroup.procs");
    match std::fs::read_to_string(&procs) {
        Ok(text) => {
            for pid in text.lines().filter_map(|l| l.trim().parse().ok()) {
                let _ = kill(Pid::from_raw(pid), Signal::SIGKILL);
            }
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(io_error(&procs)(e)),
    }
    let deadline = Instant::now() + RMDIR_PATIENCE;
    let mut nested_removed = false;
    loop {
        match std::fs::remove_dir(dir) {
            Ok(()) => return Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
            Err(e) if !nested_removed && e.raw_os_error() == Some(libc::EBUSY) => {
                nested_removed = true;
                for child in nested(dir) {
                    remove_dir(&child)?;
                }
            }
            Err(e) if Instant::now() >= deadline => return Err(io_error(dir)(e)),
            Err(_) => std::thread::sleep(Duration::from_millis(1)),
        }
    }
}

/// The cgroups directly inside `dir`.
fn nested(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    entries
        .flatten()
        .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
        .map(|e| e.path())
        .collect()
}
