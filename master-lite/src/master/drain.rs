//! DRAIN_AGENT (Mesos `docs/maintenance.md`, "draining"): the agent is
//! deactivated, every task on it is killed (grace periods capped by
//! `max_grace_period`), and once none is left the agent is DRAINED — and
//! removed if `mark_gone` was asked. REACTIVATE_AGENT ends a drain.

use meseta_api::master::ProtoDuration;
use meseta_api::{
    internal, DrainConfig, DrainInfo, DrainState, DurationInfo, FrameworkId, KillPolicy,
};

use super::{CallError, Master};

fn nanos(d: ProtoDuration) -> i64 {
    d.seconds
        .unwrap_or(0)
        .saturating_mul(1_000_000_000)
        .saturating_add(i64::from(d.nanos.unwrap_or(0)))
}

impl Master {
    /// DRAIN_AGENT.
    pub fn drain_agent(
        &mut self,
        agent_id: &str,
        max_grace_period: Option<ProtoDuration>,
        mark_gone: bool,
    ) -> Result<(), CallError> {
        let grace = max_grace_period.map(nanos);
        if grace.is_some_and(|g| g < 0) {
            return Err(CallError::BadRequest(
                "DrainAgent.max_grace_period cannot be negative".into(),
            ));
        }
        self.deactivate_agent(agent_id)?;
        if let Some(a) = self.agents.get_mut(agent_id) {
            a.drain = Some(DrainInfo {
                state: DrainState::Draining,
                config: DrainConfig {
                    max_grace_period: grace.map(|n| DurationInfo { nanoseconds: n }),
                    mark_gone: Some(mark_gone),
                },
            });
        }
        let mut kills = Vec::new();
        for f in self.frameworks.values() {
            for t in f
                .tasks
                .values()
                .filter(|t| t.task.agent_id.value == agent_id)
            {
                let own = t
                    .task
                    .kill_policy
                    .and_then(|k| k.grace_period)
                    .map(|d| d.nanoseconds);
                let capped = match (own, grace) {
                    (Some(o), Some(g)) => Some(o.min(g)),
                    (o, g) => g.or(o),
                };
                kills.push(internal::Event {
                    r#type: internal::EventType::KillTask,
                    kill_task: Some(internal::KillTask {
                        framework_id: FrameworkId::new(f.id.as_str()),
                        task_id: t.task.task_id.clone(),
                        kill_policy: capped.map(|n| KillPolicy {
                            grace_period: Some(DurationInfo { nanoseconds: n }),
                        }),
                    }),
                    ..internal::Event::default()
                });
            }
        }
        if let Some(sink) = self.agents.get(agent_id).and_then(|a| a.sink.as_ref()) {
            for k in &kills {
                sink.send(k);
            }
        }
        self.check_drained(agent_id);
        Ok(())
    }

    /// A draining agent without tasks becomes DRAINED (and is removed if
    /// the drain asked for `mark_gone`).
    pub(crate) fn check_drained(&mut self, agent_id: &str) {
        let draining = self
            .agents
            .get(agent_id)
            .and_then(|a| a.drain)
            .is_some_and(|d| d.state == DrainState::Draining);
        if !draining {
            return;
        }
        let busy = self
            .frameworks
            .values()
            .any(|f| f.tasks.values().any(|t| t.task.agent_id.value == agent_id));
        if busy {
            return;
        }
        let mut gone = false;
        if let Some(d) = self.agents.get_mut(agent_id).and_then(|a| a.drain.as_mut()) {
            d.state = DrainState::Drained;
            gone = d.config.mark_gone == Some(true);
        }
        tracing::info!(agent_id, "agent drained");
        if gone {
            self.remove_agent_for(agent_id, true);
        }
    }
}
