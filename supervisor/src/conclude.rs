//! Supervising a launched container until it ends, then concluding: OOM check, cgroups
//! removed (nested ones first), whatever is left reaped, `termination` written. Parking while
//! idle is handed to `park.rs`.

use std::ffi::OsString;
use std::os::fd::{AsFd, BorrowedFd};
use std::path::Path;
use std::time::Duration;

use isolators::ContainerCgroup;
use meseta_containerizer_api::launch_info::LaunchInfo;
use meseta_containerizer_api::paths::ContainerPaths;
use meseta_containerizer_api::termination::Termination;
use nix::sys::signal::{kill, Signal};
use nix::sys::signalfd::SignalFd;
use nix::unistd::Pid;

use crate::supervise::{self, Supervised};
use crate::{park, DESTROY_TIMEOUT};

/// How long a supervisor stays resident with nothing to do before it parks: short tasks end
/// before that and never pay for the exec out and back in. On a node launching many tasks at
/// once a short task lives well over half a second (a burst of 1,000 `true` tasks on two cores
/// spent ~15 % more CPU with 500 ms, most of it exec'ing out to the park and back in).
const PARK_AFTER: Duration = Duration::from_secs(2);

/// Everything the supervision of a running container needs.
pub(crate) struct Supervisor<'a> {
    pub runtime_dir: &'a Path,
    pub paths: &'a ContainerPaths,
    pub container_id: &'a str,
    pub child: Pid,
    pub info: &'a LaunchInfo,
    pub cgroup: Option<&'a ContainerCgroup>,
}

impl Supervisor<'_> {
    /// Supervises until the container ends (parking while idle when `exe` is given), then
    /// cleans up and records the termination; returns the process exit code.
    pub fn supervise_and_conclude(
        &self,
        sfd: &SignalFd,
        oom: Option<(BorrowedFd<'_>, Option<BorrowedFd<'_>>)>,
        exe: Option<BorrowedFd<'_>>,
    ) -> i32 {
        let mut park_at = exe.map(|_| std::time::Instant::now() + PARK_AFTER);
        let outcome = loop {
            let grace = self.info.kill_grace_ms;
            let oom_fd = oom.map(|(fd, _)| fd);
            match supervise::supervise(self.child, sfd, self.cgroup, oom_fd, grace, park_at) {
                Supervised::Ended(outcome) => break outcome,
                Supervised::Idle => {
                    if let Some(exe) = exe {
                        let handover = park::Handover {
                            signals: sfd.as_fd(),
                            oom,
                            exe,
                            resume_args: self.resume_args(oom.is_some()),
                        };
                        let e = park::park(&handover);
                        eprintln!("mesos-containerizer: cannot park, waiting in full: {e}");
                    }
                    park_at = None;
                }
            }
        };
        self.conclude(outcome)
    }

    /// `resume` arguments that bring this supervision back after parking.
    fn resume_args(&self, oom: bool) -> Vec<OsString> {
        let mut args: Vec<OsString> = vec![
            "resume".into(),
            format!("--runtime_dir={}", self.runtime_dir.display()).into(),
            format!("--container_id={}", self.container_id).into(),
            format!("--pid={}", self.child).into(),
        ];
        if oom {
            args.push("--oom_fd".into());
        }
        args
    }

    /// After the container's first process is gone: cgroups removed, termination written.
    fn conclude(&self, outcome: supervise::Outcome) -> i32 {
        let cgroup = self.cgroup;
        let oom_killed = outcome.oom || cgroup.is_some_and(ContainerCgroup::oom_killed);
        finish(cgroup, self.container_id, self.child);
        let termination = Termination::from_wait_status(outcome.status, oom_killed, outcome.killed);
        let path = self.paths.termination();
        if let Err(e) = termination.write(&path) {
            eprintln!("mesos-containerizer: writing {}: {e}", path.display());
            return 1;
        }
        0
    }
}

/// After the container's first process is gone: kill whatever is left and remove the cgroups.
fn finish(cgroup: Option<&ContainerCgroup>, container_id: &str, child: Pid) {
    match cgroup {
        Some(cg) => {
            if let Err(e) = cg.destroy(DESTROY_TIMEOUT) {
                eprintln!("mesos-containerizer: destroying cgroups of {container_id}: {e}");
            }
        }
        // Without cgroups the task's session is all we can find (as Mesos's posix launcher).
        None => {
            let _ = kill(Pid::from_raw(-child.as_raw()), Signal::SIGKILL);
        }
    }
    supervise::reap_all(Duration::from_secs(2));
}
