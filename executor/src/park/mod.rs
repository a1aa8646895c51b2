//! Parking an idle command executor: exec the tiny `park` program (see `park/main.rs`) with
//! the SUBSCRIBE connection, a pidfd of the task, a memfd holding [`Parked`] and our own
//! executable at fixed descriptors, and come back as `mesos-executor --resume_parked ...`
//! when the agent sends anything but a HEARTBEAT or the task exits.
//!
//! ```text
//!  RUNNING acknowledged, no health check, stream between chunks, for 2 s ─► exec park (memfd)
//!     ──(KILL, SHUTDOWN, stream closed, task exited)──► exec `mesos-executor --resume_parked`
//!     (same pid, same task child, same connection) ─► handle it ─► idle again? ─► park ...
//! ```
//!
//! The pid stays the same, so the agent's and the supervisor's view of the executor does not
//! change, and the task stays our child (its exit status waits for us in the kernel). Only
//! an idle stream is handed over: nothing buffered, no record or chunk read in part, so the
//! resumed executor reads the connection from a chunk boundary.

//!
//! [`state`] is what the resumed executor gets back besides its descriptors; [`resume`]
//! takes them back and keeps their numbers reserved.

mod resume;
mod state;

use std::ffi::{CString, OsString};
use std::io::Write;
use std::os::fd::{AsFd, BorrowedFd, FromRawFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;

use nix::fcntl::OFlag;

pub use resume::{after_failure, reserve_fds, resume, Resumed};
pub use state::Parked;

/// The park program, or empty where it could not be built.
static PARK: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/park"));

/// Where the park program finds the SUBSCRIBE connection.
pub const SOCKET_FD: i32 = 3;
/// Where the park program finds the task's pidfd.
pub const PIDFD: i32 = 4;
/// Where the resumed executor finds its state.
pub const STATE_FD: i32 = 5;
/// Where the park program finds the executor's executable.
pub const EXE_FD: i32 = 6;
/// The first argument of an executor coming back from the park.
pub const RESUME_FLAG: &str = "--resume_parked";

/// Why parking or resuming failed.
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
    /// Writing or reading the state memfd failed.
    #[error("the parked state: {0}")]
    Io(#[from] std::io::Error),
    /// The parked state is not what `park` writes.
    #[error("the parked state has no valid header line")]
    Header,
    /// An argument or variable holds a NUL byte.
    #[error("NUL byte in an argument")]
    Nul,
}

fn sys(step: &'static str) -> impl Fn(nix::errno::Errno) -> ParkError {
    move |source| ParkError::Sys { step, source }
}

/// Whether this build can park at all.
pub fn available() -> bool {
    !PARK.is_empty()
}

/// Whether the connection has something to read or the task exited: no time to park.
pub fn ready(socket: BorrowedFd<'_>, pidfd: BorrowedFd<'_>) -> bool {
    use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
    let mut fds = [
        PollFd::new(socket, PollFlags::POLLIN),
        PollFd::new(pidfd, PollFlags::POLLIN),
    ];
    // An error counts as ready: the event loop finds out what it is.
    poll(&mut fds, PollTimeout::ZERO).map_or(true, |n| n > 0)
}

/// Execs the park program. Returns only on failure, with every descriptor of ours as it was.
pub fn park(socket: BorrowedFd<'_>, pidfd: BorrowedFd<'_>, state: &Parked) -> ParkError {
    match try_park(socket, pidfd, state) {
        Ok(never) => match never {},
        Err(e) => e,
    }
}

enum Never {}

fn try_park(
    socket: BorrowedFd<'_>,
    pidfd: BorrowedFd<'_>,
    state: &Parked,
) -> Result<Never, ParkError> {
    if !available() {
        return Err(ParkError::Unavailable);
    }
    // argv[0] stays ours (tools find executors by it), then the resume flag, then our flags.
    let mut args = std::env::args_os();
    let mut argv: Vec<OsString> = vec![args.next().unwrap_or_else(|| "mesos-executor".into())];
    argv.push(RESUME_FLAG.into());
    argv.extend(args.filter(|a| a != RESUME_FLAG));
    let argv = cstrings(argv)?;
    let envp = cstrings(std::env::vars_os().map(|(k, v)| {
        let mut kv = k;
        kv.push("=");
        kv.push(v);
        kv
    }))?;
    let mut state_file = std::fs::File::from(memfd(c"mesos-executor-state")?);
    state_file.write_all(&state::encode_state(state))?;
    let program = memfd(c"mesos-executor-park")?;
    let mut written = 0;
    while written < PARK.len() {
        written +=
            nix::unistd::write(&program, &PARK[written..]).map_err(sys("writing the park"))?;
    }
    let exe = nix::fcntl::open(
        "/proc/self/exe",
        OFlag::O_PATH | OFlag::O_CLOEXEC,
        nix::sys::stat::Mode::empty(),
    )
    .map_err(sys("opening /proc/self/exe"))?;
    // SAFETY: open(2) just returned this fd; nobody else owns it.
    let exe = unsafe { OwnedFd::from_raw_fd(exe) };
    // Copies above every target first, so that moving one into place cannot clobber another.
    let moves = [
        (socket, SOCKET_FD),
        (pidfd, PIDFD),
        (state_file.as_fd(), STATE_FD),
        (exe.as_fd(), EXE_FD),
    ];
    // What is at the targets is a `/dev/null` placeholder (`reserve_fds`), the handed-over
    // descriptor itself, or at worst a connection of ours opened after its number was freed,
    // which the caller drops should the exec fail (`after_failure`).
    meseta_base::exec::place_fds(&moves).map_err(|(step, errno)| ParkError::Sys {
        step,
        source: nix::errno::Errno::from_raw(errno),
    })?;
    let errno = meseta_base::exec::execveat_fd(program.as_fd(), &argv, &envp);
    Err(ParkError::Sys {
        step: "execveat",
        source: nix::errno::Errno::from_raw(errno),
    })
}

fn memfd(name: &std::ffi::CStr) -> Result<OwnedFd, ParkError> {
    let fd = nix::sys::memfd::memfd_create(name, nix::sys::memfd::MemFdCreateFlag::MFD_CLOEXEC)
        .map_err(sys("memfd_create"))?;
    // Above the fixed numbers, which are about to be overwritten.
    dup_high(fd.as_fd())
}

/// [`meseta_base::exec::dup_high`] with this module's error.
pub(super) fn dup_high(fd: BorrowedFd<'_>) -> Result<OwnedFd, ParkError> {
    meseta_base::exec::dup_high(fd).map_err(|errno| ParkError::Sys {
        step: "dup",
        source: nix::errno::Errno::from_raw(errno),
    })
}

fn cstrings(items: impl IntoIterator<Item = OsString>) -> Result<Vec<CString>, ParkError> {
    items
        .into_iter()
        .map(|s| CString::new(s.as_bytes()).map_err(|_| ParkError::Nul))
        .collect()
}

#[cfg(test)]
mod tests {
    use meseta_api::executor::{Event, EventType};

    include!("../../park/heartbeat.rs");

    #[test]
    fn the_park_drops_exactly_the_agents_heartbeat() {
        let record = meseta_api::recordio::encode_json(&Event::bare(EventType::Heartbeat)).unwrap();
        let mut chunk = format!("{:x}\r\n", record.len()).into_bytes();
        chunk.extend_from_slice(&record);
        chunk.extend_from_slice(b"\r\n");
        assert_eq!(chunk, HEARTBEAT_CHUNK);
        // The size line has no hex letters, so upper- and lower-case encoders agree.
        assert_eq!(format!("{:X}", record.len()), format!("{:x}", record.len()));
    }

    #[test]
    fn the_park_program_is_built_here() {
        assert!(super::available(), "build.rs did not build park/main.rs");
    }
}
