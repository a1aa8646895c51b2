//! Opening a path below a directory fd without ever leaving it: `openat2(2)` with
//! `RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS` (retried on the `EAGAIN` a concurrent rename
//! causes, then left to the walk below), or, where the kernel lacks `openat2` (before 5.6,
//! `ENOSYS`), a component-by-component walk that opens each name with `O_NOFOLLOW` relative to
//! the directory fd it holds and expands relative symlinks itself.
//!
//! Either way the name is resolved and opened in one step against fds the walk holds, so a task
//! that swaps a file in its sandbox for a symlink (`rename` loop) can at worst make a request
//! fail: it can never make it open something outside. Absolute symlinks and `..` that would
//! climb above the base fail with `EXDEV`, as `RESOLVE_BENEATH` does.
//!
//! The final open uses `O_NONBLOCK | O_NOCTTY`, so a FIFO or a terminal never blocks or
//! becomes a controlling terminal; the caller checks the opened fd's type.

use std::collections::VecDeque;
use std::ffi::{OsStr, OsString};
use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd};
use std::path::{Component, Path};
use std::sync::atomic::{AtomicBool, Ordering};

use nix::errno::Errno;
use nix::fcntl::{openat, readlinkat, AtFlags, OFlag};
use nix::sys::stat::{fstatat, Mode, SFlag};

/// Symlinks followed in one resolution before `ELOOP` (the kernel's limit, `MAXSYMLINKS`).
const MAX_SYMLINKS: usize = 40;

/// Set once `openat2` answered `ENOSYS`: the walk is used from then on.
static NO_OPENAT2: AtomicBool = AtomicBool::new(false);

/// Flags of the final open of a file to read or a directory to list.
pub fn read_flags() -> OFlag {
    OFlag::O_RDONLY | OFlag::O_NONBLOCK | OFlag::O_NOCTTY | OFlag::O_CLOEXEC
}

/// Flags of a directory that is only walked through.
pub fn path_flags() -> OFlag {
    OFlag::O_PATH | OFlag::O_DIRECTORY | OFlag::O_CLOEXEC
}

/// Opens `rel` below `base` with `flags`, never resolving outside `base`.
pub fn open_beneath(base: BorrowedFd<'_>, rel: &Path, flags: OFlag) -> Result<OwnedFd, Errno> {
    if !NO_OPENAT2.load(Ordering::Relaxed) {
        match openat2_beneath(base, rel, flags) {
            Err(Errno::ENOSYS) => NO_OPENAT2.store(true, Ordering::Relaxed),
            // Renames went on through every retry (a task renaming in a loop): the walk holds
            // its own fds and needs no such guarantee from the kernel.
            Err(Errno::EAGAIN) => {}
            other => return other,
        }
    }
    walk_beneath(base, rel, flags)
}

fn openat2_beneath(base: BorrowedFd<'_>, rel: &Path, flags: OFlag) -> Result<OwnedFd, Errno> {
    let flags = u64::try_from(flags.bits()).map_err(|_| Errno::EINVAL)?;
    let resolve = libc::RESOLVE_BENEATH | libc::RESOLVE_NO_MAGICLINKS;
    meseta_base::beneath::openat2(base, rel, flags, resolve).map_err(io_errno)
}

/// The `openat2`-less resolution: one `openat(O_NOFOLLOW)` per component against the fd of the
/// directory reached so far; a symlink is read (`readlinkat`) and its target's components are
/// put in front of the rest (absolute targets refused); `..` pops back to the parent fd and
/// never above `base`.
pub fn walk_beneath(base: BorrowedFd<'_>, rel: &Path, flags: OFlag) -> Result<OwnedFd, Errno> {
    let mut stack: Vec<OwnedFd> = vec![base.try_clone_to_owned().map_err(io_errno)?];
    let mut queue: VecDeque<OsString> = VecDeque::new();
    push_front(&mut queue, rel)?;
    let mut links = 0;
    while let Some(name) = queue.pop_front() {
        if name == ".." {
            if stack.len() == 1 {
                return Err(Errno::EXDEV);
            }
            stack.pop();
            continue;
        }
        let last = queue.is_empty();
        let dir = stack.last().ok_or(Errno::EXDEV)?;
        let want = if last { flags } else { path_flags() };
        match open_nofollow(dir, &name, want) {
            Ok(fd) if last => return Ok(fd),
            Ok(fd) => stack.push(fd),
            Err(err) => {
                let st = fstatat(
                    Some(dir.as_raw_fd()),
                    name.as_os_str(),
                    AtFlags::AT_SYMLINK_NOFOLLOW,
                )
                .map_err(|_| err)?;
                if SFlag::from_bits_truncate(st.st_mode) & SFlag::S_IFMT != SFlag::S_IFLNK {
                    return Err(err);
                }
                links += 1;
                if links > MAX_SYMLINKS {
                    return Err(Errno::ELOOP);
                }
                let target = readlinkat(Some(dir.as_raw_fd()), name.as_os_str())?;
                push_front(&mut queue, Path::new(&target))?;
            }
        }
    }
    // The path ended in a directory reached by `..` (or was empty): open it itself.
    let dir = stack.last().ok_or(Errno::EXDEV)?;
    open_nofollow(dir, OsStr::new("."), flags)
}

fn open_nofollow(dir: &OwnedFd, name: &OsStr, flags: OFlag) -> Result<OwnedFd, Errno> {
    let fd = openat(
        Some(dir.as_raw_fd()),
        name,
        flags | OFlag::O_NOFOLLOW,
        Mode::empty(),
    )?;
    // SAFETY: openat just returned this fd; nothing else owns it.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// Puts the components of `path` in front of `queue`; an absolute path is `EXDEV`.
fn push_front(queue: &mut VecDeque<OsString>, path: &Path) -> Result<(), Errno> {
    let mut parts = Vec::new();
    for c in path.components() {
        match c {
            Component::RootDir | Component::Prefix(_) => return Err(Errno::EXDEV),
            Component::CurDir => {}
            Component::ParentDir => parts.push(OsString::from("..")),
            Component::Normal(n) => parts.push(n.to_owned()),
        }
    }
    for p in parts.into_iter().rev() {
        queue.push_front(p);
    }
    Ok(())
}

fn io_errno(e: std::io::Error) -> Errno {
    Errno::from_raw(e.raw_os_error().unwrap_or(libc::EIO))
}

#[cfg(test)]
mod tests {
    use std::io::Read;
    use std::os::fd::AsFd;
    use std::os::unix::fs::symlink;

    use super::*;

    type Opener = fn(BorrowedFd<'_>, &Path, OFlag) -> Result<OwnedFd, Errno>;
    const BOTH: [(&str, Opener); 2] = [("openat2", openat2_beneath), ("walk", walk_beneath)];

    /// A sandbox `root/sb` with `sb/a/file` ("inside") beside an outside `root/secret`.
    fn fixture() -> (tempfile::TempDir, std::fs::File) {
        let root = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(root.path().join("sb/a")).unwrap();
        std::fs::write(root.path().join("sb/a/file"), "inside").unwrap();
        std::fs::write(root.path().join("secret"), "SECRET").unwrap();
        let sb = std::fs::File::open(root.path().join("sb")).unwrap();
        (root, sb)
    }

    fn read(open: Opener, sb: &std::fs::File, rel: &str) -> Result<String, Errno> {
        let fd = open(sb.as_fd(), Path::new(rel), read_flags())?;
        let mut s = String::new();
        std::fs::File::from(fd).read_to_string(&mut s).unwrap();
        Ok(s)
    }

    #[test]
    fn plain_and_relative_symlinks_inside_resolve() {
        let (root, sb) = fixture();
        symlink("a/file", root.path().join("sb/rel")).unwrap();
        symlink("../a/file", root.path().join("sb/a/up")).unwrap();
        for (name, open) in BOTH {
            assert_eq!(read(open, &sb, "a/file").unwrap(), "inside", "{name}");
            assert_eq!(read(open, &sb, "rel").unwrap(), "inside", "{name}");
            assert_eq!(read(open, &sb, "a/up").unwrap(), "inside", "{name}");
            assert_eq!(
                read(open, &sb, "a/../a/./file").unwrap(),
                "inside",
                "{name}"
            );
            assert!(
                open(sb.as_fd(), Path::new(""), read_flags()).is_ok(),
                "{name}"
            );
        }
    }

    #[test]
    fn dotdot_and_symlinks_out_are_refused() {
        let (root, sb) = fixture();
        symlink("../secret", root.path().join("sb/out")).unwrap();
        symlink("../../secret", root.path().join("sb/a/out2")).unwrap();
        symlink(root.path().join("secret"), root.path().join("sb/abs")).unwrap();
        symlink("/", root.path().join("sb/slash")).unwrap();
        symlink("loop", root.path().join("sb/loop")).unwrap();
        for (name, open) in BOTH {
            for rel in [
                "../secret",
                "a/../../secret",
                "out",
                "a/out2",
                "abs",
                "slash/etc/passwd",
            ] {
                assert_eq!(read(open, &sb, rel), Err(Errno::EXDEV), "{name} {rel}");
            }
            assert_eq!(read(open, &sb, "loop"), Err(Errno::ELOOP), "{name}");
            assert_eq!(read(open, &sb, "missing"), Err(Errno::ENOENT), "{name}");
        }
    }

    #[test]
    fn a_symlink_swap_never_opens_the_outside_file() {
        let (root, sb) = fixture();
        let dir = root.path().join("sb");
        std::fs::write(dir.join("plain"), "inside").unwrap();
        symlink("../secret", dir.join("link")).unwrap();
        let stop = std::sync::Arc::new(AtomicBool::new(false));
        let swapper = {
            let (dir, stop) = (dir.clone(), stop.clone());
            std::thread::spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    let _ = std::fs::rename(dir.join("plain"), dir.join("tmp"));
                    let _ = std::fs::rename(dir.join("link"), dir.join("plain"));
                    let _ = std::fs::rename(dir.join("plain"), dir.join("link"));
                    let _ = std::fs::rename(dir.join("tmp"), dir.join("plain"));
                }
            })
        };
        for (name, open) in BOTH {
            for _ in 0..2000 {
                if let Ok(s) = read(open, &sb, "plain") {
                    assert_ne!(s, "SECRET", "{name}");
                }
            }
        }
        stop.store(true, Ordering::Relaxed);
        swapper.join().unwrap();
    }

    #[test]
    fn a_fifo_opens_without_blocking() {
        let (root, sb) = fixture();
        nix::unistd::mkfifo(&root.path().join("sb/pipe"), Mode::S_IRWXU).unwrap();
        for (name, open) in BOTH {
            let fd = open(sb.as_fd(), Path::new("pipe"), read_flags()).unwrap();
            let st = nix::sys::stat::fstat(fd.as_raw_fd()).unwrap();
            let kind = SFlag::from_bits_truncate(st.st_mode) & SFlag::S_IFMT;
            assert_eq!(kind, SFlag::S_IFIFO, "{name}");
        }
    }
}
