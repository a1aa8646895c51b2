//! The timer heap and the tick. A job's schedule has at most one live timer: the one whose
//! instant equals the job's `next_due`. Re-arming pushes a new entry and leaves the old one in
//! the heap; it is recognised as stale and dropped when it reaches the top (lazy deletion keeps
//! every operation O(log n)).
//!
//! When a schedule fires, its run is queued and the schedule jumps to its first occurrence
//! *after now*: however long the scheduler was down, a job gets at most one catch-up run.

use std::cmp::Reverse;

use chrono::{DateTime, TimeZone, Utc};

use super::{Engine, RunKind, RunState};

/// What a timer is for.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Key {
    /// A job's schedule.
    Schedule(String),
    /// A retry of a run (task id).
    Retry(String),
}

/// A heap entry: earliest instant first, then insertion order.
pub(crate) type Timer = Reverse<(i64, u64, Key)>;

/// Milliseconds since the epoch to a time (saturating at the epoch).
pub fn at_ms(ms: i64) -> DateTime<Utc> {
    Utc.timestamp_millis_opt(ms).single().unwrap_or_default()
}

impl Engine {
    pub(crate) fn push_timer(&mut self, at_ms: i64, key: Key) {
        self.timer_seq += 1;
        self.timers.push(Reverse((at_ms, self.timer_seq, key)));
    }

    /// Arms (or disarms) a job's schedule timer from its parsed schedule.
    pub(crate) fn arm(&mut self, name: &str) {
        let Some(e) = self.jobs.get_mut(name) else {
            return;
        };
        e.next_due = e
            .schedule
            .filter(|s| s.has_runs_left())
            .map(|s| s.first().timestamp_millis());
        if let Some(at) = e.next_due {
            self.push_timer(at, Key::Schedule(name.to_owned()));
        }
    }

    /// The earliest armed instant, for the caller's sleep (stale entries may make it early;
    /// a tick then does nothing).
    pub fn next_wake(&self) -> Option<DateTime<Utc>> {
        self.timers.peek().map(|Reverse((at, _, _))| at_ms(*at))
    }

    /// Fires every timer due at `now`; returns how many runs were queued.
    pub fn tick(&mut self, now: DateTime<Utc>) -> usize {
        let now_ms = now.timestamp_millis();
        let mut queued = 0;
        while let Some(Reverse((at, _, _))) = self.timers.peek() {
            if *at > now_ms {
                break;
            }
            let Some(Reverse((at, _, key))) = self.timers.pop() else {
                break;
            };
            match key {
                Key::Schedule(name) => queued += usize::from(self.fire_schedule(&name, at, now)),
                Key::Retry(task_id) => {
                    if let Some(r) = self.runs.get_mut(&task_id) {
                        if r.retry_at == Some(at) && r.state == RunState::Waiting {
                            r.retry_at = None;
                            r.state = RunState::Queued;
                            self.queue.push_back(task_id.clone());
                            self.dirty_runs.insert(task_id);
                            queued += 1;
                        }
                    }
                }
            }
        }
        queued
    }

    /// A schedule came due at `due`: queue a run unless the job is disabled or (not
    /// concurrent) still running, then move the schedule past `now`.
    fn fire_schedule(&mut self, name: &str, due: i64, now: DateTime<Utc>) -> bool {
        let Some(e) = self.jobs.get(name) else {
            return false;
        };
        if e.next_due != Some(due) {
            return false; // stale entry
        }
        let Some(sched) = e.schedule else {
            return false;
        };
        let run = if e.job.disabled {
            tracing::debug!(job = name, "disabled: scheduled run skipped");
            false
        } else if !e.job.concurrent && e.in_flight > 0 {
            tracing::info!(
                job = name,
                "previous run still going: scheduled run skipped"
            );
            false
        } else {
            true
        };
        if run {
            self.enqueue(name, due, 0, None, RunKind::Scheduled);
        }
        // Timers are kept in whole milliseconds: an occurrence later than `now` by less than a
        // millisecond would be armed at `now`'s millisecond and fire again in this same tick,
        // for ever. The next one must lie in a later millisecond.
        let end_of_this_ms = at_ms(now.timestamp_millis() + 1) - chrono::Duration::nanoseconds(1);
        let next = sched
            .next_after(now.max(end_of_this_ms))
            .and_then(|(k, _)| sched.advanced(k));
        let Some(e) = self.jobs.get_mut(name) else {
            return run;
        };
        match next {
            Some(mut n) => {
                if run {
                    n.repeat = sched.repeat.map(|r| r.saturating_sub(1));
                }
                e.job.schedule = Some(n.to_string());
                e.schedule = Some(n);
            }
            None => {
                tracing::warn!(job = name, "schedule has no next occurrence; stopped");
                e.schedule = None;
            }
        }
        self.dirty_jobs.insert(name.to_owned());
        self.arm(name);
        run
    }
}
