//! Garbage collection of finished executors' sandboxes and checkpointed meta, as Mesos's
//! `GarbageCollector` (src/slave/gc.cpp) and `Slave::checkDiskUsage` do it:
//!
//! - a path is scheduled for removal `--gc_delay` after its executor ended (after a restart,
//!   `gc_delay` minus the age of the directory's mtime);
//! - every `--disk_watch_interval` the agent measures the fraction `u` of `--work_dir`'s disk
//!   in use and removes every path whose removal is due within
//!   `gc_delay − gc_delay × max(0, 1 − gc_disk_headroom − u)`: the fuller the disk, the
//!   younger the sandboxes that go.
//!
//! Removal runs on the blocking pool; a path that is gone already counts as removed.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use tracing::{info, warn};

use super::Agent;
use crate::flags::gc::GcConfig;

/// How often due paths are looked for between disk checks.
const TICK: Duration = Duration::from_millis(500);

/// Paths waiting for removal, and counters for `/metrics/snapshot` (`gc/...`).
#[derive(Debug, Default)]
pub struct GarbageCollector {
    inner: Mutex<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    /// Removal time → paths due then.
    due: BTreeMap<Instant, Vec<PathBuf>>,
    /// Path → its removal time in `due`: scheduling one of many thousands of finished
    /// sandboxes (a week's worth at the default `--gc_delay`) must not scan them all.
    at: HashMap<PathBuf, Instant>,
    succeeded: u64,
    failed: u64,
}

impl GarbageCollector {
    /// Schedules `path` for removal after `delay` (again: the later schedule replaces the earlier).
    pub fn schedule(&self, delay: Duration, path: PathBuf) {
        let mut inner = self.lock();
        inner.unschedule(&path);
        let at = Instant::now() + delay;
        info!(path = %path.display(), delay = ?delay, "scheduling sandbox for removal");
        inner.at.insert(path.clone(), at);
        inner.due.entry(at).or_default().push(path);
    }

    /// Cancels a scheduled removal; true if `path` was scheduled.
    pub fn unschedule(&self, path: &Path) -> bool {
        self.lock().unschedule(path)
    }

    /// Paths waiting for removal.
    pub fn pending(&self) -> usize {
        self.lock().at.len()
    }

    /// `(succeeded, failed)` removals so far.
    pub fn removals(&self) -> (u64, u64) {
        let inner = self.lock();
        (inner.succeeded, inner.failed)
    }

    /// Takes every path due within `within` from now.
    fn take_due(&self, within: Duration) -> Vec<PathBuf> {
        let mut inner = self.lock();
        let limit = Instant::now() + within;
        let later = inner.due.split_off(&limit);
        let now_due = std::mem::replace(&mut inner.due, later);
        let paths: Vec<PathBuf> = now_due.into_values().flatten().collect();
        for p in &paths {
            inner.at.remove(p);
        }
        paths
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Removes every path due within `within`; returns how many were removed.
    pub async fn prune(&self, within: Duration) -> usize {
        let paths = self.take_due(within);
        if paths.is_empty() {
            return 0;
        }
        let results = tokio::task::spawn_blocking(move || {
            paths
                .into_iter()
                .map(|p| {
                    let r = remove(&p);
                    (p, r)
                })
                .collect::<Vec<_>>()
        })
        .await
        .unwrap_or_default();
        let mut removed = 0;
        let mut inner = self.lock();
        for (path, result) in results {
            match result {
                Ok(()) => {
                    removed += 1;
                    inner.succeeded += 1;
                    info!(path = %path.display(), "removed sandbox");
                }
                Err(err) => {
                    inner.failed += 1;
                    warn!(path = %path.display(), %err, "removing sandbox failed");
                }
            }
        }
        removed
    }
}

impl Inner {
    fn unschedule(&mut self, path: &Path) -> bool {
        let Some(at) = self.at.remove(path) else {
            return false;
        };
        if let Some(paths) = self.due.get_mut(&at) {
            paths.retain(|p| p != path);
            if paths.is_empty() {
                self.due.remove(&at);
            }
        }
        true
    }
}

fn remove(path: &Path) -> std::io::Result<()> {
    match std::fs::remove_dir_all(path) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        other => other,
    }
}

/// How long sandboxes may live at disk usage `usage` (0.0–1.0): Mesos's `Slave::age`.
pub fn max_age(config: &GcConfig, usage: f64) -> Duration {
    let factor = (1.0 - config.gc_disk_headroom - usage).clamp(0.0, 1.0);
    config.gc_delay.mul_f64(factor)
}

/// Fraction of the filesystem holding `path` in use, as Mesos's `fs::usage`.
pub fn disk_usage(path: &Path) -> std::io::Result<f64> {
    let st = nix::sys::statvfs::statvfs(path).map_err(std::io::Error::from)?;
    let blocks = st.blocks();
    if blocks == 0 {
        return Ok(0.0);
    }
    // Block counts fit f64's mantissa for any real filesystem; this is a ratio.
    #[allow(clippy::cast_precision_loss)]
    Ok((blocks - st.blocks_free()) as f64 / blocks as f64)
}

/// Removes due paths every `TICK`, and prunes by disk usage every `--disk_watch_interval`.
pub async fn run(agent: Arc<Agent>) {
    let config = agent.config.gc.clone();
    let mut next_disk_check = Instant::now();
    loop {
        if Instant::now() >= next_disk_check {
            next_disk_check = Instant::now() + config.disk_watch_interval;
            let work_dir = agent.config.work_dir.clone();
            match tokio::task::spawn_blocking(move || disk_usage(&work_dir)).await {
                Ok(Ok(usage)) => {
                    let age = max_age(&config, usage);
                    // Everything is scheduled gc_delay ahead: pruning what is due within
                    // gc_delay − age removes exactly the paths older than `age`.
                    let n = agent.gc.prune(config.gc_delay.saturating_sub(age)).await;
                    if n > 0 {
                        info!(
                            usage = format!("{:.1}%", usage * 100.0),
                            max_age = ?age,
                            removed = n,
                            "pruned sandboxes for disk space"
                        );
                    }
                }
                Ok(Err(err)) => warn!(%err, "measuring --work_dir disk usage failed"),
                Err(err) => warn!(%err, "disk usage task failed"),
            }
        }
        agent.gc.prune(Duration::ZERO).await;
        tokio::time::sleep(TICK).await;
    }
}

/// Schedules a finished run: its sandbox, and its checkpointed meta when there is one.
pub fn schedule_run(agent: &Agent, sandbox: &Path, meta: Option<PathBuf>) {
    let delay = agent.config.gc.gc_delay;
    agent.gc.schedule(delay, sandbox.to_owned());
    if let Some(meta) = meta {
        agent.gc.schedule(delay, meta);
    }
}

/// After a restart: every run directory under `--work_dir` whose container is not live is
/// scheduled for `gc_delay` minus its age (so a sandbox is never kept longer because the
/// agent restarted). `live` holds the container ids the agent recovered.
pub fn schedule_leftovers(agent: &Agent, live: &[String]) {
    let roots = [
        agent.config.work_dir.join("slaves"),
        agent.config.work_dir.join("meta").join("slaves"),
    ];
    for root in roots {
        for run in run_dirs(&root) {
            let id = run.file_name().and_then(|n| n.to_str()).unwrap_or_default();
            if live.iter().any(|l| l == id) {
                continue;
            }
            let age = std::fs::symlink_metadata(&run)
                .and_then(|m| m.modified())
                .ok()
                .and_then(|m| SystemTime::now().duration_since(m).ok())
                .unwrap_or_default();
            agent
                .gc
                .schedule(agent.config.gc.gc_delay.saturating_sub(age), run);
        }
    }
}

/// `<root>/<agent>/frameworks/<fw>/executors/<ex>/runs/<container>` directories (not `latest`).
fn run_dirs(root: &Path) -> Vec<PathBuf> {
    let children = |dir: &Path| -> Vec<PathBuf> {
        std::fs::read_dir(dir)
            .map(|rd| {
                rd.filter_map(Result::ok)
                    .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
                    .map(|e| e.path())
                    .collect()
            })
            .unwrap_or_default()
    };
    let mut out = Vec::new();
    for agent_dir in children(root) {
        for fw in children(&agent_dir.join("frameworks")) {
            for ex in children(&fw.join("executors")) {
                out.extend(children(&ex.join("runs")));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(delay: u64, headroom: f64) -> GcConfig {
        GcConfig {
            gc_delay: Duration::from_secs(delay),
            gc_disk_headroom: headroom,
            disk_watch_interval: Duration::from_secs(60),
            container_disk_watch_interval: Duration::from_secs(15),
            enforce_container_disk_quota: false,
        }
    }

    #[test]
    fn max_age_shrinks_as_the_disk_fills() {
        let c = config(1000, 0.1);
        assert_eq!(max_age(&c, 0.0), Duration::from_secs(900));
        assert_eq!(max_age(&c, 0.5), Duration::from_secs(400));
        assert_eq!(max_age(&c, 0.9), Duration::ZERO);
        assert_eq!(max_age(&c, 1.0), Duration::ZERO);
        assert_eq!(max_age(&config(1000, 1.0), 0.0), Duration::ZERO);
    }

    #[tokio::test]
    async fn prune_removes_only_what_is_due() {
        let tmp = tempfile::tempdir().unwrap();
        let (a, b) = (tmp.path().join("a"), tmp.path().join("b"));
        for p in [&a, &b] {
            std::fs::create_dir_all(p.join("sub")).unwrap();
            std::fs::write(p.join("sub/f"), "x").unwrap();
        }
        let gc = GarbageCollector::default();
        gc.schedule(Duration::from_secs(10), a.clone());
        gc.schedule(Duration::from_secs(3600), b.clone());
        assert_eq!(gc.pending(), 2);
        assert_eq!(gc.prune(Duration::ZERO).await, 0);
        assert_eq!(gc.prune(Duration::from_secs(60)).await, 1);
        assert!(!a.exists() && b.exists());
        assert!(gc.unschedule(&b));
        assert_eq!(gc.prune(Duration::from_secs(7200)).await, 0);
        assert!(b.exists());
        // A path removed by someone else counts as removed.
        gc.schedule(Duration::ZERO, tmp.path().join("never-existed"));
        assert_eq!(gc.prune(Duration::ZERO).await, 1);
        assert_eq!(gc.removals(), (2, 0));
    }

    #[tokio::test]
    async fn a_path_is_scheduled_once_and_forgotten_when_taken() {
        let tmp = tempfile::tempdir().unwrap();
        let (a, b) = (tmp.path().join("a"), tmp.path().join("b"));
        let gc = GarbageCollector::default();
        gc.schedule(Duration::ZERO, a.clone());
        gc.schedule(Duration::ZERO, b.clone());
        // Scheduling again replaces the earlier schedule: `a` now waits an hour.
        gc.schedule(Duration::from_secs(3600), a.clone());
        assert_eq!(gc.pending(), 2);
        assert_eq!(gc.prune(Duration::ZERO).await, 1);
        assert_eq!(gc.pending(), 1);
        // `b` was taken: it is no longer scheduled, and scheduling it again works.
        assert!(!gc.unschedule(&b));
        gc.schedule(Duration::from_secs(60), b.clone());
        assert!(gc.unschedule(&a));
        assert!(!gc.unschedule(&a));
        assert_eq!(gc.pending(), 1);
        assert_eq!(gc.prune(Duration::from_secs(120)).await, 1);
        assert_eq!(gc.pending(), 0);
        assert!(gc.lock().due.is_empty());
    }

    #[test]
    fn finds_run_dirs_but_not_latest() {
        let tmp = tempfile::tempdir().unwrap();
        let runs = tmp.path().join("S0/frameworks/fw/executors/ex/runs");
        std::fs::create_dir_all(runs.join("c1")).unwrap();
        std::os::unix::fs::symlink(runs.join("c1"), runs.join("latest")).unwrap();
        assert_eq!(run_dirs(tmp.path()), vec![runs.join("c1")]);
    }

    #[test]
    fn disk_usage_is_a_fraction() {
        let u = disk_usage(Path::new("/")).unwrap();
        assert!((0.0..=1.0).contains(&u), "{u}");
    }
}
