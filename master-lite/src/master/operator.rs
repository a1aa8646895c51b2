//! Operator actions on agents (Mesos `Master::Http` operator calls):
//! dynamic reservations (also RESERVE/UNRESERVE offer operations),
//! DEACTIVATE/REACTIVATE_AGENT and MARK_AGENT_GONE.
//! Weights and quota are in `roles.rs`, DRAIN_AGENT in `drain.rs`.
//!
//! Every action validates its whole input before changing anything, so a
//! refused call (400) leaves the master and the allocator untouched; a
//! successful one wakes the allocation loop.

use meseta_api::Resource as WireResource;

use super::{CallError, Master};
use crate::allocator::{AllocatorError, Operation, ReservationError, Resource, Resources};
use crate::convert::{from_wire, to_wire};
use crate::registry::{OperationKind, StoredOperation};

impl From<AllocatorError> for CallError {
    fn from(e: AllocatorError) -> Self {
        CallError::BadRequest(e.to_string())
    }
}

fn unreserved_copy(res: &Resources) -> Resources {
    res.iter()
        .map(|r| Resource {
            reservation: None,
            ..r.clone()
        })
        .collect()
}

/// Applies recorded RESERVE/UNRESERVE operations to the resources an agent
/// reports on re-registration; an operation that no longer fits is skipped.
pub(crate) fn replay_operations(mut total: Resources, ops: &[Operation]) -> Resources {
    for op in ops {
        let (remove, add) = match op {
            Operation::Reserve(r) => (unreserved_copy(r), r.clone()),
            Operation::Unreserve(r) => (r.clone(), unreserved_copy(r)),
        };
        if total.contains(&remove) {
            total.subtract(&remove);
            total.add(&add);
        }
    }
    total
}

impl Master {
    fn known_agent(&self, agent_id: &str) -> Result<(), CallError> {
        if self.agents.contains_key(agent_id) {
            Ok(())
        } else {
            Err(CallError::BadRequest(format!(
                "Agent {agent_id} is not registered"
            )))
        }
    }

    /// RESERVE_RESOURCES (`reserve`) or UNRESERVE_RESOURCES: resources
    /// currently offered on the agent are rescinded when (and only when) the
    /// operation needs them.
    pub fn reserve(
        &mut self,
        agent_id: &str,
        resources: &[WireResource],
        reserve: bool,
    ) -> Result<(), CallError> {
        self.known_agent(agent_id)?;
        let res = from_wire(resources).map_err(|e| CallError::BadRequest(e.to_string()))?;
        let op = if reserve {
            Operation::Reserve(res.clone())
        } else {
            Operation::Unreserve(res.clone())
        };
        let ops = [op];
        match self.allocator.apply_operations(agent_id, &ops) {
            Err(err @ AllocatorError::Reservation(ReservationError::Insufficient { .. })) => {
                let needed = if reserve { unreserved_copy(&res) } else { res };
                let mut reachable = self
                    .allocator
                    .agent_available(agent_id)
                    .cloned()
                    .unwrap_or_default();
                for o in self.offers.values() {
                    if o.offer.agent_id.value == agent_id {
                        reachable.add(&o.alloc.unallocated());
                    }
                }
                if !reachable.contains(&needed) {
                    return Err(err.into());
                }
                self.rescind_agent_offers(agent_id);
                self.allocator.apply_operations(agent_id, &ops)?;
            }
            other => other?,
        }
        if let (Some(a), Some(total)) = (
            self.agents.get_mut(agent_id),
            self.allocator.agent_total(agent_id),
        ) {
            a.info.resources = to_wire(total);
            a.operations.extend(ops.iter().cloned());
        }
        self.persist_operations(agent_id, &ops);
        self.trigger_allocation();
        Ok(())
    }

    /// Records reservation operations in the registry, so a restarted
    /// master re-applies them when the agent re-registers.
    pub(crate) fn persist_operations(&mut self, agent_id: &str, ops: &[Operation]) {
        let stored = self
            .registry
            .data
            .reservations
            .entry(agent_id.to_string())
            .or_default();
        stored.extend(ops.iter().map(|op| match op {
            Operation::Reserve(r) => StoredOperation {
                kind: OperationKind::Reserve,
                resources: to_wire(r),
            },
            Operation::Unreserve(r) => StoredOperation {
                kind: OperationKind::Unreserve,
                resources: to_wire(r),
            },
        }));
        if let Err(err) = self.save_registry() {
            tracing::error!(agent_id, %err, "cannot persist reservations (kept until the master restarts)");
        }
    }

    /// The registry's reservation operations for an agent (after a master
    /// restart); entries that no longer parse are skipped.
    pub(crate) fn stored_operations(&self, agent_id: &str) -> Vec<Operation> {
        let stored = self.registry.data.reservations.get(agent_id);
        stored
            .into_iter()
            .flatten()
            .filter_map(|s| {
                let res = from_wire(&s.resources)
                    .map_err(|err| tracing::warn!(agent_id, %err, "skipping a stored reservation"))
                    .ok()?;
                Some(match s.kind {
                    OperationKind::Reserve => Operation::Reserve(res),
                    OperationKind::Unreserve => Operation::Unreserve(res),
                })
            })
            .collect()
    }

    /// DEACTIVATE_AGENT: no more offers from the agent; outstanding ones are
    /// rescinded.
    pub fn deactivate_agent(&mut self, agent_id: &str) -> Result<(), CallError> {
        self.known_agent(agent_id)?;
        if let Some(a) = self.agents.get_mut(agent_id) {
            a.deactivated = true;
        }
        self.allocator.deactivate_agent(agent_id)?;
        self.rescind_agent_offers(agent_id);
        Ok(())
    }

    /// REACTIVATE_AGENT: offers resume (if the agent is connected).
    pub fn reactivate_agent(&mut self, agent_id: &str) -> Result<(), CallError> {
        self.known_agent(agent_id)?;
        let connected = self.agents.get_mut(agent_id).is_some_and(|a| {
            a.deactivated = false;
            a.drain = None;
            a.sink.is_some()
        });
        if connected {
            self.allocator.activate_agent(agent_id)?;
            self.trigger_allocation();
        }
        Ok(())
    }

    /// MARK_AGENT_GONE: the agent is removed for good; its tasks are lost.
    pub fn mark_agent_gone(&mut self, agent_id: &str) -> Result<(), CallError> {
        if self.mark_unreachable_agent_gone(agent_id) {
            return Ok(());
        }
        self.known_agent(agent_id)?;
        self.remove_agent_for(agent_id, true);
        self.trigger_allocation();
        Ok(())
    }

    /// An agent's total resources as the allocator holds them (with
    /// reservations).
    pub fn agent_total_wire(&self, agent_id: &str) -> Option<Vec<WireResource>> {
        self.allocator.agent_total(agent_id).map(to_wire)
    }
}

impl Master {
    /// RESERVE (`reserve`) or UNRESERVE of offered resources in an ACCEPT:
    /// the resources are converted on the agent (and persisted) and stay in
    /// `remaining`, so later operations of the ACCEPT can use them; what is
    /// left unused is recovered with the ACCEPT. On error nothing changes.
    pub(crate) fn offer_reservation(
        &mut self,
        fw_id: &str,
        agent_id: &str,
        remaining: &mut Resources,
        reserve: bool,
        wire: &[meseta_api::Resource],
    ) -> Result<(), String> {
        let res = crate::convert::from_wire(wire).map_err(|e| e.to_string())?;
        if res.is_empty() {
            return Err("no resources".into());
        }
        let roles: std::collections::HashSet<Option<&str>> =
            res.iter().map(|r| r.reservation_role()).collect();
        let role = match roles.into_iter().collect::<Vec<_>>().as_slice() {
            [Some(role)] => (*role).to_string(),
            _ => return Err("resources must be reserved for exactly one role".into()),
        };
        if !remaining.allocation_roles().iter().any(|r| **r == *role) {
            return Err(format!("role '{role}' is not the offer's allocation role"));
        }
        let op = if reserve {
            Operation::Reserve(res.clone())
        } else {
            Operation::Unreserve(res.clone())
        };
        let mut needed = if reserve {
            res.iter()
                .map(|r| crate::allocator::Resource {
                    reservation: None,
                    ..r.clone()
                })
                .collect()
        } else {
            res
        };
        needed.allocate(&role);
        if !remaining.contains(&needed) {
            return Err(format!("{needed} is not in the offer"));
        }
        let now = self.now_nanos();
        self.allocator
            .recover(agent_id, fw_id, &needed, None, now)
            .map_err(|e| e.to_string())?;
        remaining.subtract(&needed);
        if let Err(err) = self
            .allocator
            .apply_operations(agent_id, std::slice::from_ref(&op))
        {
            // Back in the pool unconverted: the next offer has them as they were.
            return Err(err.to_string());
        }
        if let (Some(a), Some(total)) = (
            self.agents.get_mut(agent_id),
            self.allocator.agent_total(agent_id),
        ) {
            a.info.resources = to_wire(total);
            a.operations.push(op.clone());
        }
        self.persist_operations(agent_id, std::slice::from_ref(&op));
        // The converted resources stay with the framework: later LAUNCHes
        // of the same ACCEPT may use them.
        let mut converted = match op {
            Operation::Reserve(r) => r,
            Operation::Unreserve(r) => unreserved_copy(&r),
        };
        converted.allocate(&role);
        match self.allocator.claim(agent_id, fw_id, &converted) {
            Ok(()) => remaining.add(&converted),
            Err(err) => tracing::warn!(agent_id, %err, "converted resources go back to the pool"),
        }
        Ok(())
    }
}
