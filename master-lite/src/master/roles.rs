//! Role weights, quotas and the role view (`GET_ROLES`, `/roles`): Mesos's
//! `Master::WeightsHandler` and `Master::QuotaHandler` checks, persisted in
//! the registry so they survive a master restart.

use std::collections::{BTreeMap, BTreeSet};

use meseta_api::Resource as WireResource;

use super::{CallError, Master};
use crate::allocator::{quota, roles, AllocatorError, Quantities, QuotaConfig, Resources};
use crate::registry::StoredQuota;

/// A role as `GET_ROLES` and `/roles` show it.
#[derive(Debug, Clone, PartialEq)]
pub struct RoleInfo {
    /// Role name.
    pub name: String,
    /// Its weight (1.0 unless set).
    pub weight: f64,
    /// Frameworks subscribed to it, sorted.
    pub frameworks: Vec<String>,
    /// Scalar resources allocated to it (and its sub-roles).
    pub resources: Vec<WireResource>,
    /// Used by its (and its sub-roles') tasks and executors.
    pub allocated: Quantities,
    /// Offered to it (and its sub-roles).
    pub offered: Quantities,
    /// Reserved to it (and its sub-roles) on all agents.
    pub reserved: Quantities,
    /// Its quota.
    pub quota: QuotaConfig,
    /// Consumed quota: reservations plus unreserved allocations.
    pub consumed: Quantities,
}

fn in_role(role: &str, r: Option<&str>) -> bool {
    r.is_some_and(|r| roles::can_use_reservation(r, role))
}

fn add_role_scalars(q: &mut Quantities, res: &Resources, role: &str) {
    res.filter(|r| in_role(role, r.allocation_role.as_deref()))
        .add_scalar_quantities_to(q);
}

fn scalars(q: &Quantities) -> Vec<WireResource> {
    q.iter()
        .map(|(n, v)| WireResource::scalar(n, v.as_f64()))
        .collect()
}

fn stored(q: &QuotaConfig) -> StoredQuota {
    StoredQuota {
        guarantees: q
            .guarantees
            .iter()
            .map(|(n, v)| (n.to_string(), v.as_f64()))
            .collect(),
        limits: q
            .limits
            .iter()
            .map(|(n, v)| (n.to_string(), v.as_f64()))
            .collect(),
    }
}

impl Master {
    /// Re-applies persisted weights and quotas (master restart).
    pub(crate) fn recover_roles(&mut self) {
        let weights: Vec<(&str, f64)> = self
            .registry
            .data
            .weights
            .iter()
            .map(|(r, w)| (r.as_str(), *w))
            .collect();
        if let Err(err) = self.allocator.update_weights(&weights) {
            tracing::warn!(%err, "cannot recover role weights");
        }
        for (role, q) in &self.registry.data.quotas {
            let pairs = |m: &BTreeMap<String, f64>| -> Vec<(String, f64)> {
                m.iter().map(|(k, v)| (k.clone(), *v)).collect()
            };
            let (g, l) = (pairs(&q.guarantees), pairs(&q.limits));
            let g: Vec<(&str, f64)> = g.iter().map(|(k, v)| (k.as_str(), *v)).collect();
            let l: Vec<(&str, f64)> = l.iter().map(|(k, v)| (k.as_str(), *v)).collect();
            let result = QuotaConfig::from_f64(&g, &l)
                .map_err(AllocatorError::from)
                .and_then(|c| self.allocator.update_quota(role, c));
            if let Err(err) = result {
                tracing::warn!(%role, %err, "cannot recover quota");
            }
        }
    }

    /// Writes the registry after an operator change; a failure is logged
    /// (the change stays in effect until the master restarts).
    fn persist(&mut self, what: &str) {
        if let Err(err) = self.save_registry() {
            tracing::error!(%err, "cannot persist {what}");
        }
    }

    /// UPDATE_WEIGHTS / `PUT /weights`: all weights are validated first.
    pub fn update_weights(&mut self, weights: &[(String, f64)]) -> Result<(), CallError> {
        let w: Vec<(&str, f64)> = weights.iter().map(|(r, w)| (r.as_str(), *w)).collect();
        self.allocator.update_weights(&w)?;
        for (r, w) in weights {
            self.registry.data.weights.insert(r.clone(), *w);
        }
        self.persist("weights");
        // Mesos: if an updated role has frameworks, every outstanding offer
        // is rescinded so the new weights take effect.
        let active = weights
            .iter()
            .any(|(r, _)| self.frameworks.values().any(|f| f.roles.contains(r)));
        if active {
            let ids: Vec<String> = self.offers.keys().cloned().collect();
            for id in ids {
                self.rescind_offer(&id);
            }
        }
        self.trigger_allocation();
        Ok(())
    }

    /// Weights set by the operator, sorted by role.
    pub fn weights(&self) -> Vec<(String, f64)> {
        self.allocator.weights()
    }

    /// UPDATE_QUOTA: every config is validated before any is applied.
    /// Without `force`, Mesos's checks apply: a new limit may not be below
    /// the role's consumed quota, and the sum of all guarantees may not
    /// exceed the cluster's capacity. Offers to a role whose limits changed
    /// are rescinded (best effort, as Mesos does).
    pub fn update_quotas(
        &mut self,
        configs: &[(String, QuotaConfig)],
        force: bool,
    ) -> Result<(), CallError> {
        for (role, config) in configs {
            quota::validate(role, config).map_err(AllocatorError::from)?;
        }
        if !force {
            for (role, config) in configs {
                let consumed = self.consumed_quota(role);
                if !config.limits.allows(&consumed) {
                    return Err(CallError::BadRequest(format!(
                        "Invalid QuotaConfig: Role '{role}' is already consuming '{consumed}'; \
                         this is more than the requested limits (use 'force' flag to bypass \
                         this check)"
                    )));
                }
            }
            let mut guarantees = Quantities::new();
            for (role, q) in self.quotas() {
                if !configs.iter().any(|(r, _)| *r == role) {
                    guarantees.add(&q.guarantees);
                }
            }
            for (_, config) in configs {
                guarantees.add(&config.guarantees);
            }
            let capacity = self.allocator.cluster_total();
            if !capacity.contains(&guarantees) {
                return Err(CallError::BadRequest(format!(
                    "Invalid QuotaConfig: total quota guarantees '{guarantees}' exceed cluster \
                     capacity '{capacity}' (use 'force' flag to bypass this check)"
                )));
            }
        }
        for (role, config) in configs {
            self.allocator.update_quota(role, config.clone())?;
            if config.is_default() {
                self.registry.data.quotas.remove(role);
            } else {
                self.registry
                    .data
                    .quotas
                    .insert(role.clone(), stored(config));
            }
        }
        self.persist("quota");
        let limited: Vec<&str> = configs
            .iter()
            .filter(|(_, c)| !c.limits.is_empty())
            .map(|(r, _)| r.as_str())
            .collect();
        let rescind: Vec<String> = self
            .offers
            .iter()
            .filter(|(_, o)| {
                o.alloc.iter().any(|r| {
                    limited
                        .iter()
                        .any(|l| in_role(l, r.allocation_role.as_deref()))
                })
            })
            .map(|(id, _)| id.clone())
            .collect();
        for id in rescind {
            self.rescind_offer(&id);
        }
        self.trigger_allocation();
        Ok(())
    }

    /// Mesos's consumed quota: reservations of the role (and sub-roles) plus
    /// unreserved resources its tasks and executors use (offers excluded).
    fn consumed_quota(&self, role: &str) -> Quantities {
        let mut q = Quantities::new();
        for id in self.agents.keys() {
            if let Some(total) = self.allocator.agent_total(id) {
                total
                    .filter(|r| in_role(role, r.reservation_role()))
                    .add_scalar_quantities_to(&mut q);
            }
        }
        let mut add = |res: &Resources| {
            res.filter(|r| r.reservation.is_none() && in_role(role, r.allocation_role.as_deref()))
                .add_scalar_quantities_to(&mut q);
        };
        for f in self.frameworks.values() {
            for t in f.tasks.values() {
                add(&t.alloc);
            }
            for e in f.executors.values() {
                add(&e.alloc);
            }
        }
        q
    }

    /// REMOVE_QUOTA / `DELETE /quota/<role>`: 400 if the role has none.
    pub fn remove_quota(&mut self, role: &str) -> Result<(), CallError> {
        if !self.quotas().iter().any(|(r, _)| r == role) {
            return Err(CallError::BadRequest(format!(
                "Failed to remove quota: role '{role}' has no quota set"
            )));
        }
        self.update_quotas(&[(role.to_string(), QuotaConfig::none())], true)
    }

    /// Roles with a non-default quota, sorted.
    pub fn quotas(&self) -> Vec<(String, QuotaConfig)> {
        let mut out: Vec<(String, QuotaConfig)> = self
            .allocator
            .roles()
            .into_iter()
            .map(|r| {
                let q = self.allocator.quota(&r);
                (r, q)
            })
            .filter(|(_, q)| !q.is_default())
            .collect();
        out.sort_by(|a, b| a.0.cmp(&b.0));
        out
    }

    /// Resources reserved, allocated or subscribed per role, plus roles with
    /// a weight: the `GET_ROLES` view, sorted by name.
    pub fn roles(&self) -> Vec<RoleInfo> {
        let mut frameworks: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for r in self.allocator.roles() {
            frameworks.entry(r).or_default();
        }
        for (r, _) in self.allocator.weights() {
            frameworks.entry(r).or_default();
        }
        for f in self.frameworks.values() {
            for r in &f.roles {
                frameworks
                    .entry(r.clone())
                    .or_default()
                    .insert(f.id.clone());
            }
        }
        frameworks
            .into_iter()
            .map(|(name, fws)| {
                let (mut allocated, mut offered, mut reserved) =
                    (Quantities::new(), Quantities::new(), Quantities::new());
                for f in self.frameworks.values() {
                    for t in f.tasks.values() {
                        add_role_scalars(&mut allocated, &t.alloc, &name);
                    }
                    for e in f.executors.values() {
                        add_role_scalars(&mut allocated, &e.alloc, &name);
                    }
                }
                for o in self.offers.values() {
                    add_role_scalars(&mut offered, &o.alloc, &name);
                }
                for id in self.agents.keys() {
                    if let Some(total) = self.allocator.agent_total(id) {
                        total
                            .filter(|r| in_role(&name, r.reservation_role()))
                            .add_scalar_quantities_to(&mut reserved);
                    }
                }
                RoleInfo {
                    weight: self.allocator.weight(&name),
                    frameworks: fws.into_iter().collect(),
                    resources: scalars(&self.allocator.role_allocation(&name)),
                    allocated,
                    offered,
                    reserved,
                    quota: self.allocator.quota(&name),
                    consumed: self.allocator.consumed_quota(&name),
                    name,
                }
            })
            .collect()
    }
}
