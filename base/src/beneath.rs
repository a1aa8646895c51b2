//! `openat2(2)` with a bounded retry on `EAGAIN`.
//!
//! With `RESOLVE_BENEATH` or `RESOLVE_IN_ROOT`, the kernel answers `EAGAIN` when a rename or
//! mount anywhere on the host happened while it resolved a `..` component: it cannot then
//! prove the walk stayed inside, and openat2(2) says "the caller may choose to retry". On a
//! busy node (any task renaming files) that is not rare, so every caller retries here rather
//! than failing a request or a launch. The retry is bounded: a task renaming in a tight loop
//! must not be able to spin a caller forever; after [`RETRIES`] the `EAGAIN` is returned.

use std::ffi::CString;
use std::io;
use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

/// How many times an `EAGAIN` is retried before it is returned.
pub const RETRIES: usize = 64;

/// `openat2(dir, path, {flags, resolve})`, retried on `EAGAIN` up to [`RETRIES`] times. An
/// empty `path` means `dir` itself (`"."`).
pub fn openat2(dir: BorrowedFd<'_>, path: &Path, flags: u64, resolve: u64) -> io::Result<OwnedFd> {
    let path = if path.as_os_str().is_empty() {
        Path::new(".")
    } else {
        path
    };
    let name = CString::new(path.as_os_str().as_bytes())
        .map_err(|_| io::Error::from_raw_os_error(libc::EINVAL))?;
    // SAFETY: open_how is plain data; all-zero is its "no options" value.
    let mut how: libc::open_how = unsafe { std::mem::zeroed() };
    how.flags = flags;
    how.resolve = resolve;
    let mut tries = 0;
    loop {
        // SAFETY: every pointer is valid for the call; the kernel copies `how` and `name`.
        let fd = unsafe {
            libc::syscall(
                libc::SYS_openat2,
                dir.as_raw_fd(),
                name.as_ptr(),
                std::ptr::addr_of!(how),
                std::mem::size_of::<libc::open_how>(),
            )
        };
        if fd >= 0 {
            let fd = i32::try_from(fd).map_err(|_| io::Error::from_raw_os_error(libc::EBADF))?;
            // SAFETY: openat2 just returned this fd; nothing else owns it.
            return Ok(unsafe { OwnedFd::from_raw_fd(fd) });
        }
        let err = io::Error::last_os_error();
        if err.raw_os_error() != Some(libc::EAGAIN) || tries >= RETRIES {
            return Err(err);
        }
        tries += 1;
    }
}

#[cfg(test)]
mod tests {
    use std::os::fd::AsFd;
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::Arc;

    use super::*;

    #[test]
    fn dotdot_resolves_while_the_host_renames_files() {
        let root = std::env::temp_dir().join(format!("meseta-base-beneath-{}", std::process::id()));
        std::fs::create_dir_all(root.join("a")).unwrap();
        std::fs::write(root.join("a/file"), "x").unwrap();
        let dir = std::fs::File::open(&root).unwrap();
        let stop = Arc::new(AtomicBool::new(false));
        // Renames elsewhere on the host make a `..` resolution answer EAGAIN now and then.
        let renamer = {
            let (root, stop) = (root.clone(), stop.clone());
            std::thread::spawn(move || {
                std::fs::write(root.join("r1"), "").unwrap();
                while !stop.load(Ordering::Relaxed) {
                    let _ = std::fs::rename(root.join("r1"), root.join("r2"));
                    let _ = std::fs::rename(root.join("r2"), root.join("r1"));
                }
            })
        };
        let flags = (libc::O_RDONLY | libc::O_CLOEXEC) as u64;
        let resolve = libc::RESOLVE_BENEATH | libc::RESOLVE_NO_MAGICLINKS;
        let mut failures = Vec::new();
        for _ in 0..20_000 {
            if let Err(e) = openat2(dir.as_fd(), Path::new("a/../a/file"), flags, resolve) {
                failures.push(e.to_string());
            }
        }
        stop.store(true, Ordering::Relaxed);
        renamer.join().unwrap();
        let escape = openat2(dir.as_fd(), Path::new("a/../../etc/passwd"), flags, resolve);
        std::fs::remove_dir_all(&root).unwrap();
        assert!(
            failures.is_empty(),
            "{} failed: {:?}",
            failures.len(),
            failures.first()
        );
        assert_eq!(escape.unwrap_err().raw_os_error(), Some(libc::EXDEV));
    }
}
