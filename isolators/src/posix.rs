//! Usage without cgroups, as Mesos's default `posix/cpu` and `posix/mem` isolators report it
//! (`src/slave/containerizer/mesos/isolators/posix.hpp`, `src/usage/usage.cpp`): CPU user and
//! system time and RSS summed over the container's process tree, read from `/proc/<pid>/stat`.
//!
//! One [`ProcessTable`] is one pass over `/proc`; it answers for any number of containers, so
//! `/monitor/statistics` reads `/proc` once per request rather than once per container. The
//! `/proc` root is a parameter so tests can point it at a fake tree.

use std::collections::{HashMap, HashSet};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, OwnedFd};
use std::path::Path;

use nix::fcntl::OFlag;
use nix::sys::stat::Mode;

/// One process as `/proc/<pid>/stat` shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Sample {
    ppid: i32,
    /// Clock ticks.
    utime: u64,
    /// Clock ticks.
    stime: u64,
    /// Pages.
    rss: u64,
}

/// CPU time and memory of one process tree.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TreeUsage {
    /// `cpus_user_time_secs`.
    pub cpus_user_time_secs: f64,
    /// `cpus_system_time_secs`.
    pub cpus_system_time_secs: f64,
    /// `mem_rss_bytes`.
    pub mem_rss_bytes: u64,
}

impl TreeUsage {
    /// Writes the fields Mesos's posix isolators set into `stats`.
    pub fn fill(&self, stats: &mut meseta_api::ResourceStatistics) {
        stats.cpus_user_time_secs = Some(self.cpus_user_time_secs);
        stats.cpus_system_time_secs = Some(self.cpus_system_time_secs);
        stats.mem_rss_bytes = Some(self.mem_rss_bytes);
    }
}

/// The `stat` of each of `pids` still running. Hand-written rather than through `procfs`
/// (which opens each pid's directory, then its `stat`, and parses all 52 fields): one
/// `openat` relative to the already open `/proc` (no walk from `/` and across the mount on
/// each open) and one read into a stack buffer per process, and only the four fields used.
fn read_stats(proc_dir: BorrowedFd<'_>, pids: &[i32]) -> Vec<(i32, Sample)> {
    let mut path = String::with_capacity(24);
    let mut buf = [0u8; 1024];
    pids.iter()
        .filter_map(|pid| {
            use std::fmt::Write as _;
            path.clear();
            let _ = write!(path, "{pid}/stat");
            let read = read_small(proc_dir, &path, &mut buf);
            Some((*pid, parse_stat(read?)?))
        })
        .collect()
}

/// Reads a file of at most `buf.len()` bytes under `dir` with one `read` (procfs files are
/// generated whole on the first read); `None` if it is missing or longer.
fn read_small<'a>(dir: BorrowedFd<'_>, path: &str, buf: &'a mut [u8]) -> Option<&'a [u8]> {
    use std::io::Read;
    let flags = OFlag::O_RDONLY | OFlag::O_CLOEXEC | OFlag::O_NOFOLLOW;
    let fd = nix::fcntl::openat(Some(dir.as_raw_fd()), path, flags, Mode::empty()).ok()?;
    // SAFETY: `openat` just returned this descriptor and nothing else owns it.
    let mut file = std::fs::File::from(unsafe { OwnedFd::from_raw_fd(fd) });
    let n = file.read(buf).ok()?;
    (n < buf.len()).then_some(&buf[..n])
}

/// The fields of a `/proc/<pid>/stat` line the table needs. The command name (field 2) may
/// hold spaces and parentheses, so fields are counted after its last `)`.
fn parse_stat(line: &[u8]) -> Option<Sample> {
    let close = line.iter().rposition(|&b| b == b')')?;
    let rest = std::str::from_utf8(&line[close + 1..]).ok()?;
    // Field N of proc_pid_stat(5) is at index N - 3 here (state is field 3).
    let mut fields = rest.split_ascii_whitespace();
    let mut nth = |skip: usize| -> Option<u64> { fields.nth(skip)?.parse().ok() };
    let ppid = nth(1)?; // field 4
    let utime = nth(9)?; // field 14
    let stime = nth(0)?; // field 15
    let rss = nth(8)?; // field 24
    Some(Sample {
        ppid: i32::try_from(ppid).ok()?,
        utime,
        stime,
        rss,
    })
}

/// A snapshot of every process's parent, CPU times and RSS.
#[derive(Debug, Default)]
pub struct ProcessTable {
    samples: HashMap<i32, Sample>,
    /// `(parent, child)` pairs sorted by parent: one allocation instead of a list per parent.
    children: Vec<(i32, i32)>,
    ticks_per_second: u64,
    page_size: u64,
}

impl ProcessTable {
    /// Reads every process under `proc_root` (normally `/proc`). Processes that vanish while
    /// it reads are left out, as `os::pstree` does.
    pub fn read(proc_root: &Path) -> std::io::Result<Self> {
        Self::read_excluding(proc_root, &HashSet::new())
    }

    /// As [`read`](Self::read), without reading the processes in `exclude`: the caller knows
    /// they are in no tree it asks about (the agent and its containers' supervisors, a third
    /// of the processes of a busy agent). Their children are still found (through their own
    /// parent field); only an excluded process itself is missing from every sum.
    pub fn read_excluding(proc_root: &Path, exclude: &HashSet<i32>) -> std::io::Result<Self> {
        let dir = std::fs::File::open(proc_root)?;
        // Listed through nix's `readdir`, which borrows each name (std's `read_dir` allocates
        // two strings per entry: thousands per request on a busy agent).
        let flags = OFlag::O_RDONLY | OFlag::O_DIRECTORY | OFlag::O_CLOEXEC;
        let mut listing = nix::dir::Dir::openat(Some(dir.as_raw_fd()), ".", flags, Mode::empty())?;
        let pids: Vec<i32> = listing
            .iter()
            .flatten()
            .filter_map(|e| {
                std::str::from_utf8(e.file_name().to_bytes())
                    .ok()?
                    .parse()
                    .ok()
            })
            .filter(|pid| !exclude.contains(pid))
            .collect();
        // Each stat read costs the kernel tens of microseconds on a busy host: with hundreds
        // of containers the pass is split over the available cores.
        let threads = std::thread::available_parallelism().map_or(1, |n| n.get().min(4));
        let per = pids.len().div_ceil(threads).max(256);
        let fd = dir.as_fd();
        let samples: HashMap<i32, Sample> = std::thread::scope(|scope| {
            let workers: Vec<_> = pids
                .chunks(per)
                .map(|chunk| scope.spawn(move || read_stats(fd, chunk)))
                .collect();
            workers
                .into_iter()
                .flat_map(|w| w.join().unwrap_or_default())
                .collect()
        });
        Ok(Self::from_samples(
            samples,
            procfs::ticks_per_second(),
            procfs::page_size(),
        ))
    }

    fn from_samples(samples: HashMap<i32, Sample>, ticks_per_second: u64, page_size: u64) -> Self {
        let mut children: Vec<(i32, i32)> = samples.iter().map(|(pid, s)| (s.ppid, *pid)).collect();
        children.sort_unstable();
        Self {
            samples,
            children,
            ticks_per_second: ticks_per_second.max(1),
            page_size,
        }
    }

    /// Usage summed over `root` and all its descendants; `None` when `root` is not running.
    pub fn usage(&self, root: i32) -> Option<TreeUsage> {
        self.samples.get(&root)?;
        let (mut ticks_user, mut ticks_system, mut pages) = (0u64, 0u64, 0u64);
        let mut stack = vec![root];
        // The snapshot is not atomic: a pid reused while it was read could close a parent
        // cycle, so each process counts once.
        let mut seen = std::collections::HashSet::new();
        while let Some(pid) = stack.pop() {
            if !seen.insert(pid) {
                continue;
            }
            if let Some(s) = self.samples.get(&pid) {
                ticks_user = ticks_user.saturating_add(s.utime);
                ticks_system = ticks_system.saturating_add(s.stime);
                pages = pages.saturating_add(s.rss);
            }
            let first = self.children.partition_point(|(parent, _)| *parent < pid);
            let kids = self.children[first..]
                .iter()
                .take_while(|(parent, _)| *parent == pid);
            stack.extend(kids.map(|(_, kid)| *kid));
        }
        let hz = self.ticks_per_second as f64;
        Some(TreeUsage {
            cpus_user_time_secs: ticks_user as f64 / hz,
            cpus_system_time_secs: ticks_system as f64 / hz,
            mem_rss_bytes: pages.saturating_mul(self.page_size),
        })
    }
}

#[cfg(test)]
mod tests;
