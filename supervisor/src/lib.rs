//! The per-container supervisor: `mesos-containerizer launch --runtime_dir=D --container_id=C`.
//!
//! A small single-threaded process, started by the agent with `setsid`, that owns exactly one
//! container for its whole life and outlives an agent restart:
//!
//! ```text
//!  read launch_info ─► cgroups: create ─► clone(namespaces; v2: inside the cgroup, v1: the
//!        child moves itself in) ─► cgroups: limit ─► "go" ─► child execs (or reports why
//!        not) ─► report "ok <pid>" to the agent
//!        ─► supervise: reap on SIGCHLD, SIGTERM(+grace via sigqueue) kills the container;
//!           while idle, parked as a ~1 KiB program that execs `resume` on any event (park.rs)
//!        ─► container gone: OOM? ─► destroy cgroups ─► write `termination` ─► exit
//! ```
//!
//! It is the only process that waits for the container, so the exit status cannot be lost:
//! it is written under the runtime dir before the supervisor exits.
//!
//! Where each step lives: `launch.rs` (cgroups, clone, "go"), `child/` (the cloned process up
//! to `execve`, and its root filesystem), `supervise.rs` (the event loop), `park.rs` and
//! `resume.rs` (parking while idle), `conclude.rs` (cleanup and the termination record).

mod child;
mod conclude;
pub mod error;
mod launch;
pub mod oci;
mod park;
mod resume;
pub mod run_task;
mod supervise;

use std::io::Write;
use std::os::fd::AsFd;
use std::path::Path;
use std::time::Duration;

use isolators::cgroups::OomWatch;
use isolators::Cgroups;
use meseta_containerizer_api::launch_info::LaunchInfo;
use meseta_containerizer_api::paths::ContainerPaths;
use meseta_containerizer_api::termination::Termination;
use nix::sys::signal::{SigSet, Signal};
use nix::sys::signalfd::{SfdFlags, SignalFd};

use self::conclude::Supervisor;
use self::launch::launch;
pub use self::resume::resume;

/// Time allowed for a container's processes to disappear after SIGKILL.
const DESTROY_TIMEOUT: Duration = Duration::from_secs(10);

/// Runs the supervisor for one container; returns the process exit code.
///
/// `report` is where the agent reads the launch result: one line, `ok <pid>` or
/// `error <message>`. Nothing else is ever written to it.
pub fn run(runtime_dir: &Path, container_id: &str, report: &mut dyn Write) -> i32 {
    // A session of its own, so the agent's death (or its terminal's) does not reach us. The
    // agent spawns us without a pre_exec hook so that std can use posix_spawn.
    let _ = nix::unistd::setsid();
    let paths = ContainerPaths::new(runtime_dir, container_id);
    if let Err(e) = std::fs::write(paths.supervisor_pid(), std::process::id().to_string()) {
        return fail(
            &paths,
            report,
            format!("writing {}: {e}", paths.supervisor_pid().display()),
        );
    }
    let info = match read_launch_info(&paths, container_id) {
        Ok(info) => info,
        Err(msg) => return fail(&paths, report, msg),
    };
    let sfd = match block_signals() {
        Ok(sfd) => sfd,
        Err(msg) => return fail(&paths, report, msg),
    };
    let (child, cgroup, oom) = match launch(&info) {
        Ok(launched) => launched,
        Err(msg) => {
            if let Some(c) = &info.cgroups {
                let _ = Cgroups::with_version(c.version, &c.hierarchy, &c.root)
                    .destroy(container_id, DESTROY_TIMEOUT);
            }
            return fail(&paths, report, msg);
        }
    };
    let _ = std::fs::write(paths.pid(), child.to_string());
    let _ = writeln!(report, "ok {child}");
    let _ = report.flush();
    let oom_fds = oom.as_ref().map(|w| {
        let control = match w {
            OomWatch::V1 { _control, .. } => Some(_control.as_fd()),
            OomWatch::V2(_) => None,
        };
        (w.fd(), control)
    });
    let exe = park::open_self()
        .map_err(|e| eprintln!("mesos-containerizer: cannot park: {e}"))
        .ok();
    let ctx = Supervisor {
        runtime_dir,
        paths: &paths,
        container_id,
        child,
        info: &info,
        cgroup: cgroup.as_ref(),
    };
    ctx.supervise_and_conclude(&sfd, oom_fds, exe.as_ref().map(AsFd::as_fd))
}

fn fail(paths: &ContainerPaths, report: &mut dyn Write, msg: String) -> i32 {
    let _ = Termination::launch_failed(msg.clone()).write(&paths.termination());
    let line = msg.replace('\n', " ");
    let _ = writeln!(report, "error {line}");
    let _ = report.flush();
    1
}

fn read_launch_info(paths: &ContainerPaths, container_id: &str) -> Result<LaunchInfo, String> {
    let bytes = std::fs::read(paths.launch_info())
        .map_err(|e| format!("reading {}: {e}", paths.launch_info().display()))?;
    let info: LaunchInfo = serde_json::from_slice(&bytes)
        .map_err(|e| format!("parsing {}: {e}", paths.launch_info().display()))?;
    if info.container_id != container_id {
        return Err(format!(
            "{} is for container '{}'",
            paths.launch_info().display(),
            info.container_id
        ));
    }
    if info.command.argv.is_empty() {
        return Err("empty command".into());
    }
    Ok(info)
}

/// Blocks the signals the supervisor handles and returns a signalfd for them. Blocked before
/// the clone, so no SIGCHLD can be missed.
fn block_signals() -> Result<SignalFd, String> {
    let mut set = SigSet::empty();
    for s in [
        Signal::SIGCHLD,
        Signal::SIGTERM,
        Signal::SIGINT,
        Signal::SIGQUIT,
        Signal::SIGHUP,
    ] {
        set.add(s);
    }
    set.thread_block()
        .map_err(|e| format!("blocking signals: {e}"))?;
    // SAFETY: ignoring SIGPIPE installs no handler code; the agent may be gone when we write.
    unsafe { nix::sys::signal::signal(Signal::SIGPIPE, nix::sys::signal::SigHandler::SigIgn) }
        .map_err(|e| format!("ignoring SIGPIPE: {e}"))?;
    // Orphans of the task are re-parented here and reaped, rather than leaking as zombies.
    // SAFETY: PR_SET_CHILD_SUBREAPER takes an int flag and touches no memory.
    unsafe { libc::prctl(libc::PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) };
    SignalFd::with_flags(&set, SfdFlags::SFD_CLOEXEC | SfdFlags::SFD_NONBLOCK)
        .map_err(|e| format!("signalfd: {e}"))
}
