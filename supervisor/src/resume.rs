//! `mesos-containerizer resume`: picking supervision up again after the park program execs
//! us back (see `park.rs`), with the descriptors it kept at their fixed numbers.

use std::os::fd::AsFd;
use std::path::Path;

use isolators::Cgroups;
use meseta_containerizer_api::paths::ContainerPaths;
use meseta_containerizer_api::termination::Termination;
use nix::sys::wait::waitpid;
use nix::unistd::Pid;

use crate::conclude::Supervisor;
use crate::{block_signals, park, read_launch_info};

/// Continues supervising a container after parking: `mesos-containerizer resume`. The park
/// handed back the signalfd (fd 3), the OOM fd (fd 4, when `oom_fd`) and our executable
/// (fd 6); the event that woke it is still pending.
pub fn resume(runtime_dir: &Path, container_id: &str, child: Pid, oom_fd: bool) -> i32 {
    let paths = ContainerPaths::new(runtime_dir, container_id);
    // A fresh signalfd: the signals are still blocked and pending, whoever reads them.
    drop(park::adopt(park::SIGNAL_FD));
    let oom = oom_fd.then(|| park::adopt(park::OOM_FD)).flatten();
    let control = oom_fd.then(|| park::adopt(park::OOM_CONTROL_FD)).flatten();
    let exe = park::adopt(park::EXE_FD);
    let sfd = match block_signals() {
        Ok(sfd) => sfd,
        Err(msg) => return resume_failed(&paths, child, &msg),
    };
    let info = match read_launch_info(&paths, container_id) {
        Ok(info) => info,
        Err(msg) => return resume_failed(&paths, child, &msg),
    };
    let cgroup = match &info.cgroups {
        None => None,
        Some(c) => match Cgroups::with_version(c.version, &c.hierarchy, &c.root).open(container_id)
        {
            Ok(cg) => Some(cg),
            Err(e) => {
                eprintln!("mesos-containerizer: opening the cgroups of {container_id}: {e}");
                None
            }
        },
    };
    let ctx = Supervisor {
        runtime_dir,
        paths: &paths,
        container_id,
        child,
        info: &info,
        cgroup: cgroup.as_ref(),
    };
    let oom = oom
        .as_ref()
        .map(|fd| (fd.as_fd(), control.as_ref().map(AsFd::as_fd)));
    ctx.supervise_and_conclude(&sfd, oom, exe.as_ref().map(AsFd::as_fd))
}

/// Resuming failed before supervision could start again: still reap the child and record
/// how it ended, so that its exit status is not lost.
fn resume_failed(paths: &ContainerPaths, child: Pid, msg: &str) -> i32 {
    eprintln!("mesos-containerizer: resuming: {msg}");
    let status = match waitpid(child, None) {
        Ok(nix::sys::wait::WaitStatus::Exited(_, code)) => (code & 0xff) << 8,
        Ok(nix::sys::wait::WaitStatus::Signaled(_, sig, _)) => sig as i32,
        _ => 0,
    };
    let t = Termination::from_wait_status(status, false, false);
    let _ = t.write(&paths.termination());
    1
}
