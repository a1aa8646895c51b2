//! Moving a process into its cgroups without the kernel's global migration lock (cgroup v1).
//!
//! Writing a pid to `cgroup.procs` or `tasks` takes the kernel's global
//! `cgroup_threadgroup_rwsem` for writing. After a quiet spell, taking it first waits for an
//! RCU grace period: 7–16 ms measured for one launch's first migration on this project's
//! 6.18 test host. Writing `0` to a v1 `tasks` file instead moves only the calling thread, and
//! the kernel takes no global lock for that (`cgroup_procs_write_start` in
//! kernel/cgroup/cgroup.c: `pid == 0 && !threadgroup` → `CGRP_ATTACH_LOCK_NONE`). A
//! single-threaded process that moves itself this way, and whose children inherit its cgroups
//! at fork, never waits. cgroup v2 has no equivalent file (`cgroup.threads` moves threads only
//! inside a threaded subtree); there the way around the lock is to create the process inside
//! its cgroup with `clone3(CLONE_INTO_CGROUP)` ([`CloneInto`], Linux 5.7+), which takes the
//! lock only for reading, as every fork does.

use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};

use nix::sched::CloneFlags;
use nix::unistd::Pid;

use super::CgroupError;

/// The `tasks` files of a set of v1 cgroups, opened ahead of time (before any namespace or
/// mount change, and with the opener's credentials, which the kernel checks on write).
#[derive(Debug)]
pub struct SelfJoin {
    files: Vec<(PathBuf, File)>,
}

impl SelfJoin {
    /// Opens `<dir>/tasks` for each cgroup directory, once per distinct hierarchy (`cpu` and
    /// `cpuacct` are often one: the same file under two names, told apart by its inode).
    pub fn open(dirs: impl IntoIterator<Item = PathBuf>) -> Result<Self, CgroupError> {
        use std::os::unix::fs::MetadataExt;
        let mut seen = Vec::new();
        let mut files = Vec::new();
        for dir in dirs {
            let path = dir.join("tasks");
            let io = |source| CgroupError::Io {
                path: path.clone(),
                source,
            };
            let file = File::options().write(true).open(&path).map_err(io)?;
            let meta = file.metadata().map_err(io)?;
            let key = (meta.dev(), meta.ino());
            if seen.contains(&key) {
                continue;
            }
            seen.push(key);
            files.push((path, file));
        }
        Ok(Self { files })
    }

    /// Moves the calling thread into every cgroup. Only a single-threaded process is moved
    /// whole this way: call it where no other thread exists (a freshly cloned child).
    pub fn join(&self) -> Result<(), CgroupError> {
        for (path, file) in &self.files {
            // One write(2) of "0": `&File` implements Write without buffering.
            let mut file: &File = file;
            file.write_all(b"0").map_err(|source| CgroupError::Io {
                path: path.clone(),
                source,
            })?;
        }
        Ok(())
    }

    /// The `tasks` files this joins.
    pub fn files(&self) -> impl Iterator<Item = &Path> {
        self.files.iter().map(|(p, _)| p.as_path())
    }
}

/// `CLONE_INTO_CGROUP` (linux/sched.h; the libc crate declares it as a 32-bit `c_int`).
const CLONE_INTO_CGROUP: u64 = 0x2_0000_0000;

/// A cgroup v2 directory, opened for creating processes directly inside it.
#[derive(Debug)]
pub struct CloneInto {
    dir: File,
}

impl CloneInto {
    /// Opens the (existing) cgroup directory `dir`.
    pub fn open(dir: &Path) -> Result<Self, CgroupError> {
        let dir_file = File::open(dir).map_err(|source| CgroupError::Io {
            path: dir.to_owned(),
            source,
        })?;
        Ok(Self { dir: dir_file })
    }

    /// Creates a child process inside the cgroup, in new namespaces as `flags` say, and
    /// returns like fork(2): `Ok(None)` in the child, `Ok(Some(pid))` in the parent. Fails on
    /// kernels without `clone3` or `CLONE_INTO_CGROUP` (before 5.7), or when the directory is
    /// not a cgroup v2 one; the caller then forks as usual and moves the child.
    ///
    /// # Safety
    /// As fork(2): the child is a copy of the calling thread only, so in a multi-threaded
    /// process it may call only async-signal-safe functions until it execs or exits.
    pub unsafe fn fork(&self, flags: CloneFlags) -> std::io::Result<Option<Pid>> {
        use std::os::fd::AsRawFd;
        // Hand-written: neither nix nor libc wraps clone3. No stack is given, so the child
        // continues on a copy of ours, exactly as after fork(2).
        let mut args = libc::clone_args {
            flags: u64::try_from(flags.bits()).unwrap_or(0) | CLONE_INTO_CGROUP,
            pidfd: 0,
            child_tid: 0,
            parent_tid: 0,
            exit_signal: libc::SIGCHLD as u64,
            stack: 0,
            stack_size: 0,
            tls: 0,
            set_tid: 0,
            set_tid_size: 0,
            cgroup: u64::try_from(self.dir.as_raw_fd()).unwrap_or(0),
        };
        // SAFETY: `args` is a valid clone_args of the size passed; the caller upholds fork's
        // rules for the child.
        let ret = unsafe {
            libc::syscall(
                libc::SYS_clone3,
                &mut args as *mut libc::clone_args,
                std::mem::size_of::<libc::clone_args>(),
            )
        };
        match ret {
            -1 => Err(std::io::Error::last_os_error()),
            0 => Ok(None),
            pid => Ok(Some(Pid::from_raw(
                i32::try_from(pid).map_err(|_| std::io::Error::other("clone3: bad pid"))?,
            ))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_thread_joins_a_real_v1_cgroup_by_writing_zero() {
        let mount = Path::new("/sys/fs/cgroup/pids");
        if !nix::unistd::geteuid().is_root() || !mount.join("tasks").exists() {
            eprintln!("SKIPPED: needs root and a cgroup v1 pids hierarchy");
            return;
        }
        let dir = mount.join(format!("meseta-join-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let join = SelfJoin::open([dir.clone(), dir.clone()]).unwrap();
        assert_eq!(join.files().count(), 1, "one file per hierarchy");
        // A thread of its own: only the writing thread moves, the rest of the process stays.
        let moved = std::thread::spawn(move || {
            join.join().unwrap();
            std::fs::read_to_string("/proc/thread-self/cgroup").unwrap()
        })
        .join()
        .unwrap();
        let main = std::fs::read_to_string("/proc/self/cgroup").unwrap();
        let _ = std::fs::remove_dir(&dir);
        let name = dir.file_name().unwrap().to_string_lossy().into_owned();
        let in_it = |text: &str| {
            text.lines()
                .any(|l| l.contains(":pids:") && l.ends_with(&name))
        };
        assert!(in_it(&moved), "the thread is not in {name}: {moved}");
        assert!(!in_it(&main), "the main thread moved too: {main}");
    }

    #[test]
    fn a_child_is_created_inside_a_real_v2_cgroup() {
        let mount = Path::new("/sys/fs/cgroup/unified");
        let mount = if mount.join("cgroup.procs").exists() {
            mount
        } else {
            Path::new("/sys/fs/cgroup")
        };
        let is_v2 = nix::sys::statfs::statfs(mount)
            .is_ok_and(|s| s.filesystem_type() == nix::sys::statfs::CGROUP2_SUPER_MAGIC);
        if !nix::unistd::geteuid().is_root() || !is_v2 {
            eprintln!("SKIPPED: needs root and a cgroup v2 mount");
            return;
        }
        let name = format!("meseta-clone-into-test-{}", std::process::id());
        let dir = mount.join(&name);
        std::fs::create_dir_all(&dir).unwrap();
        let into = CloneInto::open(&dir).unwrap();
        let expected = format!("0::/{name}\n");
        // SAFETY: the child only makes raw syscalls into a stack buffer, then _exits.
        let forked = unsafe { into.fork(CloneFlags::empty()) };
        match forked {
            Ok(None) => {
                // The child: where it is from its first instruction on, before anyone could
                // move it. Exit 0 when the unified line is ours.
                let mut buf = [0u8; 4096];
                // SAFETY: raw open/read/close of a NUL-terminated path into a local buffer.
                let n = unsafe {
                    let fd = libc::open(c"/proc/self/cgroup".as_ptr(), libc::O_RDONLY);
                    let n = libc::read(fd, buf.as_mut_ptr().cast(), buf.len());
                    libc::close(fd);
                    n
                };
                let text = &buf[..usize::try_from(n).unwrap_or(0)];
                let ok = text
                    .windows(expected.len())
                    .any(|w| w == expected.as_bytes());
                // SAFETY: ends the child without running the parent's destructors.
                unsafe { libc::_exit(if ok { 0 } else { 1 }) }
            }
            Ok(Some(pid)) => {
                let status = nix::sys::wait::waitpid(pid, None).unwrap();
                let _ = std::fs::remove_dir(&dir);
                assert_eq!(
                    status,
                    nix::sys::wait::WaitStatus::Exited(pid, 0),
                    "the child did not start in {name}"
                );
            }
            Err(e) => {
                let _ = std::fs::remove_dir(&dir);
                panic!("clone3(CLONE_INTO_CGROUP) failed on this kernel: {e}");
            }
        }
    }
}
