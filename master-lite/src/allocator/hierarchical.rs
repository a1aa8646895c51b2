//! The hierarchical DRF allocator (Mesos `HierarchicalAllocatorProcess`):
//! configuration, the [`Allocator`] type, weights, quota and resource
//! recovery. Framework and agent lifecycles live in `frameworks.rs` and
//! `agents.rs`, the allocation cycle in `cycle.rs`, operator operations
//! (RESERVE/UNRESERVE) and queries in `ops.rs`.

use std::sync::Arc;
use std::time::Duration;

use super::errors::AllocatorError;
use super::filters::{nanos, FilterStore, Time, MAX_REFUSE};
use super::quantities::Quantities;
use super::quota::{self, QuotaConfig};
use super::resources::Resources;
use super::roles;
use super::sorter::{SorterKind, SplitMix64};
use super::state::State;

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
    /// Shuffle agents every cycle like Mesos (default). When false, agents
    /// are visited in registration order (deterministic; for tests).
    pub shuffle_agents: bool,
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
            shuffle_agents: true,
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
    /// Test-only reference mode: walk every agent and consult every filter
    /// directly (no walk cache, no cover bits).
    pub(crate) exhaustive: bool,
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
            exhaustive: false,
        }
    }

    /// The configuration.
    pub fn config(&self) -> &AllocatorConfig {
        &self.config
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

    /// DECLINE (or ACCEPT leftovers) of an offer: recovers `resources` and
    /// installs a filter for `refuse_seconds` with Mesos's rules — absent
    /// means the `Filters` default of 5 s; negative or NaN → 5 s; above
    /// 365 days → 365 days; zero → no filter.
    pub fn decline(
        &mut self,
        agent: &str,
        fw: &str,
        resources: &Resources,
        refuse_seconds: Option<f64>,
        now: Time,
    ) -> Result<(), AllocatorError> {
        let refuse = super::filters::refuse_duration(refuse_seconds.unwrap_or(5.0));
        self.recover(agent, fw, resources, Some(refuse), now)
    }

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
            if let Some(ag) = self.st.agents.get_mut(a) {
                if untagged.contains(&ag.covers_ref.allocatable_to(&role)) {
                    ag.covered.set(p);
                } else if untagged.contains(&ag.available.allocatable_to(&role)) {
                    // The cover reference grew stale (the agent shrank since):
                    // tighten it to what is available now; other pairs' bits
                    // are re-verified lazily against the smaller reference.
                    ag.covers_ref = ag.available.clone();
                    ag.covered.clear_all();
                    ag.covered.set(p);
                }
            }
            self.filters.insert(p, a, untagged, expires_at);
        }
        if self.st.pairs.get(p).is_some_and(|x| x.agents.is_empty()) {
            self.retire_if_idle(f, p);
        }
        Ok(())
    }
}
