//! Agent health, as Mesos's `SlaveObserver` and `Master::markUnreachable` /
//! `__reregisterSlave` (src/master/master.cpp): every `--agent_ping_timeout` each agent
//! gets a PING; a PING that no PONG answered before the next one is a timeout, and after
//! `--max_agent_ping_timeouts` in a row the agent is marked *unreachable*. That catches an
//! agent that hangs (SIGSTOP, a wedged host) while the kernel keeps its TCP connection open,
//! and an agent whose stream broke and never came back.
//!
//! Unreachable: the agent leaves the registered set for the registry's unreachable list, its
//! stream is closed, its offers rescinded, and its tasks move to the framework's
//! `unreachable_tasks` as `TASK_UNREACHABLE` (`TASK_LOST` for frameworks that are not
//! PARTITION_AWARE) with `REASON_AGENT_REMOVED`, "health check timed out". Nothing is killed.
//! When the agent re-subscribes with its id it is re-admitted (never shut down): the tasks it
//! reports are re-added and each framework gets an update in the reported state with
//! `REASON_AGENT_REREGISTERED` ("Unreachable agent re-reregistered").

use meseta_api::internal;
use meseta_api::{AgentId, Reason, TaskState, TimeInfo};

use super::{now_secs, push_completed, Master, MAX_COMPLETED_TASKS};
use crate::registry::UnreachableAgent;

/// Why the health check gives up on an agent (Mesos's message).
const HEALTH_CHECK_TIMED_OUT: &str = "health check timed out";

impl Master {
    /// PONG from agent `id`: it is alive.
    pub fn agent_pong(&mut self, id: &str) {
        if let Some(a) = self.agents.get_mut(id) {
            a.pinged = false;
            a.ping_timeouts = 0;
        }
    }

    /// One ping round (every `--agent_ping_timeout`): counts unanswered PINGs, marks agents
    /// past `--max_agent_ping_timeouts` unreachable, and PINGs the rest. An agent whose
    /// stream is gone cannot answer, so it times out the same way.
    pub(crate) fn ping_agents(&mut self) {
        let max = self.config.max_agent_ping_timeouts.max(1);
        let mut timed_out = Vec::new();
        let mut broken = Vec::new();
        for a in self.agents.values_mut() {
            if a.pinged {
                a.ping_timeouts = a.ping_timeouts.saturating_add(1);
                if a.ping_timeouts >= max {
                    timed_out.push(a.id.clone());
                    continue;
                }
            }
            a.pinged = true;
            let ping = internal::Event {
                r#type: internal::EventType::Ping,
                ping: Some(internal::Ping {
                    connected: a.sink.is_some(),
                }),
                ..internal::Event::default()
            };
            if a.sink.as_ref().is_some_and(|s| !s.send(&ping)) {
                broken.push(a.id.clone());
            }
        }
        for id in broken {
            self.disconnect_agent(&id);
        }
        for id in timed_out {
            self.mark_agent_unreachable(&id, HEALTH_CHECK_TIMED_OUT);
        }
    }

    /// Marks a registered agent unreachable (see the module doc).
    pub(crate) fn mark_agent_unreachable(&mut self, id: &str, message: &str) {
        self.rescind_agent_offers(id);
        let Some(agent) = self.agents.remove(id) else {
            return;
        };
        tracing::warn!(agent_id = %id, hostname = %agent.info.hostname, "marking agent unreachable: {message}");
        self.operator_agent_removed(id);
        let _ = self.allocator.remove_agent(id);
        let now = now_secs();
        #[allow(clippy::cast_possible_truncation)] // seconds since the epoch fit in i64 ns
        let unreachable_time = TimeInfo {
            nanoseconds: (now * 1e9) as i64,
        };
        let aid = AgentId::new(id);
        let mut updates = Vec::new();
        for fw in self.frameworks.values_mut() {
            let state = if fw.partition_aware() {
                TaskState::Unreachable
            } else {
                TaskState::Lost
            };
            let on_agent: Vec<String> = fw
                .tasks
                .iter()
                .filter(|(_, t)| t.task.agent_id.value == id)
                .map(|(k, _)| k.clone())
                .collect();
            for tid in on_agent {
                let Some(mut rec) = fw.tasks.remove(&tid) else {
                    continue;
                };
                let mut st = Self::master_status(
                    &rec.task.task_id,
                    state,
                    Reason::AgentRemoved,
                    message,
                    Some(&aid),
                );
                st.executor_id.clone_from(&rec.task.executor_id);
                st.unreachable_time = Some(unreachable_time);
                rec.task.state = state;
                rec.task.statuses.push(st.clone());
                fw.unreachable_tasks.insert(tid, rec);
                updates.push((fw.id.clone(), st));
            }
            fw.executors.retain(|(a, _), _| a != id);
        }
        for (fw_id, st) in updates {
            self.counters.count_terminal(st.state);
            self.send_update(&fw_id, st);
        }
        let lost = super::agents::failure(id, None, None);
        for fw in self.frameworks.values() {
            if let Some(s) = &fw.stream {
                s.sink.send(&lost);
            }
        }
        // Dropping the sink ends the agent's stream: when it runs again it sees the end,
        // re-subscribes with its id and is re-admitted.
        drop(agent.sink);
        if let Some(info) = self.registry.data.agents.remove(id) {
            self.registry.data.unreachable.insert(
                id.to_string(),
                UnreachableAgent {
                    info,
                    timestamp: now,
                },
            );
        }
        self.counters.agents_removed += 1;
        if let Err(err) = self.save_registry() {
            tracing::error!(%err, agent_id = %id, "cannot persist the unreachable agent");
        }
        self.trigger_allocation();
    }

    /// Whether `id` is in the unreachable list.
    pub fn is_unreachable(&self, id: &str) -> bool {
        self.registry.data.unreachable.contains_key(id)
    }

    /// Agents in the unreachable list.
    pub fn unreachable_count(&self) -> usize {
        self.registry.data.unreachable.len()
    }

    /// After an unreachable agent was re-added with the tasks it reported: back to the
    /// admitted list, the re-added tasks leave `unreachable_tasks` (and any completed entry
    /// the master gave them), and connected frameworks learn their state.
    pub(crate) fn readmit_unreachable(&mut self, id: &str) {
        let Some(entry) = self.registry.data.unreachable.remove(id) else {
            return;
        };
        let info = self.agents.get(id).map_or(entry.info, |a| a.info.clone());
        self.registry.data.agents.insert(id.to_string(), info);
        let aid = AgentId::new(id);
        let mut updates = Vec::new();
        for fw in self.frameworks.values_mut() {
            fw.unreachable_tasks
                .retain(|_, t| t.task.agent_id.value != id);
            for rec in fw.tasks.values().filter(|t| t.task.agent_id.value == id) {
                let tid = &rec.task.task_id;
                fw.completed_tasks.retain(|c| &c.task.task_id != tid);
                let mut st = Self::master_status(
                    tid,
                    rec.task.state,
                    Reason::AgentReregistered,
                    "Unreachable agent re-reregistered",
                    Some(&aid),
                );
                st.executor_id.clone_from(&rec.task.executor_id);
                updates.push((fw.id.clone(), st));
            }
        }
        tracing::info!(agent_id = %id, tasks = updates.len(), "unreachable agent re-admitted");
        for (fw_id, st) in updates {
            self.operator_task_updated(&fw_id, &st);
            self.send_update(&fw_id, st);
        }
        if let Err(err) = self.save_registry() {
            tracing::error!(%err, agent_id = %id, "cannot persist the re-admitted agent");
        }
    }

    /// MARK_AGENT_GONE of an unreachable agent: its unreachable tasks become
    /// TASK_GONE_BY_OPERATOR (TASK_LOST for frameworks that are not PARTITION_AWARE) and it
    /// may not come back. False if `id` is not unreachable.
    pub(crate) fn mark_unreachable_agent_gone(&mut self, id: &str) -> bool {
        if self.registry.data.unreachable.remove(id).is_none() {
            return false;
        }
        let aid = AgentId::new(id);
        let mut updates = Vec::new();
        for fw in self.frameworks.values_mut() {
            let (state, reason) = if fw.partition_aware() {
                (TaskState::GoneByOperator, Reason::AgentRemovedByOperator)
            } else {
                (TaskState::Lost, Reason::AgentRemoved)
            };
            let gone: Vec<String> = fw
                .unreachable_tasks
                .iter()
                .filter(|(_, t)| t.task.agent_id.value == id)
                .map(|(k, _)| k.clone())
                .collect();
            for tid in gone {
                let Some(mut rec) = fw.unreachable_tasks.remove(&tid) else {
                    continue;
                };
                let st = Self::master_status(
                    &rec.task.task_id,
                    state,
                    reason,
                    "Agent has been marked gone",
                    Some(&aid),
                );
                rec.task.state = state;
                rec.task.statuses.push(st.clone());
                push_completed(&mut fw.completed_tasks, rec, MAX_COMPLETED_TASKS);
                updates.push((fw.id.clone(), st));
            }
        }
        for (fw_id, st) in updates {
            self.send_update(&fw_id, st);
        }
        self.registry.data.reservations.remove(id);
        self.removed_agents.insert(id.to_string());
        if let Err(err) = self.save_registry() {
            tracing::error!(%err, agent_id = %id, "cannot persist the gone agent");
        }
        true
    }
}
