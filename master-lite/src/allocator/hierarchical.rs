//! The hierarchical DRF allocator (Mesos `HierarchicalAllocatorProcess`):
//! configuration, framework/agent lifecycle, weights, quota, suppress/revive
//! and resource recovery. The allocation cycle lives in `cycle.rs`, offer
//! operations (RESERVE/UNRESERVE) in `ops.rs`.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::Duration;

use super::errors::AllocatorError;
use super::fasthash::{IntMap, IntSet};
use super::filters::{nanos, FilterStore, OfferFilter, Time, MAX_REFUSE};
use super::quantities::Quantities;
use super::quota::{self, QuotaConfig};
use super::resources::Resources;
use super::roles;
use super::sorter::{SorterKind, SplitMix64};
use super::state::{Agent, Framework, Pair, State};

/// Allocator configuration (the relevant `mesos-master` flags).
#[derive(Debug, Clone)]
pub struct AllocatorConfig {
    /// `--role_sorter` (default `drf`).
    pub role_sorter: SorterKind,
    /// `--framework_sorter` (default `drf`).
    pub framework_sorter: SorterKind,
    /// `--allocation_interval` (default 1 s); filters last at least this long.
    pub allocation_interval: Duration,
    /// `--min_allocatable_resources` alternatives (default `cpus:0.01|mem:32`).
    pub min_allocatable_resources: Vec<Quantities>,
    /// `--fair_sharing_excluded_resource_names`.
    pub fair_sharing_excluded_resource_names: Vec<String>,
    /// Seed of the agent/random-sorter shuffles.
    pub seed: u64,
}

impl Default for AllocatorConfig {
    fn default() -> Self {
        AllocatorConfig {
            role_sorter: SorterKind::Drf,
            framework_sorter: SorterKind::Drf,
            allocation_interval: Duration::from_secs(1),
            min_allocatable_resources: parse_min_allocatable("cpus:0.01|mem:32")
                .unwrap_or_default(),
            fair_sharing_excluded_resource_names: Vec::new(),
            seed: 0x5eed,
        }
    }
}

/// Parses `--min_allocatable_resources` (`cpus:0.01|mem:32`).
pub fn parse_min_allocatable(
    s: &str,
) -> Result<Vec<Quantities>, super::quantities::QuantitiesError> {
    s.split('|')
        .filter(|p| !p.trim().is_empty())
        .map(str::parse)
        .collect()
}

/// One offer produced by an allocation cycle.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Offer {
    /// Framework receiving the offer.
    pub framework_id: Arc<str>,
    /// Role the resources are allocated to.
    pub role: Arc<str>,
    /// Agent the resources live on.
    pub agent_id: Arc<str>,
    /// Offered resources, tagged with `role` as allocation role.
    pub resources: Resources,
}

/// The hierarchical DRF allocator. A pure state machine: no I/O, no clock.
#[derive(Debug)]
pub struct Allocator {
    pub(crate) config: AllocatorConfig,
    pub(crate) st: State,
    pub(crate) filters: FilterStore,
    pub(crate) rng: SplitMix64,
    pub(crate) scratch: super::cycle::Scratch,
}

impl Allocator {
    /// Creates an allocator with `config`.
    pub fn new(config: AllocatorConfig) -> Self {
        let st = State::new(
            config.role_sorter,
            config.framework_sorter,
            config.fair_sharing_excluded_resource_names.clone(),
        );
        let rng = SplitMix64::new(config.seed);
        Allocator {
            config,
            st,
            filters: FilterStore::new(),
            rng,
            scratch: Default::default(),
        }
    }

    /// The configuration.
    pub fn config(&self) -> &AllocatorConfig {
        &self.config
    }

    // ----- frameworks -------------------------------------------------

    /// Registers a framework subscribed to `roles` (empty → `*`), with
    /// `suppressed` roles not receiving offers. Inactive frameworks get no
    /// offers until [`Allocator::activate_framework`].
    pub fn add_framework(
        &mut self,
        id: &str,
        roles_: &[&str],
        suppressed: &[&str],
        active: bool,
    ) -> Result<(), AllocatorError> {
        let roles_: Vec<&str> = if roles_.is_empty() {
            vec![roles::DEFAULT_ROLE]
        } else {
            roles_.to_vec()
        };
        roles::validate_all(roles_.iter().copied())?;
        roles::validate_all(suppressed.iter().copied())?;
        let fw = match self.st.framework_index.get(id) {
            Some(&f) if self.st.frameworks.get(f).is_some_and(|f| f.placeholder) => f,
            Some(_) => return Err(AllocatorError::FrameworkExists(id.to_string())),
            None => self.new_framework(id, false),
        };
        if let Some(f) = self.st.frameworks.get_mut(fw) {
            f.placeholder = false;
            f.active = active;
            f.suppressed = suppressed.iter().map(|r| Arc::from(*r)).collect();
        }
        for r in roles_ {
            self.ensure_pair(fw, r);
        }
        self.refresh_framework(fw);
        Ok(())
    }

    fn new_framework(&mut self, id: &str, placeholder: bool) -> u32 {
        let id: Arc<str> = Arc::from(id);
        let f = self.st.frameworks.insert(Framework {
            id: Arc::clone(&id),
            roles: BTreeMap::new(),
            suppressed: BTreeSet::new(),
            active: !placeholder,
            placeholder,
        });
        self.st.framework_index.insert(id, f);
        f
    }

    pub(crate) fn ensure_pair(&mut self, fw: u32, role: &str) -> u32 {
        if let Some(&p) = self.st.frameworks.get(fw).and_then(|f| f.roles.get(role)) {
            return p;
        }
        let r = self.st.ensure_role(role);
        let p = self.st.pairs.insert(Pair {
            framework: fw,
            role: r,
            allocation: Quantities::new(),
            agents: IntSet::default(),
        });
        if let Some(node) = self.st.roles.get_mut(r) {
            node.pairs += 1;
            node.frameworks.add(p, 1.0, 0.0);
            node.frameworks.set_active(p, false);
        }
        if let Some(f) = self.st.frameworks.get_mut(fw) {
            f.roles.insert(Arc::from(role), p);
        }
        p
    }

    fn refresh_framework(&mut self, fw: u32) {
        let pairs: Vec<u32> = self
            .st
            .frameworks
            .get(fw)
            .map(|f| f.roles.values().copied().collect())
            .unwrap_or_default();
        for p in pairs {
            self.st.refresh_pair_active(p);
        }
    }

    fn framework(&self, id: &str) -> Result<u32, AllocatorError> {
        self.st
            .framework_index
            .get(id)
            .copied()
            .ok_or_else(|| AllocatorError::UnknownFramework(id.to_string()))
    }

    fn agent(&self, id: &str) -> Result<u32, AllocatorError> {
        self.st
            .agent_index
            .get(id)
            .copied()
            .ok_or_else(|| AllocatorError::UnknownAgent(id.to_string()))
    }

    /// Removes a framework, recovering all its allocations and filters.
    pub fn remove_framework(&mut self, id: &str) -> Result<(), AllocatorError> {
        let fw = self.framework(id)?;
        let pairs: Vec<u32> = self
            .st
            .frameworks
            .get(fw)
            .map(|f| f.roles.values().copied().collect())
            .unwrap_or_default();
        for p in pairs {
            self.remove_pair(p);
        }
        if let Some(f) = self.st.frameworks.remove(fw) {
            self.st.framework_index.remove(&f.id);
        }
        self.st.quota_changed();
        Ok(())
    }

    fn remove_pair(&mut self, p: u32) {
        let agents: Vec<u32> = self
            .st
            .pairs
            .get(p)
            .map(|x| x.agents.iter().copied().collect())
            .unwrap_or_default();
        for a in agents {
            let res = self
                .st
                .agents
                .get_mut(a)
                .and_then(|ag| ag.allocated.remove(&p));
            if let Some(res) = res {
                self.st.track(p, &res, false);
                let avail = self
                    .st
                    .agents
                    .get(a)
                    .map(|ag| ag.available.plus(&res))
                    .unwrap_or_default();
                self.st.set_available(a, avail);
            }
        }
        self.clear_pair_filters(p);
        if let Some(pair) = self.st.pairs.remove(p) {
            if let Some(r) = self.st.roles.get_mut(pair.role) {
                if r.frameworks.is_active(p) {
                    r.active_pairs = r.active_pairs.saturating_sub(1);
                    r.active_bits.clear(p);
                    for n in self.st.role_chain(pair.role) {
                        if let Some(node) = self.st.roles.get_mut(n) {
                            node.subtree_active = node.subtree_active.saturating_sub(1);
                        }
                    }
                }
            }
            if let Some(r) = self.st.roles.get_mut(pair.role) {
                r.frameworks.remove(p);
                r.pairs = r.pairs.saturating_sub(1);
            }
            self.st.role_order_dirty = true;
            self.st.maybe_gc_role(pair.role);
        }
    }

    fn clear_pair_filters(&mut self, p: u32) {
        let st = &mut self.st;
        self.filters.remove_pair(p, |a| {
            if let Some(ag) = st.agents.get_mut(a) {
                ag.covered.clear(p);
            }
            st.mark_dirty(a);
        });
    }

    /// Resumes offers to a framework (e.g. after it reconnects).
    pub fn activate_framework(&mut self, id: &str) -> Result<(), AllocatorError> {
        let fw = self.framework(id)?;
        if let Some(f) = self.st.frameworks.get_mut(fw) {
            f.active = true;
        }
        self.refresh_framework(fw);
        Ok(())
    }

    /// Stops offers to a framework (e.g. while it is disconnected).
    pub fn deactivate_framework(&mut self, id: &str) -> Result<(), AllocatorError> {
        let fw = self.framework(id)?;
        if let Some(f) = self.st.frameworks.get_mut(fw) {
            f.active = false;
        }
        self.refresh_framework(fw);
        Ok(())
    }

    fn select_roles(
        &self,
        fw: u32,
        roles_: &[&str],
    ) -> Result<Vec<(Arc<str>, u32)>, AllocatorError> {
        let f = self
            .st
            .frameworks
            .get(fw)
            .ok_or_else(|| AllocatorError::UnknownFramework(String::new()))?;
        if roles_.is_empty() {
            return Ok(f.roles.iter().map(|(r, p)| (Arc::clone(r), *p)).collect());
        }
        roles_
            .iter()
            .map(|r| {
                f.roles
                    .get_key_value(*r)
                    .map(|(k, p)| (Arc::clone(k), *p))
                    .ok_or_else(|| AllocatorError::UnknownFrameworkRole {
                        framework: f.id.to_string(),
                        role: (*r).to_string(),
                    })
            })
            .collect()
    }

    /// SUPPRESS: stop offers to `fw` for `roles` (empty → all its roles).
    pub fn suppress(&mut self, fw: &str, roles_: &[&str]) -> Result<(), AllocatorError> {
        let f = self.framework(fw)?;
        let sel = self.select_roles(f, roles_)?;
        for (role, p) in sel {
            if let Some(fr) = self.st.frameworks.get_mut(f) {
                fr.suppressed.insert(role);
            }
            self.st.refresh_pair_active(p);
        }
        Ok(())
    }

    /// REVIVE: clear filters of `fw` for `roles` (empty → all) and unsuppress them.
    pub fn revive(&mut self, fw: &str, roles_: &[&str]) -> Result<(), AllocatorError> {
        let f = self.framework(fw)?;
        let sel = self.select_roles(f, roles_)?;
        for (role, p) in sel {
            self.clear_pair_filters(p);
            if let Some(fr) = self.st.frameworks.get_mut(f) {
                fr.suppressed.remove(&role);
            }
            self.st.refresh_pair_active(p);
        }
        Ok(())
    }

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
            ag.allocated.entry(p).or_default().add(res);
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

    // ----- weights and quota --------------------------------------------

    /// Sets role weights (default 1.0). All entries are validated first.
    pub fn update_weights(&mut self, weights: &[(&str, f64)]) -> Result<(), AllocatorError> {
        for &(r, w) in weights {
            roles::validate(r)?;
            if !w.is_finite() || w <= 0.0 {
                return Err(AllocatorError::InvalidWeight {
                    role: r.to_string(),
                    weight: w.to_string(),
                });
            }
        }
        for &(r, w) in weights {
            self.st.weights.insert(Arc::from(r), w);
            let Some(&idx) = self.st.role_index.get(r) else {
                continue;
            };
            let Some(node) = self.st.roles.get_mut(idx) else {
                continue;
            };
            node.weight = w;
            let parent = node.parent;
            self.st.shares_stale = true;
            if let Some(node) = self.st.roles.get_mut(idx) {
                node.sorter.update_weight(idx, w, 0.0);
            }
            if let Some(p) = parent.and_then(|p| self.st.roles.get_mut(p)) {
                p.sorter.update_weight(idx, w, 0.0);
            }
        }
        Ok(())
    }

    /// Sets (or, with a default config, removes) a role's quota.
    pub fn update_quota(&mut self, role: &str, config: QuotaConfig) -> Result<(), AllocatorError> {
        quota::validate(role, &config)?;
        let idx = self.st.ensure_role(role);
        let is_default = config.is_default();
        if let Some(node) = self.st.roles.get_mut(idx) {
            node.quota = config;
        }
        if is_default {
            self.st.quota_roles.remove(&idx);
            self.st.maybe_gc_role(idx);
        } else {
            self.st.quota_roles.insert(idx);
        }
        self.st.global_epoch += 1;
        Ok(())
    }

    /// Current quota of `role` (default if none).
    pub fn quota(&self, role: &str) -> QuotaConfig {
        self.st
            .role_index
            .get(role)
            .and_then(|&i| self.st.roles.get(i))
            .map(|r| r.quota.clone())
            .unwrap_or_default()
    }

    // ----- recovery ---------------------------------------------------

    /// Returns resources offered/allocated to `fw` on `agent` (declined or
    /// rescinded offers, finished tasks). With `refuse` set, installs a
    /// filter for at least `allocation_interval` and at most 365 days.
    /// Recovering for an unknown framework or agent is a no-op.
    pub fn recover(
        &mut self,
        agent: &str,
        fw: &str,
        resources: &Resources,
        refuse: Option<Duration>,
        now: Time,
    ) -> Result<(), AllocatorError> {
        if resources.is_empty() {
            return Ok(());
        }
        let (Ok(a), Ok(f)) = (self.agent(agent), self.framework(fw)) else {
            return Ok(());
        };
        let role = match resources
            .iter()
            .next()
            .and_then(|r| r.allocation_role.clone())
        {
            Some(role)
                if resources
                    .iter()
                    .all(|r| r.allocation_role.as_ref() == Some(&role)) =>
            {
                role
            }
            _ => {
                return Err(AllocatorError::AllocationRole(
                    resources.allocation_roles().len(),
                ))
            }
        };
        let p = self
            .st
            .frameworks
            .get(f)
            .and_then(|x| x.roles.get(&role).copied())
            .ok_or_else(|| AllocatorError::UnknownFrameworkRole {
                framework: fw.to_string(),
                role: role.to_string(),
            })?;
        let untagged = resources.unallocated();
        let held = self.st.agents.get(a).and_then(|ag| ag.allocated.get(&p));
        if !held.is_some_and(|h| h.contains(&untagged)) {
            return Err(AllocatorError::NotAllocated {
                framework: fw.to_string(),
                agent: agent.to_string(),
                resources: untagged.to_string(),
            });
        }
        if let Some(ag) = self.st.agents.get_mut(a) {
            if let Some(h) = ag.allocated.get_mut(&p) {
                h.subtract(&untagged);
                if h.is_empty() {
                    ag.allocated.remove(&p);
                    if let Some(pair) = self.st.pairs.get_mut(p) {
                        pair.agents.remove(&a);
                    }
                }
            }
        }
        self.st.track(p, &untagged, false);
        let avail = self
            .st
            .agents
            .get(a)
            .map(|ag| ag.available.plus(&untagged))
            .unwrap_or_default();
        self.st.set_available(a, avail);
        self.st.quota_changed();
        if let Some(d) = refuse.filter(|d| !d.is_zero()) {
            let timeout = d.min(MAX_REFUSE).max(self.config.allocation_interval);
            let expires_at = now.saturating_add(nanos(timeout));
            let covers = self
                .st
                .agents
                .get(a)
                .is_some_and(|ag| untagged.contains(&ag.covers_ref.allocatable_to(&role)));
            self.filters.insert(
                p,
                a,
                OfferFilter {
                    resources: untagged,
                    expires_at,
                },
            );
            if covers {
                if let Some(ag) = self.st.agents.get_mut(a) {
                    ag.covered.set(p);
                }
            }
        }
        Ok(())
    }
}
