//! Per-container resource limits and their translation into cgroup settings, with the
//! constants Mesos uses (`src/slave/constants.hpp`) so tasks see the limits they would under
//! Mesos.

/// cpu.shares per whole cpu (`CPU_SHARES_PER_CPU`).
pub const CPU_SHARES_PER_CPU: u64 = 1024;
/// The smallest cpu.shares Mesos writes (`MIN_CPU_SHARES`).
pub const MIN_CPU_SHARES: u64 = 2;
/// CFS period (`CPU_CFS_PERIOD`, 100 ms).
pub const CPU_CFS_PERIOD_US: u64 = 100_000;
/// The smallest CFS quota (`MIN_CPU_CFS_QUOTA`, 1 ms).
pub const MIN_CPU_CFS_QUOTA_US: i64 = 1_000;
/// The smallest memory limit (`MIN_MEMORY`, 32 MiB).
pub const MIN_MEMORY_BYTES: u64 = 32 * 1024 * 1024;

/// A resource value that cannot be a limit.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum LimitError {
    /// Zero, negative, NaN or infinite cpus.
    #[error("invalid cpus {0}: must be a positive number")]
    Cpus(f64),
    /// Zero memory.
    #[error("invalid mem: must be a positive number of bytes")]
    Mem,
    /// Zero or negative pids limit.
    #[error("invalid pids limit {0}: must be positive")]
    Pids(i64),
}

/// What a container may use. `None` means "not limited by this resource".
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Limits {
    /// Cpus (fractional), from the task's `cpus` resource.
    pub cpus: Option<f64>,
    /// Memory in bytes, from the task's `mem` resource (MB × 2^20).
    pub mem_bytes: Option<u64>,
    /// Maximum number of processes and threads.
    pub pids: Option<i64>,
    /// Whether cpus is also a hard CFS quota (`--cgroups_enable_cfs`).
    pub enable_cfs: bool,
}

impl Limits {
    /// Builds limits from Mesos resource values, rejecting values that cannot be limits.
    pub fn new(
        cpus: Option<f64>,
        mem_mb: Option<f64>,
        enable_cfs: bool,
    ) -> Result<Self, LimitError> {
        if let Some(c) = cpus {
            if !(c.is_finite() && c > 0.0) {
                return Err(LimitError::Cpus(c));
            }
        }
        let mem_bytes = match mem_mb {
            None => None,
            Some(m) if m.is_finite() && m > 0.0 => Some(mb_to_bytes(m)),
            Some(_) => return Err(LimitError::Mem),
        };
        Ok(Self {
            cpus,
            mem_bytes,
            pids: None,
            enable_cfs,
        })
    }

    /// Adds a pids limit.
    pub fn with_pids(mut self, pids: i64) -> Result<Self, LimitError> {
        if pids <= 0 {
            return Err(LimitError::Pids(pids));
        }
        self.pids = Some(pids);
        Ok(self)
    }

    /// cpu.shares as Mesos computes it.
    pub fn cpu_shares(&self) -> Option<u64> {
        self.cpus.map(|c| {
            saturating_u64(
                (c * CPU_SHARES_PER_CPU as f64)
                    .round()
                    .max(MIN_CPU_SHARES as f64),
            )
        })
    }

    /// The CFS quota in microseconds per [`CPU_CFS_PERIOD_US`], when CFS is enabled.
    pub fn cfs_quota_us(&self) -> Option<i64> {
        if !self.enable_cfs {
            return None;
        }
        self.cpus.map(|c| {
            saturating_i64((c * CPU_CFS_PERIOD_US as f64).round()).max(MIN_CPU_CFS_QUOTA_US)
        })
    }

    /// The memory limit Mesos writes: never below [`MIN_MEMORY_BYTES`].
    pub fn memory_limit(&self) -> Option<u64> {
        self.mem_bytes.map(|m| m.max(MIN_MEMORY_BYTES))
    }
}

/// Converts Mesos `mem` (MB, fractional) to bytes, as `Bytes::MEGABYTES` does.
fn mb_to_bytes(mb: f64) -> u64 {
    saturating_u64((mb * 1024.0 * 1024.0).round())
}

/// `f64 as u64` saturates at the bounds (and maps NaN to 0), which is what a limit wants.
#[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
fn saturating_u64(x: f64) -> u64 {
    x as u64
}

/// `f64 as i64` saturates at the bounds (and maps NaN to 0), which is what a limit wants.
#[allow(clippy::cast_possible_truncation)]
fn saturating_i64(x: f64) -> i64 {
    x as i64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shares_and_quota_follow_mesos() {
        let l = Limits::new(Some(0.5), Some(64.0), true).unwrap();
        assert_eq!(l.cpu_shares(), Some(512));
        assert_eq!(l.cfs_quota_us(), Some(50_000));
        assert_eq!(l.memory_limit(), Some(64 << 20));
        let tiny = Limits::new(Some(0.0001), Some(1.0), true).unwrap();
        assert_eq!(tiny.cpu_shares(), Some(MIN_CPU_SHARES));
        assert_eq!(tiny.cfs_quota_us(), Some(MIN_CPU_CFS_QUOTA_US));
        assert_eq!(tiny.memory_limit(), Some(MIN_MEMORY_BYTES));
        let no_cfs = Limits::new(Some(2.0), None, false).unwrap();
        assert_eq!(no_cfs.cfs_quota_us(), None);
    }

    #[test]
    fn rejects_zero_negative_and_nan() {
        assert_eq!(
            Limits::new(Some(0.0), None, false),
            Err(LimitError::Cpus(0.0))
        );
        assert_eq!(
            Limits::new(Some(-1.0), None, false),
            Err(LimitError::Cpus(-1.0))
        );
        assert!(Limits::new(Some(f64::NAN), None, false).is_err());
        assert_eq!(Limits::new(None, Some(0.0), false), Err(LimitError::Mem));
        assert_eq!(Limits::new(None, Some(-5.0), false), Err(LimitError::Mem));
        let l = Limits::new(None, None, false).unwrap();
        assert_eq!(l.with_pids(0), Err(LimitError::Pids(0)));
    }
}
