//! The running scheduler's shared state: the engine behind a mutex, the store, and the two
//! background loops that are not HTTP: the timer loop (sleeps until the heap's earliest
//! instant, ticks, persists, wakes the launcher) and the persister ([`Core::persist`]).
//!
//! Persisting is write-behind for reads and write-ahead for effects: an API call answers only
//! after its change is stored, and a run is stored before its task goes to Mesos.

use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio::sync::Notify;

use crate::engine::{Dirty, Engine};
use crate::store::{Family, Store, StoreError};

/// A clock, so the benchmark and tests can drive time.
pub trait Clock: Send + Sync + std::fmt::Debug {
    /// Now.
    fn now(&self) -> DateTime<Utc>;
}

/// The system clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

/// Shared scheduler state.
#[derive(Debug)]
pub struct Core {
    engine: Mutex<Engine>,
    store: Arc<dyn Store>,
    persist_lock: tokio::sync::Mutex<()>,
    /// Wakes the timer loop (a job was added or changed).
    pub timers_changed: Notify,
    /// Wakes the launcher (runs were queued or kills asked for).
    pub work: Notify,
    /// The clock.
    pub clock: Arc<dyn Clock>,
}

impl Core {
    /// A core over `engine` and `store`.
    pub fn new(engine: Engine, store: Arc<dyn Store>, clock: Arc<dyn Clock>) -> Arc<Self> {
        Arc::new(Self {
            engine: Mutex::new(engine),
            store,
            persist_lock: tokio::sync::Mutex::new(()),
            timers_changed: Notify::new(),
            work: Notify::new(),
            clock,
        })
    }

    /// The engine. A poisoned lock (a panic while it was held) is not swallowed: the process
    /// must not keep serving half-updated state.
    pub fn engine(&self) -> MutexGuard<'_, Engine> {
        match self.engine.lock() {
            Ok(g) => g,
            Err(_) => {
                tracing::error!("engine lock poisoned by a panic; exiting");
                std::process::exit(70);
            }
        }
    }

    /// The store.
    pub fn store(&self) -> Arc<dyn Store> {
        Arc::clone(&self.store)
    }

    /// Writes every change made so far; returns once it is durable. Serialized: a later call
    /// never overtakes an earlier one, and each record is read from the engine at write time
    /// (the newest state wins).
    pub async fn persist(&self) -> Result<(), StoreError> {
        let _order = self.persist_lock.lock().await;
        let (dirty, writes) = {
            let mut e = self.engine();
            let dirty = e.take_dirty();
            if dirty.is_empty() {
                return Ok(());
            }
            let writes = records(&e, &dirty);
            e.warm_display(&dirty.jobs);
            (dirty, writes)
        };
        let store = Arc::clone(&self.store);
        let result = tokio::task::spawn_blocking(move || store.apply(writes))
            .await
            .unwrap_or_else(|e| Err(StoreError::Backend(format!("store task failed: {e}"))));
        if let Err(err) = &result {
            tracing::error!(%err, "persisting state failed; will retry");
            self.engine().mark_dirty(dirty);
        }
        result
    }

    /// Stores one meta value (the framework id).
    pub async fn put_meta(&self, name: &'static str, value: String) -> Result<(), StoreError> {
        let store = Arc::clone(&self.store);
        tokio::task::spawn_blocking(move || store.put(Family::Meta, name, value.as_bytes()))
            .await
            .unwrap_or_else(|e| Err(StoreError::Backend(e.to_string())))
    }
}

/// The writes for a dirty set: `(family, name, Some(bytes) | None = delete)`.
fn records(e: &Engine, dirty: &Dirty) -> Vec<(Family, String, Option<Vec<u8>>)> {
    let mut out = Vec::with_capacity(dirty.jobs.len() + dirty.runs.len());
    for name in &dirty.jobs {
        let bytes = e.stored_job(name).and_then(|j| serde_json::to_vec(&j).ok());
        out.push((Family::Jobs, name.clone(), bytes));
    }
    for id in &dirty.runs {
        let bytes = e.run(id).and_then(|r| serde_json::to_vec(r).ok());
        out.push((Family::Runs, id.clone(), bytes));
    }
    out
}

/// The timer loop: tick when the earliest timer is due (or at least every second, so a clock
/// jump is noticed), persist, and wake the launcher when runs were queued.
pub async fn run_timers(core: Arc<Core>) {
    loop {
        let now = core.clock.now();
        let queued = core.engine().tick(now);
        if let Err(err) = core.persist().await {
            tracing::warn!(%err, "state not stored; retrying in 1 s");
            tokio::time::sleep(Duration::from_secs(1)).await;
            continue;
        }
        if queued > 0 {
            core.work.notify_one();
        }
        let wait = core
            .engine()
            .next_wake()
            .map(|at| (at - core.clock.now()).to_std().unwrap_or(Duration::ZERO))
            .unwrap_or(Duration::from_secs(1))
            .min(Duration::from_secs(1));
        tokio::select! {
            () = tokio::time::sleep(wait) => {}
            () = core.timers_changed.notified() => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use chrono::TimeDelta;

    use super::*;
    use crate::engine::{EngineConfig, Outcome, Run, StoredJob};
    use crate::job::Job;

    type Stored = BTreeMap<(&'static str, String), Vec<u8>>;

    fn apply(stored: &mut Stored, writes: &[(Family, String, Option<Vec<u8>>)]) {
        for (family, name, value) in writes {
            let key = (family.dir(), name.clone());
            match value {
                Some(v) => stored.insert(key, v.clone()),
                None => stored.remove(&key),
            };
        }
    }

    fn restored(stored: &Stored, now: DateTime<Utc>) -> Engine {
        let of = |dir: &'static str| stored.iter().filter(move |((d, _), _)| *d == dir);
        let jobs: Vec<StoredJob> = of("jobs")
            .map(|(_, v)| serde_json::from_slice(v).unwrap())
            .collect();
        let runs: Vec<Run> = of("runs")
            .map(|(_, v)| serde_json::from_slice(v).unwrap())
            .collect();
        let mut e = Engine::new(EngineConfig::default());
        e.restore(jobs, runs, now);
        e
    }

    fn writes(e: &mut Engine) -> Vec<(Family, String, Option<Vec<u8>>)> {
        let dirty = e.take_dirty();
        records(e, &dirty)
    }

    /// The leader stores a run's success in several writes (the job's counters, then the run's
    /// deletion; a state dir writes one file at a time) and dies after any of them without
    /// acknowledging the update. The agent sends the TASK_FINISHED again to the next leader,
    /// and reconciliation answers it too: the success counts once whatever was stored.
    #[test]
    fn a_finished_update_replayed_after_a_crash_mid_write_counts_once() {
        let start = DateTime::parse_from_rfc3339("2027-01-01T00:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        let mut e = Engine::new(EngineConfig::default());
        let job = Job {
            name: "a".into(),
            command: "true".into(),
            schedule: Some("R/2027-01-01T00:00:00Z/PT1H".into()),
            ..Job::default()
        };
        e.put_scheduled(job, start).unwrap();
        assert_eq!(e.tick(start), 1);
        let id = e.queued().next().unwrap().task_id.clone();
        e.mark_launched(&id, "agent", start);
        let mut stored = Stored::new();
        apply(&mut stored, &writes(&mut e));
        let done = start + TimeDelta::seconds(2);
        assert!(e.on_status(&id, Outcome::Finished, done));
        let last = writes(&mut e);
        assert!(last.len() >= 2, "{last:?}");
        for k in 0..=last.len() {
            let mut s = stored.clone();
            apply(&mut s, &last[..k]);
            let mut e2 = restored(&s, done);
            e2.on_status(&id, Outcome::Finished, done);
            e2.on_status(&id, Outcome::Finished, done);
            let j = e2.job("a").unwrap();
            assert_eq!(
                j.success_count,
                1,
                "crash after {k} of {} writes",
                last.len()
            );
            assert_eq!(e2.runs().count(), 0);
            // The new leader's own writes delete the stale run record.
            let mut s2 = s.clone();
            apply(&mut s2, &writes(&mut e2));
            assert!(!s2.keys().any(|(d, _)| *d == "runs"), "{s2:?}");
        }
    }
}
