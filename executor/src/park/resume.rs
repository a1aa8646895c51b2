//! Taking back what the park handed over, and keeping the park's descriptor numbers
//! reserved in between.

use std::io::{Read, Seek};
use std::os::fd::{AsFd, AsRawFd, FromRawFd, OwnedFd};

use nix::fcntl::{fcntl, FcntlArg, FdFlag};

use super::state::{decode_state, Parked};
use super::{dup_high, sys, ParkError, EXE_FD, PIDFD, SOCKET_FD, STATE_FD};

/// What a resumed executor takes back from the park.
#[derive(Debug)]
pub struct Resumed {
    /// The state written before parking.
    pub state: Parked,
    /// The SUBSCRIBE connection.
    pub socket: OwnedFd,
    /// The task's pidfd.
    pub pidfd: OwnedFd,
}

/// Takes back the descriptors and the state the park handed over (`--resume_parked`).
pub fn resume() -> Result<Resumed, ParkError> {
    let socket = adopt(SOCKET_FD)?;
    let pidfd = adopt(PIDFD)?;
    let mut state_file = std::fs::File::from(dup_high(adopt(STATE_FD)?.as_fd())?);
    // The state and the executable's fd are of no further use (the next park writes and
    // opens fresh ones); their numbers are kept reserved.
    reserve(&[STATE_FD, EXE_FD])?;
    state_file.rewind()?;
    let mut text = Vec::new();
    state_file.read_to_end(&mut text)?;
    let state = decode_state(&text)?;
    Ok(Resumed {
        state,
        socket,
        pidfd,
    })
}

/// Keeps descriptors 3 to 6 taken (by `/dev/null`, close-on-exec) where they are free, so that
/// nothing the executor opens later (the runtime's epoll and eventfd, connections) lands on
/// a number [`park`] overwrites. Call it first thing, before the runtime starts.
pub fn reserve_fds() {
    let free: Vec<i32> = [SOCKET_FD, PIDFD, STATE_FD, EXE_FD]
        .into_iter()
        .filter(|fd| fcntl(*fd, FcntlArg::F_GETFD).is_err())
        .collect();
    if let Err(err) = reserve(&free) {
        tracing::debug!(%err, "cannot reserve the park's descriptors");
    }
}

/// Points each of `fds` at `/dev/null` (close-on-exec).
fn reserve(fds: &[i32]) -> Result<(), ParkError> {
    // Above the fixed numbers: dup3 refuses to copy a descriptor onto itself.
    let null = dup_high(std::fs::File::open("/dev/null")?.as_fd())?;
    for fd in fds {
        // SAFETY: dup3 onto a number that is free or one of ours we are done with.
        if unsafe { libc::dup3(null.as_raw_fd(), *fd, libc::O_CLOEXEC) } < 0 {
            return Err(ParkError::Sys {
                step: "reserving a descriptor",
                source: nix::errno::Errno::last(),
            });
        }
    }
    Ok(())
}

/// After a failed park: the fixed numbers hold copies of the handed-over descriptors, which
/// must not leak into anything the executor starts.
pub fn after_failure() {
    for fd in [SOCKET_FD, PIDFD, STATE_FD, EXE_FD] {
        let _ = fcntl(fd, FcntlArg::F_SETFD(FdFlag::FD_CLOEXEC));
    }
}

/// Takes over a descriptor the park handed back, close-on-exec from now on.
fn adopt(fd: i32) -> Result<OwnedFd, ParkError> {
    fcntl(fd, FcntlArg::F_SETFD(FdFlag::FD_CLOEXEC)).map_err(sys("taking back a parked fd"))?;
    // SAFETY: the fd is open (fcntl succeeded), was handed to us by the park, and nothing
    // else in this process knows it.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}
