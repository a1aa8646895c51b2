//! The allocation cycle (Mesos `__generateOffers`).
//!
//! Stage 1 serves roles with unsatisfied quota guarantees; stage 2 serves
//! every role. For each candidate agent (shuffled), roles are walked in role
//! sorter order and, within a role, framework pairs in framework sorter
//! order; the first pair whose filters do not cover the offer gets it.
//!
//! Fast paths that keep the result identical to Mesos's exhaustive walk:
//! * only agents that changed since their last walk (or all agents after a
//!   global event such as a framework being added or revived) are walked —
//!   an agent that yielded nothing keeps yielding nothing until something it
//!   depends on changes;
//! * a per-agent bitset records pairs whose filters cover everything the
//!   agent could offer, so a role whose active pairs are all covered is
//!   skipped with a few word operations.
//!
//! Event-triggered cycles ([`Allocator::allocate_triggered`]) keep DRF order
//! strictly: an agent whose first pair in sorter order is held back by a
//! short filter (one expiring within the default `refuse_seconds`) is not
//! handed to the pairs behind it; it waits for the next regular cycle, which
//! walks past filtered pairs as Mesos does. Without this, a framework that
//! declined for a moment loses the whole agent to whoever answers offers
//! fastest, one event-triggered cycle after another (Mesos only allocates
//! recovered resources in its batch cycles, so it never showed this).

use std::sync::Arc;

use super::fasthash::IntMap;
use super::filters::{nanos, OfferFilter, Time, DEFAULT_REFUSE};
use super::hierarchical::{Allocator, Offer};
use super::quantities::{Limits, Quantities};
use super::resources::{Resource, Resources, Value};
use super::state::ROOT;

/// Buffers reused across cycles to avoid per-cycle allocation.
#[derive(Debug, Default)]
pub(crate) struct Scratch {
    candidates: Vec<u32>,
    role_order: Vec<u32>,
    to_cover: Vec<u32>,
    offers: Vec<(u32, u32, Resources)>,
    seen_epoch: u64,
    /// `Some(now)` during an event-triggered (strict DRF order) cycle.
    strict: Option<Time>,
    /// Set by `pick_pair` when a short-filtered pair ahead blocks the agent.
    blocked: bool,
    /// Agents held back by a strict cycle, walked again by the next cycle.
    deferred: Vec<u32>,
}

/// Quota bookkeeping for one cycle.
#[derive(Debug, Default)]
struct QuotaState {
    enabled: bool,
    consumed: IntMap<u32, Quantities>,
    required: Quantities,
    available: Quantities,
}

fn is_scalar(r: &Resource) -> bool {
    matches!(r.value, Value::Scalar(_))
}

impl Allocator {
    /// Runs an event-triggered allocation cycle at `now`: like [`allocate`],
    /// but an agent is never offered past a pair that comes first in DRF order
    /// and is only briefly filtered there (see the module documentation); such
    /// agents are left for the next cycle.
    ///
    /// [`allocate`]: Allocator::allocate
    pub fn allocate_triggered(&mut self, now: Time) -> Vec<Offer> {
        self.scratch.strict = Some(now);
        let offers = self.allocate(now);
        self.scratch.strict = None;
        for a in std::mem::take(&mut self.scratch.deferred) {
            self.st.mark_dirty(a);
        }
        offers
    }

    /// True if a filter in `fs` that applies to `to_offer` (or covers the
    /// agent) expires within the default refuse time after the strict
    /// cycle's `now`.
    fn short_filtered(strict: Option<Time>, fs: Option<&[OfferFilter]>) -> bool {
        let (Some(now), Some(fs)) = (strict, fs) else {
            return false;
        };
        let horizon = now.saturating_add(nanos(DEFAULT_REFUSE));
        fs.iter().any(|f| f.expires_at <= horizon)
    }

    /// Runs one allocation cycle at time `now` (nanoseconds on the caller's
    /// monotonic clock) and returns the offers made.
    pub fn allocate(&mut self, now: Time) -> Vec<Offer> {
        let st = &mut self.st;
        self.filters.expire(now, |p, a| {
            if let Some(ag) = st.agents.get_mut(a) {
                ag.covered.clear(p);
            }
            st.mark_dirty(a);
        });
        if self.st.shares_stale {
            self.st.refresh_shares();
        }
        self.reshuffle_random_sorters();

        let mut cands = std::mem::take(&mut self.scratch.candidates);
        cands.clear();
        let full = self.exhaustive || self.scratch.seen_epoch != self.st.global_epoch;
        if full {
            cands.extend(self.st.agents.iter().map(|(i, _)| i));
        } else {
            cands.extend(self.st.dirty_agents.iter().copied());
        }
        for a in self.st.dirty_agents.drain(..) {
            if let Some(ag) = self.st.agents.get_mut(a) {
                ag.dirty = false;
            }
        }
        let agents = &self.st.agents;
        cands.retain(|&a| {
            agents
                .get(a)
                .is_some_and(|ag| ag.active && !ag.available.is_empty())
        });
        self.scratch.seen_epoch = self.st.global_epoch;

        let mut q = self.quota_state();
        let guarantees = q.enabled
            && self.st.quota_roles.iter().any(|&r| {
                self.st
                    .roles
                    .get(r)
                    .is_some_and(|n| !n.quota.guarantees.is_empty())
            });
        if !self.config.shuffle_agents {
            cands.sort_unstable();
        }
        if guarantees {
            self.shuffle_agents(&mut cands);
            for &a in &cands {
                self.walk_agent(a, &mut q, true);
            }
        }
        self.shuffle_agents(&mut cands);
        for &a in &cands {
            self.walk_agent(a, &mut q, false);
        }
        self.scratch.candidates = cands;
        self.collect_offers(guarantees)
    }

    /// Forgets which agents are known to yield nothing, so the next cycle
    /// walks every agent and every role like Mesos does (filters are still
    /// consulted through their per-agent cover bits). Only useful for
    /// benchmarking the uncached walk; results are identical either way.
    pub fn invalidate_walk_cache(&mut self) {
        self.st.global_epoch += 1;
    }

    fn shuffle_agents(&mut self, cands: &mut [u32]) {
        if self.config.shuffle_agents {
            self.rng.shuffle(cands);
        }
    }

    fn reshuffle_random_sorters(&mut self) {
        use super::sorter::SorterKind::Random;
        if self.config.role_sorter != Random && self.config.framework_sorter != Random {
            return;
        }
        for r in self.st.roles.items.iter_mut().flatten() {
            r.sorter.reshuffle(&mut self.rng);
            r.frameworks.reshuffle(&mut self.rng);
        }
        self.st.role_order_dirty = true;
    }

    fn quota_state(&self) -> QuotaState {
        if self.st.quota_roles.is_empty() {
            return QuotaState::default();
        }
        let mut q = QuotaState {
            enabled: true,
            ..Default::default()
        };
        for &r in &self.st.quota_roles {
            let Some(node) = self.st.roles.get(r) else {
                continue;
            };
            let mut c = node.subtree_reserved.clone();
            c.add(&node.subtree_alloc_unreserved);
            q.required.add(&node.quota.guarantees.minus(&c));
            q.consumed.insert(r, c);
        }
        let (mut alloc, mut unres, mut reserved) =
            (Quantities::new(), Quantities::new(), Quantities::new());
        for &c in self
            .st
            .roles
            .get(ROOT)
            .map(|r| r.children.as_slice())
            .unwrap_or(&[])
        {
            if let Some(n) = self.st.roles.get(c) {
                alloc.add(&n.subtree_alloc);
                unres.add(&n.subtree_alloc_unreserved);
                reserved.add(&n.subtree_reserved);
            }
        }
        let allocated_reserved = alloc.minus(&unres);
        let unallocated_reserved = reserved.minus(&allocated_reserved);
        q.available = self.st.total.minus(&alloc).minus(&unallocated_reserved);
        q
    }

    fn top_level(&self, mut role: u32) -> u32 {
        while let Some(p) = self
            .st
            .roles
            .get(role)
            .and_then(|r| r.parent)
            .filter(|p| *p != ROOT)
        {
            role = p;
        }
        role
    }

    fn allocatable(&self, res: &Resources) -> bool {
        let min = &self.config.min_allocatable_resources;
        !res.is_empty() && (min.is_empty() || min.iter().any(|m| res.contains_quantities(m)))
    }

    fn walk_agent(&mut self, a: u32, q: &mut QuotaState, stage1: bool) {
        if self.st.role_order_dirty {
            self.st.compute_role_order(&mut self.scratch.role_order);
            self.st.role_order_dirty = false;
        }
        let order = std::mem::take(&mut self.scratch.role_order);
        for &role in &order {
            let Some(ag) = self.st.agents.get(a) else {
                break;
            };
            if ag.available.is_empty() {
                break;
            }
            let Some(r) = self.st.roles.get(role) else {
                continue;
            };
            if !self.exhaustive && !r.active_bits.any_not_in(&ag.covered) {
                // Every active pair filters all it could get here.
                if !stage1 && self.role_briefly_filtered(a, role) {
                    self.scratch.deferred.push(a);
                    break;
                }
                continue;
            }
            let top = if q.enabled {
                self.top_level(role)
            } else {
                role
            };
            let quota_cfg = if q.enabled {
                self.st.roles.get(top).map(|t| t.quota.clone())
            } else {
                None
            };
            let quota = quota_cfg.as_ref();
            if stage1 && (top != role || quota.is_none_or(|c| c.guarantees.is_empty())) {
                continue;
            }
            if !q.enabled && !stage1 && !ag.available.has_reservations() {
                // Fast path (no quota, nothing reserved): the whole agent is
                // offered, so move `available` instead of copying it.
                if !self.allocatable(&ag.available) {
                    continue;
                }
                let avail = self
                    .st
                    .agents
                    .get_mut(a)
                    .map(|x| std::mem::take(&mut x.available))
                    .unwrap_or_default();
                match self.pick_pair(a, role, &avail) {
                    Some(p) => {
                        self.record_allocation(a, p, &avail);
                        self.scratch.offers.push((p, a, avail));
                    }
                    None => {
                        if let Some(x) = self.st.agents.get_mut(a) {
                            x.available = avail;
                        }
                        if self.take_blocked(a) {
                            break;
                        }
                    }
                }
                continue;
            }
            let available = ag.available.allocatable_to(&r.name);
            if available.is_empty() || !self.allocatable(&available) {
                continue;
            }
            if !q.enabled && !stage1 {
                // No quota anywhere: the whole allocatable set is offered.
                if let Some(p) = self.pick_pair(a, role, &available) {
                    self.allocate_to(a, p, &available);
                    self.scratch.offers.push((p, a, available));
                } else if self.take_blocked(a) {
                    break;
                }
                continue;
            }
            let zero = Quantities::new();
            let consumed = q.consumed.get(&top).unwrap_or(&zero);
            let quota_res = available.filter(|x| x.reservation.is_none() && is_scalar(x));
            let (mut to_offer, guaranteed) = if stage1 {
                let unsatisfied = quota
                    .map(|c| c.guarantees.minus(consumed))
                    .unwrap_or_default();
                let g = quota_res.shrink_to_quantities(&unsatisfied);
                if g.is_empty() {
                    continue;
                }
                let name = &r.name;
                let mut t =
                    available.filter(|x| x.reservation_role() == Some(&**name) || !is_scalar(x));
                t.add(&g);
                (t, g)
            } else {
                (
                    available.filter(|x| x.reservation.is_some() || !is_scalar(x)),
                    Resources::new(),
                )
            };
            let mut additional = quota_res.minus(&guaranteed);
            if let Some(c) = quota.filter(|c| !c.limits.is_empty()) {
                let bound: Limits = c
                    .limits
                    .minus(consumed)
                    .minus(&guaranteed.scalar_quantities());
                additional = additional.shrink_to_limits(&bound);
            }
            if !q.required.is_empty() && !additional.is_empty() {
                additional = additional.shrink_to_quantities(&q.available.minus(&q.required));
            }
            to_offer.add(&additional);
            if !self.allocatable(&to_offer) {
                continue;
            }
            let Some(p) = self.pick_pair(a, role, &to_offer) else {
                if !stage1 && self.take_blocked(a) {
                    break;
                }
                continue;
            };
            self.allocate_to(a, p, &to_offer);
            self.scratch.offers.push((p, a, to_offer));
            if q.enabled {
                let mut inc = guaranteed.scalar_quantities();
                additional.add_scalar_quantities_to(&mut inc);
                if quota.is_some() {
                    q.consumed.entry(top).or_default().add(&inc);
                }
                q.required.subtract(&guaranteed.scalar_quantities());
                q.available.subtract(&inc);
            }
        }
        self.scratch.role_order = order;
    }

    /// First pair of `role`, in sorter order, not filtering `to_offer` on `a`.
    fn pick_pair(&mut self, a: u32, role: u32, to_offer: &Resources) -> Option<u32> {
        let exhaustive = self.exhaustive;
        let (st, filters, scratch) = (&mut self.st, &self.filters, &mut self.scratch);
        scratch.blocked = false;
        let strict = scratch.strict;
        let ag = st.agents.get(a)?;
        let r = st.roles.get(role)?;
        let mut cover_ref: Option<Resources> = None;
        scratch.to_cover.clear();
        let mut chosen = None;
        for p in r.frameworks.iter() {
            if ag.covered.get(p) && !exhaustive {
                if Self::short_filtered(strict, filters.get(p, a)) {
                    scratch.blocked = true;
                    break;
                }
                continue;
            }
            if let Some(fs) = filters.get(p, a) {
                if exhaustive {
                    if fs.iter().any(|f| f.filters(to_offer)) {
                        continue;
                    }
                    chosen = Some(p);
                    break;
                }
                let cr = cover_ref.get_or_insert_with(|| ag.covers_ref.allocatable_to(&r.name));
                if fs.iter().any(|f| f.resources.contains(cr)) {
                    scratch.to_cover.push(p);
                    if Self::short_filtered(strict, Some(fs)) {
                        scratch.blocked = true;
                        break;
                    }
                    continue;
                }
                if fs.iter().any(|f| f.filters(to_offer)) {
                    if Self::short_filtered(strict, Some(fs)) {
                        scratch.blocked = true;
                        break;
                    }
                    continue;
                }
            }
            chosen = Some(p);
            break;
        }
        if let Some(ag) = st.agents.get_mut(a) {
            for &p in &scratch.to_cover {
                ag.covered.set(p);
            }
        }
        chosen
    }

    /// After a `pick_pair` that chose nothing: true (and the agent deferred)
    /// if a briefly filtered pair ahead blocked it in a strict cycle.
    fn take_blocked(&mut self, a: u32) -> bool {
        if std::mem::take(&mut self.scratch.blocked) {
            self.scratch.deferred.push(a);
            true
        } else {
            false
        }
    }

    /// In a strict cycle, true if an active pair of `role` is briefly
    /// filtered on agent `a`.
    fn role_briefly_filtered(&self, a: u32, role: u32) -> bool {
        let strict = self.scratch.strict;
        strict.is_some()
            && self.st.roles.get(role).is_some_and(|r| {
                r.frameworks
                    .iter()
                    .any(|p| Self::short_filtered(strict, self.filters.get(p, a)))
            })
    }

    fn collect_offers(&mut self, merge: bool) -> Vec<Offer> {
        let mut raw = std::mem::take(&mut self.scratch.offers);
        if merge {
            let mut seen: IntMap<(u32, u32), usize> = IntMap::default();
            let mut merged: Vec<(u32, u32, Resources)> = Vec::with_capacity(raw.len());
            for (p, a, r) in raw.drain(..) {
                match seen.get(&(p, a)) {
                    Some(&i) => merged[i].2.add(&r),
                    None => {
                        seen.insert((p, a), merged.len());
                        merged.push((p, a, r));
                    }
                }
            }
            raw = merged;
        }
        let mut out = Vec::with_capacity(raw.len());
        for (p, a, mut res) in raw.drain(..) {
            let Some(pair) = self.st.pairs.get(p) else {
                continue;
            };
            let (Some(fw), Some(role), Some(ag)) = (
                self.st.frameworks.get(pair.framework),
                self.st.roles.get(pair.role),
                self.st.agents.get(a),
            ) else {
                continue;
            };
            res.allocate_arc(&role.name);
            out.push(Offer {
                framework_id: Arc::clone(&fw.id),
                role: Arc::clone(&role.name),
                agent_id: Arc::clone(&ag.id),
                resources: res,
            });
        }
        self.scratch.offers = raw;
        out
    }
}
