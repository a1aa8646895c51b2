//! Tasks: validation and launch (RUN_TASK), KILL, RECONCILE, ACKNOWLEDGE,
//! SHUTDOWN (executor), MESSAGE, and the terminal-state bookkeeping shared
//! with agent status updates.

use std::collections::HashSet;

use meseta_api::internal::{self, FrameworkMessage};
use meseta_api::scheduler::{Acknowledge, Event, Kill, Message, Reconcile, Shutdown};
use meseta_api::{
    AgentId, FrameworkId, Reason, Source, Task, TaskId, TaskInfo, TaskState, TaskStatus,
};

use super::{now_secs, push_completed, CallError, ExecutorRec, Master, TaskRec};
use crate::allocator::Resources;
use crate::convert::from_wire;

impl Master {
    /// A master-generated status (no uuid: schedulers must not acknowledge it).
    pub(crate) fn master_status(
        task_id: &TaskId,
        state: TaskState,
        reason: Reason,
        message: impl Into<String>,
        agent_id: Option<&AgentId>,
    ) -> TaskStatus {
        TaskStatus {
            message: Some(message.into()),
            source: Some(Source::Master),
            reason: Some(reason),
            agent_id: agent_id.filter(|a| !a.value.is_empty()).cloned(),
            timestamp: Some(now_secs()),
            ..TaskStatus::new(task_id.clone(), state)
        }
    }

    /// Answers a task the master will not launch (e.g. refused by `run_tasks`) with
    /// `TASK_ERROR` and `reason`.
    pub fn refuse_task(&self, fw_id: &str, task: &TaskInfo, reason: Reason, message: String) {
        tracing::warn!(framework_id = %fw_id, task_id = %task.task_id.value, %message, "refusing task");
        let st = Self::master_status(
            &task.task_id,
            TaskState::Error,
            reason,
            message,
            Some(&task.agent_id),
        );
        self.send_update(fw_id, st);
    }

    /// Sends UPDATE to a connected framework.
    pub(crate) fn send_update(&self, fw_id: &str, status: TaskStatus) {
        if let Some(s) = self.frameworks.get(fw_id).and_then(|f| f.stream.as_ref()) {
            s.sink.send(&Event::update(status));
        }
    }

    /// Mesos' task validation; returns the resources to charge (task plus a
    /// new executor's), tagged with the offer's allocation role.
    pub(crate) fn validate_task(
        &self,
        fw_id: &str,
        agent_id: &str,
        task: &TaskInfo,
        available: &Resources,
        seen: &HashSet<String>,
    ) -> Result<Resources, String> {
        let tid = &task.task_id.value;
        meseta_api::validate_id(tid)
            .map_err(|e| format!("Task ID '{}' is invalid: {e}", tid.escape_default()))?;
        let fw = self
            .frameworks
            .get(fw_id)
            .ok_or("Framework is not subscribed")?;
        if seen.contains(tid) || fw.tasks.contains_key(tid) {
            return Err(format!("Task has duplicate ID: {tid}"));
        }
        if task.agent_id.value != agent_id {
            return Err(format!(
                "Task uses invalid agent: {} (the offers are for agent {agent_id})",
                task.agent_id
            ));
        }
        match (&task.executor, &task.command) {
            (Some(_), Some(_)) => {
                return Err(
                    "Task should have at most one of CommandInfo or ExecutorInfo present".into(),
                )
            }
            (None, None) => {
                return Err(
                    "Task should have at least one of CommandInfo or ExecutorInfo present".into(),
                )
            }
            _ => {}
        }
        if task.resources.is_empty() {
            return Err("Task uses no resources".into());
        }
        let mut need = from_wire(&task.resources).map_err(|e| format!("Invalid resources: {e}"))?;
        if let Some(ex) = &task.executor {
            let eid = &ex.executor_id.value;
            meseta_api::validate_id(eid)
                .map_err(|e| format!("Executor ID '{}' is invalid: {e}", eid.escape_default()))?;
            let key = (agent_id.to_string(), ex.executor_id.value.clone());
            if !fw.executors.contains_key(&key) {
                let ex_res = from_wire(&ex.resources)
                    .map_err(|e| format!("Invalid executor resources: {e}"))?;
                need.add(&ex_res);
            }
        }
        let role = task
            .resources
            .iter()
            .find_map(|r| r.allocation_info.as_ref().and_then(|a| a.role.clone()))
            .or_else(|| {
                available
                    .allocation_roles()
                    .into_iter()
                    .next()
                    .map(|r| r.to_string())
            })
            .unwrap_or_else(|| "*".into());
        need.allocate(&role);
        if !available.contains(&need) {
            return Err(format!(
                "Task uses more resources {} than available {}",
                need.unallocated(),
                available.unallocated()
            ));
        }
        Ok(need)
    }

    /// Records the task as STAGING and sends RUN_TASK to its agent.
    pub(crate) fn launch_task(
        &mut self,
        fw_id: &str,
        agent_id: &str,
        mut task: TaskInfo,
        charge: Resources,
    ) {
        let fid = FrameworkId::new(fw_id);
        if let Some(ex) = task.executor.as_mut() {
            ex.framework_id.get_or_insert_with(|| fid.clone());
        }
        let sink = self.agents.get(agent_id).and_then(|a| a.sink.clone());
        let Some(sink) = sink else {
            let st = Self::master_status(
                &task.task_id,
                TaskState::Lost,
                Reason::AgentDisconnected,
                "Agent is disconnected",
                Some(&task.agent_id),
            );
            self.recover_resources(agent_id, fw_id, &charge, None);
            self.send_update(fw_id, st);
            return;
        };
        let Some(fw) = self.frameworks.get_mut(fw_id) else {
            return;
        };
        let mut task_alloc = charge.clone();
        if let Some(ex) = &task.executor {
            let key = (agent_id.to_string(), ex.executor_id.value.clone());
            if let std::collections::hash_map::Entry::Vacant(slot) = fw.executors.entry(key) {
                let mut ex_alloc = from_wire(&ex.resources).unwrap_or_default();
                if let Some(role) = charge.allocation_roles().into_iter().next() {
                    ex_alloc.allocate(&role);
                }
                task_alloc.subtract(&ex_alloc);
                slot.insert(ExecutorRec {
                    info: ex.clone(),
                    alloc: ex_alloc,
                });
            }
        }
        let rec = TaskRec {
            task: Task {
                name: task.name.clone(),
                task_id: task.task_id.clone(),
                framework_id: fid,
                executor_id: task.executor.as_ref().map(|e| e.executor_id.clone()),
                agent_id: task.agent_id.clone(),
                state: TaskState::Staging,
                resources: task.resources.clone(),
                labels: task.labels.clone(),
                discovery: task.discovery.clone(),
                container: task.container.clone(),
                health_check: task.health_check.clone(),
                kill_policy: task.kill_policy,
                user: task
                    .command
                    .as_ref()
                    .and_then(|c| c.user.clone())
                    .or_else(|| Some(fw.info.user.clone()).filter(|u| !u.is_empty())),
                ..Task::default()
            },
            alloc: task_alloc,
            last_uuid: None,
        };
        let added = (!self.operator_streams.is_empty()).then(|| rec.task.clone());
        let task_id = task.task_id.value.clone();
        fw.tasks.insert(task.task_id.value.clone(), rec);
        let event = internal::Event {
            r#type: internal::EventType::RunTask,
            run_task: Some(internal::RunTask {
                framework: fw.info.clone(),
                task,
            }),
            ..internal::Event::default()
        };
        sink.send(&event);
        tracing::debug!(target: "meseta::timing", stage = "master.run_task", task_id = %task_id);
        if let Some(t) = added {
            self.operator_task_added(&t);
        }
    }

    /// Moves a task that reached a terminal state to the completed list and
    /// recovers its resources.
    pub(crate) fn complete_task(&mut self, fw_id: &str, task_id: &str) {
        let Some(fw) = self.frameworks.get_mut(fw_id) else {
            return;
        };
        let Some(rec) = fw.tasks.remove(task_id) else {
            return;
        };
        let (agent, alloc, state) = (
            rec.task.agent_id.value.clone(),
            rec.alloc.clone(),
            rec.task.state,
        );
        push_completed(&mut fw.completed_tasks, rec, super::MAX_COMPLETED_TASKS);
        self.counters.count_terminal(state);
        self.recover_resources(&agent, fw_id, &alloc, None);
        self.trigger_allocation();
    }

    /// KILL: forwarded to the agent; unknown tasks are reconciled (Mesos).
    pub fn kill(&mut self, fw_id: &str, kill: &Kill) {
        self.counters.message("messages_kill_task");
        let task = self
            .frameworks
            .get(fw_id)
            .and_then(|f| f.tasks.get(&kill.task_id.value));
        let Some(rec) = task else {
            let r = Reconcile {
                tasks: vec![meseta_api::scheduler::ReconcileTask {
                    task_id: kill.task_id.clone(),
                    agent_id: kill.agent_id.clone(),
                }],
            };
            self.reconcile(fw_id, &r);
            return;
        };
        let agent = rec.task.agent_id.value.clone();
        let kill_policy = kill.kill_policy.or(rec.task.kill_policy);
        let event = internal::Event {
            r#type: internal::EventType::KillTask,
            kill_task: Some(internal::KillTask {
                framework_id: FrameworkId::new(fw_id),
                task_id: kill.task_id.clone(),
                kill_policy,
            }),
            ..internal::Event::default()
        };
        if let Some(sink) = self.agents.get(&agent).and_then(|a| a.sink.as_ref()) {
            sink.send(&event);
        }
    }

    /// RECONCILE: latest state of known tasks; TASK_LOST (or TASK_GONE /
    /// TASK_UNKNOWN for PARTITION_AWARE frameworks) for unknown ones.
    pub fn reconcile(&mut self, fw_id: &str, r: &Reconcile) {
        self.counters.message("messages_reconcile_tasks");
        let Some(fw) = self.frameworks.get(fw_id) else {
            return;
        };
        let mut out = Vec::new();
        let reconciled = |t: &Task| {
            let mut st = Self::master_status(
                &t.task_id,
                t.state,
                Reason::Reconciliation,
                "Reconciliation: Latest task state",
                Some(&t.agent_id),
            );
            st.executor_id.clone_from(&t.executor_id);
            st
        };
        if r.tasks.is_empty() {
            out.extend(fw.tasks.values().map(|t| reconciled(&t.task)));
        }
        for rt in &r.tasks {
            if let Some(t) = fw.tasks.get(&rt.task_id.value) {
                out.push(reconciled(&t.task));
                continue;
            }
            // Tasks of unreachable agents answer TASK_UNREACHABLE (TASK_LOST
            // for frameworks that are not PARTITION_AWARE), as Mesos.
            if let Some(t) = fw.unreachable_tasks.get(&rt.task_id.value) {
                out.push(reconciled(&t.task));
                continue;
            }
            // Tasks of removed agents keep answering with the state the
            // removal gave them (Mesos keeps them as gone).
            let removed = fw.completed_tasks.iter().rev().find(|t| {
                t.task.task_id == rt.task_id
                    && matches!(
                        t.task.state,
                        TaskState::Unreachable | TaskState::GoneByOperator
                    )
            });
            if let Some(t) = removed {
                out.push(reconciled(&t.task));
                continue;
            }
            let agent_known = rt
                .agent_id
                .as_ref()
                .is_some_and(|a| self.agents.contains_key(&a.value));
            let state = match (fw.partition_aware(), agent_known) {
                (false, _) => TaskState::Lost,
                (true, true) => TaskState::Gone,
                (true, false) => TaskState::Unknown,
            };
            let msg = if agent_known {
                "Reconciliation: Task is unknown to the agent"
            } else {
                "Reconciliation: Task is unknown"
            };
            out.push(Self::master_status(
                &rt.task_id,
                state,
                Reason::Reconciliation,
                msg,
                rt.agent_id.as_ref(),
            ));
        }
        for st in out {
            self.send_update(fw_id, st);
        }
    }

    /// ACKNOWLEDGE: forwarded to the agent.
    pub fn acknowledge(&mut self, fw_id: &str, ack: &Acknowledge) -> Result<(), CallError> {
        self.counters
            .message("messages_status_update_acknowledgement");
        let Some(agent) = self.agents.get(&ack.agent_id.value) else {
            return Ok(());
        };
        let event = internal::Event {
            r#type: internal::EventType::Acknowledge,
            acknowledge: Some(internal::Acknowledge {
                framework_id: FrameworkId::new(fw_id),
                task_id: ack.task_id.clone(),
                uuid: ack.uuid.clone(),
            }),
            ..internal::Event::default()
        };
        if let Some(sink) = &agent.sink {
            sink.send(&event);
        }
        Ok(())
    }

    /// SHUTDOWN: asks the agent to stop an executor.
    pub fn shutdown_executor(&mut self, fw_id: &str, s: &Shutdown) {
        self.counters.message("messages_shutdown_executor");
        let event = internal::Event {
            r#type: internal::EventType::ShutdownExecutor,
            shutdown_executor: Some(internal::ShutdownExecutor {
                framework_id: FrameworkId::new(fw_id),
                executor_id: s.executor_id.clone(),
            }),
            ..internal::Event::default()
        };
        if let Some(sink) = self
            .agents
            .get(&s.agent_id.value)
            .and_then(|a| a.sink.as_ref())
        {
            sink.send(&event);
        }
    }

    /// MESSAGE: FRAMEWORK_TO_EXECUTOR to the agent.
    pub fn message(&mut self, fw_id: &str, m: &Message) {
        self.counters.message("messages_framework_to_executor");
        let event = internal::Event {
            r#type: internal::EventType::FrameworkToExecutor,
            framework_to_executor: Some(FrameworkMessage {
                framework_id: FrameworkId::new(fw_id),
                executor_id: m.executor_id.clone(),
                data: m.data.clone(),
            }),
            ..internal::Event::default()
        };
        if let Some(sink) = self
            .agents
            .get(&m.agent_id.value)
            .and_then(|a| a.sink.as_ref())
        {
            sink.send(&event);
        }
    }
}
