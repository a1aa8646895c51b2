//! Unpacking one image layer (a tar stream) into a directory, safely.
//!
//! Every entry is placed by hand with `*at` syscalls relative to directory fds, instead of
//! `tar::Entry::unpack_in`, because layers are untrusted: a path must not leave the layer
//! directory by `..`, an absolute name, a symlink written earlier in the archive, or a
//! hardlink to something outside. The rules:
//! * names with a `..` component or a leading `/` are rejected;
//! * parent directories are opened with `O_NOFOLLOW | O_DIRECTORY`, so a path that passes
//!   through any symlink is rejected (a tar of a real filesystem never contains one);
//! * hardlink targets are resolved by the same rule and linked without following;
//! * device nodes and setuid/setgid bits follow [`SpecialFiles`] (stripped by default);
//! * [`Limits`] bound the bytes and entries, so a decompression bomb stops early;
//! * whiteouts (`.wh.<name>`, `.wh..wh..opq`) become overlayfs whiteouts (a 0:0 character
//!   device, the `trusted.overlay.opaque` xattr), so layers can be stacked as overlay
//!   lowerdirs or merged by copying.

use std::ffi::{CString, OsStr};
use std::fs::File;
use std::io::{self, Read, Write};
use std::os::fd::{AsFd, AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

use nix::errno::Errno;
use nix::fcntl::{openat, OFlag};
use nix::sys::stat::{fchmod, mkdirat, mknodat, Mode, SFlag};
use nix::unistd::{fchownat, symlinkat, unlinkat, Gid, Uid, UnlinkatFlags};

/// What to do with device nodes and setuid/setgid files.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SpecialFiles {
    /// Skip device nodes and clear setuid/setgid bits (the default).
    #[default]
    Strip,
    /// Refuse the layer.
    Reject,
    /// Keep them as they are.
    Keep,
}

/// Bounds on what one layer may contain.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Uncompressed bytes of file content.
    pub max_bytes: u64,
    /// Number of tar entries.
    pub max_entries: u64,
    /// Device nodes and setuid files.
    pub special: SpecialFiles,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_bytes: 16 << 30,
            max_entries: 2_000_000,
            special: SpecialFiles::Strip,
        }
    }
}

/// What was unpacked.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Stats {
    /// Entries processed.
    pub entries: u64,
    /// Bytes of file content written.
    pub bytes: u64,
    /// Whiteouts recorded.
    pub whiteouts: u64,
    /// Device nodes skipped (with [`SpecialFiles::Strip`]).
    pub devices_skipped: u64,
    /// Files whose setuid/setgid bits were cleared.
    pub setuid_stripped: u64,
}

/// Why a layer was refused or could not be unpacked.
#[derive(Debug, thiserror::Error)]
pub enum UnpackError {
    /// `..` in a name.
    #[error("entry {0:?} contains '..'")]
    DotDot(String),
    /// An absolute name.
    #[error("entry {0:?} is an absolute path")]
    Absolute(String),
    /// A path through a symlink, or a non-directory used as a directory.
    #[error("entry {0:?} passes through a symlink or a non-directory")]
    ThroughSymlink(String),
    /// A hardlink whose target is unusable.
    #[error("hardlink {name:?} -> {target:?}: {reason}")]
    BadHardlink {
        /// The link.
        name: String,
        /// Its target.
        target: String,
        /// Why.
        reason: String,
    },
    /// A device node while they are rejected.
    #[error("entry {0:?} is a device node")]
    Device(String),
    /// A setuid/setgid file while they are rejected.
    #[error("entry {0:?} is setuid/setgid")]
    Setuid(String),
    /// An entry type Meseta does not unpack.
    #[error("entry {name:?} has unsupported type {kind}")]
    Unsupported {
        /// The entry.
        name: String,
        /// Its tar type byte.
        kind: u8,
    },
    /// More content than [`Limits::max_bytes`].
    #[error("layer exceeds {0} bytes uncompressed")]
    TooLarge(u64),
    /// More entries than [`Limits::max_entries`].
    #[error("layer exceeds {0} entries")]
    TooManyEntries(u64),
    /// Reading the archive or writing the files failed.
    #[error("{context}: {source}")]
    Io {
        /// What was being done.
        context: String,
        /// Why.
        source: io::Error,
    },
}

fn io_err(context: impl Into<String>) -> impl FnOnce(io::Error) -> UnpackError {
    let context = context.into();
    move |source| UnpackError::Io { context, source }
}

fn errno(context: impl Into<String>) -> impl FnOnce(Errno) -> UnpackError {
    let context = context.into();
    move |e| UnpackError::Io {
        context,
        source: io::Error::from(e),
    }
}

/// The components of a tar name, validated: no `..`, not absolute; `.` and empty skipped.
fn components(raw: &[u8]) -> Result<Vec<&OsStr>, UnpackError> {
    let shown = || String::from_utf8_lossy(raw).into_owned();
    if raw.first() == Some(&b'/') {
        return Err(UnpackError::Absolute(shown()));
    }
    let mut out = Vec::new();
    for c in raw.split(|b| *b == b'/') {
        match c {
            b"" | b"." => {}
            b".." => return Err(UnpackError::DotDot(shown())),
            c => out.push(OsStr::from_bytes(c)),
        }
    }
    Ok(out)
}

fn open_dir_at(dir: &OwnedFd, name: &OsStr) -> Result<OwnedFd, Errno> {
    let flags = OFlag::O_PATH | OFlag::O_DIRECTORY | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC;
    let fd = openat(Some(dir.as_raw_fd()), name, flags, Mode::empty())?;
    // SAFETY: openat just returned this fd; nothing else owns it.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// Opens (creating when `create`) the directory `parts` below `root`, refusing symlinks.
fn walk(
    root: &OwnedFd,
    parts: &[&OsStr],
    create: bool,
    name: &str,
) -> Result<OwnedFd, UnpackError> {
    let mut cur = root.try_clone().map_err(io_err("dup"))?;
    for part in parts {
        cur = match open_dir_at(&cur, part) {
            Ok(fd) => fd,
            Err(Errno::ENOENT) if create => {
                match mkdirat(
                    Some(cur.as_raw_fd()),
                    *part,
                    Mode::from_bits_truncate(0o755),
                ) {
                    Ok(()) | Err(Errno::EEXIST) => {}
                    Err(e) => return Err(errno(format!("mkdir for {name}"))(e)),
                }
                open_dir_at(&cur, part).map_err(|_| UnpackError::ThroughSymlink(name.to_owned()))?
            }
            Err(Errno::ENOTDIR | Errno::ELOOP) => {
                return Err(UnpackError::ThroughSymlink(name.to_owned()))
            }
            Err(e) => return Err(errno(format!("opening parent of {name}"))(e)),
        };
    }
    Ok(cur)
}

/// Removes whatever is at `name` in `dir` (file, symlink or directory tree).
fn remove_at(dir: &OwnedFd, name: &OsStr) -> Result<(), UnpackError> {
    match unlinkat(Some(dir.as_raw_fd()), name, UnlinkatFlags::NoRemoveDir) {
        Ok(()) | Err(Errno::ENOENT) => Ok(()),
        Err(Errno::EISDIR | Errno::EPERM) => {
            let sub = open_dir_at(dir, name).map_err(errno("opening a directory to replace"))?;
            let path = format!("/proc/self/fd/{}", sub.as_raw_fd());
            let real =
                std::fs::read_link(&path).map_err(io_err("resolving a directory to replace"))?;
            std::fs::remove_dir_all(&real).map_err(io_err(format!("removing {}", real.display())))
        }
        Err(e) => Err(errno("replacing an entry")(e)),
    }
}

/// Unpacks the (already decompressed) tar stream `reader` into `dest`, which must exist.
pub fn unpack_layer<R: Read>(
    reader: R,
    dest: &Path,
    limits: &Limits,
) -> Result<Stats, UnpackError> {
    let root = File::open(dest)
        .map(OwnedFd::from)
        .map_err(io_err(format!("opening {}", dest.display())))?;
    let mut archive = tar::Archive::new(reader);
    let mut stats = Stats::default();
    for entry in archive.entries().map_err(io_err("reading the layer"))? {
        let mut entry = entry.map_err(io_err("reading a layer entry"))?;
        stats.entries += 1;
        if stats.entries > limits.max_entries {
            return Err(UnpackError::TooManyEntries(limits.max_entries));
        }
        place(&root, &mut entry, limits, &mut stats)?;
    }
    Ok(stats)
}

fn place<R: Read>(
    root: &OwnedFd,
    entry: &mut tar::Entry<'_, R>,
    limits: &Limits,
    stats: &mut Stats,
) -> Result<(), UnpackError> {
    let raw = entry.path_bytes().into_owned();
    let name = String::from_utf8_lossy(&raw).into_owned();
    let parts = components(&raw)?;
    let Some((last, parents)) = parts.split_last() else {
        return Ok(());
    };
    let parent = walk(root, parents, true, &name)?;
    let header = entry.header();
    let kind = header.entry_type();
    let mode = header.mode().map_err(io_err(format!("mode of {name}")))?;
    // An empty numeric field (some tar writers leave uid/gid blank) means root, as GNU tar reads it.
    let uid = header.uid().unwrap_or(0);
    let gid = header.gid().unwrap_or(0);
    let owner = (
        Some(Uid::from_raw(u32::try_from(uid).unwrap_or(0))),
        Some(Gid::from_raw(u32::try_from(gid).unwrap_or(0))),
    );

    let last_bytes = last.as_bytes();
    if let Some(hidden) = last_bytes.strip_prefix(b".wh.") {
        stats.whiteouts += 1;
        return whiteout(&parent, hidden, &name);
    }
    match kind {
        tar::EntryType::Directory => {
            match open_dir_at(&parent, last) {
                Ok(_) => {}
                Err(Errno::ENOENT) => mkdirat(
                    Some(parent.as_raw_fd()),
                    *last,
                    Mode::from_bits_truncate(0o755),
                )
                .map_err(errno(format!("mkdir {name}")))?,
                Err(_) => {
                    remove_at(&parent, last)?;
                    mkdirat(
                        Some(parent.as_raw_fd()),
                        *last,
                        Mode::from_bits_truncate(0o755),
                    )
                    .map_err(errno(format!("mkdir {name}")))?;
                }
            }
            let dir = open_dir_at(&parent, last)
                .map_err(|_| UnpackError::ThroughSymlink(name.clone()))?;
            let fd = std::fs::File::open(format!("/proc/self/fd/{}", dir.as_raw_fd()))
                .map_err(io_err(format!("opening {name}")))?;
            nix::unistd::fchown(fd.as_raw_fd(), owner.0, owner.1)
                .map_err(errno(format!("chown {name}")))?;
            fchmod(fd.as_raw_fd(), Mode::from_bits_truncate(mode & 0o7777))
                .map_err(errno(format!("chmod {name}")))?;
        }
        tar::EntryType::Regular | tar::EntryType::Continuous => {
            let mode = special_mode(mode, &name, limits, stats)?;
            remove_at(&parent, last)?;
            let flags = OFlag::O_WRONLY
                | OFlag::O_CREAT
                | OFlag::O_EXCL
                | OFlag::O_NOFOLLOW
                | OFlag::O_CLOEXEC;
            let fd = openat(
                Some(parent.as_raw_fd()),
                *last,
                flags,
                Mode::from_bits_truncate(0o600),
            )
            .map_err(errno(format!("creating {name}")))?;
            // SAFETY: openat just returned this fd; the File takes ownership.
            let mut file = unsafe { File::from_raw_fd(fd) };
            let budget = limits.max_bytes.saturating_sub(stats.bytes);
            let copied = io::copy(&mut entry.take(budget.saturating_add(1)), &mut file)
                .map_err(io_err(format!("writing {name}")))?;
            if copied > budget {
                return Err(UnpackError::TooLarge(limits.max_bytes));
            }
            stats.bytes += copied;
            file.flush().map_err(io_err(format!("writing {name}")))?;
            nix::unistd::fchown(file.as_raw_fd(), owner.0, owner.1)
                .map_err(errno(format!("chown {name}")))?;
            // After chown, which clears setuid bits.
            fchmod(file.as_raw_fd(), Mode::from_bits_truncate(mode))
                .map_err(errno(format!("chmod {name}")))?;
        }
        tar::EntryType::Symlink => {
            let target = entry
                .link_name_bytes()
                .map(|c| c.into_owned())
                .unwrap_or_default();
            remove_at(&parent, last)?;
            symlinkat(OsStr::from_bytes(&target), Some(parent.as_raw_fd()), *last)
                .map_err(errno(format!("symlink {name}")))?;
            fchownat(
                Some(parent.as_raw_fd()),
                *last,
                owner.0,
                owner.1,
                nix::fcntl::AtFlags::AT_SYMLINK_NOFOLLOW,
            )
            .map_err(errno(format!("chown {name}")))?;
        }
        tar::EntryType::Link => {
            let target = entry
                .link_name_bytes()
                .map(|c| c.into_owned())
                .unwrap_or_default();
            hardlink(root, &parent, last, &target, &name)?;
        }
        tar::EntryType::Char | tar::EntryType::Block | tar::EntryType::Fifo => {
            let is_fifo = kind == tar::EntryType::Fifo;
            if !is_fifo {
                match limits.special {
                    SpecialFiles::Reject => return Err(UnpackError::Device(name)),
                    SpecialFiles::Strip => {
                        stats.devices_skipped += 1;
                        return Ok(());
                    }
                    SpecialFiles::Keep => {}
                }
            }
            let major = header.device_major().ok().flatten().unwrap_or(0);
            let minor = header.device_minor().ok().flatten().unwrap_or(0);
            let sflag = match kind {
                tar::EntryType::Char => SFlag::S_IFCHR,
                tar::EntryType::Block => SFlag::S_IFBLK,
                _ => SFlag::S_IFIFO,
            };
            remove_at(&parent, last)?;
            let dev = nix::sys::stat::makedev(u64::from(major), u64::from(minor));
            mknodat(
                Some(parent.as_raw_fd()),
                *last,
                sflag,
                Mode::from_bits_truncate(mode & 0o777),
                dev,
            )
            .map_err(errno(format!("mknod {name}")))?;
            fchownat(
                Some(parent.as_raw_fd()),
                *last,
                owner.0,
                owner.1,
                nix::fcntl::AtFlags::AT_SYMLINK_NOFOLLOW,
            )
            .map_err(errno(format!("chown {name}")))?;
        }
        tar::EntryType::XGlobalHeader
        | tar::EntryType::XHeader
        | tar::EntryType::GNULongName
        | tar::EntryType::GNULongLink => {}
        other => {
            return Err(UnpackError::Unsupported {
                name,
                kind: other.as_byte(),
            })
        }
    }
    Ok(())
}

/// The mode to write for a regular file, applying the setuid policy.
fn special_mode(
    mode: u32,
    name: &str,
    limits: &Limits,
    stats: &mut Stats,
) -> Result<u32, UnpackError> {
    let mode = mode & 0o7777;
    if mode & 0o6000 == 0 {
        return Ok(mode);
    }
    match limits.special {
        SpecialFiles::Keep => Ok(mode),
        SpecialFiles::Reject => Err(UnpackError::Setuid(name.to_owned())),
        SpecialFiles::Strip => {
            stats.setuid_stripped += 1;
            Ok(mode & !0o6000)
        }
    }
}

fn hardlink(
    root: &OwnedFd,
    parent: &OwnedFd,
    last: &OsStr,
    target: &[u8],
    name: &str,
) -> Result<(), UnpackError> {
    let bad = |reason: &str| UnpackError::BadHardlink {
        name: name.to_owned(),
        target: String::from_utf8_lossy(target).into_owned(),
        reason: reason.to_owned(),
    };
    let tparts = components(target).map_err(|_| bad("target leaves the layer"))?;
    let Some((tlast, tparents)) = tparts.split_last() else {
        return Err(bad("empty target"));
    };
    let tdir = walk(root, tparents, false, name)
        .map_err(|_| bad("target passes through a symlink or does not exist"))?;
    remove_at(parent, last)?;
    // No AT_SYMLINK_FOLLOW: a link to a symlink links the symlink itself, never its target.
    nix::unistd::linkat(
        Some(tdir.as_raw_fd()),
        *tlast,
        Some(parent.as_raw_fd()),
        last,
        nix::fcntl::AtFlags::empty(),
    )
    .map_err(|e| bad(&e.to_string()))
}

/// Records a whiteout the overlayfs way.
fn whiteout(parent: &OwnedFd, hidden: &[u8], name: &str) -> Result<(), UnpackError> {
    if hidden == b".wh..opq" {
        let path = CString::new(format!("/proc/self/fd/{}", parent.as_fd().as_raw_fd()))
            .map_err(|e| io_err("xattr")(io::Error::other(e)))?;
        let key = c"trusted.overlay.opaque";
        // SAFETY: path and key are NUL-terminated; the value is a 1-byte buffer.
        let rc = unsafe { libc::setxattr(path.as_ptr(), key.as_ptr(), b"y".as_ptr().cast(), 1, 0) };
        if rc != 0 {
            return Err(io_err(format!("marking {name} opaque"))(
                io::Error::last_os_error(),
            ));
        }
        return Ok(());
    }
    if hidden.is_empty() || hidden.contains(&b'/') {
        return Err(UnpackError::DotDot(name.to_owned()));
    }
    let target = OsStr::from_bytes(hidden);
    remove_at(parent, target)?;
    mknodat(
        Some(parent.as_raw_fd()),
        target,
        SFlag::S_IFCHR,
        Mode::empty(),
        nix::sys::stat::makedev(0, 0),
    )
    .map_err(errno(format!("whiteout {name}")))
}

/// Whether `path` (a file in a layer directory) is an overlayfs whiteout.
pub fn is_whiteout(meta: &std::fs::Metadata) -> bool {
    use std::os::unix::fs::{FileTypeExt, MetadataExt};
    meta.file_type().is_char_device() && meta.rdev() == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_validated() {
        assert!(matches!(components(b"../x"), Err(UnpackError::DotDot(_))));
        assert!(matches!(
            components(b"a/../../x"),
            Err(UnpackError::DotDot(_))
        ));
        assert!(matches!(
            components(b"/etc/passwd"),
            Err(UnpackError::Absolute(_))
        ));
        assert_eq!(
            components(b"./usr//bin/./sh").unwrap(),
            vec![OsStr::new("usr"), OsStr::new("bin"), OsStr::new("sh")]
        );
    }
}
