//! Reading sandboxes for `/files/*` and the operator calls READ_FILE and LIST_FILES: the one
//! place where a requested path becomes an open fd.
//!
//! A request names an absolute path under `<work_dir>/slaves`. Its first seven components below
//! that root (`<agent>/frameworks/<fw>/executors/<ex>/runs/<run>`, written by the agent itself,
//! `runs/latest` a relative symlink) are opened beneath the root; the rest is opened beneath
//! that sandbox's directory fd ([`resolve::open_beneath`]), so a task cannot reach another
//! sandbox, let alone the host, through symlinks it controls. The opened fd is `fstat`ed: only
//! regular files and directories are served.
//!
//! Everything here blocks; callers run it through [`blocking`], which bounds how many blocking
//! pool threads file I/O may hold at once.

pub mod listing;
pub mod resolve;

use std::fs::File;
use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::os::unix::fs::FileExt;
use std::path::{Component, Path, PathBuf};

use nix::errno::Errno;
use nix::sys::stat::{fstat, FileStat, SFlag};
use tokio::sync::Semaphore;

/// Components below `<work_dir>/slaves` that name one sandbox (a run directory).
const SANDBOX_DEPTH: usize = 7;

/// Blocking file operations running at once; more wait for a permit, off the runtime threads.
pub const MAX_CONCURRENT_IO: usize = 8;

static IO_PERMITS: Semaphore = Semaphore::const_new(MAX_CONCURRENT_IO);

/// Why a sandbox path cannot be served.
#[derive(Debug, thiserror::Error)]
pub enum FileError {
    /// Not an absolute path.
    #[error("'{0}' is not an absolute path")]
    NotAbsolute(String),
    /// Outside every sandbox, or a symlink or `..` that leads out of its sandbox.
    #[error("'{0}' is not inside a sandbox")]
    Outside(String),
    /// No such file.
    #[error("'{0}' was not found")]
    NotFound(String),
    /// Permission denied to the agent itself.
    #[error("Access to '{0}' was denied")]
    Denied(String),
    /// A FIFO, socket or device: never opened for reading.
    #[error("'{path}' is {kind}; only regular files and directories can be read")]
    Unsupported {
        /// The requested path.
        path: String,
        /// "a FIFO", "a socket", ...
        kind: &'static str,
    },
    /// A directory where a file was needed, or the reverse.
    #[error("'{0}' is a directory")]
    IsDirectory(String),
    /// Any other error of the kernel.
    #[error("Failed to access '{path}': {source}")]
    Io {
        /// The requested path.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// The blocking pool went away (the agent is shutting down).
    #[error("the file I/O pool is unavailable")]
    Pool,
}

/// An opened sandbox entry.
#[derive(Debug)]
pub struct Opened {
    /// The open file or directory (`O_RDONLY | O_NONBLOCK`).
    pub fd: OwnedFd,
    /// Its `fstat`.
    pub stat: FileStat,
    /// Whether it is a directory (else a regular file).
    pub is_dir: bool,
}

/// Runs `f` on the blocking pool, at most [`MAX_CONCURRENT_IO`] at once.
pub async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, FileError> + Send + 'static,
) -> Result<T, FileError> {
    let _permit = IO_PERMITS.acquire().await.map_err(|_| FileError::Pool)?;
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|_| FileError::Pool)?
}

/// Opens `requested` (an absolute path below `<work_dir>/slaves`).
pub fn open(work_dir: &Path, requested: &str) -> Result<Opened, FileError> {
    let rel = relative_to_root(work_dir, requested)?;
    let root = File::open(work_dir.join("slaves"))
        .map_err(|_| FileError::NotFound(requested.to_owned()))?;
    let parts: Vec<Component<'_>> = rel.components().collect();
    let errno = |e: Errno| map_errno(e, requested);
    // `..` above a sandbox could start the inner resolution from a shallower directory, from
    // which one sandbox's symlinks reach into another's.
    if parts[..parts.len().min(SANDBOX_DEPTH)].contains(&Component::ParentDir) {
        return Err(FileError::Outside(requested.to_owned()));
    }
    let fd = if parts.len() <= SANDBOX_DEPTH {
        resolve::open_beneath(root.as_fd(), &rel, resolve::read_flags()).map_err(errno)?
    } else {
        let (sandbox, inside) = parts.split_at(SANDBOX_DEPTH);
        let sandbox: PathBuf = sandbox.iter().collect();
        let inside: PathBuf = inside.iter().collect();
        let dir =
            resolve::open_beneath(root.as_fd(), &sandbox, resolve::path_flags()).map_err(errno)?;
        resolve::open_beneath(dir.as_fd(), &inside, resolve::read_flags()).map_err(errno)?
    };
    let stat = fstat(fd.as_raw_fd()).map_err(errno)?;
    let is_dir = match SFlag::from_bits_truncate(stat.st_mode) & SFlag::S_IFMT {
        SFlag::S_IFREG => false,
        SFlag::S_IFDIR => true,
        other => {
            return Err(FileError::Unsupported {
                path: requested.to_owned(),
                kind: kind_name(other),
            })
        }
    };
    Ok(Opened { fd, stat, is_dir })
}

/// The part of `requested` below `<work_dir>/slaves` (lexically; `..` is left to the resolver,
/// which refuses it where it would climb out).
fn relative_to_root(work_dir: &Path, requested: &str) -> Result<PathBuf, FileError> {
    let path = Path::new(requested);
    if !path.is_absolute() || requested.contains('\0') {
        return Err(FileError::NotAbsolute(requested.to_owned()));
    }
    let root = work_dir.join("slaves");
    let canonical = root.canonicalize().ok();
    [Some(root), canonical]
        .into_iter()
        .flatten()
        .find_map(|r| path.strip_prefix(&r).ok().map(Path::to_owned))
        .ok_or_else(|| FileError::Outside(requested.to_owned()))
}

fn map_errno(e: Errno, requested: &str) -> FileError {
    let path = requested.to_owned();
    match e {
        Errno::ENOENT | Errno::ENOTDIR => FileError::NotFound(path),
        Errno::EXDEV | Errno::ELOOP => FileError::Outside(path),
        Errno::EACCES | Errno::EPERM => FileError::Denied(path),
        Errno::ENXIO => FileError::Unsupported {
            path,
            kind: "a socket",
        },
        e => FileError::Io {
            path,
            source: std::io::Error::from(e),
        },
    }
}

fn kind_name(kind: SFlag) -> &'static str {
    match kind {
        SFlag::S_IFIFO => "a FIFO",
        SFlag::S_IFSOCK => "a socket",
        SFlag::S_IFCHR => "a character device",
        SFlag::S_IFBLK => "a block device",
        SFlag::S_IFLNK => "a symbolic link",
        _ => "not a regular file",
    }
}

/// Reads up to `len` bytes at `offset` of an opened regular file (short only at its end).
pub fn read_at(file: &File, offset: u64, len: usize) -> std::io::Result<Vec<u8>> {
    let mut buf = vec![0u8; len];
    let mut done = 0;
    while done < len {
        match file.read_at(&mut buf[done..], offset + done as u64) {
            Ok(0) => break,
            Ok(n) => done += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    buf.truncate(done);
    Ok(buf)
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::symlink;

    use super::*;

    #[test]
    fn sandboxes_are_the_unit_of_confinement() {
        let work = tempfile::tempdir().unwrap();
        let runs = |ex: &str| {
            work.path()
                .join(format!("slaves/S0/frameworks/F/executors/{ex}/runs"))
        };
        for ex in ["a", "b"] {
            std::fs::create_dir_all(runs(ex).join("c1")).unwrap();
            symlink("c1", runs(ex).join("latest")).unwrap();
            std::fs::write(runs(ex).join("c1/stdout"), ex).unwrap();
        }
        symlink("../../../b/runs/c1/stdout", runs("a").join("c1/other")).unwrap();
        let p = |rest: &str| format!("{}/{rest}", runs("a").display());
        let opened = open(work.path(), &p("latest/stdout")).unwrap();
        assert!(!opened.is_dir);
        assert!(open(work.path(), &p("latest")).unwrap().is_dir);
        assert!(
            open(work.path(), &format!("{}/slaves/S0", work.path().display()))
                .unwrap()
                .is_dir
        );
        assert!(matches!(
            open(work.path(), &p("c1/other")),
            Err(FileError::Outside(_))
        ));
        assert!(matches!(
            open(work.path(), &p("c1/../../../b/runs/c1/stdout")),
            Err(FileError::Outside(_))
        ));
        assert!(matches!(
            open(work.path(), "/etc/passwd"),
            Err(FileError::Outside(_))
        ));
        assert!(matches!(
            open(work.path(), "stdout"),
            Err(FileError::NotAbsolute(_))
        ));
        assert!(matches!(
            open(work.path(), &p("c1/nothing")),
            Err(FileError::NotFound(_))
        ));
        let dotdot = format!("{}/slaves/../../../etc/passwd", work.path().display());
        assert!(matches!(
            open(work.path(), &dotdot),
            Err(FileError::Outside(_))
        ));
    }
}
