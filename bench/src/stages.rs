//! Where ACCEPT → TASK_RUNNING goes: the master and the agent log each stage of a launch as a
//! `meseta::timing` debug event (`stage=... task_id=...` or `executor_id=...`, the same id for
//! the command executor); this module reads those lines back from the daemons' logs and
//! reports the median time between consecutive stages, with the scheduler's own ACCEPT and
//! TASK_RUNNING times around them.

use std::collections::HashMap;
use std::path::Path;
use std::time::{Duration, SystemTime};

use crate::report::ms;

/// The `RUST_LOG` that makes the daemons log the stages (inherited by master and agent).
pub const RUST_LOG: &str = "info,meseta::timing=debug";

/// The launch path in order; each row is the time from the row before.
const ORDER: [(&str, &str); 11] = [
    ("sched.accept", "scheduler sends ACCEPT"),
    ("master.accept", "master handles ACCEPT"),
    ("master.run_task", "master queues RUN_TASK to the agent"),
    ("agent.run_task", "agent reads RUN_TASK"),
    (
        "agent.launch",
        "agent: sandbox, admission, launch_info ready",
    ),
    ("agent.launched", "supervisor reports the executor exec'd"),
    (
        "agent.executor_subscribed",
        "executor SUBSCRIBEd (LAUNCH sent)",
    ),
    ("agent.update:TASK_STARTING", "agent receives TASK_STARTING"),
    (
        "agent.update:TASK_RUNNING",
        "agent receives TASK_RUNNING (task forked)",
    ),
    (
        "master.update:TASK_RUNNING",
        "agent POSTs TASK_RUNNING, master forwards it",
    ),
    ("sched.running", "scheduler reads TASK_RUNNING"),
];

/// Timestamps per task and stage.
#[derive(Debug, Default)]
pub struct Stages {
    at: HashMap<String, HashMap<String, SystemTime>>,
}

impl Stages {
    /// Records a stage seen by the benchmark itself.
    pub fn mark(&mut self, task: &str, stage: &str, at: SystemTime) {
        self.at
            .entry(task.to_owned())
            .or_default()
            .insert(stage.to_owned(), at);
    }

    /// Reads the stage lines of a daemon's log (the first time a stage appears counts).
    pub fn read_log(&mut self, path: &Path) {
        let text = std::fs::read_to_string(path).unwrap_or_default();
        for line in text.lines().filter(|l| l.contains("meseta::timing")) {
            let Some((stamp, rest)) = line.split_once(' ') else {
                continue;
            };
            let Ok(at) = chrono::DateTime::parse_from_rfc3339(stamp) else {
                continue;
            };
            let field = |key: &str| {
                rest.split_whitespace()
                    .find_map(|kv| kv.strip_prefix(key)?.strip_prefix('='))
                    .map(|v| v.trim_matches('"').to_owned())
            };
            let (Some(stage), Some(task)) = (
                field("stage"),
                field("task_id").or_else(|| field("executor_id")),
            ) else {
                continue;
            };
            let stage = match field("state") {
                Some(state) => format!("{stage}:{state}"),
                None => stage,
            };
            let at = SystemTime::from(at.with_timezone(&chrono::Utc));
            self.at.entry(task).or_default().entry(stage).or_insert(at);
        }
    }

    /// A markdown table: per stage, the median time since the previous stage over the
    /// `tasks` that have both, and its share of the median total.
    pub fn table(&self, tasks: &[String]) -> String {
        let stages = ORDER;
        let mut out = String::from("| stage | median ms since previous | share |\n|---|---|---|\n");
        let mut deltas: Vec<Vec<Duration>> = vec![Vec::new(); stages.len()];
        let mut totals = Vec::new();
        for task in tasks {
            let Some(times) = self.at.get(task) else {
                continue;
            };
            let mut prev: Option<SystemTime> = None;
            for (i, (key, _)) in stages.iter().enumerate() {
                let Some(t) = times.get(*key) else { continue };
                if let Some(p) = prev {
                    deltas[i].push(t.duration_since(p).unwrap_or_default());
                }
                prev = Some(*t);
            }
            if let (Some(a), Some(b)) = (times.get("sched.accept"), times.get("sched.running")) {
                totals.push(b.duration_since(*a).unwrap_or_default());
            }
        }
        let total = median(&mut totals);
        for (i, (_, label)) in stages.iter().enumerate().skip(1) {
            let d = median(&mut deltas[i]);
            let share = if total.is_zero() {
                0.0
            } else {
                d.as_secs_f64() / total.as_secs_f64() * 100.0
            };
            out.push_str(&format!("| {label} | {} | {share:.0}% |\n", ms(d)));
        }
        out.push_str(&format!(
            "| **ACCEPT → TASK_RUNNING (median of totals)** | {} | |\n",
            ms(total)
        ));
        out
    }
}

fn median(v: &mut [Duration]) -> Duration {
    v.sort();
    v.get(v.len().saturating_sub(1) / 2)
        .copied()
        .unwrap_or_default()
}
