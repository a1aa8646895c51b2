//! After a leader failover (Mesos `Master::recoveredSlavesTimeout`): agents in the recovered
//! registry that have not re-registered within `--agent_reregister_timeout` move to the
//! registry's unreachable list, as Mesos marks them. They are re-admitted, with their tasks,
//! if they come back with their id; their reservations stay in the registry for that.

use super::{now_secs, Master};
use crate::registry::UnreachableAgent;

impl Master {
    /// Marks every registry agent that has not re-registered with this master unreachable.
    pub fn mark_unreregistered_agents_unreachable(&mut self) {
        let missing: Vec<String> = self
            .registry
            .data
            .agents
            .keys()
            .filter(|id| !self.agents.contains_key(*id))
            .cloned()
            .collect();
        if missing.is_empty() {
            return;
        }
        let now = now_secs();
        for id in &missing {
            tracing::warn!(agent_id = %id, "agent did not re-register within --agent_reregister_timeout; marking it unreachable");
            if let Some(info) = self.registry.data.agents.remove(id) {
                let entry = UnreachableAgent {
                    info,
                    timestamp: now,
                };
                self.registry.data.unreachable.insert(id.clone(), entry);
            }
        }
        if let Err(err) = self.save_registry() {
            tracing::error!(%err, "cannot persist agents that did not re-register");
        }
    }
}
