//! The `disk/du` isolator: every `--container_disk_watch_interval` each live container's
//! sandbox is measured (`isolators::disk::usage`, what `du -k -s -x` reports). The figures
//! appear as `disk_used_bytes`/`disk_limit_bytes` in `/monitor/statistics`; with
//! `--enforce_container_disk_quota` a container whose sandbox outgrows the `disk` resource of
//! its executor and tasks is destroyed, its tasks failing with
//! `REASON_CONTAINER_LIMITATION_DISK` and Mesos's message
//! `Disk usage (<used>) exceeds quota (<limit>)` (src/slave/containerizer/mesos/isolators/posix/disk.cpp).

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use meseta_api::{Reason, Resource, ResourceStatistics};
use tracing::warn;

use super::state::Phase;
use super::Agent;

/// The latest sample per container id.
#[derive(Debug, Default)]
pub struct DiskWatch {
    samples: Mutex<HashMap<String, Sample>>,
}

/// One container's sandbox usage and quota, bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Sample {
    /// Allocated bytes under the sandbox.
    pub used: u64,
    /// The `disk` resource of the executor and its live tasks; `None` when it has none.
    pub limit: Option<u64>,
}

impl DiskWatch {
    /// Adds the latest sample of `container_id` to its statistics (creating them when the
    /// containerizer has none, e.g. without cgroups).
    pub fn fill(&self, container_id: &str, stats: &mut Option<ResourceStatistics>) {
        if let Some(s) = self.lock().get(container_id) {
            let stats = stats.get_or_insert_with(|| ResourceStatistics {
                timestamp: super::now_secs(),
                ..Default::default()
            });
            stats.disk_used_bytes = Some(s.used);
            stats.disk_limit_bytes = s.limit;
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Sample>> {
        self.samples.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// Bytes of the `disk` scalars in `resources` (MB × 2^20).
pub fn disk_bytes<'a>(resources: impl IntoIterator<Item = &'a Resource>) -> Option<u64> {
    let mb: f64 = resources
        .into_iter()
        .filter(|r| r.name == "disk" && !r.is_persistent_volume())
        .map(Resource::scalar_value)
        .sum();
    // Resource values are validated finite and non-negative; MB × 2^20 fits u64.
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    (mb > 0.0).then(|| (mb * 1024.0 * 1024.0).round() as u64)
}

/// Mesos's `Bytes` rendering (`10MB`, `1536KB`, `3GB`, `17B`): the largest unit dividing exactly.
pub fn format_bytes(bytes: u64) -> String {
    const UNITS: [(u64, &str); 4] = [
        (1 << 40, "TB"),
        (1 << 30, "GB"),
        (1 << 20, "MB"),
        (1 << 10, "KB"),
    ];
    for (size, unit) in UNITS {
        if bytes >= size && bytes % size == 0 {
            return format!("{}{unit}", bytes / size);
        }
    }
    format!("{bytes}B")
}

/// What to measure: `(container id, sandbox, quota)` of every launched container.
fn targets(agent: &Agent) -> Vec<(String, PathBuf, Option<u64>)> {
    let state = agent.state();
    let mut out = Vec::new();
    for f in state.frameworks.values() {
        for e in f.executors.values() {
            if e.launched.is_none() || e.phase == Phase::Terminated {
                continue;
            }
            let task_resources = e
                .tasks
                .values()
                .filter(|t| !t.state.is_terminal())
                .flat_map(|t| t.info.resources.iter())
                .chain(e.queued.iter().flat_map(|t| t.resources.iter()));
            let limit = disk_bytes(e.info.resources.iter().chain(task_resources));
            out.push((e.container_id.clone(), e.directory.clone(), limit));
        }
    }
    out
}

/// Measures every container each `--container_disk_watch_interval` (only with `disk/du`).
pub async fn run(agent: Arc<Agent>) {
    let interval = agent.config.gc.container_disk_watch_interval;
    loop {
        tokio::time::sleep(interval).await;
        let targets = targets(&agent);
        let measured = tokio::task::spawn_blocking(move || {
            targets
                .into_iter()
                .map(|(id, dir, limit)| {
                    let used = isolators::disk::usage(&dir);
                    (id, dir, limit, used)
                })
                .collect::<Vec<_>>()
        })
        .await
        .unwrap_or_default();
        let mut fresh = HashMap::new();
        for (id, dir, limit, used) in measured {
            match used {
                Ok(used) => {
                    fresh.insert(id.clone(), Sample { used, limit });
                    if let Some(limit) = limit.filter(|l| used > *l) {
                        exceeded(&agent, &id, used, limit);
                    }
                }
                Err(err) => warn!(container_id = id, sandbox = %dir.display(), %err,
                                  "measuring sandbox disk usage failed"),
            }
        }
        *agent.disk.lock() = fresh;
    }
}

/// A container over its quota: destroyed when enforcing, else only logged.
fn exceeded(agent: &Agent, container_id: &str, used: u64, limit: u64) {
    let message = format!(
        "Disk usage ({}) exceeds quota ({})",
        format_bytes(used),
        format_bytes(limit)
    );
    if !agent.config.gc.enforce_container_disk_quota {
        warn!(
            container_id,
            message, "not enforced (--enforce_container_disk_quota=false)"
        );
        return;
    }
    {
        let mut state = agent.state();
        let Some(e) = state
            .frameworks
            .values_mut()
            .flat_map(|f| f.executors.values_mut())
            .find(|e| e.container_id == container_id)
        else {
            return;
        };
        if e.phase == Phase::Terminating || e.phase == Phase::Terminated {
            return;
        }
        e.phase = Phase::Terminating;
        e.end_reason = Some((Reason::ContainerLimitationDisk, message.clone()));
    }
    warn!(
        container_id,
        message, "destroying the container: disk quota exceeded"
    );
    super::lifecycle::destroy(agent, container_id);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bytes_render_as_mesos_does() {
        assert_eq!(format_bytes(10 << 20), "10MB");
        assert_eq!(format_bytes(1536 << 10), "1536KB");
        assert_eq!(format_bytes(3 << 30), "3GB");
        assert_eq!(format_bytes(17), "17B");
        assert_eq!(format_bytes(0), "0B");
    }

    #[test]
    fn quota_is_the_disk_scalars() {
        let r = [
            Resource::scalar("cpus", 1.0),
            Resource::scalar("disk", 10.0),
            Resource::scalar("disk", 2.5),
        ];
        assert_eq!(disk_bytes(r.iter()), Some(125 * (1 << 20) / 10));
        assert_eq!(disk_bytes([Resource::scalar("mem", 1.0)].iter()), None);
    }
}
