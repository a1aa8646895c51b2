//! `agentctl recover --dry-run`: what a restart of the agent would do with its checkpoints
//! (`<work_dir>/meta`) and containers (`--runtime_dir`), computed with the agent's own recovery
//! code ([`meseta_agent::daemon::recovery`]) and without touching anything: which executors it would
//! re-attach, which containers it would kill (orphans, or everything after a reboot), and which
//! status updates it would report (tasks whose executor ended while the agent was down, and
//! updates the master never acknowledged).

use std::fmt::Write;
use std::path::{Path, PathBuf};

use meseta_agent::daemon::checkpoint::{current_boot_id, Meta};
use meseta_agent::daemon::{recovery, State};
use meseta_containerizer_api::paths::{containers_dir, read_pid, ContainerPaths};
use meseta_containerizer_api::Termination;
use serde::Serialize;

/// Why the dry run could not be made.
#[derive(Debug, thiserror::Error)]
pub enum DryRunError {
    /// `--dry-run` is the only mode: a real recovery is the agent's job.
    #[error("only `agentctl recover --dry-run` is supported: restart mesos-agent to recover")]
    NotDryRun,
    /// The work dir does not exist.
    #[error("{0}: no such work dir (give the agent's --work_dir)")]
    NoWorkDir(PathBuf),
    /// Reading the checkpoints failed even with `--strict=false`.
    #[error("{0}")]
    Checkpoint(#[from] meseta_agent::daemon::checkpoint::CheckpointError),
}

/// An executor a restart would re-attach to.
#[derive(Debug, Clone, Serialize)]
pub struct Reattach {
    /// Framework id.
    pub framework_id: String,
    /// Executor id.
    pub executor_id: String,
    /// Container id.
    pub container_id: String,
    /// The live supervisor.
    pub supervisor_pid: i32,
    /// Its tasks with their last checkpointed state.
    pub tasks: Vec<(String, String)>,
}

/// A status update a restart would send.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// Framework id.
    pub framework_id: String,
    /// Task id.
    pub task_id: String,
    /// `TASK_FAILED` etc.
    pub state: String,
    /// Why.
    pub why: String,
}

/// A container a restart would destroy.
#[derive(Debug, Clone, Serialize)]
pub struct Kill {
    /// Container id.
    pub container_id: String,
    /// Why.
    pub why: String,
}

/// The whole plan.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Plan {
    /// The checkpointed agent id (none: a restart registers as a new agent).
    pub agent_id: Option<String>,
    /// The host rebooted since the checkpoint.
    pub rebooted: bool,
    /// With `--strict=true` (the default) the agent would refuse to start: why.
    pub strict_error: Option<String>,
    /// Executors re-attached.
    pub recover: Vec<Reattach>,
    /// Containers destroyed.
    pub kill: Vec<Kill>,
    /// Status updates sent.
    pub report: Vec<Report>,
}

/// Computes the plan for `work_dir` and `runtime_dir`.
pub fn plan(work_dir: &Path, runtime_dir: &Path) -> Result<Plan, DryRunError> {
    if !work_dir.is_dir() {
        return Err(DryRunError::NoWorkDir(work_dir.to_owned()));
    }
    let meta = Meta::new(work_dir);
    let boot_id = current_boot_id();
    let mut plan = Plan {
        strict_error: recovery::read(&meta, &boot_id, true)
            .err()
            .map(|e| e.to_string()),
        ..Plan::default()
    };
    let containers = runtime_containers(runtime_dir);
    let mut claimed = Vec::new();
    if let Some(r) = recovery::read(&meta, &boot_id, false)? {
        plan.agent_id = Some(r.agent_id.clone());
        plan.rebooted = r.rebooted;
        let mut state = State::default();
        recovery::apply(&mut state, work_dir, &r);
        for p in state.pending.iter() {
            plan.report.push(Report {
                framework_id: p.update.framework_id.value.clone(),
                task_id: p.update.status.task_id.value.clone(),
                state: p.update.status.state.to_string(),
                why: "not acknowledged by the master: resent".into(),
            });
        }
        for (fw, f) in &state.frameworks {
            for e in f.executors.values() {
                claimed.push(e.container_id.clone());
                let live: Vec<(String, String)> = e
                    .tasks
                    .values()
                    .filter(|t| !t.state.is_terminal())
                    .map(|t| (t.info.task_id.value.clone(), t.state.to_string()))
                    .collect();
                let fate = container_fate(runtime_dir, &e.container_id, &containers, r.rebooted);
                let (state, why) = match fate {
                    Fate::Alive(supervisor_pid) => {
                        plan.recover.push(Reattach {
                            framework_id: fw.clone(),
                            executor_id: e.info.executor_id.value.clone(),
                            container_id: e.container_id.clone(),
                            supervisor_pid,
                            tasks: live,
                        });
                        continue;
                    }
                    Fate::Rebooted => ("TASK_LOST", "REASON_AGENT_RESTARTED: the host rebooted"),
                    Fate::Gone => (
                        "TASK_LOST",
                        "REASON_EXECUTOR_TERMINATED: its container was not found",
                    ),
                    Fate::Ended(ref message) => {
                        plan.kill.push(Kill {
                            container_id: e.container_id.clone(),
                            why: format!("executor ended while the agent was down: {message}"),
                        });
                        (
                            "TASK_FAILED",
                            "REASON_EXECUTOR_TERMINATED: ended while the agent was down",
                        )
                    }
                };
                if matches!(fate, Fate::Rebooted) && containers.contains(&e.container_id) {
                    plan.kill.push(Kill {
                        container_id: e.container_id.clone(),
                        why: "the host rebooted: executors are not recovered".into(),
                    });
                }
                for (task, _) in live {
                    plan.report.push(Report {
                        framework_id: fw.clone(),
                        task_id: task,
                        state: state.into(),
                        why: why.into(),
                    });
                }
            }
        }
    }
    for id in containers.iter().filter(|c| !claimed.contains(c)) {
        plan.kill.push(Kill {
            container_id: id.clone(),
            why: "orphan: no checkpointed executor owns it".into(),
        });
    }
    Ok(plan)
}

/// What became of a checkpointed executor's container.
enum Fate {
    /// Its supervisor runs.
    Alive(i32),
    /// It ended; the termination record's message.
    Ended(String),
    /// Not in the runtime dir.
    Gone,
    /// The host rebooted.
    Rebooted,
}

fn container_fate(runtime_dir: &Path, id: &str, containers: &[String], rebooted: bool) -> Fate {
    if rebooted {
        return Fate::Rebooted;
    }
    if !containers.iter().any(|c| c == id) {
        return Fate::Gone;
    }
    let paths = ContainerPaths::new(runtime_dir, id);
    let supervisor = read_pid(&paths.supervisor_pid()).unwrap_or(0);
    match Termination::read(&paths.termination()) {
        Ok(Some(t)) => Fate::Ended(t.message),
        _ if supervisor > 0 && running(supervisor) => Fate::Alive(supervisor),
        _ => Fate::Ended("the supervisor is gone without a termination record".into()),
    }
}

/// Whether `pid` exists and is not a zombie.
fn running(pid: i32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|s| s.rsplit_once(") ").map(|(_, r)| !r.starts_with('Z')))
        .unwrap_or(false)
}

/// Container ids with launch state in the runtime dir (what `MesosContainerizer::recover` finds).
fn runtime_containers(runtime_dir: &Path) -> Vec<String> {
    let mut ids: Vec<String> = std::fs::read_dir(containers_dir(runtime_dir))
        .into_iter()
        .flatten()
        .flatten()
        .filter(|e| {
            ContainerPaths::new(runtime_dir, &e.file_name().to_string_lossy())
                .launch_info()
                .exists()
        })
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    ids.sort();
    ids
}

/// The plan as readable sections.
pub fn render(plan: &Plan) -> String {
    let mut out = String::new();
    let agent = plan
        .agent_id
        .as_deref()
        .unwrap_or("none (a restart registers as a new agent)");
    let _ = writeln!(out, "Agent id:   {agent}");
    if plan.rebooted {
        let _ = writeln!(
            out,
            "Reboot:     the host rebooted since the checkpoint: no executor is recovered"
        );
    }
    if let Some(err) = &plan.strict_error {
        let _ = writeln!(
            out,
            "Strict:     with --strict=true the agent refuses to start: {err}"
        );
        let _ = writeln!(
            out,
            "            (with --strict=false it skips that checkpoint; the plan below)"
        );
    }
    let _ = writeln!(out, "\nRecover ({}):", plan.recover.len());
    for r in &plan.recover {
        let tasks: Vec<String> = r.tasks.iter().map(|(t, s)| format!("{t} {s}")).collect();
        let _ = writeln!(
            out,
            "  {}  framework {} executor {}  supervisor {}  tasks: {}",
            r.container_id,
            r.framework_id,
            r.executor_id,
            r.supervisor_pid,
            if tasks.is_empty() {
                "-".into()
            } else {
                tasks.join(", ")
            }
        );
    }
    let _ = writeln!(out, "\nKill ({}):", plan.kill.len());
    for k in &plan.kill {
        let _ = writeln!(out, "  {}  {}", k.container_id, k.why);
    }
    let _ = writeln!(out, "\nReport ({}):", plan.report.len());
    for r in &plan.report {
        let _ = writeln!(
            out,
            "  {} {} (framework {})  {}",
            r.task_id, r.state, r.framework_id, r.why
        );
    }
    out
}
