//! What the agent knows: frameworks, their executors (one container each) and tasks, the
//! unacknowledged status updates, and counters for `/metrics/snapshot`.
//!
//! Executor phases: `Registering` (container launched, tasks queued) → `Running` (subscribed;
//! queued tasks sent as LAUNCH) → `Terminating` (SHUTDOWN sent or destroy asked) →
//! `Terminated` (container gone; moved to `completed_executors`). A framework without
//! executors moves to `completed_frameworks`. Completed lists are bounded so the agent's
//! memory stays flat over time.

use std::collections::{BTreeMap, VecDeque};
use std::path::PathBuf;

use bytes::Bytes;
use meseta_api::{
    AgentId, ExecutorInfo, FrameworkInfo, MasterInfo, Reason, TaskInfo, TaskState, TaskStatus,
};
use tokio::sync::mpsc::UnboundedSender;

use crate::containerizer::Launched;

pub use super::pending::{PendingUpdate, PendingUpdates};

/// How many completed frameworks / executors / tasks are kept for `/state`.
pub const MAX_COMPLETED: usize = 50;

/// Lifecycle of an executor (see the module doc).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// Launched, not yet subscribed.
    Registering,
    /// Subscribed.
    Running,
    /// Being shut down.
    Terminating,
    /// Its container ended.
    Terminated,
}

/// One task and its status history.
#[derive(Debug, Clone)]
pub struct TaskEntry {
    /// As the scheduler sent it. Boxed: a `TaskInfo` is ~2.6 KB inline, and a `BTreeMap`
    /// leaf holds eleven entries, so an executor's one-task map cost ~29 KB.
    pub info: Box<TaskInfo>,
    /// Latest state.
    pub state: TaskState,
    /// Every update, oldest first.
    pub statuses: Vec<TaskStatus>,
}

/// One executor and its container.
#[derive(Debug)]
pub struct Executor {
    /// What runs (for command tasks, the generated command executor).
    pub info: ExecutorInfo,
    /// The container id.
    pub container_id: String,
    /// The sandbox on the host.
    pub directory: PathBuf,
    /// Lifecycle phase.
    pub phase: Phase,
    /// Tasks waiting for the executor to subscribe.
    pub queued: Vec<TaskInfo>,
    /// Tasks given to the executor, by task id.
    pub tasks: BTreeMap<String, TaskEntry>,
    /// Terminal tasks whose last update was acknowledged.
    pub completed_tasks: VecDeque<TaskEntry>,
    /// The executor's event stream (RecordIO records), while subscribed.
    pub events: Option<UnboundedSender<Bytes>>,
    /// Pids, once the container started.
    pub launched: Option<Launched>,
    /// Limits given to the container.
    pub cpus: Option<f64>,
    /// Memory limit in MB.
    pub mem_mb: Option<f64>,
    /// Why the agent ended it, when it did (registration timeout, ...).
    pub end_reason: Option<(Reason, String)>,
    /// Runs the built-in command executor.
    pub command_executor: bool,
    /// Re-attached from the checkpoints after an agent restart.
    pub recovered: bool,
    /// KILL events for a recovered executor that has not re-subscribed yet: delivered when it
    /// does (if it never does, its container is destroyed after
    /// `--executor_reregistration_timeout` anyway).
    pub pending_kills: Vec<meseta_api::executor::Event>,
}

impl Executor {
    /// Whether its stream is open.
    pub fn subscribed(&self) -> bool {
        self.events.as_ref().is_some_and(|tx| !tx.is_closed())
    }

    /// Every task id it holds (queued or launched).
    pub fn task_ids(&self) -> Vec<String> {
        let mut ids: Vec<String> = self
            .queued
            .iter()
            .map(|t| t.task_id.value.clone())
            .collect();
        ids.extend(self.tasks.keys().cloned());
        ids
    }
}

/// One framework with work on this agent.
#[derive(Debug)]
pub struct Framework {
    /// Its info (with `id`).
    pub info: FrameworkInfo,
    /// Live executors by id.
    pub executors: BTreeMap<String, Executor>,
    /// Ended executors, newest last.
    pub completed_executors: VecDeque<Executor>,
    /// SHUTDOWN_FRAMEWORK arrived: no more updates for it.
    pub shutting_down: bool,
}

/// Counters for `/metrics/snapshot`.
#[derive(Debug, Default, Clone)]
pub struct Counters {
    /// Terminal task states seen, by state name.
    pub terminal: BTreeMap<&'static str, u64>,
    /// Executors that ended.
    pub executors_terminated: u64,
    /// Failed container destroys.
    pub container_destroy_errors: u64,
    /// Failed container launches.
    pub container_launch_errors: u64,
    /// Valid status updates received from executors.
    pub valid_status_updates: u64,
    /// Invalid executor calls.
    pub invalid_status_updates: u64,
    /// Executor MESSAGEs forwarded.
    pub valid_framework_messages: u64,
}

/// Everything mutable, behind the agent's one mutex (never held across an `await`).
#[derive(Debug, Default)]
pub struct State {
    /// Given by REGISTERED.
    pub agent_id: Option<AgentId>,
    /// The master we are registered with.
    pub master_info: Option<MasterInfo>,
    /// The event stream with the master is open.
    pub registered: bool,
    /// Frameworks by id.
    pub frameworks: BTreeMap<String, Framework>,
    /// Frameworks whose executors all ended, newest last.
    pub completed_frameworks: VecDeque<Framework>,
    /// Updates not yet acknowledged, oldest first.
    pub pending: PendingUpdates,
    /// Metrics.
    pub counters: Counters,
}

impl State {
    /// Whether framework `fw` asked for checkpointing.
    pub fn checkpointing(&self, fw: &str) -> bool {
        self.framework_any(fw)
            .is_some_and(|f| f.info.checkpoint == Some(true))
    }

    /// Framework `fw`, live or (newest) completed.
    pub fn framework_any(&self, fw: &str) -> Option<&Framework> {
        self.frameworks.get(fw).or_else(|| {
            self.completed_frameworks
                .iter()
                .rev()
                .find(|f| f.info.id.as_ref().is_some_and(|i| i.value == fw))
        })
    }

    /// Whether executor `(fw, ex)` ended and none of its updates awaits acknowledgement: its
    /// checkpointed run can be removed.
    pub fn run_settled(&self, fw: &str, ex: &str) -> bool {
        let live = self
            .frameworks
            .get(fw)
            .is_some_and(|f| f.executors.contains_key(ex));
        !live && !self.pending.has_executor(fw, ex)
    }

    /// The container of executor `(fw, ex)`, live or completed.
    pub fn container_of(&self, fw: &str, ex: &str) -> Option<String> {
        let f = self.framework_any(fw)?;
        if let Some(e) = f.executors.get(ex) {
            return Some(e.container_id.clone());
        }
        f.completed_executors
            .iter()
            .rev()
            .find(|e| e.info.executor_id.value == ex)
            .map(|e| e.container_id.clone())
    }

    /// The executor `(fw, ex)`, if live.
    pub fn executor_mut(&mut self, fw: &str, ex: &str) -> Option<&mut Executor> {
        self.frameworks.get_mut(fw)?.executors.get_mut(ex)
    }

    /// Finds the live executor holding `task` of framework `fw`.
    pub fn executor_of_task(&mut self, fw: &str, task: &str) -> Option<&mut Executor> {
        self.frameworks
            .get_mut(fw)?
            .executors
            .values_mut()
            .find(|e| {
                e.tasks.contains_key(task) || e.queued.iter().any(|t| t.task_id.value == task)
            })
    }

    /// Records `status` on its task; counts a first terminal state.
    pub fn record_status(&mut self, fw: &str, ex: &str, status: &TaskStatus) {
        let Some(executor) = self.executor_mut(fw, ex) else {
            return;
        };
        let task_id = status.task_id.value.clone();
        let entry = match executor.tasks.get_mut(&task_id) {
            Some(e) => e,
            None => {
                // A queued task's first update (killed or failed before launch).
                let Some(pos) = executor
                    .queued
                    .iter()
                    .position(|t| t.task_id.value == task_id)
                else {
                    return;
                };
                let info = executor.queued.remove(pos);
                executor.tasks.entry(task_id.clone()).or_insert(TaskEntry {
                    info: Box::new(info),
                    state: TaskState::Staging,
                    statuses: Vec::new(),
                })
            }
        };
        let was_terminal = entry.state.is_terminal();
        entry.state = status.state;
        let mut kept = status.clone();
        kept.data = None;
        entry.statuses.push(kept);
        if !was_terminal && status.state.is_terminal() {
            *self
                .counters
                .terminal
                .entry(status.state.as_str())
                .or_default() += 1;
        }
    }

    /// After an ACKNOWLEDGE of a terminal update: the task moves to `completed_tasks`.
    /// `ex` is its executor where the update names it (looked up directly, not searched for
    /// among all of the framework's executors).
    pub fn complete_task_if_terminal(&mut self, fw: &str, ex: Option<&str>, task: &str) {
        let executor = match ex {
            Some(ex) => self.executor_mut(fw, ex),
            None => self.executor_of_task(fw, task),
        };
        let Some(executor) = executor else {
            return;
        };
        if executor
            .tasks
            .get(task)
            .is_some_and(|t| t.state.is_terminal())
        {
            if let Some(t) = executor.tasks.remove(task) {
                push_bounded(&mut executor.completed_tasks, t);
            }
        }
    }

    /// Moves an ended executor to `completed_executors`, and its framework to
    /// `completed_frameworks` when it has no live executor left.
    pub fn retire_executor(&mut self, fw: &str, ex: &str) {
        let Some(framework) = self.frameworks.get_mut(fw) else {
            return;
        };
        if let Some(mut executor) = framework.executors.remove(ex) {
            executor.phase = Phase::Terminated;
            executor.events = None;
            let tasks = std::mem::take(&mut executor.tasks);
            for t in tasks.into_values() {
                push_bounded(&mut executor.completed_tasks, t);
            }
            push_bounded(&mut framework.completed_executors, executor);
            self.counters.executors_terminated += 1;
        }
        if framework.executors.is_empty() {
            if let Some(f) = self.frameworks.remove(fw) {
                push_bounded(&mut self.completed_frameworks, f);
            }
        }
    }

    /// Live executors in `phase`.
    pub fn count_executors(&self, phase: Phase) -> usize {
        self.frameworks
            .values()
            .flat_map(|f| f.executors.values())
            .filter(|e| e.phase == phase)
            .count()
    }

    /// Live tasks in `state` (queued tasks count as staging).
    pub fn count_tasks(&self, state: TaskState) -> usize {
        let executors = self.frameworks.values().flat_map(|f| f.executors.values());
        executors
            .map(|e| {
                let queued = if state == TaskState::Staging {
                    e.queued.len()
                } else {
                    0
                };
                queued + e.tasks.values().filter(|t| t.state == state).count()
            })
            .sum()
    }
}

/// Appends, dropping the oldest beyond [`MAX_COMPLETED`].
pub fn push_bounded<T>(list: &mut VecDeque<T>, item: T) {
    list.push_back(item);
    while list.len() > MAX_COMPLETED {
        list.pop_front();
    }
}
