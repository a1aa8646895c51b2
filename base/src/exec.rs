//! Handing descriptors over to another program and exec'ing it, as both per-task binaries do
//! when they park and resume: [`place_fds`] puts open fds at the fixed numbers the next
//! program expects, and [`execveat_fd`] runs the program behind an open fd (a memfd holding a
//! park program, or a binary's own executable kept open). nix has no `execveat` wrapper for
//! arbitrary fds on every target, so the call is made here once.

use std::ffi::CString;
use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};

/// Lowest number of the copies [`dup_high`] makes: above every hand-over target.
const HIGH: RawFd = 10;

/// Puts each `(fd, target)` at descriptor number `target` (below 10), without close-on-exec,
/// so that it survives an exec. Every fd is first copied above the targets, so that placing
/// one never clobbers another still to be placed; the copies are closed on return. On
/// failure, returns the step (`"dup"`, `"dup2"`) and its errno.
pub fn place_fds(moves: &[(BorrowedFd<'_>, RawFd)]) -> Result<(), (&'static str, i32)> {
    let high: Vec<(OwnedFd, RawFd)> = moves
        .iter()
        .map(|(fd, target)| dup_high(*fd).map(|copy| (copy, *target)))
        .collect::<Result<_, _>>()
        .map_err(|errno| ("dup", errno))?;
    for (fd, target) in &high {
        // SAFETY: dup2 onto a number the caller hands over; whatever was there is replaced.
        if unsafe { libc::dup2(fd.as_raw_fd(), *target) } < 0 {
            return Err(("dup2", last_errno()));
        }
    }
    Ok(())
}

/// A close-on-exec copy of `fd` numbered 10 or above, out of the way of the fixed numbers a
/// hand-over uses; the errno on failure.
pub fn dup_high(fd: BorrowedFd<'_>) -> Result<OwnedFd, i32> {
    // SAFETY: F_DUPFD_CLOEXEC takes an int and touches no memory.
    let copy = unsafe { libc::fcntl(fd.as_raw_fd(), libc::F_DUPFD_CLOEXEC, HIGH) };
    if copy < 0 {
        return Err(last_errno());
    }
    // SAFETY: fcntl just returned this fd; nobody else owns it.
    Ok(unsafe { OwnedFd::from_raw_fd(copy) })
}

/// Replaces the process image with the program open at `program`. Returns only on failure,
/// with the errno of the call.
pub fn execveat_fd(program: BorrowedFd<'_>, argv: &[CString], envp: &[CString]) -> i32 {
    let argv_ptrs: Vec<*const libc::c_char> = argv
        .iter()
        .map(|a| a.as_ptr())
        .chain([std::ptr::null()])
        .collect();
    let envp_ptrs: Vec<*const libc::c_char> = envp
        .iter()
        .map(|a| a.as_ptr())
        .chain([std::ptr::null()])
        .collect();
    // SAFETY: execveat(2) with NULL-terminated arrays of valid C strings that outlive the call.
    unsafe {
        libc::syscall(
            libc::SYS_execveat,
            program.as_raw_fd(),
            c"".as_ptr(),
            argv_ptrs.as_ptr(),
            envp_ptrs.as_ptr(),
            libc::AT_EMPTY_PATH,
        )
    };
    last_errno()
}

fn last_errno() -> i32 {
    std::io::Error::last_os_error()
        .raw_os_error()
        .unwrap_or(libc::EIO)
}
