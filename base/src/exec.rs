//! `execveat(fd, "", argv, envp, AT_EMPTY_PATH)`: runs the program behind an open fd (a memfd
//! holding a park program, or a binary's own executable kept open), as both per-task binaries
//! do when they park and resume. nix has no `execveat` wrapper for arbitrary fds on every
//! target, so the call is made here once.

use std::ffi::CString;
use std::os::fd::{AsRawFd, BorrowedFd};

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
    std::io::Error::last_os_error()
        .raw_os_error()
        .unwrap_or(libc::EIO)
}
