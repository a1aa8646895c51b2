//! The agent side of `meseta_api::internal`: SUBSCRIBE (registration and
//! re-registration, also after a master restart), STATUS_UPDATE,
//! EXECUTOR_TO_FRAMEWORK, EXITED_EXECUTOR, disconnection and removal.

use std::collections::HashMap;
use std::time::Instant;

use meseta_api::internal::{self, ExitedExecutor, FrameworkMessage, StatusUpdate};
use meseta_api::scheduler::{Event, Failure, Message};
use meseta_api::{AgentId, ExecutorId, Reason, TaskState};

use super::{now_secs, push_completed, Agent, CallError, ExecutorRec, Master, TaskRec};
use crate::allocator::Resources;
use crate::convert::{attributes_to_pairs, from_wire};

/// What an agent SUBSCRIBE led to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AgentSubscribed {
    /// Registered with this id; REGISTERED is queued on the sink (for a new
    /// agent once its registry entry is durable).
    Registered(String),
    /// The agent was removed earlier; SHUTDOWN is queued and the stream ends.
    Shutdown,
}

impl Master {
    /// SUBSCRIBE on the agent channel.
    pub fn agent_subscribe(
        &mut self,
        sub: internal::Subscribe,
        sink: super::Sink,
    ) -> Result<AgentSubscribed, CallError> {
        let mut info = sub.agent_info.clone();
        let requested = info.id.as_ref().map(|a| a.value.clone());
        if let Some(id) = requested
            .as_ref()
            .filter(|id| self.removed_agents.contains(*id))
        {
            sink.send(&internal::Event {
                r#type: internal::EventType::Shutdown,
                message: Some(format!("Agent {id} was removed by the master")),
                ..internal::Event::default()
            });
            return Ok(AgentSubscribed::Shutdown);
        }
        let total = from_wire(&info.resources).map_err(|e| CallError::BadRequest(e.to_string()))?;
        let attrs = attributes_to_pairs(&info.attributes);
        let id = match requested {
            Some(id) if self.agents.contains_key(&id) => {
                self.counters.message("messages_reregister_slave");
                info.id = Some(AgentId::new(id.clone()));
                let mut total = total;
                if let Some(a) = self.agents.get_mut(&id) {
                    if !a.operations.is_empty() {
                        total = super::operator::replay_operations(total, &a.operations);
                        info.resources = crate::convert::to_wire(&total);
                    }
                    a.info = info;
                    a.sink = Some(sink.clone());
                    a.disconnected_at = None;
                    a.pinged = false;
                    a.ping_timeouts = 0;
                    a.reregistered_time = Some(now_secs());
                    a.version.clone_from(&sub.version);
                }
                let _ = self.allocator.update_agent(&id, total);
                if !self.agents.get(&id).is_some_and(|a| a.deactivated) {
                    let _ = self.allocator.activate_agent(&id);
                }
                self.drop_unreported_tasks(&id, &sub);
                id
            }
            // Known from the registry (after a master restart) or marked unreachable.
            Some(id) if self.registry.data.agents.contains_key(&id) || self.is_unreachable(&id) => {
                self.counters.message("messages_reregister_slave");
                info.id = Some(AgentId::new(id.clone()));
                // Reservations made before the master restarted.
                let ops = self.stored_operations(&id);
                let total = if ops.is_empty() {
                    total
                } else {
                    let t = super::operator::replay_operations(total, &ops);
                    info.resources = crate::convert::to_wire(&t);
                    t
                };
                let (tasks, executors) = self.recover_agent_tasks(&id, &sub);
                let mut all = tasks.clone();
                for (f, r) in &executors {
                    all.entry(f.clone()).or_default().add(r);
                }
                // Agents may over-commit (the command executor's allowance is
                // not allocated): if everything does not fit, charge tasks
                // only, and as a last resort nothing.
                let mut result = Ok(());
                for used in [all, tasks, HashMap::new()] {
                    let refs: Vec<(&str, Resources)> =
                        used.iter().map(|(f, r)| (f.as_str(), r.clone())).collect();
                    result = self
                        .allocator
                        .add_agent(&id, total.clone(), attrs.clone(), &refs);
                    match &result {
                        Ok(()) => break,
                        Err(err) => {
                            tracing::warn!(agent_id = %id, %err, "re-registered agent's usage does not fit");
                        }
                    }
                }
                result.map_err(|e| CallError::BadRequest(e.to_string()))?;
                self.insert_agent(&id, info, &sub, sink.clone(), true);
                if let Some(a) = self.agents.get_mut(&id) {
                    a.operations = ops;
                }
                self.readmit_unreachable(&id);
                id
            }
            _ => {
                self.counters.message("messages_register_slave");
                let id = self.registry.new_agent_id();
                info.id = Some(AgentId::new(id.clone()));
                self.allocator
                    .add_agent(&id, total, attrs, &[])
                    .map_err(|e| CallError::BadRequest(e.to_string()))?;
                // No offers, no REGISTERED until the registry write is durable.
                let _ = self.allocator.deactivate_agent(&id);
                self.registry.data.agents.insert(id.clone(), info.clone());
                self.register_when_durable(id.clone(), info, sub, sink)?;
                return Ok(AgentSubscribed::Registered(id));
            }
        };
        tracing::info!(agent_id = %id, "agent re-registered");
        self.send_registered(&sink, &id);
        self.trigger_allocation();
        Ok(AgentSubscribed::Registered(id))
    }

    /// Queues REGISTERED for agent `id` on its stream.
    pub(crate) fn send_registered(&self, sink: &super::Sink, id: &str) {
        sink.send(&internal::Event {
            r#type: internal::EventType::Registered,
            registered: Some(internal::Registered {
                agent_id: AgentId::new(id),
                master_info: self.info.clone(),
                heartbeat_interval_seconds: self.config.agent_ping_timeout.as_secs_f64(),
                connection: Some(internal::Connection {
                    total_ping_timeout_seconds: self.config.agent_removal_timeout().as_secs_f64(),
                }),
            }),
            ..internal::Event::default()
        });
    }

    pub(crate) fn insert_agent(
        &mut self,
        id: &str,
        info: meseta_api::AgentInfo,
        sub: &internal::Subscribe,
        sink: super::Sink,
        re: bool,
    ) {
        self.agents.insert(
            id.to_string(),
            Agent {
                id: id.to_string(),
                info,
                version: sub.version.clone(),
                sink: Some(sink),
                registered_time: now_secs(),
                reregistered_time: re.then(now_secs),
                disconnected_at: None,
                deactivated: false,
                operations: Vec::new(),
                drain: None,
                pinged: false,
                ping_timeouts: 0,
            },
        );
    }

    /// After a master restart: adopts the tasks and executors a re-registering
    /// agent reports; returns the resources they use per framework.
    fn recover_agent_tasks(
        &mut self,
        agent_id: &str,
        sub: &internal::Subscribe,
    ) -> (HashMap<String, Resources>, HashMap<String, Resources>) {
        for info in &sub.frameworks {
            if let Some(fid) = &info.id {
                if !self.frameworks.contains_key(&fid.value) {
                    self.insert_recovered_framework(&fid.value, info.clone());
                }
            }
        }
        let mut used: HashMap<String, Resources> = HashMap::new();
        let mut exec_used: HashMap<String, Resources> = HashMap::new();
        let role_of = |m: &Master, fw: &str, res: &[meseta_api::Resource]| {
            res.iter()
                .find_map(|r| r.allocation_info.as_ref().and_then(|a| a.role.clone()))
                .or_else(|| m.frameworks.get(fw).and_then(|f| f.roles.first().cloned()))
                .unwrap_or_else(|| "*".into())
        };
        for t in sub.tasks.iter().filter(|t| !t.state.is_terminal()) {
            let fw = t.framework_id.value.clone();
            if !self.frameworks.contains_key(&fw) {
                continue;
            }
            let mut alloc = from_wire(&t.resources).unwrap_or_default();
            alloc.allocate(&role_of(self, &fw, &t.resources));
            used.entry(fw.clone()).or_default().add(&alloc);
            let mut task = t.clone();
            task.agent_id = AgentId::new(agent_id);
            if let Some(f) = self.frameworks.get_mut(&fw) {
                f.tasks.insert(
                    t.task_id.value.clone(),
                    TaskRec {
                        task,
                        alloc,
                        last_uuid: None,
                    },
                );
            }
        }
        for e in &sub.executors {
            let Some(fw) = e.framework_id.as_ref().map(|f| f.value.clone()) else {
                continue;
            };
            if !self.frameworks.contains_key(&fw) {
                continue;
            }
            let mut alloc = from_wire(&e.resources).unwrap_or_default();
            alloc.allocate(&role_of(self, &fw, &e.resources));
            exec_used.entry(fw.clone()).or_default().add(&alloc);
            if let Some(f) = self.frameworks.get_mut(&fw) {
                f.executors.insert(
                    (agent_id.to_string(), e.executor_id.value.clone()),
                    ExecutorRec {
                        info: e.clone(),
                        alloc,
                    },
                );
            }
        }
        (used, exec_used)
    }

    /// A known agent re-subscribed: tasks the master placed on it that it
    /// does not report (e.g. a RUN_TASK lost with the old stream) are gone:
    /// TASK_LOST (TASK_DROPPED for PARTITION_AWARE frameworks).
    fn drop_unreported_tasks(&mut self, agent_id: &str, sub: &internal::Subscribe) {
        let reported: std::collections::HashSet<(&str, &str)> = sub
            .tasks
            .iter()
            .map(|t| (t.framework_id.value.as_str(), t.task_id.value.as_str()))
            .collect();
        let mut missing = Vec::new();
        for fw in self.frameworks.values_mut() {
            let state = if fw.partition_aware() {
                TaskState::Dropped
            } else {
                TaskState::Lost
            };
            for rec in fw.tasks.values_mut() {
                if rec.task.agent_id.value == agent_id
                    && !reported.contains(&(fw.id.as_str(), rec.task.task_id.value.as_str()))
                {
                    rec.task.state = state;
                    missing.push((fw.id.clone(), rec.task.task_id.clone(), state));
                }
            }
        }
        let aid = AgentId::new(agent_id);
        for (fw_id, task_id, state) in missing {
            let st = Self::master_status(
                &task_id,
                state,
                Reason::Reconciliation,
                "Task is unknown to the agent",
                Some(&aid),
            );
            if let Some(rec) = self
                .frameworks
                .get_mut(&fw_id)
                .and_then(|f| f.tasks.get_mut(&task_id.value))
            {
                rec.task.statuses.push(st.clone());
            }
            self.send_update(&fw_id, st);
            self.complete_task(&fw_id, &task_id.value);
        }
    }

    /// Checks that a non-SUBSCRIBE agent call comes from a registered agent.
    pub fn check_agent(&self, agent_id: Option<&AgentId>) -> Result<String, CallError> {
        let id = agent_id
            .ok_or_else(|| CallError::BadRequest("Expecting 'agent_id' to be present".into()))?;
        if self.agents.contains_key(&id.value) {
            Ok(id.value.clone())
        } else {
            Err(CallError::Forbidden(format!(
                "Agent {id} is not registered"
            )))
        }
    }

    /// STATUS_UPDATE: bookkeeping, then UPDATE (with `uuid` and `agent_id`)
    /// to the framework. Re-sent updates (same uuid) are forwarded again but
    /// applied once.
    pub fn status_update(&mut self, agent_id: &str, su: StatusUpdate) {
        self.counters.message("messages_status_update");
        let fw_id = su.framework_id.value.clone();
        let mut status = su.status;
        status.agent_id = Some(AgentId::new(agent_id));
        if status.uuid.is_none() {
            status.uuid = Some(su.uuid);
        }
        if status.executor_id.is_none() {
            status.executor_id = su.executor_id;
        }
        if status.timestamp.is_none() {
            status.timestamp = Some(su.timestamp);
        }
        let Some(fw) = self.frameworks.get_mut(&fw_id) else {
            self.counters.invalid_status_updates += 1;
            return;
        };
        self.counters.valid_status_updates += 1;
        let task_id = status.task_id.value.clone();
        let mut terminal = false;
        if let Some(rec) = fw.tasks.get_mut(&task_id) {
            // A retried update (any earlier uuid) is forwarded again but applied once.
            let seen = rec.last_uuid == status.uuid
                || rec.task.statuses.iter().any(|s| s.uuid == status.uuid);
            if !seen {
                rec.last_uuid.clone_from(&status.uuid);
                // As Mesos: the task takes the agent's newest state, so an older update
                // retried after a newer one went out does not move it back.
                rec.task.state = su.latest_state.unwrap_or(status.state);
                rec.task.status_update_state = Some(status.state);
                rec.task.status_update_uuid.clone_from(&status.uuid);
                let mut kept = status.clone();
                kept.data = None;
                rec.task.statuses.push(kept);
                terminal = status.state.is_terminal();
            }
        }
        let known = fw.tasks.contains_key(&task_id);
        if let Some(s) = &fw.stream {
            s.sink.send(&Event::update(status.clone()));
            tracing::debug!(target: "meseta::timing", stage = "master.update", task_id,
                            state = %status.state);
        }
        if known {
            self.operator_task_updated(&fw_id, &status);
        }
        if terminal {
            self.complete_task(&fw_id, &task_id);
            self.check_drained(agent_id);
        }
    }

    /// EXECUTOR_TO_FRAMEWORK → MESSAGE.
    pub fn executor_to_framework(&mut self, agent_id: &str, m: FrameworkMessage) {
        self.counters.message("messages_executor_to_framework");
        let event = Event {
            r#type: meseta_api::scheduler::EventType::Message,
            message: Some(Message {
                agent_id: AgentId::new(agent_id),
                executor_id: m.executor_id,
                data: m.data,
            }),
            ..Event::default()
        };
        if let Some(s) = self
            .frameworks
            .get(&m.framework_id.value)
            .and_then(|f| f.stream.as_ref())
        {
            s.sink.send(&event);
        }
    }

    /// EXITED_EXECUTOR: recovers the executor's resources, FAILURE event.
    pub fn exited_executor(&mut self, agent_id: &str, e: ExitedExecutor) {
        self.counters.message("messages_exited_executor");
        let fw_id = e.framework_id.value.clone();
        let key = (agent_id.to_string(), e.executor_id.value.clone());
        let rec = self
            .frameworks
            .get_mut(&fw_id)
            .and_then(|f| f.executors.remove(&key));
        if let Some(rec) = rec {
            self.recover_resources(agent_id, &fw_id, &rec.alloc, None);
            self.trigger_allocation();
        }
        let event = failure(agent_id, Some(e.executor_id), Some(e.status));
        if let Some(s) = self.frameworks.get(&fw_id).and_then(|f| f.stream.as_ref()) {
            s.sink.send(&event);
        }
    }

    /// The agent's stream broke: stop offering its resources.
    pub(crate) fn disconnect_agent(&mut self, id: &str) {
        let Some(a) = self.agents.get_mut(id) else {
            return;
        };
        if a.sink.take().is_none() {
            return;
        }
        a.disconnected_at = Some(Instant::now());
        tracing::warn!(agent_id = %id, "agent disconnected");
        let _ = self.allocator.deactivate_agent(id);
        self.rescind_agent_offers(id);
    }

    /// Removes an agent; `by_operator` (MARK_AGENT_GONE) makes its tasks
    /// TASK_GONE_BY_OPERATOR (TASK_LOST for frameworks that are not
    /// PARTITION_AWARE) with REASON_AGENT_REMOVED_BY_OPERATOR.
    pub(crate) fn remove_agent_for(&mut self, id: &str, by_operator: bool) {
        self.rescind_agent_offers(id);
        let Some(agent) = self.agents.remove(id) else {
            return;
        };
        tracing::warn!(agent_id = %id, "removing agent");
        self.operator_agent_removed(id);
        let _ = self.allocator.remove_agent(id);
        let aid = AgentId::new(id);
        let mut updates = Vec::new();
        for fw in self.frameworks.values_mut() {
            // Mesos `__removeSlave`: frameworks that are not PARTITION_AWARE
            // get TASK_LOST either way.
            let state = match (fw.partition_aware(), by_operator) {
                (false, _) => TaskState::Lost,
                (true, true) => TaskState::GoneByOperator,
                (true, false) => TaskState::Unreachable,
            };
            let gone: Vec<String> = fw
                .tasks
                .iter()
                .filter(|(_, t)| t.task.agent_id.value == id)
                .map(|(k, _)| k.clone())
                .collect();
            for tid in gone {
                let Some(mut rec) = fw.tasks.remove(&tid) else {
                    continue;
                };
                let st = Self::master_status(
                    &rec.task.task_id,
                    state,
                    if by_operator {
                        Reason::AgentRemovedByOperator
                    } else {
                        Reason::AgentRemoved
                    },
                    if by_operator {
                        format!("Agent {id} marked gone by the operator")
                    } else {
                        format!("Agent {id} removed: health check timed out")
                    },
                    Some(&aid),
                );
                rec.task.state = state;
                rec.task.statuses.push(st.clone());
                push_completed(&mut fw.completed_tasks, rec, super::MAX_COMPLETED_TASKS);
                updates.push((fw.id.clone(), st));
            }
            fw.executors.retain(|(a, _), _| a != id);
        }
        for (fw_id, st) in updates {
            self.counters.count_terminal(st.state);
            self.send_update(&fw_id, st);
        }
        let fail = failure(id, None, None);
        for fw in self.frameworks.values() {
            if let Some(s) = &fw.stream {
                s.sink.send(&fail);
            }
        }
        if let Some(sink) = agent.sink {
            sink.send(&internal::Event {
                r#type: internal::EventType::Shutdown,
                message: Some("Agent removed".into()),
                ..internal::Event::default()
            });
        }
        self.registry.data.agents.remove(id);
        self.registry.data.reservations.remove(id);
        self.removed_agents.insert(id.to_string());
        self.counters.agents_removed += 1;
        if let Err(err) = self.save_registry() {
            tracing::error!(%err, "cannot persist agent removal");
        }
    }
}

pub(super) fn failure(
    agent_id: &str,
    executor_id: Option<ExecutorId>,
    status: Option<i32>,
) -> Event {
    Event {
        r#type: meseta_api::scheduler::EventType::Failure,
        failure: Some(Failure {
            agent_id: Some(AgentId::new(agent_id)),
            executor_id,
            status,
        }),
        ..Event::default()
    }
}
