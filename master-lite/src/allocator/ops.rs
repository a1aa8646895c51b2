//! Operator reservation operations (RESERVE / UNRESERVE on an agent's
//! available resources, Mesos `updateAvailable`) and read-only queries.

use std::sync::Arc;

use super::errors::{AllocatorError, ReservationError};
use super::hierarchical::Allocator;
use super::quantities::Quantities;
use super::resources::{ReservationKind, Resource, Resources};
use super::roles;

/// An operation on an agent's resources.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Operation {
    /// Dynamically reserve resources: every entry must carry a dynamic
    /// reservation; its unreserved counterpart must be available.
    Reserve(Resources),
    /// Remove dynamic reservations: every entry must be a dynamically
    /// reserved resource that is available.
    Unreserve(Resources),
}

/// Builds a dynamically reserved copy of `res` for `role`.
pub fn dynamic_reservation(res: &Resources, role: &str, principal: Option<&str>) -> Resources {
    res.iter()
        .map(|r| Resource {
            reservation: Some(super::resources::Reservation {
                role: Arc::from(role),
                kind: ReservationKind::Dynamic {
                    principal: principal.map(Arc::from),
                },
            }),
            ..r.clone()
        })
        .collect()
}

fn strip(r: &Resource) -> Resource {
    Resource {
        reservation: None,
        ..r.clone()
    }
}

impl Allocator {
    /// Applies operator operations to an agent's available resources
    /// (and its total). All operations are validated in order against a
    /// scratch copy first; on error nothing changes.
    pub fn apply_operations(
        &mut self,
        agent: &str,
        ops: &[Operation],
    ) -> Result<(), AllocatorError> {
        let a = *self
            .st
            .agent_index
            .get(agent)
            .ok_or_else(|| AllocatorError::UnknownAgent(agent.to_string()))?;
        let ag = self
            .st
            .agents
            .get(a)
            .ok_or_else(|| AllocatorError::UnknownAgent(agent.to_string()))?;
        let (mut total, mut available) = (ag.total.clone(), ag.available.clone());
        for op in ops {
            let (remove, add) = match op {
                Operation::Reserve(res) => {
                    validate_entries(res, true)?;
                    let unreserved: Resources = res.iter().map(strip).collect();
                    (unreserved, res.clone())
                }
                Operation::Unreserve(res) => {
                    validate_entries(res, false)?;
                    let unreserved: Resources = res.iter().map(strip).collect();
                    (res.clone(), unreserved)
                }
            };
            if !available.contains(&remove) {
                return Err(ReservationError::Insufficient {
                    requested: remove.to_string(),
                    available: available.to_string(),
                }
                .into());
            }
            available.subtract(&remove);
            available.add(&add);
            total.subtract(&remove);
            total.add(&add);
        }
        self.set_agent_total(a, total);
        Ok(())
    }

    /// Allocates specific available resources of `agent` to `fw` (tagged
    /// with the allocation role): what a RESERVE/UNRESERVE in an ACCEPT
    /// produced goes straight back to the framework that asked for it, as
    /// Mesos's `updateAllocation` does.
    pub fn claim(
        &mut self,
        agent: &str,
        fw: &str,
        resources: &Resources,
    ) -> Result<(), AllocatorError> {
        let a = self.agent(agent)?;
        let f = self.framework(fw)?;
        let roles = resources.allocation_roles();
        let [role] = roles.iter().collect::<Vec<_>>()[..] else {
            return Err(AllocatorError::AllocationRole(roles.len()));
        };
        let p = self
            .st
            .frameworks
            .get(f)
            .and_then(|x| x.roles.get(role).copied())
            .ok_or_else(|| AllocatorError::UnknownFrameworkRole {
                framework: fw.to_string(),
                role: role.to_string(),
            })?;
        let untagged = resources.unallocated();
        let available = self.st.agents.get(a).map(|ag| &ag.available);
        if !available.is_some_and(|av| av.contains(&untagged)) {
            return Err(ReservationError::Insufficient {
                requested: untagged.to_string(),
                available: available.map(ToString::to_string).unwrap_or_default(),
            }
            .into());
        }
        self.allocate_to(a, p, &untagged);
        Ok(())
    }

    // ----- queries ----------------------------------------------------

    /// An agent's total resources.
    pub fn agent_total(&self, agent: &str) -> Option<&Resources> {
        self.st
            .agent_index
            .get(agent)
            .and_then(|&a| self.st.agents.get(a))
            .map(|a| &a.total)
    }

    /// An agent's unallocated resources.
    pub fn agent_available(&self, agent: &str) -> Option<&Resources> {
        self.st
            .agent_index
            .get(agent)
            .and_then(|&a| self.st.agents.get(a))
            .map(|a| &a.available)
    }

    /// An agent's attributes as given to `add_agent`.
    pub fn agent_attributes(&self, agent: &str) -> Option<&[(String, String)]> {
        self.st
            .agent_index
            .get(agent)
            .and_then(|&a| self.st.agents.get(a))
            .map(|a| a.attributes.as_slice())
    }

    /// Resources allocated (offered or in use) to `fw` in `role` on all agents.
    pub fn allocation(&self, fw: &str, role: &str) -> Quantities {
        self.st
            .framework_index
            .get(fw)
            .and_then(|&f| self.st.frameworks.get(f))
            .and_then(|f| f.roles.get(role))
            .and_then(|&p| self.st.pairs.get(p))
            .map(|p| p.allocation.clone())
            .unwrap_or_default()
    }

    /// Scalar resources allocated to `role` and its sub-roles.
    pub fn role_allocation(&self, role: &str) -> Quantities {
        self.st
            .role_index
            .get(role)
            .and_then(|&r| self.st.roles.get(r))
            .map(|r| r.subtree_alloc.clone())
            .unwrap_or_default()
    }

    /// Consumed quota of `role`: its reservations plus unreserved allocations.
    pub fn consumed_quota(&self, role: &str) -> Quantities {
        let Some(r) = self
            .st
            .role_index
            .get(role)
            .and_then(|&r| self.st.roles.get(r))
        else {
            return Quantities::new();
        };
        let mut c = r.subtree_reserved.clone();
        c.add(&r.subtree_alloc_unreserved);
        c
    }

    /// Sum of all agents' scalar totals.
    pub fn cluster_total(&self) -> &Quantities {
        &self.st.total
    }

    /// Number of live offer filters.
    pub fn filter_count(&self) -> usize {
        self.filters.len()
    }

    /// Known roles (with frameworks, reservations, quota or allocations).
    pub fn roles(&self) -> Vec<String> {
        self.st
            .roles
            .iter()
            .filter(|(i, _)| *i != super::state::ROOT)
            .map(|(_, r)| r.name.to_string())
            .collect()
    }

    /// Weights set with [`Allocator::update_weights`], sorted by role.
    pub fn weights(&self) -> Vec<(String, f64)> {
        let mut w: Vec<(String, f64)> = self
            .st
            .weights
            .iter()
            .map(|(r, w)| (r.to_string(), *w))
            .collect();
        w.sort_by(|a, b| a.0.cmp(&b.0));
        w
    }

    /// Current weight of `role`.
    pub fn weight(&self, role: &str) -> f64 {
        self.st.weights.get(role).copied().unwrap_or(1.0)
    }
}

fn validate_entries(res: &Resources, reserve: bool) -> Result<(), ReservationError> {
    if res.is_empty() {
        return Err(ReservationError::Empty);
    }
    for r in res.iter() {
        if r.allocation_role.is_some() {
            return Err(ReservationError::Allocated);
        }
        let Some(rsv) = &r.reservation else {
            return Err(ReservationError::NotDynamic(r.to_string()));
        };
        if !matches!(rsv.kind, ReservationKind::Dynamic { .. }) {
            return Err(ReservationError::NotDynamic(r.to_string()));
        }
        if reserve {
            if &*rsv.role == roles::DEFAULT_ROLE {
                return Err(ReservationError::DefaultRole);
            }
            roles::validate(&rsv.role).map_err(ReservationError::InvalidRole)?;
        }
    }
    Ok(())
}
