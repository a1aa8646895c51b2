//! `mesos-containerizer run-task --task_launch_info=PATH`: runs one task inside its image's
//! root filesystem. The command executor (on the host filesystem, in the container's cgroups)
//! starts it in place of the task's command, as Mesos's executor starts `mesos-containerizer
//! launch` with a rootfs.
//!
//! ```text
//!  read task_launch_info ─► block signals ─► task's devices cgroup ─► fork ─┬─► (init.rs)
//!   own mount ns, the OCI spec's mounts (rootfs.rs), pivot_root, caps, user ─► execve task
//!  └─► supervise: forward SIGTERM/INT/HUP/QUIT, reap ─► remove the cgroup ─► exit as the task
//! ```
//!
//! One fork, and the task's process sets itself up: none of the intermediate processes,
//! sync sockets, state files and bundle a general OCI runtime (libcontainer, runc) needs to
//! serve separate `create` and `start` calls, which cost a warm image launch more than the
//! rest of it together (`meseta-bench image`). The spec is still built with oci-spec
//! (`crate::oci`), and this module applies it. This process is single-threaded, so the fork
//! is safe here (never in the agent). It ends the way the task ended: the same exit code, or
//! killed by the same signal, so the executor's status message is the task's. Failures
//! before the task runs print one line to stderr (the sandbox's `stderr`) and exit 127.

mod cgroup;
mod error;
mod init;
mod rootfs;

use std::path::{Path, PathBuf};

use meseta_containerizer_api::launch_info::TaskLaunchInfo;
use nix::errno::Errno;
use nix::sys::signal::{kill, SigSet, Signal};
use nix::sys::signalfd::{SfdFlags, SignalFd};
use nix::sys::wait::{waitpid, WaitPidFlag, WaitStatus};
use nix::unistd::{ForkResult, Pid};

use self::cgroup::TaskCgroup;
pub use self::cgroup::TaskCgroupError;
pub use self::error::RunTaskError;
use crate::error::Step;

/// How the task ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ending {
    Code(i32),
    Signal(Signal),
}

/// Runs the task described by the file at `info_path`; returns only with an exit code (or
/// re-raises the task's fatal signal). Failures before the task runs print one line to
/// stderr (the sandbox's `stderr`) and exit 127.
pub fn run(info_path: &Path) -> i32 {
    let info = match read_info(info_path) {
        Ok(info) => info,
        Err(e) => return failed(&e),
    };
    let sfd = match block_signals() {
        Ok(sfd) => sfd,
        Err(e) => return failed(&e),
    };
    let cgroup = match TaskCgroup::create(&info.cgroups_path) {
        Ok(c) => c,
        Err(e) => return failed(&e.into()),
    };
    let hostname_file = info.state_dir.join("hostname");
    let started = write_hostname(&hostname_file, &info.hostname).and_then(|()| {
        // SAFETY: run-task is single-threaded, so the child is a consistent copy of it; the
        // child only sets itself up and execs or exits.
        unsafe { nix::unistd::fork() }.map_err(RunTaskError::Fork)
    });
    let ending = match started {
        Ok(ForkResult::Child) => {
            let e = init::run(&info, cgroup.as_ref(), &hostname_file);
            eprintln!("mesos-containerizer: {}", e.to_string().replace('\n', " "));
            // SAFETY: the child ends here without running run-task's exit path.
            unsafe { libc::_exit(127) }
        }
        Ok(ForkResult::Parent { child }) => supervise(child, &sfd),
        Err(e) => {
            eprintln!("mesos-containerizer: {e}");
            Ending::Code(127)
        }
    };
    if let Some(cg) = &cgroup {
        cg.remove();
    }
    let _ = std::fs::remove_file(&hostname_file);
    match ending {
        Ending::Code(code) => code,
        Ending::Signal(sig) => reraise(sig),
    }
}

fn failed(e: &RunTaskError) -> i32 {
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

/// The generated `/etc/hostname`, bound read-only into the container.
fn write_hostname(path: &PathBuf, hostname: &str) -> Result<(), RunTaskError> {
    std::fs::write(path, format!("{hostname}\n"))
        .step(format!("writing {}", path.display()))
        .map_err(Into::into)
}

fn block_signals() -> Result<SignalFd, RunTaskError> {
    let mut set = SigSet::empty();
    for s in [
        Signal::SIGCHLD,
        Signal::SIGTERM,
        Signal::SIGINT,
        Signal::SIGHUP,
        Signal::SIGQUIT,
    ] {
        set.add(s);
    }
    set.thread_block().step("blocking signals")?;
    Ok(SignalFd::with_flags(&set, SfdFlags::SFD_CLOEXEC).step("signalfd")?)
}

/// Waits for the task, forwarding termination signals to it.
fn supervise(init: Pid, sfd: &SignalFd) -> Ending {
    loop {
        let sig = match sfd.read_signal() {
            Ok(Some(info)) => info.ssi_signo,
            Ok(None) | Err(Errno::EINTR) => continue,
            Err(e) => {
                eprintln!("mesos-containerizer: reading signals: {e}");
                let _ = kill(init, Signal::SIGKILL);
                return wait_for(init);
            }
        };
        let Ok(sig) = Signal::try_from(i32::try_from(sig).unwrap_or(0)) else {
            continue;
        };
        if sig != Signal::SIGCHLD {
            let _ = kill(init, sig);
            continue;
        }
        loop {
            match waitpid(None, Some(WaitPidFlag::WNOHANG)) {
                Ok(WaitStatus::Exited(pid, code)) if pid == init => return Ending::Code(code),
                Ok(WaitStatus::Signaled(pid, s, _)) if pid == init => return Ending::Signal(s),
                Ok(WaitStatus::StillAlive) | Err(_) => break,
                Ok(_) => continue,
            }
        }
    }
}

fn wait_for(pid: Pid) -> Ending {
    match waitpid(pid, None) {
        Ok(WaitStatus::Exited(_, code)) => Ending::Code(code),
        Ok(WaitStatus::Signaled(_, s, _)) => Ending::Signal(s),
        _ => Ending::Code(137),
    }
}

/// Ends this process by `sig`, as the task ended.
fn reraise(sig: Signal) -> i32 {
    // SAFETY: restoring the default disposition installs no handler code.
    let _ = unsafe { nix::sys::signal::signal(sig, nix::sys::signal::SigHandler::SigDfl) };
    let mut set = SigSet::empty();
    set.add(sig);
    let _ = set.thread_unblock();
    let _ = kill(Pid::this(), sig);
    128 + sig as i32
}
