//! Listing an opened sandbox directory one page at a time: names are read (`getdents`) and
//! sorted, and only the requested page is `fstatat`ed relative to the directory fd, so a
//! directory of 100,000 entries costs a sort of names, not 100,000 `stat`s and a 29 MB answer.

use std::collections::HashMap;
use std::ffi::{OsStr, OsString};
use std::os::fd::{AsRawFd, IntoRawFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;

use nix::dir::Dir;
use nix::errno::Errno;
use nix::fcntl::AtFlags;
use nix::sys::stat::{fstatat, FileStat};

/// Most entries answered at once (and the default page size).
pub const MAX_PAGE: usize = 10_000;

/// Most names read from one directory; past this the listing is cut (and says so).
pub const MAX_SCAN: usize = 1_000_000;

/// One entry: its name and `lstat`.
#[derive(Debug)]
pub struct Entry {
    /// The name in its directory.
    pub name: OsString,
    /// `fstatat(AT_SYMLINK_NOFOLLOW)`.
    pub stat: FileStat,
}

/// A page of a directory, sorted by name.
#[derive(Debug)]
pub struct Page {
    /// The entries from `offset`, at most `limit`.
    pub entries: Vec<Entry>,
    /// How many names the directory has (up to [`MAX_SCAN`]).
    pub total: usize,
    /// The directory had more than [`MAX_SCAN`] names.
    pub scan_cut: bool,
}

/// Lists `dir` from the `offset`-th name (sorted), at most `limit` (capped at [`MAX_PAGE`]).
pub fn list(dir: OwnedFd, offset: usize, limit: usize) -> Result<Page, Errno> {
    let mut dir = Dir::from_fd(dir.into_raw_fd())?;
    let mut names: Vec<OsString> = Vec::new();
    let mut scan_cut = false;
    for entry in dir.iter() {
        let entry = entry?;
        let name = OsStr::from_bytes(entry.file_name().to_bytes());
        if name == "." || name == ".." {
            continue;
        }
        if names.len() == MAX_SCAN {
            scan_cut = true;
            break;
        }
        names.push(name.to_owned());
    }
    names.sort_unstable();
    let total = names.len();
    let fd = dir.as_raw_fd();
    let entries = names
        .into_iter()
        .skip(offset)
        .take(limit.min(MAX_PAGE))
        // An entry removed since it was read is left out.
        .filter_map(|name| {
            let stat = fstatat(Some(fd), name.as_os_str(), AtFlags::AT_SYMLINK_NOFOLLOW).ok()?;
            Some(Entry { name, stat })
        })
        .collect();
    Ok(Page {
        entries,
        total,
        scan_cut,
    })
}

/// Names of uids and gids, looked up once per listing (`getpwuid_r` reads `/etc/passwd`).
#[derive(Debug, Default)]
pub struct Owners {
    users: HashMap<u32, String>,
    groups: HashMap<u32, String>,
}

impl Owners {
    /// The user name of `uid`, or the number.
    pub fn user(&mut self, uid: u32) -> String {
        self.users
            .entry(uid)
            .or_insert_with(|| {
                nix::unistd::User::from_uid(uid.into())
                    .ok()
                    .flatten()
                    .map_or_else(|| uid.to_string(), |u| u.name)
            })
            .clone()
    }

    /// The group name of `gid`, or the number.
    pub fn group(&mut self, gid: u32) -> String {
        self.groups
            .entry(gid)
            .or_insert_with(|| {
                nix::unistd::Group::from_gid(gid.into())
                    .ok()
                    .flatten()
                    .map_or_else(|| gid.to_string(), |g| g.name)
            })
            .clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_are_sorted_and_capped() {
        let dir = tempfile::tempdir().unwrap();
        for i in 0..25 {
            std::fs::write(dir.path().join(format!("f{i:02}")), "").unwrap();
        }
        let open = || OwnedFd::from(std::fs::File::open(dir.path()).unwrap());
        let page = list(open(), 20, 100).unwrap();
        assert_eq!(page.total, 25);
        let names: Vec<_> = page.entries.iter().map(|e| e.name.clone()).collect();
        assert_eq!(names, ["f20", "f21", "f22", "f23", "f24"]);
        assert_eq!(list(open(), 0, usize::MAX).unwrap().entries.len(), 25);
        assert_eq!(list(open(), 3, 2).unwrap().entries[0].name, "f03");
        assert!(list(open(), 30, 5).unwrap().entries.is_empty());
    }
}
