//! The scheduling engine: jobs, their timers, runs in flight, retries and dependencies, as a
//! pure state machine driven by an explicit clock (`now` is an argument everywhere), so tests
//! and the benchmark run it on simulated time.
//!
//! - `jobs.rs`: adding, updating, deleting jobs; the dependency graph and its checks.
//! - `timers.rs`: the timer heap (one entry per armed schedule or retry, stale entries skipped
//!   when popped), so a tick costs O(due · log n), never a rescan of every job.
//! - `runs.rs`: the launch queue, status updates, counters, retries, dependents.
//!
//! Durability: every change marks the job or run *dirty*; the caller persists what
//! [`Engine::take_dirty`] returns before it launches anything (a run is stored, with its task
//! id, before its task is sent to Mesos, so a restarted leader reconciles it instead of
//! starting it again).

mod jobs;
mod runs;
mod timers;

use std::collections::{BTreeMap, BTreeSet, BinaryHeap, HashMap, VecDeque};

use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Serialize};

pub use self::jobs::PutError;
pub use self::runs::{Outcome, RELAUNCH_GRACE_MS};
pub use self::timers::at_ms;
use self::timers::Timer;
use crate::job::Job;
use crate::schedule::Schedule;

/// Engine settings (from the flags).
#[derive(Debug, Clone, Copy)]
pub struct EngineConfig {
    /// `--failure_retry`: wait before a retry, in ms.
    pub failure_retry_ms: i64,
    /// `--disable_after_failures`: disable a job after this many errors in a row (0: never).
    pub disable_after_failures: u64,
}

impl Default for EngineConfig {
    fn default() -> Self {
        Self {
            failure_retry_ms: 60_000,
            disable_after_failures: 0,
        }
    }
}

/// Why a run exists.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RunKind {
    /// Its schedule came due.
    Scheduled,
    /// All its parents succeeded.
    Dependency,
    /// `PUT /job/{name}`.
    Manual,
}

/// Where a run stands (not persisted: a restored run is `Recovered` until reconciled).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum RunState {
    /// Waiting for `retry_at`.
    Waiting,
    /// In the launch queue.
    #[default]
    Queued,
    /// Sent to Mesos at this instant (ms).
    Launched(i64),
    /// Loaded from the store; its fate is asked of the master.
    Recovered,
}

/// One run of a job: one Mesos task (id `ct:<due ms>:<attempt>:<job>:<args>`, as Chronos).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Run {
    /// The Mesos task id.
    pub task_id: String,
    /// The job's name.
    pub job: String,
    /// The instant the run was due (ms since the epoch).
    pub due_ms: i64,
    /// 0 for the first try, then one more per retry.
    pub attempt: u32,
    /// Arguments of a manual run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub args: Option<String>,
    /// Why it runs.
    pub kind: RunKind,
    /// When a retry may start (ms).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_at: Option<i64>,
    /// The agent it was launched on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent_id: Option<String>,
    /// Where it stands.
    #[serde(skip)]
    pub state: RunState,
    /// A kill was asked for.
    #[serde(skip)]
    pub kill_requested: bool,
    /// Waiting out the grace period after the master did not know the recovered task.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub attempt_unknown: bool,
}

/// What the store keeps per job: the job (with its rewritten schedule and counters) and the
/// parents that succeeded since its last run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoredJob {
    /// The job.
    pub job: Job,
    /// Parents succeeded since the job's last dependent run.
    #[serde(default)]
    pub satisfied: Vec<String>,
    /// Task ids of the job's last ended runs, oldest first. Stored in the same record as the
    /// counters they moved, so a run whose end was counted is known as counted even when its
    /// own record outlived a crash: a replayed terminal update is never counted twice.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ended: Vec<String>,
}

/// A job and its runtime state.
#[derive(Debug, Clone)]
pub(crate) struct Entry {
    pub job: Job,
    pub schedule: Option<Schedule>,
    /// The instant its timer is armed for (stale heap entries do not match).
    pub next_due: Option<i64>,
    pub satisfied: BTreeSet<String>,
    /// Runs not yet ended (waiting, queued, launched or recovered).
    pub in_flight: u32,
    /// Run times in ms of the last successful runs, newest last.
    pub durations: VecDeque<f64>,
    /// Task ids of the last [`ENDED_KEPT`] ended runs, oldest first (see [`StoredJob::ended`]).
    pub ended: VecDeque<String>,
}

/// Number of ended task ids kept per job. A run's record is deleted in the same all-or-nothing
/// write as the job record that lists it; the list matters only when a write is split (a
/// ZooKeeper batch beyond 200 changes), and then for the runs of one job ended in one persist.
const ENDED_KEPT: usize = 16;

/// Number of run times kept per job for `/stats`.
const DURATIONS_KEPT: usize = 100;

/// The scheduler's state.
#[derive(Debug, Default)]
pub struct Engine {
    config: EngineConfig,
    jobs: BTreeMap<String, Entry>,
    children: HashMap<String, BTreeSet<String>>,
    runs: HashMap<String, Run>,
    queue: VecDeque<String>,
    timers: BinaryHeap<Timer>,
    timer_seq: u64,
    dirty_jobs: BTreeSet<String>,
    dirty_runs: BTreeSet<String>,
    /// `GET /jobs` JSON of each job not changed since it was rendered (a job is changed iff
    /// it is in `dirty_jobs`; entries are dropped when their change is taken for storing).
    display_cache: HashMap<String, Vec<u8>>,
    kills: Vec<(String, Option<String>)>,
}

/// Keys changed since the last [`Engine::take_dirty`].
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Dirty {
    /// Job names (absent from the engine: deleted).
    pub jobs: BTreeSet<String>,
    /// Task ids (absent: ended).
    pub runs: BTreeSet<String>,
}

impl Dirty {
    /// Nothing changed.
    pub fn is_empty(&self) -> bool {
        self.jobs.is_empty() && self.runs.is_empty()
    }
}

/// An ISO 8601 UTC timestamp as Chronos prints them.
pub fn iso(now: DateTime<Utc>) -> String {
    now.to_rfc3339_opts(SecondsFormat::Millis, true)
}

impl Engine {
    /// An empty engine.
    pub fn new(config: EngineConfig) -> Self {
        Self {
            config,
            ..Self::default()
        }
    }

    /// Every job, by name.
    pub fn jobs(&self) -> impl Iterator<Item = &Job> {
        self.jobs.values().map(|e| &e.job)
    }

    /// One job.
    pub fn job(&self, name: &str) -> Option<&Job> {
        self.jobs.get(name).map(|e| &e.job)
    }

    /// Number of jobs.
    pub fn len(&self) -> usize {
        self.jobs.len()
    }

    /// No jobs.
    pub fn is_empty(&self) -> bool {
        self.jobs.is_empty()
    }

    /// The record to store for a job.
    pub fn stored_job(&self, name: &str) -> Option<StoredJob> {
        self.jobs.get(name).map(|e| StoredJob {
            job: e.job.clone(),
            satisfied: e.satisfied.iter().cloned().collect(),
            ended: e.ended.iter().cloned().collect(),
        })
    }

    /// A run in flight.
    pub fn run(&self, task_id: &str) -> Option<&Run> {
        self.runs.get(task_id)
    }

    /// Every run in flight.
    pub fn runs(&self) -> impl Iterator<Item = &Run> {
        self.runs.values()
    }

    /// `idle`, `queued` or `running` (the graph CSV's job state).
    pub fn job_state(&self, name: &str) -> &'static str {
        let mut state = "idle";
        for r in self.runs.values().filter(|r| r.job == name) {
            match r.state {
                RunState::Launched(_) | RunState::Recovered => return "running",
                RunState::Queued | RunState::Waiting => state = "queued",
            }
        }
        state
    }

    /// Children of a job.
    pub fn children(&self, name: &str) -> impl Iterator<Item = &String> {
        self.children.get(name).into_iter().flatten()
    }

    /// Successful run times (ms) kept for a job.
    pub fn durations(&self, name: &str) -> Vec<f64> {
        self.jobs
            .get(name)
            .map(|e| e.durations.iter().copied().collect())
            .unwrap_or_default()
    }

    /// When a job's schedule fires next (`None`: dependent, disabled or no runs left).
    pub fn next_due(&self, name: &str) -> Option<DateTime<Utc>> {
        self.jobs
            .get(name)
            .filter(|e| !e.job.disabled)
            .and_then(|e| e.next_due)
            .map(at_ms)
    }

    /// The JSON array `GET /jobs` answers, from per-job cached renderings: with 10,000 jobs
    /// only the few that changed are serialized again.
    pub fn jobs_json(&mut self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.jobs.len() * 640 + 2);
        out.push(b'[');
        for (i, (name, e)) in self.jobs.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            let fresh = !self.dirty_jobs.contains(name);
            match self.display_cache.get(name) {
                Some(bytes) if fresh => out.extend_from_slice(bytes),
                _ => {
                    let bytes = serde_json::to_vec(&e.job.for_display()).unwrap_or_default();
                    out.extend_from_slice(&bytes);
                    if fresh {
                        self.display_cache.insert(name.clone(), bytes);
                    }
                }
            }
        }
        out.push(b']');
        out
    }

    /// Renders the `GET /jobs` JSON of `names` now (the persister calls it right after taking
    /// their changes), so a later `GET /jobs` finds them ready.
    pub fn warm_display(&mut self, names: &BTreeSet<String>) {
        for name in names {
            if self.dirty_jobs.contains(name) {
                continue;
            }
            if let Some(e) = self.jobs.get(name) {
                if let Ok(bytes) = serde_json::to_vec(&e.job.for_display()) {
                    self.display_cache.insert(name.clone(), bytes);
                }
            }
        }
    }

    /// Takes the set of changed keys.
    pub fn take_dirty(&mut self) -> Dirty {
        for name in &self.dirty_jobs {
            self.display_cache.remove(name);
        }
        Dirty {
            jobs: std::mem::take(&mut self.dirty_jobs),
            runs: std::mem::take(&mut self.dirty_runs),
        }
    }

    /// Marks keys changed again (after a failed write).
    pub fn mark_dirty(&mut self, d: Dirty) {
        self.dirty_jobs.extend(d.jobs);
        self.dirty_runs.extend(d.runs);
    }

    /// Loads stored state at start or on becoming leader: schedules are armed (a start in the
    /// past fires once at the next tick, the single catch-up), runs become `Recovered` until
    /// the master reports on them, and waiting retries are re-armed.
    pub fn restore(&mut self, jobs: Vec<StoredJob>, runs: Vec<Run>, now: DateTime<Utc>) {
        for s in jobs {
            self.insert_restored(s, now);
        }
        for mut r in runs {
            let Some(e) = self.jobs.get_mut(&r.job) else {
                tracing::warn!(task_id = %r.task_id, "stored run of an unknown job dropped");
                self.dirty_runs.insert(r.task_id);
                continue;
            };
            if e.ended.contains(&r.task_id) {
                // Its end was stored with the job's counters; only its deletion was lost.
                tracing::info!(task_id = %r.task_id, "stored run already ended and counted: dropped");
                self.dirty_runs.insert(r.task_id);
                continue;
            }
            e.in_flight += 1;
            r.state = match r.retry_at {
                Some(at) => {
                    self.push_timer(at, timers::Key::Retry(r.task_id.clone()));
                    RunState::Waiting
                }
                None => RunState::Recovered,
            };
            self.runs.insert(r.task_id.clone(), r);
        }
    }
}

#[cfg(test)]
mod tests;
