//! Agent recovery after a restart (`--recover=reconnect`, reference §3.4): [`read`] loads the
//! checkpoints of `<work_dir>/meta/` (`--strict`: a corrupt file is fatal, else skipped),
//! [`apply`] rebuilds the state (same agent id, frameworks, executors, tasks, unacknowledged
//! updates to resend); `super::reattach` then re-attaches the surviving containers. After a
//! reboot (changed `boot_id`) no executor is recovered: their tasks are reported lost.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::{Duration, Instant};

use meseta_api::{AgentId, AgentInfo, ExecutorInfo, FrameworkInfo, TaskInfo, TaskState};
use tracing::{info, warn};

use super::checkpoint::{read_json, read_records, CheckpointError, Meta, UpdateRecord};
use super::env::sandbox_dir;
use super::state::{push_bounded, Executor, Framework, Phase, State, TaskEntry};

/// A checkpointed task and its update stream.
#[derive(Debug)]
pub struct RecoveredTask {
    /// `task.info`.
    pub info: TaskInfo,
    /// `task.updates`.
    pub records: Vec<UpdateRecord>,
}

/// The latest run of a checkpointed executor.
#[derive(Debug)]
pub struct RecoveredRun {
    /// `executor.info`.
    pub executor: ExecutorInfo,
    /// The container of the run.
    pub container_id: String,
    /// `executor.sentinel` exists: the run ended before the restart.
    pub ended: bool,
    /// Its tasks.
    pub tasks: Vec<RecoveredTask>,
}

/// A checkpointed framework.
#[derive(Debug)]
pub struct RecoveredFramework {
    /// `framework.info`.
    pub info: FrameworkInfo,
    /// Its executors' latest runs.
    pub runs: Vec<RecoveredRun>,
}

/// Everything read from `meta/`.
#[derive(Debug)]
pub struct Recovered {
    /// `slaves/latest`.
    pub agent_id: String,
    /// The host rebooted since the checkpoint (`boot_id` changed).
    pub rebooted: bool,
    /// `slave.info` (none when unreadable and skipped with `--strict=false`).
    pub agent_info: Option<AgentInfo>,
    /// Checkpointed frameworks.
    pub frameworks: Vec<RecoveredFramework>,
}

/// Ok → `Some`; an error is returned when strict, else logged and skipped (`None`).
fn keep<T>(strict: bool, r: Result<T, CheckpointError>) -> Result<Option<T>, CheckpointError> {
    match r {
        Ok(v) => Ok(Some(v)),
        Err(e) if strict => Err(e),
        Err(e) => {
            warn!(err = %e, "skipping an unreadable checkpoint (--strict=false)");
            Ok(None)
        }
    }
}

/// Sub-directory names of `dir` (none when it does not exist).
fn children(dir: &Path) -> Result<Vec<String>, CheckpointError> {
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(source) => {
            return Err(CheckpointError::Io {
                path: dir.to_owned(),
                source,
            })
        }
    };
    let mut names: Vec<String> = entries
        .flatten()
        .filter(|e| e.path().is_dir() && !e.path().is_symlink())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| !n.starts_with('.'))
        .collect();
    names.sort();
    Ok(names)
}

fn link_target(link: &Path) -> Result<Option<String>, CheckpointError> {
    match std::fs::read_link(link) {
        Ok(t) => Ok(Some(t.to_string_lossy().into_owned())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(source) => Err(CheckpointError::Io {
            path: link.to_owned(),
            source,
        }),
    }
}

/// Reads the checkpoints; `Ok(None)` when there is nothing to recover.
pub fn read(
    meta: &Meta,
    boot_id: &str,
    strict: bool,
) -> Result<Option<Recovered>, CheckpointError> {
    let Some(agent_id) = link_target(&meta.slaves().join("latest"))? else {
        return Ok(None);
    };
    let previous_boot = match std::fs::read_to_string(meta.boot_id()) {
        Ok(s) => s.trim().to_owned(),
        Err(_) => String::new(),
    };
    let rebooted = !previous_boot.is_empty() && previous_boot != boot_id;
    let agent_dir = meta.agent(&agent_id);
    let agent_info = keep(
        strict,
        read_json::<AgentInfo>(&agent_dir.join("slave.info")),
    )?;
    let mut frameworks = Vec::new();
    for fw in children(&agent_dir.join("frameworks"))? {
        let fw_dir = meta.framework(&agent_id, &fw);
        let Some(info) = keep(
            strict,
            read_json::<FrameworkInfo>(&fw_dir.join("framework.info")),
        )?
        else {
            continue;
        };
        let mut runs = Vec::new();
        for ex in children(&fw_dir.join("executors"))? {
            let ex_dir = meta.executor(&agent_id, &fw, &ex);
            let Some(executor) = keep(
                strict,
                read_json::<ExecutorInfo>(&ex_dir.join("executor.info")),
            )?
            else {
                continue;
            };
            let Some(container_id) = link_target(&ex_dir.join("runs").join("latest"))? else {
                continue;
            };
            let run_dir = meta.run(&agent_id, &fw, &ex, &container_id);
            if !run_dir.is_dir() {
                // Settled and removed (see `lifecycle::gc_run`).
                continue;
            }
            let ended = run_dir.join("executor.sentinel").exists();
            let mut tasks = Vec::new();
            for task in children(&run_dir.join("tasks"))? {
                let dir = run_dir.join("tasks").join(&task);
                let Some(info) = keep(strict, read_json::<TaskInfo>(&dir.join("task.info")))?
                else {
                    continue;
                };
                let Some(records) = keep(strict, read_records(&dir.join("task.updates")))? else {
                    continue;
                };
                tasks.push(RecoveredTask { info, records });
            }
            runs.push(RecoveredRun {
                executor,
                container_id,
                ended,
                tasks,
            });
        }
        frameworks.push(RecoveredFramework { info, runs });
    }
    Ok(Some(Recovered {
        agent_id,
        rebooted,
        agent_info,
        frameworks,
    }))
}

/// Rebuilds `state` from the checkpoints.
pub fn apply(state: &mut State, work_dir: &Path, recovered: &Recovered) {
    state.agent_id = Some(AgentId::new(recovered.agent_id.clone()));
    let long_ago = Instant::now()
        .checked_sub(Duration::from_secs(3600))
        .unwrap_or_else(Instant::now);
    for rf in &recovered.frameworks {
        let fw_id = rf.info.id.clone().unwrap_or_default();
        let mut executors = BTreeMap::new();
        for run in &rf.runs {
            let mut tasks = BTreeMap::new();
            let mut completed = std::collections::VecDeque::new();
            for t in &run.tasks {
                let mut entry = TaskEntry {
                    info: Box::new(t.info.clone()),
                    state: TaskState::Staging,
                    statuses: Vec::new(),
                };
                let mut pending: Vec<meseta_api::internal::StatusUpdate> = Vec::new();
                for record in &t.records {
                    match record {
                        UpdateRecord::Update(u) => {
                            entry.state = u.status.state;
                            let mut kept = u.status.clone();
                            kept.data = None;
                            entry.statuses.push(kept);
                            pending.push((**u).clone());
                        }
                        UpdateRecord::Ack(uuid) => pending.retain(|p| &p.uuid != uuid),
                    }
                }
                let acked_terminal = entry.state.is_terminal() && pending.is_empty();
                for update in pending {
                    state.pending.push(update, long_ago);
                }
                if acked_terminal {
                    push_bounded(&mut completed, entry);
                } else {
                    tasks.insert(t.info.task_id.value.clone(), entry);
                }
            }
            if run.ended {
                continue;
            }
            let ex_id = run.executor.executor_id.value.clone();
            let command_executor = run
                .executor
                .command
                .as_ref()
                .and_then(|c| c.value.as_deref())
                .is_some_and(|v| v.ends_with("/mesos-executor"));
            executors.insert(
                ex_id.clone(),
                Executor {
                    info: run.executor.clone(),
                    container_id: run.container_id.clone(),
                    directory: sandbox_dir(
                        work_dir,
                        &recovered.agent_id,
                        &fw_id.value,
                        &ex_id,
                        &run.container_id,
                    ),
                    phase: Phase::Registering,
                    queued: Vec::new(),
                    tasks,
                    completed_tasks: completed,
                    events: None,
                    launched: None,
                    cpus: None,
                    mem_mb: None,
                    end_reason: None,
                    command_executor,
                    recovered: true,
                    pending_kills: Vec::new(),
                },
            );
        }
        if executors.is_empty() {
            continue;
        }
        state.frameworks.insert(
            fw_id.value.clone(),
            Framework {
                info: rf.info.clone(),
                executors,
                completed_executors: Default::default(),
                shutting_down: false,
            },
        );
    }
    info!(
        agent_id = recovered.agent_id,
        frameworks = state.frameworks.len(),
        pending_updates = state.pending.len(),
        rebooted = recovered.rebooted,
        "recovered the agent's checkpoints"
    );
}

#[cfg(test)]
mod tests {
    use meseta_api::internal::StatusUpdate;
    use meseta_api::{Bytes, ExecutorId, FrameworkId, TaskId, TaskStatus};

    use super::super::checkpoint::Checkpointer;
    use super::*;

    fn ok<T, E: std::fmt::Display>(r: Result<T, E>) -> T {
        r.unwrap_or_else(|e| panic!("{e}"))
    }

    /// A checkpointed agent `a1`, framework `fw` with executor `ex` running tasks `t1`, `t2`;
    /// `t1` has an acknowledged RUNNING and an unacknowledged FINISHED.
    fn tree(work: &Path) -> Checkpointer {
        let ck = Checkpointer::new(Meta::new(work));
        ck.boot_id("boot-1");
        ck.agent(&AgentInfo::default(), "a1");
        let fw = FrameworkInfo {
            id: Some(FrameworkId::new("fw")),
            checkpoint: Some(true),
            ..FrameworkInfo::default()
        };
        let ex = ExecutorInfo {
            executor_id: ExecutorId::new("ex"),
            ..ExecutorInfo::default()
        };
        ck.executor("a1", &fw, &ex, "c1");
        for t in ["t1", "t2"] {
            let task = TaskInfo {
                task_id: TaskId::new(t),
                ..TaskInfo::default()
            };
            ck.task("a1", "fw", "ex", "c1", &task);
        }
        for (state, acked) in [(TaskState::Running, true), (TaskState::Finished, false)] {
            let uuid = Bytes::random_uuid();
            let update = StatusUpdate {
                framework_id: FrameworkId::new("fw"),
                executor_id: Some(ExecutorId::new("ex")),
                status: TaskStatus::new(TaskId::new("t1"), state),
                timestamp: 1.0,
                uuid: uuid.clone(),
                latest_state: None,
            };
            ck.record(
                "a1",
                "c1",
                &update,
                &UpdateRecord::Update(Box::new(update.clone())),
            );
            if acked {
                ck.record("a1", "c1", &update, &UpdateRecord::Ack(uuid));
            }
        }
        ck.flush();
        ck
    }

    #[test]
    fn checkpoints_rebuild_the_state_with_unacknowledged_updates() {
        let d = ok(tempfile::tempdir());
        let ck = tree(d.path());
        let r = ok(read(&ck.meta, "boot-1", true)).unwrap_or_else(|| panic!("nothing recovered"));
        assert_eq!(r.agent_id, "a1");
        assert!(!r.rebooted);
        let mut state = State::default();
        apply(&mut state, d.path(), &r);
        assert_eq!(state.pending.len(), 1);
        let first = state.pending.iter().next().unwrap();
        assert_eq!(first.update.status.state, TaskState::Finished);
        let e = state
            .executor_mut("fw", "ex")
            .unwrap_or_else(|| panic!("no executor"));
        assert_eq!(e.container_id, "c1");
        assert_eq!(e.tasks.len(), 2);
        let r = ok(read(&ck.meta, "boot-2", true)).unwrap_or_else(|| panic!("nothing recovered"));
        assert!(r.rebooted);
    }

    #[test]
    fn a_corrupt_file_is_fatal_when_strict_and_skipped_otherwise() {
        let d = ok(tempfile::tempdir());
        let ck = tree(d.path());
        let broken = ck.meta.task("a1", "fw", "ex", "c1", "t2").join("task.info");
        ok(std::fs::write(&broken, b"{\"task_id\": {\"val"));
        let err = read(&ck.meta, "boot-1", true).err().map(|e| e.to_string());
        let err = err.unwrap_or_default();
        assert!(err.contains(&broken.display().to_string()), "{err}");
        let r = ok(read(&ck.meta, "boot-1", false)).unwrap_or_else(|| panic!("nothing recovered"));
        let tasks: Vec<&str> = r.frameworks[0].runs[0]
            .tasks
            .iter()
            .map(|t| t.info.task_id.value.as_str())
            .collect();
        assert_eq!(tasks, ["t1"]);
    }
}
