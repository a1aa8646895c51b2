//! Parking an idle supervisor: exec the tiny `park` program (see `park/main.rs`) with the
//! signalfd, the OOM fd and our own executable at fixed descriptors, and come back as
//! `mesos-containerizer resume ...` when one of them needs attention.
//!
//! ```text
//!  launch ─► "ok <pid>" ─► idle? ─► exec park (memfd) ──(signal or OOM pending)──► exec
//!  `resume` (same pid, same child, same cgroups) ─► handle it ─► idle? ─► exec park ─► ...
//! ```
//!
//! The pid stays the same throughout, so the agent's handle on its child (and its pidfd after
//! a restart) and `sigqueue` to the supervisor keep working; the container stays our child, so
//! we remain the one that reaps it. Signals stay blocked (pending ones survive `execve`), so
//! none is lost while we are between programs.

use std::ffi::{CString, OsString};
use std::os::fd::{AsFd, BorrowedFd, FromRawFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;

use nix::fcntl::{fcntl, FcntlArg, OFlag};

/// The park program, or empty where it could not be built.
static PARK: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/park"));

/// Where the park program finds the signalfd.
pub(crate) const SIGNAL_FD: i32 = 3;
/// Where the park program finds the OOM notification fd.
pub(crate) const OOM_FD: i32 = 4;
/// Where the OOM registration's control file (v1 `memory.oom_control`) is kept open.
pub(crate) const OOM_CONTROL_FD: i32 = 5;
/// Where the park program finds the supervisor's executable.
pub(crate) const EXE_FD: i32 = 6;

/// Why parking failed (the supervisor then simply keeps waiting itself).
#[derive(Debug, thiserror::Error)]
pub enum ParkError {
    /// This build has no park program.
    #[error("no park program in this build")]
    Unavailable,
    /// A system call failed.
    #[error("{step}: {source}")]
    Sys {
        /// What was being done.
        step: &'static str,
        /// The errno.
        source: nix::errno::Errno,
    },
    /// An argument holds a NUL byte.
    #[error("NUL byte in an argument")]
    Nul,
}

fn sys(step: &'static str) -> impl Fn(nix::errno::Errno) -> ParkError {
    move |source| ParkError::Sys { step, source }
}

/// What the supervisor hands over while parked.
#[derive(Debug)]
pub(crate) struct Handover<'a> {
    /// The signalfd.
    pub signals: BorrowedFd<'a>,
    /// The OOM notification fd, and the file that keeps its registration alive.
    pub oom: Option<(BorrowedFd<'a>, Option<BorrowedFd<'a>>)>,
    /// Our executable (`O_PATH`).
    pub exe: BorrowedFd<'a>,
    /// The arguments of `mesos-containerizer resume ...` (without argv\[0\]).
    pub resume_args: Vec<OsString>,
}

/// Opens our own executable, so the park can exec exactly this version again even if the
/// file is replaced meanwhile (an upgrade, a rebuild).
pub(crate) fn open_self() -> Result<OwnedFd, ParkError> {
    let fd = nix::fcntl::open(
        "/proc/self/exe",
        OFlag::O_PATH | OFlag::O_CLOEXEC,
        nix::sys::stat::Mode::empty(),
    )
    .map_err(sys("opening /proc/self/exe"))?;
    // SAFETY: open(2) just returned this fd; nobody else owns it.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// Execs the park program. Returns only on failure, with every descriptor as it was.
pub(crate) fn park(h: &Handover<'_>) -> ParkError {
    match try_park(h) {
        Ok(never) => match never {},
        Err(e) => e,
    }
}

enum Never {}

fn try_park(h: &Handover<'_>) -> Result<Never, ParkError> {
    if PARK.is_empty() {
        return Err(ParkError::Unavailable);
    }
    // argv[0] stays ours (tools find supervisors by it); the environment is passed through.
    let mut argv = vec![std::env::args_os()
        .next()
        .unwrap_or_else(|| "mesos-containerizer".into())];
    argv.extend(h.resume_args.iter().cloned());
    let argv = cstrings(argv)?;
    let envp = cstrings(std::env::vars_os().map(|(k, v)| {
        let mut kv = k;
        kv.push("=");
        kv.push(v);
        kv
    }))?;
    let memfd = nix::sys::memfd::memfd_create(
        c"mesos-containerizer-park",
        nix::sys::memfd::MemFdCreateFlag::MFD_CLOEXEC,
    )
    .map_err(sys("memfd_create"))?;
    // Above the fixed numbers, which are about to be closed or overwritten.
    let memfd = meseta_base::exec::dup_high(memfd.as_fd()).map_err(|errno| ParkError::Sys {
        step: "dup",
        source: nix::errno::Errno::from_raw(errno),
    })?;
    let mut written = 0;
    while written < PARK.len() {
        written += nix::unistd::write(&memfd, &PARK[written..]).map_err(sys("writing the park"))?;
    }
    // Copies above every target first, so that moving one into place cannot clobber another.
    let mut moves = vec![(h.signals, SIGNAL_FD), (h.exe, EXE_FD)];
    if let Some((oom, control)) = h.oom {
        moves.push((oom, OOM_FD));
        if let Some(control) = control {
            moves.push((control, OOM_CONTROL_FD));
        }
    }
    // What is at the targets is either a stale copy of ours or closed by the exec anyway
    // (every fd of ours is close-on-exec).
    meseta_base::exec::place_fds(&moves).map_err(|(step, errno)| ParkError::Sys {
        step,
        source: nix::errno::Errno::from_raw(errno),
    })?;
    for target in [OOM_FD, OOM_CONTROL_FD] {
        if !moves.iter().any(|(_, t)| *t == target) {
            // SAFETY: closing a descriptor number we hand over as "absent"; the supervisor
            // holds nothing there it still needs (its own fds are all above 6 or close-on-exec).
            unsafe { libc::close(target) };
        }
    }
    let errno = meseta_base::exec::execveat_fd(memfd.as_fd(), &argv, &envp);
    Err(ParkError::Sys {
        step: "execveat",
        source: nix::errno::Errno::from_raw(errno),
    })
}

fn cstrings(items: impl IntoIterator<Item = OsString>) -> Result<Vec<CString>, ParkError> {
    items
        .into_iter()
        .map(|s| CString::new(s.as_bytes()).map_err(|_| ParkError::Nul))
        .collect()
}

/// Takes over a descriptor the park handed back (`resume`), if it is open.
pub(crate) fn adopt(fd: i32) -> Option<OwnedFd> {
    // Close-on-exec from now on; parking again dups it back into place.
    fcntl(fd, FcntlArg::F_SETFD(nix::fcntl::FdFlag::FD_CLOEXEC)).ok()?;
    // SAFETY: the fd is open (fcntl succeeded) and was handed to us, and nothing else in this
    // process knows it.
    Some(unsafe { OwnedFd::from_raw_fd(fd) })
}
