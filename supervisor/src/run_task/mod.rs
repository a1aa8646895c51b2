//! `mesos-containerizer run-task --task_launch_info=PATH`: runs one task inside its image's
//! root filesystem. The command executor (on the host filesystem, in the container's cgroups)
//! starts it in place of the task's command, as Mesos's executor starts `mesos-containerizer
//! launch` with a rootfs.
//!
//! ```text
//!  read task_launch_info ─► join the devices cgroup of image tasks (cgroup.rs) ─► (init.rs)
//!   own mount ns, the OCI spec's mounts (rootfs/), pivot_root, caps, user ─► execve task
//! ```
//!
//! No fork: this process becomes the task, as `mesos-containerizer launch` becomes the
//! executor in Mesos. The executor therefore waits for, signals (its process group) and
//! reports the task itself, exactly as for a command task without an image, and nothing is
//! left to clean up after the task: its devices cgroup is shared and its generated
//! `/etc/hostname` goes with the container's provisioner directory. None of the intermediate
//! processes, sync sockets, state files and bundle a general OCI runtime (libcontainer, runc)
//! needs to serve separate `create` and `start` calls, which cost a warm image launch more
//! than the rest of it together (`meseta-bench image`). The spec is still built with oci-spec
//! (`crate::oci`), and this module applies it. Failures before the task runs print one line
//! to stderr (the sandbox's `stderr`) and exit 127.

mod cgroup;
mod error;
mod init;
mod rootfs;

use std::path::{Path, PathBuf};

use meseta_containerizer_api::launch_info::TaskLaunchInfo;

pub use self::cgroup::TaskCgroupError;
pub use self::error::RunTaskError;
use crate::error::Step;

/// Runs the task described by the file at `info_path`: returns only if it could not be
/// started, with exit code 127, after printing why on one line of stderr (the sandbox's
/// `stderr`).
pub fn run(info_path: &Path) -> i32 {
    let e = match read_info(info_path) {
        Ok(info) => init::run(&info),
        Err(e) => e,
    };
    eprintln!("mesos-containerizer: {}", e.to_string().replace('\n', " "));
    127
}

fn read_info(path: &Path) -> Result<TaskLaunchInfo, RunTaskError> {
    let bytes = std::fs::read(path).map_err(|source| RunTaskError::ReadInfo {
        path: path.to_owned(),
        source,
    })?;
    serde_json::from_slice(&bytes).map_err(|source| RunTaskError::ParseInfo {
        path: path.to_owned(),
        source,
    })
}

/// The generated `/etc/hostname`, bound read-only into the container; it stays in the state
/// directory until the container's provisioner directory is removed.
fn write_hostname(path: &PathBuf, hostname: &str) -> Result<(), RunTaskError> {
    std::fs::write(path, format!("{hostname}\n"))
        .step(format!("writing {}", path.display()))
        .map_err(Into::into)
}
