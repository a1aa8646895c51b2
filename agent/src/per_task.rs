//! The two programs the agent starts for every task, `mesos-containerizer` (the supervisor)
//! and `mesos-executor` (the command executor), built for musl and carried inside the agent
//! binary (see `build.rs`): glibc's start-up spends ~0.5 ms per exec on `cpuid` under
//! virtualisation, musl's none, and the pair runs once per task.
//!
//! Without `--launcher_dir`, the agent writes them once per build to
//! `<work_dir>/launchers/<hash>/` and starts them from there; with `--launcher_dir`, or where
//! the agent was built without the musl target, or the work directory is mounted `noexec`, it
//! starts the ones in the launcher directory as Mesos does.

use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

static CONTAINERIZER: &[u8] = include_bytes!(env!("MESETA_MUSL_MESOS_CONTAINERIZER"));
static EXECUTOR: &[u8] = include_bytes!(env!("MESETA_MUSL_MESOS_EXECUTOR"));
/// Names the directory of this build's copies (a hash of both programs).
const HASH: &str = env!("MESETA_MUSL_HASH");

/// Whether this agent carries the programs.
pub fn built_in() -> bool {
    !CONTAINERIZER.is_empty() && !EXECUTOR.is_empty()
}

/// Writes the built-in programs below `work_dir` unless this build's copies are there
/// already, and returns their directory; `Ok(None)` where there are none to write or
/// `work_dir` does not allow executing programs. Blocking: call it before the runtime starts.
pub fn install(work_dir: &Path) -> std::io::Result<Option<PathBuf>> {
    if !built_in() {
        return Ok(None);
    }
    let launchers = work_dir.join("launchers");
    std::fs::create_dir_all(&launchers)?;
    let noexec = nix::sys::statvfs::statvfs(&launchers)
        .is_ok_and(|s| s.flags().contains(nix::sys::statvfs::FsFlags::ST_NOEXEC));
    if noexec {
        return Ok(None);
    }
    let dir = launchers.join(HASH);
    std::fs::create_dir_all(&dir)?;
    // Whatever the umask: a task user able to write either directory could rename our
    // programs away and put its own in their place, to be run as root at the next launch.
    for d in [&launchers, &dir] {
        std::fs::set_permissions(d, std::fs::Permissions::from_mode(0o755))?;
    }
    for (name, bytes) in [
        ("mesos-containerizer", CONTAINERIZER),
        ("mesos-executor", EXECUTOR),
    ] {
        let path = dir.join(name);
        // A crash while writing leaves only the temporary file: a copy of the right size
        // under the final name is complete.
        if std::fs::metadata(&path).is_ok_and(|m| m.len() == bytes.len() as u64) {
            continue;
        }
        let tmp = dir.join(format!(".{name}.tmp"));
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o555)
            .open(&tmp)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        std::fs::rename(&tmp, &path)?;
        forget_pages(bytes);
    }
    Ok(Some(dir))
}

/// Drops the agent's mapping of `bytes` (part of its own read-only image) from its resident
/// set: they were read once to be copied and would otherwise count for the agent's lifetime.
fn forget_pages(bytes: &[u8]) {
    let page = nix::unistd::sysconf(nix::unistd::SysconfVar::PAGE_SIZE)
        .ok()
        .flatten()
        .and_then(|p| usize::try_from(p).ok())
        .unwrap_or(4096);
    let start = (bytes.as_ptr() as usize).next_multiple_of(page);
    let end = (bytes.as_ptr() as usize + bytes.len()) / page * page;
    if end > start {
        // SAFETY: the range lies within a read-only, file-backed mapping of the agent's own
        // binary; MADV_DONTNEED only unmaps its pages, and the next access reads them again
        // from the file, with the same contents.
        unsafe {
            libc::madvise(start as *mut libc::c_void, end - start, libc::MADV_DONTNEED);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn installs_once_per_build_and_the_copies_run() {
        if !built_in() {
            eprintln!("SKIPPED: this agent was built without the musl programs (no x86_64-unknown-linux-musl target)");
            return;
        }
        let work = tempfile::tempdir().unwrap();
        // Left world-writable (a umask of 0): install tightens it.
        let launchers = work.path().join("launchers");
        std::fs::create_dir(&launchers).unwrap();
        std::fs::set_permissions(&launchers, std::fs::Permissions::from_mode(0o777)).unwrap();
        let dir = install(work.path()).unwrap().expect("installed");
        for d in [dir.parent().unwrap(), &dir] {
            let mode = std::fs::metadata(d).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o755, "{}", d.display());
        }
        let bin = dir.join("mesos-executor");
        assert_eq!(std::fs::read(&bin).unwrap(), EXECUTOR);
        let mode = std::fs::metadata(&bin).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o555);
        let modified = std::fs::metadata(&bin).unwrap().modified().unwrap();
        // A second start keeps the copies.
        assert_eq!(install(work.path()).unwrap(), Some(dir.clone()));
        assert_eq!(
            std::fs::metadata(&bin).unwrap().modified().unwrap(),
            modified
        );
        // A truncated copy is written again.
        std::fs::set_permissions(&bin, std::fs::Permissions::from_mode(0o755)).unwrap();
        std::fs::write(&bin, b"x").unwrap();
        install(work.path()).unwrap();
        assert_eq!(std::fs::read(&bin).unwrap(), EXECUTOR);
        // They are real programs: static, and they start.
        let out = std::process::Command::new(dir.join("mesos-containerizer"))
            .arg("--help")
            .output()
            .unwrap();
        assert!(out.status.success(), "{out:?}");
        let out = std::process::Command::new(&bin)
            .arg("--help")
            .output()
            .unwrap();
        assert!(out.status.success(), "{out:?}");
    }

    /// `e_type` of an ELF image: 2 is a fixed-address executable, 3 a PIE (or shared object).
    fn elf_type(image: &[u8]) -> u16 {
        assert_eq!(&image[..4], b"\x7fELF");
        u16::from_le_bytes([image[16], image[17]])
    }

    #[test]
    fn the_per_task_programs_are_not_position_independent() {
        if !built_in() {
            eprintln!("SKIPPED: this agent was built without the musl programs (no x86_64-unknown-linux-musl target)");
            return;
        }
        // A PIE relocates itself at every start; see `meseta_build::build_musl`.
        assert_eq!(elf_type(CONTAINERIZER), 2, "mesos-containerizer is a PIE");
        assert_eq!(elf_type(EXECUTOR), 2, "mesos-executor is a PIE");
    }
}
