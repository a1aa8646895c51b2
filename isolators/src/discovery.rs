//! What the agent advertises when `--resources` does not say: Mesos's defaults
//! (`src/slave/containerizer/containerizer.cpp`, `Containerizer::resources`).

use std::path::Path;

const GIB_MB: f64 = 1024.0;

/// The resources the host offers by default.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Discovered {
    /// Online cpus.
    pub cpus: f64,
    /// Memory in MB: total − 1 GiB when total ≥ 2 GiB, else half.
    pub mem_mb: f64,
    /// Disk in MB under the work dir: total − 5 GiB when total ≥ 10 GiB, else half.
    pub disk_mb: f64,
    /// Port range `[31000-32000]`.
    pub ports: (u64, u64),
}

/// Why discovery failed.
#[derive(Debug, thiserror::Error)]
pub enum DiscoveryError {
    /// `/proc/meminfo` or the cpu count could not be read.
    #[error("reading {what}: {message}")]
    Proc {
        /// Which file.
        what: &'static str,
        /// The procfs error.
        message: String,
    },
    /// statvfs on the work dir failed.
    #[error("statvfs {path}: {source}")]
    Statvfs {
        /// The work dir.
        path: String,
        /// Why.
        source: nix::Error,
    },
}

/// Discovers cpus and memory from `/proc` and disk from the filesystem holding `work_dir`.
pub fn discover(work_dir: &Path) -> Result<Discovered, DiscoveryError> {
    use procfs::{Current, CurrentSI};
    let mem = procfs::Meminfo::current().map_err(|e| DiscoveryError::Proc {
        what: "/proc/meminfo",
        message: e.to_string(),
    })?;
    let stat = procfs::KernelStats::current().map_err(|e| DiscoveryError::Proc {
        what: "/proc/stat",
        message: e.to_string(),
    })?;
    let vfs = nix::sys::statvfs::statvfs(work_dir).map_err(|source| DiscoveryError::Statvfs {
        path: work_dir.display().to_string(),
        source,
    })?;
    let disk_bytes = vfs.blocks() as f64 * vfs.fragment_size() as f64;
    Ok(defaults(
        stat.cpu_time.len(),
        mem.mem_total as f64 / (1024.0 * 1024.0),
        disk_bytes / (1024.0 * 1024.0),
    ))
}

/// Mesos's arithmetic, kept apart from the reading so it can be tested.
pub fn defaults(cpus: usize, mem_total_mb: f64, disk_total_mb: f64) -> Discovered {
    let mem_mb = if mem_total_mb >= 2.0 * GIB_MB {
        mem_total_mb - GIB_MB
    } else {
        mem_total_mb / 2.0
    };
    let disk_mb = if disk_total_mb >= 10.0 * GIB_MB {
        disk_total_mb - 5.0 * GIB_MB
    } else {
        disk_total_mb / 2.0
    };
    Discovered {
        cpus: cpus as f64,
        mem_mb: mem_mb.floor(),
        disk_mb: disk_mb.floor(),
        ports: (31000, 32000),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mesos_defaults() {
        let d = defaults(2, 24.0 * 1024.0, 252.0 * 1024.0);
        assert_eq!(d.cpus, 2.0);
        assert_eq!(d.mem_mb, 23.0 * 1024.0);
        assert_eq!(d.disk_mb, 247.0 * 1024.0);
        assert_eq!(d.ports, (31000, 32000));
        let small = defaults(1, 1024.0, 4096.0);
        assert_eq!(small.mem_mb, 512.0);
        assert_eq!(small.disk_mb, 2048.0);
    }

    #[test]
    fn discovers_this_host() {
        let d = discover(Path::new("/")).unwrap();
        assert!(d.cpus >= 1.0);
        assert!(d.mem_mb > 0.0);
    }
}
