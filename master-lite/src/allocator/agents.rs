//! Agent lifecycle: add (with resources already in use), remove, update
//! total, activate/deactivate (Mesos `addSlave`, `removeSlave`, `updateSlave`).

use std::sync::Arc;

use super::errors::{AllocatorError, ReservationError};
use super::fasthash::IntMap;
use super::hierarchical::Allocator;
use super::resources::Resources;
use super::roles;
use super::state::Agent;

impl Allocator {
    // ----- agents -----------------------------------------------------

    /// Adds an agent with `total` resources; `used` lists resources already
    /// allocated to frameworks (tagged with their allocation role). Unknown
    /// frameworks in `used` are tracked as inactive placeholders until they
    /// are added.
    pub fn add_agent(
        &mut self,
        id: &str,
        total: Resources,
        attributes: Vec<(String, String)>,
        used: &[(&str, Resources)],
    ) -> Result<(), AllocatorError> {
        if self.st.agent_index.contains_key(id) {
            return Err(AllocatorError::AgentExists(id.to_string()));
        }
        validate_total(&total)?;
        let mut used_sum = Resources::new();
        for (_, r) in used {
            if r.allocation_roles().len() != 1 || r.iter().any(|x| x.allocation_role.is_none()) {
                return Err(AllocatorError::AllocationRole(r.allocation_roles().len()));
            }
            for role in r.allocation_roles() {
                roles::validate(&role)?;
            }
            used_sum.add(&r.unallocated());
        }
        if !total.contains(&used_sum) {
            return Err(AllocatorError::ExceedsTotal {
                agent: id.to_string(),
                resources: used_sum.to_string(),
            });
        }
        let aid: Arc<str> = Arc::from(id);
        // `available` starts at `total`; `allocate_to` below takes `used` out.
        let a = self.st.agents.insert(Agent {
            id: Arc::clone(&aid),
            total: total.clone(),
            covers_ref: total.minus(&used_sum),
            available: total.clone(),
            allocated: IntMap::default(),
            attributes,
            active: true,
            covered: Default::default(),
            dirty: false,
        });
        self.st.agent_index.insert(aid, a);
        self.st.total.add(&total.scalar_quantities());
        self.st.shares_stale = true;
        self.st.track_reservations(&total, true);
        for (fw_id, r) in used {
            let fw = match self.st.framework_index.get(*fw_id) {
                Some(&f) => f,
                None => self.new_framework(fw_id, true),
            };
            for role in r.allocation_roles() {
                let p = self.ensure_pair(fw, &role);
                let part = r.allocated_to(&role).unallocated();
                self.allocate_to(a, p, &part);
            }
        }
        self.st.mark_dirty(a);
        self.st.quota_changed();
        Ok(())
    }

    /// Records `res` (untagged) as allocated to pair `p` on agent `a`.
    pub(crate) fn allocate_to(&mut self, a: u32, p: u32, res: &Resources) {
        if let Some(ag) = self.st.agents.get_mut(a) {
            ag.available.subtract(res);
        }
        self.record_allocation(a, p, res);
    }

    /// Books `res` (already taken out of `available`) to pair `p` on `a`.
    pub(crate) fn record_allocation(&mut self, a: u32, p: u32, res: &Resources) {
        if let Some(ag) = self.st.agents.get_mut(a) {
            match ag.allocated.get_mut(&p) {
                Some(held) => held.add(res),
                None => {
                    ag.allocated.insert(p, res.clone());
                }
            }
        }
        if let Some(pair) = self.st.pairs.get_mut(p) {
            pair.agents.insert(a);
        }
        self.st.track(p, res, true);
    }

    /// Removes an agent; its allocations and filters are dropped.
    pub fn remove_agent(&mut self, id: &str) -> Result<(), AllocatorError> {
        let a = self.agent(id)?;
        let allocated: Vec<(u32, Resources)> = self
            .st
            .agents
            .get_mut(a)
            .map(|ag| ag.allocated.drain().collect())
            .unwrap_or_default();
        for (p, res) in allocated {
            self.st.track(p, &res, false);
            if let Some(pair) = self.st.pairs.get_mut(p) {
                pair.agents.remove(&a);
            }
        }
        self.filters.remove_agent(a);
        if let Some(ag) = self.st.agents.remove(a) {
            self.st.agent_index.remove(&ag.id);
            self.st.total.subtract(&ag.total.scalar_quantities());
            self.st.track_reservations(&ag.total, false);
            self.st.shares_stale = true;
        }
        self.st.quota_changed();
        Ok(())
    }

    /// Changes an agent's total (e.g. after reconfiguration). Current
    /// allocations must still fit.
    pub fn update_agent(&mut self, id: &str, total: Resources) -> Result<(), AllocatorError> {
        let a = self.agent(id)?;
        validate_total(&total)?;
        let ag = self
            .st
            .agents
            .get(a)
            .ok_or_else(|| AllocatorError::UnknownAgent(id.to_string()))?;
        let mut alloc = Resources::new();
        ag.allocated.values().for_each(|r| alloc.add(r));
        if !total.contains(&alloc) {
            return Err(AllocatorError::ExceedsTotal {
                agent: id.to_string(),
                resources: alloc.to_string(),
            });
        }
        self.set_agent_total(a, total);
        Ok(())
    }

    /// Replaces an agent's total (allocations must fit) and fixes aggregates.
    pub(crate) fn set_agent_total(&mut self, a: u32, total: Resources) {
        let Some(ag) = self.st.agents.get(a) else {
            return;
        };
        let old = ag.total.clone();
        let mut alloc = Resources::new();
        ag.allocated.values().for_each(|r| alloc.add(r));
        self.st.track_reservations(&old, false);
        self.st.track_reservations(&total, true);
        self.st.total.subtract(&old.scalar_quantities());
        self.st.total.add(&total.scalar_quantities());
        self.st.shares_stale = true;
        let available = total.minus(&alloc);
        if let Some(ag) = self.st.agents.get_mut(a) {
            ag.total = total;
        }
        self.st.set_available(a, available);
        self.st.quota_changed();
    }

    /// Resumes offers from an agent.
    pub fn activate_agent(&mut self, id: &str) -> Result<(), AllocatorError> {
        let a = self.agent(id)?;
        if let Some(ag) = self.st.agents.get_mut(a) {
            ag.active = true;
        }
        self.st.mark_dirty(a);
        Ok(())
    }

    /// Stops offers from an agent (e.g. maintenance, draining).
    pub fn deactivate_agent(&mut self, id: &str) -> Result<(), AllocatorError> {
        let a = self.agent(id)?;
        if let Some(ag) = self.st.agents.get_mut(a) {
            ag.active = false;
        }
        Ok(())
    }
}

/// Checks reservation roles of an agent's total and that it carries no
/// allocation tags.
fn validate_total(total: &Resources) -> Result<(), AllocatorError> {
    for r in total.iter() {
        if r.allocation_role.is_some() {
            return Err(ReservationError::Allocated.into());
        }
        if let Some(role) = r.reservation_role() {
            if role == roles::DEFAULT_ROLE {
                return Err(ReservationError::DefaultRole.into());
            }
            roles::validate(role)?;
        }
    }
    Ok(())
}
