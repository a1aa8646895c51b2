//! Usage without cgroups, as Mesos's default `posix/cpu` and `posix/mem` isolators report it
//! (`src/slave/containerizer/mesos/isolators/posix.hpp`, `src/usage/usage.cpp`): CPU user and
//! system time and RSS summed over the container's process tree, read from `/proc/<pid>/stat`.
//!
//! One [`ProcessTable`] is one pass over `/proc`; it answers for any number of containers, so
//! `/monitor/statistics` reads `/proc` once per request rather than once per container. The
//! `/proc` root is a parameter so tests can point it at a fake tree.

use std::collections::HashMap;
use std::path::Path;

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
/// (which opens each pid's directory, then its `stat`, and parses all 52 fields): one open
/// and one read into a stack buffer per process, and only the four fields used.
fn read_stats(proc_root: &Path, pids: &[i32]) -> Vec<(i32, Sample)> {
    let mut path = proc_root.to_path_buf();
    let mut buf = [0u8; 1024];
    pids.iter()
        .filter_map(|pid| {
            path.push(pid.to_string());
            path.push("stat");
            let read = read_small(&path, &mut buf);
            path.pop();
            path.pop();
            Some((*pid, parse_stat(read?)?))
        })
        .collect()
}

/// Reads a file of at most `buf.len()` bytes with one `read` (procfs files are generated
/// whole on the first read); `None` if it is missing or longer.
fn read_small<'a>(path: &Path, buf: &'a mut [u8]) -> Option<&'a [u8]> {
    use std::io::Read;
    let mut file = std::fs::File::open(path).ok()?;
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
    children: HashMap<i32, Vec<i32>>,
    ticks_per_second: u64,
    page_size: u64,
}

impl ProcessTable {
    /// Reads every process under `proc_root` (normally `/proc`). Processes that vanish while
    /// it reads are left out, as `os::pstree` does.
    pub fn read(proc_root: &Path) -> std::io::Result<Self> {
        let pids: Vec<i32> = std::fs::read_dir(proc_root)?
            .flatten()
            .filter_map(|e| e.file_name().to_str()?.parse().ok())
            .collect();
        // Each stat read costs the kernel tens of microseconds on a busy host: with hundreds
        // of containers the pass is split over the available cores.
        let threads = std::thread::available_parallelism().map_or(1, |n| n.get().min(4));
        let per = pids.len().div_ceil(threads).max(256);
        let samples: HashMap<i32, Sample> = std::thread::scope(|scope| {
            let workers: Vec<_> = pids
                .chunks(per)
                .map(|chunk| scope.spawn(move || read_stats(proc_root, chunk)))
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
        let mut children: HashMap<i32, Vec<i32>> = HashMap::new();
        for (pid, s) in &samples {
            children.entry(s.ppid).or_default().push(*pid);
        }
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
            if let Some(kids) = self.children.get(&pid) {
                stack.extend(kids);
            }
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
