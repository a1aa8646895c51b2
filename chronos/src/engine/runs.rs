//! Runs: the launch queue, status updates, counters, retries and dependents.
//!
//! A failed run is retried `retries` times, each after `--failure_retry`; only when the last
//! attempt fails does `errorCount` grow (so `retries: 2` means three tries, one error). A
//! success triggers each child whose parents have *all* succeeded since the child last ran.

use chrono::{DateTime, Utc};

use super::{iso, Engine, Run, RunKind, RunState, DURATIONS_KEPT, ENDED_KEPT};

/// How long a recovered run the master does not know waits for a late status update from
/// its agent before it is launched again.
pub const RELAUNCH_GRACE_MS: i64 = 15_000;

/// What a Mesos status update means for a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Staging, starting or running.
    Running,
    /// Finished with exit code 0.
    Finished,
    /// Failed, errored or lost: retried.
    Failed,
    /// Killed: counted as an error, not retried.
    Killed,
    /// The master does not know the task (reconciliation): it was never launched, or was lost
    /// with its agent. A recovered run is launched again; any other counts as failed.
    Unknown,
}

/// Chronos's task id: `ct:<due ms>:<attempt>:<job>:<args>` (`;` removed from the arguments).
pub fn task_id(due_ms: i64, attempt: u32, job: &str, args: &str) -> String {
    let args: String = args.chars().filter(|c| *c != ';').collect();
    format!("ct:{due_ms}:{attempt}:{job}:{args}")
}

impl Engine {
    /// Creates a queued run; returns its task id (made unique by bumping the due millisecond).
    pub(crate) fn enqueue(
        &mut self,
        name: &str,
        due_ms: i64,
        attempt: u32,
        args: Option<String>,
        kind: RunKind,
    ) -> String {
        let Some(e) = self.jobs.get_mut(name) else {
            return String::new();
        };
        let joined = args.clone().unwrap_or_else(|| e.job.arguments.join(" "));
        let mut due = due_ms;
        let mut id = task_id(due, attempt, name, &joined);
        while self.runs.contains_key(&id) {
            due += 1;
            id = task_id(due, attempt, name, &joined);
        }
        e.in_flight += 1;
        let high = e.job.high_priority;
        self.runs.insert(
            id.clone(),
            Run {
                task_id: id.clone(),
                job: name.to_owned(),
                due_ms: due,
                attempt,
                args,
                kind,
                retry_at: None,
                agent_id: None,
                state: RunState::Queued,
                kill_requested: false,
                attempt_unknown: false,
            },
        );
        if high {
            self.queue.push_front(id.clone());
        } else {
            self.queue.push_back(id.clone());
        }
        self.dirty_runs.insert(id.clone());
        id
    }

    /// Forgets a run and records its task id among its job's ended runs (the job record is
    /// written with it, so a replay of the run's last update is recognised).
    pub(crate) fn end_run(&mut self, task_id: &str) {
        if let Some(r) = self.runs.remove(task_id) {
            self.dirty_runs.insert(task_id.to_owned());
            if let Some(e) = self.jobs.get_mut(&r.job) {
                e.in_flight = e.in_flight.saturating_sub(1);
                if e.ended.len() == ENDED_KEPT {
                    e.ended.pop_front();
                }
                e.ended.push_back(task_id.to_owned());
                self.dirty_jobs.insert(r.job);
            }
        }
    }

    /// Task ids waiting for an offer, in launch order.
    pub fn queued(&self) -> impl Iterator<Item = &Run> {
        self.queue.iter().filter_map(|id| self.runs.get(id))
    }

    /// Number of runs waiting for an offer.
    pub fn queue_len(&self) -> usize {
        self.queue.len()
    }

    /// A queued run was sent to Mesos on `agent_id`.
    pub fn mark_launched(&mut self, task_id: &str, agent_id: &str, now: DateTime<Utc>) {
        if let Some(r) = self.runs.get_mut(task_id) {
            r.state = RunState::Launched(now.timestamp_millis());
            r.agent_id = Some(agent_id.to_owned());
            self.queue.retain(|q| q != task_id);
        }
    }

    /// A launch that did not reach Mesos: the run waits for another offer.
    pub fn requeue(&mut self, task_id: &str) {
        if let Some(r) = self.runs.get_mut(task_id) {
            if matches!(r.state, RunState::Launched(_)) {
                r.state = RunState::Queued;
                r.agent_id = None;
                self.queue.push_front(task_id.to_owned());
            }
        }
    }

    /// Task ids of recovered runs, to reconcile with the master.
    pub fn recovered(&self) -> Vec<(String, Option<String>)> {
        self.runs
            .values()
            .filter(|r| r.state == RunState::Recovered)
            .map(|r| (r.task_id.clone(), r.agent_id.clone()))
            .collect()
    }

    /// Applies a status update. Returns `false` for a task that is not ours (the caller may
    /// kill it).
    pub fn on_status(&mut self, task_id: &str, outcome: Outcome, now: DateTime<Utc>) -> bool {
        let Some(run) = self.runs.get(task_id).cloned() else {
            return false;
        };
        match outcome {
            Outcome::Running => {
                let relaunch_pending = run.state == RunState::Waiting && run.attempt_unknown;
                if run.state == RunState::Recovered || relaunch_pending {
                    let started = run.due_ms.min(now.timestamp_millis());
                    if let Some(r) = self.runs.get_mut(task_id) {
                        r.state = RunState::Launched(started);
                        r.retry_at = None;
                        r.attempt_unknown = false;
                    }
                    self.dirty_runs.insert(task_id.to_owned());
                }
            }
            Outcome::Unknown if run.state == RunState::Recovered && !run.kill_requested => {
                // The master may answer before the agent has re-sent the task's last update
                // (a task that ended while no scheduler was connected): wait a grace period
                // for that update before launching the run again.
                tracing::info!(
                    task_id,
                    "run unknown to the master after recovery: relaunch after a grace period"
                );
                let at = now.timestamp_millis() + RELAUNCH_GRACE_MS;
                if let Some(r) = self.runs.get_mut(task_id) {
                    r.state = RunState::Waiting;
                    r.retry_at = Some(at);
                    r.attempt_unknown = true;
                }
                self.dirty_runs.insert(task_id.to_owned());
                self.push_timer(at, super::timers::Key::Retry(task_id.to_owned()));
            }
            Outcome::Unknown if run.state == RunState::Waiting => {}
            Outcome::Finished => {
                self.end_run(task_id);
                self.succeeded(&run, now);
            }
            Outcome::Failed | Outcome::Unknown => {
                self.end_run(task_id);
                self.failed(&run, now, !run.kill_requested);
            }
            Outcome::Killed => {
                self.end_run(task_id);
                self.failed(&run, now, false);
            }
        }
        true
    }

    /// `PUT /job/success/{name}`: counts a success and triggers dependents, as a run would.
    pub fn mark_success(&mut self, name: &str, now: DateTime<Utc>) -> Result<(), super::PutError> {
        if !self.jobs.contains_key(name) {
            return Err(super::PutError::NotFound(name.to_owned()));
        }
        let run = Run {
            task_id: String::new(),
            job: name.to_owned(),
            due_ms: now.timestamp_millis(),
            attempt: 0,
            args: None,
            kind: RunKind::Manual,
            retry_at: None,
            agent_id: None,
            state: RunState::Queued,
            kill_requested: false,
            attempt_unknown: false,
        };
        self.succeeded(&run, now);
        Ok(())
    }

    /// Kills asked for since the last call: `(task id, agent id)`.
    pub fn take_kills(&mut self) -> Vec<(String, Option<String>)> {
        std::mem::take(&mut self.kills)
    }

    /// Every run whose kill was asked for (re-sent after a reconnection).
    pub fn all_kills(&self) -> Vec<(String, Option<String>)> {
        self.runs
            .values()
            .filter(|r| r.kill_requested)
            .map(|r| (r.task_id.clone(), r.agent_id.clone()))
            .collect()
    }

    fn succeeded(&mut self, run: &Run, now: DateTime<Utc>) {
        let Some(e) = self.jobs.get_mut(&run.job) else {
            return;
        };
        e.job.success_count += 1;
        e.job.last_success = iso(now);
        e.job.errors_since_last_success = 0;
        if let RunState::Launched(started) = run.state {
            // Precision loss is irrelevant for run times in ms.
            #[allow(clippy::cast_precision_loss)]
            let ms = (now.timestamp_millis() - started).max(0) as f64;
            if e.durations.len() == DURATIONS_KEPT {
                e.durations.pop_front();
            }
            e.durations.push_back(ms);
        }
        self.dirty_jobs.insert(run.job.clone());
        let children: Vec<String> = self.children(&run.job).cloned().collect();
        for c in children {
            if let Some(ce) = self.jobs.get_mut(&c) {
                ce.satisfied.insert(run.job.clone());
                self.dirty_jobs.insert(c.clone());
            }
            self.maybe_trigger(&c, now);
        }
        self.maybe_trigger(&run.job, now);
    }

    fn failed(&mut self, run: &Run, now: DateTime<Utc>, may_retry: bool) {
        let retry_ms = self.config.failure_retry_ms;
        let disable_after = self.config.disable_after_failures;
        let Some(retries) = self.jobs.get(&run.job).map(|e| e.job.retries) else {
            return;
        };
        if may_retry && run.attempt < retries {
            let at = now.timestamp_millis() + retry_ms;
            let args = run.args.clone();
            let id = self.enqueue(&run.job, run.due_ms, run.attempt + 1, args, run.kind);
            self.queue.retain(|q| *q != id);
            if let Some(r) = self.runs.get_mut(&id) {
                r.state = RunState::Waiting;
                r.retry_at = Some(at);
            }
            self.push_timer(at, super::timers::Key::Retry(id));
            return;
        }
        let Some(e) = self.jobs.get_mut(&run.job) else {
            return;
        };
        e.job.error_count += 1;
        e.job.last_error = iso(now);
        e.job.errors_since_last_success += 1;
        if disable_after > 0 && e.job.errors_since_last_success >= disable_after {
            tracing::warn!(job = %run.job, errors = e.job.errors_since_last_success, "disabled after failures");
            e.job.disabled = true;
        }
        self.dirty_jobs.insert(run.job.clone());
        self.maybe_trigger(&run.job, now);
    }

    /// Runs a dependent job whose parents have all succeeded since its last run; a job still
    /// running (not concurrent) keeps the trigger until its run ends.
    fn maybe_trigger(&mut self, name: &str, now: DateTime<Utc>) {
        let Some(e) = self.jobs.get_mut(name) else {
            return;
        };
        let Some(parents) = e.job.parents.as_ref() else {
            return;
        };
        if parents.is_empty() || !parents.iter().all(|p| e.satisfied.contains(p)) {
            return;
        }
        if !e.job.concurrent && e.in_flight > 0 {
            return;
        }
        e.satisfied.clear();
        self.dirty_jobs.insert(name.to_owned());
        if e.job.disabled {
            return;
        }
        self.enqueue(name, now.timestamp_millis(), 0, None, RunKind::Dependency);
    }
}
