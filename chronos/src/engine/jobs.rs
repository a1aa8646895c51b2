//! Adding, updating and deleting jobs, and the dependency graph (`parents` edges with a
//! `children` index). Every check runs before anything changes, so a refused job leaves the
//! engine exactly as it was.

use std::collections::BTreeSet;

use chrono::{DateTime, Utc};

use super::{Engine, Entry, RunKind, RunState, StoredJob};
use crate::job::{Job, JobError};
use crate::schedule::{Schedule, ScheduleError};

/// Why a job was refused (all 400s) or not found (404).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PutError {
    /// A field.
    #[error(transparent)]
    Job(#[from] JobError),
    /// The schedule.
    #[error(transparent)]
    Schedule(#[from] ScheduleError),
    /// `POST /iso8601` without a schedule.
    #[error("a scheduled job needs a schedule")]
    NoSchedule,
    /// `POST /dependency` without parents.
    #[error("a dependent job needs at least one parent")]
    NoParents,
    /// A parent that does not exist.
    #[error("parent job '{0}' not found")]
    UnknownParent(String),
    /// The job would depend on itself.
    #[error("dependency cycle: '{0}' would be its own ancestor")]
    Cycle(String),
    /// No such job.
    #[error("job '{0}' not found")]
    NotFound(String),
}

impl Engine {
    /// Adds or replaces a scheduled job (`POST /iso8601`). Counters of an existing job are
    /// kept; its next run follows the new schedule (a start in the past runs once, now).
    pub fn put_scheduled(&mut self, mut job: Job, now: DateTime<Utc>) -> Result<(), PutError> {
        job.validate()?;
        let text = job.schedule.clone().ok_or(PutError::NoSchedule)?;
        let tz = job.schedule_time_zone.clone().unwrap_or_default();
        let schedule = Schedule::parse(&text, &tz, now)?;
        job.parents = None;
        self.replace(job, Some(schedule));
        Ok(())
    }

    /// Adds or replaces a dependent job (`POST /dependency`).
    pub fn put_dependent(&mut self, mut job: Job) -> Result<(), PutError> {
        job.validate()?;
        let parents: Vec<String> = job.parents.clone().unwrap_or_default();
        if parents.is_empty() {
            return Err(PutError::NoParents);
        }
        for p in &parents {
            if *p == job.name {
                return Err(PutError::Cycle(job.name.clone()));
            }
            if !self.jobs.contains_key(p) {
                return Err(PutError::UnknownParent(p.clone()));
            }
        }
        if self.is_ancestor_of_any(&job.name, &parents) {
            return Err(PutError::Cycle(job.name.clone()));
        }
        job.schedule = None;
        job.schedule_time_zone = None;
        let mut dedup = BTreeSet::new();
        job.parents = Some(
            parents
                .into_iter()
                .filter(|p| dedup.insert(p.clone()))
                .collect(),
        );
        self.replace(job, None);
        Ok(())
    }

    /// Whether `name` is reachable walking up `parents` from any of `from`.
    fn is_ancestor_of_any(&self, name: &str, from: &[String]) -> bool {
        let mut seen = BTreeSet::new();
        let mut stack: Vec<&str> = from.iter().map(String::as_str).collect();
        while let Some(j) = stack.pop() {
            if j == name {
                return true;
            }
            if !seen.insert(j) {
                continue;
            }
            if let Some(ps) = self.jobs.get(j).and_then(|e| e.job.parents.as_ref()) {
                stack.extend(ps.iter().map(String::as_str));
            }
        }
        false
    }

    fn replace(&mut self, mut job: Job, schedule: Option<Schedule>) {
        let name = job.name.clone();
        let old = self.jobs.remove(&name);
        match &old {
            Some(o) => {
                job.keep_counters_of(&o.job);
                self.unlink(&name, o.job.parents.as_deref().unwrap_or(&[]));
            }
            None => job.reset_counters(),
        }
        self.link(&name, job.parents.as_deref().unwrap_or(&[]));
        let (satisfied, in_flight, durations, ended) = match old {
            Some(o) => (o.satisfied, o.in_flight, o.durations, o.ended),
            None => Default::default(),
        };
        let parents: BTreeSet<&String> = job.parents.iter().flatten().collect();
        let satisfied = satisfied
            .into_iter()
            .filter(|p| parents.contains(p))
            .collect();
        self.jobs.insert(
            name.clone(),
            Entry {
                job,
                schedule,
                next_due: None,
                satisfied,
                in_flight,
                durations,
                ended,
            },
        );
        self.dirty_jobs.insert(name.clone());
        self.arm(&name);
    }

    fn link(&mut self, name: &str, parents: &[String]) {
        for p in parents {
            self.children
                .entry(p.clone())
                .or_default()
                .insert(name.to_owned());
        }
    }

    fn unlink(&mut self, name: &str, parents: &[String]) {
        for p in parents {
            if let Some(c) = self.children.get_mut(p) {
                c.remove(name);
                if c.is_empty() {
                    self.children.remove(p);
                }
            }
        }
    }

    pub(crate) fn insert_restored(&mut self, s: StoredJob, now: DateTime<Utc>) {
        let job = s.job;
        let schedule = job.schedule.as_deref().and_then(|text| {
            let tz = job.schedule_time_zone.as_deref().unwrap_or("");
            Schedule::parse(text, tz, now)
                .map_err(|err| tracing::error!(job = %job.name, %err, "stored schedule unreadable"))
                .ok()
        });
        let name = job.name.clone();
        self.link(&name, job.parents.as_deref().unwrap_or(&[]));
        self.jobs.insert(
            name.clone(),
            Entry {
                job,
                schedule,
                next_due: None,
                satisfied: s.satisfied.into_iter().collect(),
                in_flight: 0,
                durations: Default::default(),
                ended: s.ended.into_iter().collect(),
            },
        );
        self.arm(&name);
    }

    /// Deletes a job (`DELETE /job/{name}`): its queued runs are dropped, its tasks returned for
    /// killing, and its children re-attached as Chronos does (to the deleted job's parents, or
    /// given its schedule when it had none).
    pub fn delete(&mut self, name: &str, now: DateTime<Utc>) -> Result<Vec<String>, PutError> {
        let kills = self.kill(name)?;
        let Some(gone) = self.jobs.remove(name) else {
            return Err(PutError::NotFound(name.to_owned()));
        };
        self.unlink(name, gone.job.parents.as_deref().unwrap_or(&[]));
        let children: Vec<String> = self
            .children
            .remove(name)
            .map(|c| c.into_iter().collect())
            .unwrap_or_default();
        for c in children {
            let Some(mut child) = self.jobs.get(&c).map(|e| e.job.clone()) else {
                continue;
            };
            let mut parents: Vec<String> = child.parents.take().unwrap_or_default();
            parents.retain(|p| p != name);
            for p in gone.job.parents.iter().flatten() {
                if !parents.contains(p) {
                    parents.push(p.clone());
                }
            }
            let result = if parents.is_empty() {
                child.schedule.clone_from(&gone.job.schedule);
                child
                    .schedule_time_zone
                    .clone_from(&gone.job.schedule_time_zone);
                self.put_scheduled(child, now)
            } else {
                child.parents = Some(parents);
                self.put_dependent(child)
            };
            if let Err(err) = result {
                tracing::warn!(job = %c, %err, "child of a deleted job could not be re-attached");
            }
        }
        self.dirty_jobs.insert(name.to_owned());
        Ok(kills)
    }

    /// Queues a manual run (`PUT /job/{name}`), with optional extra arguments.
    pub fn run_now(
        &mut self,
        name: &str,
        args: Option<String>,
        now: DateTime<Utc>,
    ) -> Result<String, PutError> {
        if !self.jobs.contains_key(name) {
            return Err(PutError::NotFound(name.to_owned()));
        }
        Ok(self.enqueue(name, now.timestamp_millis(), 0, args, RunKind::Manual))
    }

    /// Ends every run of a job (`DELETE /task/kill/{name}`): queued and waiting runs are
    /// dropped; launched task ids are returned for the caller to kill.
    pub fn kill(&mut self, name: &str) -> Result<Vec<String>, PutError> {
        if !self.jobs.contains_key(name) {
            return Err(PutError::NotFound(name.to_owned()));
        }
        let ids: Vec<String> = self
            .runs
            .values()
            .filter(|r| r.job == name)
            .map(|r| r.task_id.clone())
            .collect();
        let mut kills = Vec::new();
        for id in ids {
            let Some(r) = self.runs.get_mut(&id) else {
                continue;
            };
            match r.state {
                RunState::Queued | RunState::Waiting => {
                    self.queue.retain(|q| *q != id);
                    self.end_run(&id);
                }
                RunState::Launched(_) | RunState::Recovered => {
                    r.kill_requested = true;
                    self.kills.push((id.clone(), r.agent_id.clone()));
                    kills.push(id);
                }
            }
        }
        Ok(kills)
    }
}
