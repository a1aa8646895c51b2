//! After a leader failover: agents in the recovered registry that never re-registered
//! within `--agent_reregister_timeout` are removed from the registry, and told to shut down
//! if they come back (Mesos marks them unreachable, then gone; here removal is the one step).

use super::Master;

impl Master {
    /// Removes every registry agent that has not re-registered with this master.
    pub fn remove_unreregistered_agents(&mut self) {
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
        for id in &missing {
            tracing::warn!(agent_id = %id, "agent did not re-register within --agent_reregister_timeout; removing it");
            self.registry.data.agents.remove(id);
            self.registry.data.reservations.remove(id);
            self.removed_agents.insert(id.clone());
        }
        self.counters.agents_removed += missing.len() as u64;
        if let Err(err) = self.save_registry() {
            tracing::error!(%err, "cannot persist the removal of agents that did not re-register");
        }
    }
}
