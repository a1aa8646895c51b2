//! COMMAND checks of a task inside an image run in the task's mount namespace, as Mesos
//! runs them (`setns` into the task's `mnt` namespace before `exec`): the check sees the
//! image's root filesystem. The task's process is a child of the executor's child
//! (`mesos-containerizer run-task` forks it, and it enters its own mount namespace and
//! pivots into the image before it execs the task), found through
//! `/proc/<pid>/task/<tid>/children`.

use std::fs::File;
use std::os::unix::fs::MetadataExt;
use std::path::Path;

use nix::sched::{setns, CloneFlags};
use tokio::process::Command;

/// The mount namespace inode of `pid`.
fn mnt_ns(pid: &str) -> Option<u64> {
    std::fs::metadata(Path::new("/proc").join(pid).join("ns/mnt"))
        .ok()
        .map(|m| m.ino())
}

/// The children of `pid` (all its threads').
fn children(pid: &str) -> Vec<String> {
    let Ok(tasks) = std::fs::read_dir(Path::new("/proc").join(pid).join("task")) else {
        return Vec::new();
    };
    tasks
        .flatten()
        .filter_map(|t| std::fs::read_to_string(t.path().join("children")).ok())
        .flat_map(|s| s.split_whitespace().map(str::to_owned).collect::<Vec<_>>())
        .collect()
}

/// The deepest process at or below `root` (a few levels) whose mount namespace is not
/// ours: the task's process may still be setting itself up (in its own mount namespace
/// before `pivot_root`), and the task may have started children; the deepest one found is
/// the task's side of the image. `None` when the task shares the
/// executor's namespace or has not started yet.
pub fn task_mount_namespace(root: i32) -> Option<File> {
    let ours = mnt_ns("self")?;
    let mut level = vec![root.to_string()];
    let mut found = None;
    for _ in 0..6 {
        let mut next = Vec::new();
        for pid in level {
            if mnt_ns(&pid).is_some_and(|ns| ns != ours) {
                found = Some(pid.clone());
            }
            next.extend(children(&pid));
        }
        if next.is_empty() {
            break;
        }
        level = next;
    }
    File::open(Path::new("/proc").join(found?).join("ns/mnt")).ok()
}

/// Makes `command` enter the mount namespace `ns` between fork and exec.
pub fn enter_before_exec(command: &mut Command, ns: File) {
    // SAFETY: the closure runs in the forked child before exec and only calls `setns(2)` on
    // a descriptor opened before the fork; it allocates nothing and takes no lock.
    unsafe {
        command.pre_exec(move || setns(&ns, CloneFlags::CLONE_NEWNS).map_err(std::io::Error::from));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_process_in_our_namespace_has_none_to_enter() {
        let me = i32::try_from(std::process::id()).unwrap();
        assert!(task_mount_namespace(me).is_none());
        assert!(task_mount_namespace(i32::MAX).is_none());
    }
}
