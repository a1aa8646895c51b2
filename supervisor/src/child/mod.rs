//! The container side of the clone: everything between `clone(2)` and `execve(2)`.
//!
//! Runs in the freshly cloned process, which is a copy of the single-threaded supervisor, so
//! allocating and taking locks is safe here (the reason this never runs inside the agent).
//! Order: (cgroup v1) move into the container's cgroups → mount namespace setup (private
//! propagation, `/proc`, and for a root filesystem `/dev`, `/sys`, the sandbox, `pivot_root`)
//! → hostname → `lo` → stdio → (in an image: bounding set narrowed to Docker's default
//! capabilities) → user → working dir → wait for the supervisor to have written the cgroup
//! limits → (in an image: capabilities, `no_new_privs`) → signals → `execve`. Any failure is
//! written to the error
//! pipe as one line and the process exits 127, so the supervisor can report it.

mod rootfs;

use std::ffi::CString;
use std::os::fd::{AsRawFd, OwnedFd};
use std::path::{Path, PathBuf};

use meseta_containerizer_api::launch_info::LaunchInfo;
use nix::errno::Errno;
use nix::mount::{mount, MsFlags};
use nix::sys::signal::{sigprocmask, SigHandler, SigSet, SigmaskHow, Signal};
use nix::sys::stat::{umask, Mode};
use nix::unistd::{chdir, dup2, read, sethostname, setsid, write, Gid, Uid};

use self::rootfs::{enter_rootfs, mount_proc};
pub(crate) use self::rootfs::{DEV_LINKS, DEV_NODES};
use crate::error::{Step, StepError};

/// What the child needs, prepared by the supervisor before cloning.
#[derive(Debug)]
pub(super) struct ChildPlan<'a> {
    pub info: &'a LaunchInfo,
    pub argv: Vec<CString>,
    pub envp: Vec<CString>,
    /// Candidate executables for `argv[0]`, in `PATH` order.
    pub candidates: Vec<CString>,
    pub working_dir: PathBuf,
    pub hostname: String,
    pub user: Option<(Uid, Gid, Vec<Gid>)>,
    pub stdin: OwnedFd,
    pub stdout: OwnedFd,
    pub stderr: OwnedFd,
    /// Read end: the supervisor writes one byte once the cgroups are set.
    pub go: OwnedFd,
    /// Write end, close-on-exec: stays silent when `execve` succeeds.
    pub errors: OwnedFd,
    /// The capabilities a process in an image keeps (Docker's default set), with
    /// `no_new_privs`; `None` keeps the supervisor's.
    pub caps: Option<caps::CapsHashSet>,
    /// cgroup v1: the container's cgroups, which the child joins itself once told to "go".
    pub join: Option<&'a isolators::cgroups::SelfJoin>,
}

/// The entry point of the cloned process. Returns only on failure.
pub(super) fn run(plan: &ChildPlan<'_>) -> isize {
    match setup_and_exec(plan) {
        Ok(never) => match never {},
        Err(msg) => {
            let _ = write(&plan.errors, msg.to_string().as_bytes());
            127
        }
    }
}

enum Never {}

/// Makes every mount of this (new) mount namespace a slave: mounts made here never propagate
/// back to the namespace it was copied from, while that one's still reach us.
pub(super) fn make_mounts_slave() -> nix::Result<()> {
    mount(
        None::<&str>,
        "/",
        None::<&str>,
        MsFlags::MS_REC | MsFlags::MS_SLAVE,
        None::<&str>,
    )
}

fn setup_and_exec(plan: &ChildPlan<'_>) -> Result<Never, StepError> {
    // cgroup v1: into the container's cgroups first, so that the supervisor writes the limits
    // meanwhile; the command itself still waits for "go", after the limits.
    if let Some(join) = plan.join {
        join.join().step("setting up cgroups: joining them")?;
    }
    umask(Mode::from_bits_truncate(0o022));
    let ns = plan.info.namespaces;
    if ns.mount {
        make_mounts_slave().step("making / a slave mount")?;
        match &plan.info.rootfs {
            Some(rootfs) => enter_rootfs(rootfs, &plan.info.sandbox)?,
            None if ns.pid => mount_proc(Path::new("/proc"))?,
            None => {}
        }
    }
    if ns.uts {
        sethostname(&plan.hostname).step("sethostname")?;
    }
    if ns.net {
        isolators::namespaces::bring_up_loopback().step("bringing up lo")?;
    }
    // A session of its own, so the whole task can be signalled as a process group.
    let _ = setsid();
    for (fd, target) in [(&plan.stdin, 0), (&plan.stdout, 1), (&plan.stderr, 2)] {
        dup2(fd.as_raw_fd(), target).step(format!("dup2 to fd {target}"))?;
    }
    // The bounding set can only be narrowed while we still hold CAP_SETPCAP, before any
    // switch to a non-root user.
    if let Some(keep) = &plan.caps {
        for cap in caps::all().difference(keep) {
            caps::drop(None, caps::CapSet::Bounding, *cap)
                .step(format!("dropping {cap} from the bounding set"))?;
        }
    }
    if let Some((uid, gid, groups)) = &plan.user {
        nix::unistd::setgroups(groups).step("setgroups")?;
        nix::unistd::setgid(*gid).step("setgid")?;
        nix::unistd::setuid(*uid).step("setuid")?;
    }
    chdir(&plan.working_dir).step(format!("chdir {}", plan.working_dir.display()))?;
    // Only now, with every namespace and mount in place, wait until the supervisor has put us
    // in our cgroups: the command must never run outside them.
    let mut byte = [0u8; 1];
    match read(plan.go.as_raw_fd(), &mut byte) {
        Ok(1) => {}
        _ => return Err(StepError::NoGo),
    }
    if let Some(keep) = &plan.caps {
        restrict_capabilities(keep)?;
    }
    reset_signals();
    exec(plan)
}

/// Leaves the process only `keep` (as root; a switch to another user has already cleared
/// them), no inheritable or ambient capabilities, and `no_new_privs`, as Docker's defaults
/// plus `--security-opt no-new-privileges`.
pub(crate) fn restrict_capabilities(keep: &caps::CapsHashSet) -> Result<(), StepError> {
    use caps::CapSet;
    caps::clear(None, CapSet::Ambient).step("clearing ambient capabilities")?;
    caps::clear(None, CapSet::Inheritable).step("clearing inheritable capabilities")?;
    if nix::unistd::geteuid().is_root() {
        caps::set(None, CapSet::Effective, keep).step("setting effective capabilities")?;
        caps::set(None, CapSet::Permitted, keep).step("setting permitted capabilities")?;
    }
    // SAFETY: PR_SET_NO_NEW_PRIVS takes integer arguments and touches no memory.
    if unsafe { libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) } != 0 {
        return Err(std::io::Error::last_os_error()).step("setting no_new_privs");
    }
    Ok(())
}

fn exec(plan: &ChildPlan<'_>) -> Result<Never, StepError> {
    let mut last = Errno::ENOENT;
    for candidate in &plan.candidates {
        let err = nix::unistd::execve(candidate, &plan.argv, &plan.envp).unwrap_err();
        // Keep the most telling error, as execvp(3) does: EACCES beats ENOENT.
        if err != Errno::ENOENT && err != Errno::ENOTDIR || last == Errno::ENOENT {
            last = err;
        }
    }
    let name = plan
        .argv
        .first()
        .map(|a| a.to_string_lossy().into_owned())
        .unwrap_or_default();
    Err(match last {
        Errno::ENOENT => StepError::NotFound(name),
        Errno::EACCES => StepError::PermissionDenied(name),
        source => StepError::Exec { name, source },
    })
}

/// The supervisor blocks signals (it reads them from a signalfd) and ignores SIGPIPE; the
/// task must start with the defaults.
fn reset_signals() {
    let _ = sigprocmask(SigmaskHow::SIG_SETMASK, Some(&SigSet::empty()), None);
    // SAFETY: restoring the default disposition installs no handler code.
    let _ = unsafe { nix::sys::signal::signal(Signal::SIGPIPE, SigHandler::SigDfl) };
}
