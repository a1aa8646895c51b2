//! Internal bookkeeping of the allocator: agents, frameworks, framework-role
//! pairs and the role tree, plus the incremental accounting that keeps the
//! sorters' cached shares and the quota aggregates up to date.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

use super::fasthash::{IntMap, IntSet, Slab};
use super::filters::BitSet;
use super::quantities::Quantities;
use super::quota::QuotaConfig;
use super::resources::{Resources, Value};
use super::sorter::{dominant_share, Sorter, SorterKind};

/// Index of the virtual root of the role tree.
pub(crate) const ROOT: u32 = 0;

/// An agent known to the allocator.
#[derive(Debug)]
pub(crate) struct Agent {
    pub id: Arc<str>,
    pub total: Resources,
    pub available: Resources,
    pub allocated: IntMap<u32, Resources>,
    pub attributes: Vec<(String, String)>,
    pub active: bool,
    /// Bit `p` set ⇒ pair `p` has a filter containing `covers_ref`
    /// (restricted to the pair's role), hence every offer we could make.
    pub covered: BitSet,
    /// Upper bound of `available` since `covered` was last reset.
    pub covers_ref: Resources,
    /// Needs a walk in the next cycle regardless of the global epoch.
    pub dirty: bool,
}

/// A framework known to the allocator.
#[derive(Debug)]
pub(crate) struct Framework {
    pub id: Arc<str>,
    pub roles: BTreeMap<Arc<str>, u32>,
    pub suppressed: BTreeSet<Arc<str>>,
    /// Roles the framework left that still hold allocations.
    pub retired: BTreeSet<Arc<str>>,
    pub active: bool,
    /// Created implicitly from an agent's `used` resources.
    pub placeholder: bool,
}

/// One (framework, role) pair: the unit the framework sorters order.
#[derive(Debug)]
pub(crate) struct Pair {
    pub framework: u32,
    pub role: u32,
    pub allocation: Quantities,
    pub agents: IntSet<u32>,
}

/// A node of the role tree.
#[derive(Debug)]
pub(crate) struct Role {
    pub name: Arc<str>,
    pub parent: Option<u32>,
    pub children: Vec<u32>,
    /// Orders children (by subtree share) and this node itself (by own share).
    pub sorter: Sorter,
    /// Orders this role's framework pairs.
    pub frameworks: Sorter,
    pub weight: f64,
    pub quota: QuotaConfig,
    pub own_alloc: Quantities,
    pub subtree_alloc: Quantities,
    pub subtree_alloc_unreserved: Quantities,
    pub subtree_reserved: Quantities,
    pub reservation_refs: u32,
    pub pairs: u32,
    pub active_bits: BitSet,
    pub active_pairs: u32,
    pub subtree_active: u32,
}

/// Everything the allocator tracks, with helpers that keep aggregates in sync.
#[derive(Debug)]
pub(crate) struct State {
    pub agents: Slab<Agent>,
    pub agent_index: HashMap<Arc<str>, u32>,
    pub frameworks: Slab<Framework>,
    pub framework_index: HashMap<Arc<str>, u32>,
    pub pairs: Slab<Pair>,
    pub roles: Slab<Role>,
    pub role_index: HashMap<Arc<str>, u32>,
    pub weights: HashMap<Arc<str>, f64>,
    pub total: Quantities,
    pub excluded: Vec<String>,
    pub role_sorter_kind: SorterKind,
    pub framework_sorter_kind: SorterKind,
    pub shares_stale: bool,
    pub role_order_dirty: bool,
    pub global_epoch: u64,
    pub dirty_agents: Vec<u32>,
    pub quota_roles: BTreeSet<u32>,
}

impl State {
    pub fn new(
        role_sorter: SorterKind,
        framework_sorter: SorterKind,
        excluded: Vec<String>,
    ) -> Self {
        let mut s = State {
            agents: Slab::default(),
            agent_index: HashMap::new(),
            frameworks: Slab::default(),
            framework_index: HashMap::new(),
            pairs: Slab::default(),
            roles: Slab::default(),
            role_index: HashMap::new(),
            weights: HashMap::new(),
            total: Quantities::new(),
            excluded,
            role_sorter_kind: role_sorter,
            framework_sorter_kind: framework_sorter,
            shares_stale: false,
            role_order_dirty: true,
            global_epoch: 1,
            dirty_agents: Vec::new(),
            quota_roles: BTreeSet::new(),
        };
        let root = s.new_role_node(Arc::from(""), None, 1.0);
        debug_assert_eq!(root, ROOT);
        s
    }

    fn new_role_node(&mut self, name: Arc<str>, parent: Option<u32>, weight: f64) -> u32 {
        let idx = self.roles.insert(Role {
            name: Arc::clone(&name),
            parent,
            children: Vec::new(),
            sorter: Sorter::new(self.role_sorter_kind),
            frameworks: Sorter::new(self.framework_sorter_kind),
            weight,
            quota: QuotaConfig::none(),
            own_alloc: Quantities::new(),
            subtree_alloc: Quantities::new(),
            subtree_alloc_unreserved: Quantities::new(),
            subtree_reserved: Quantities::new(),
            reservation_refs: 0,
            pairs: 0,
            active_bits: BitSet::default(),
            active_pairs: 0,
            subtree_active: 0,
        });
        if let Some(r) = self.roles.get_mut(idx) {
            r.sorter.add(idx, weight, 0.0);
        }
        if let Some(p) = parent.and_then(|p| self.roles.get_mut(p)) {
            p.children.push(idx);
            p.sorter.add(idx, weight, 0.0);
        }
        self.role_index.insert(name, idx);
        self.role_order_dirty = true;
        idx
    }

    /// Finds or creates the node for `name` (and its ancestors). The name
    /// must already be validated.
    pub fn ensure_role(&mut self, name: &str) -> u32 {
        if let Some(&i) = self.role_index.get(name) {
            return i;
        }
        let parent = match name.rfind('/') {
            Some(i) => self.ensure_role(&name[..i]),
            None => ROOT,
        };
        let weight = self.weights.get(name).copied().unwrap_or(1.0);
        self.new_role_node(Arc::from(name), Some(parent), weight)
    }

    /// Removes `role` (and then empty ancestors) if nothing refers to it.
    pub fn maybe_gc_role(&mut self, role: u32) {
        let Some(r) = self.roles.get(role) else {
            return;
        };
        if role == ROOT
            || r.pairs > 0
            || !r.children.is_empty()
            || r.reservation_refs > 0
            || !r.quota.is_default()
            || !r.subtree_alloc.is_empty()
        {
            return;
        }
        let name = Arc::clone(&r.name);
        let parent = r.parent;
        self.roles.remove(role);
        self.role_index.remove(&name);
        self.quota_roles.remove(&role);
        if let Some(p) = parent {
            if let Some(pr) = self.roles.get_mut(p) {
                pr.children.retain(|c| *c != role);
                pr.sorter.remove(role);
            }
            self.maybe_gc_role(p);
        }
        self.role_order_dirty = true;
    }

    /// Roles from `role` up to (excluding) the root.
    pub fn role_chain(&self, role: u32) -> Vec<u32> {
        let mut out = Vec::with_capacity(4);
        let mut cur = Some(role);
        while let Some(c) = cur.filter(|c| *c != ROOT) {
            out.push(c);
            cur = self.roles.get(c).and_then(|r| r.parent);
        }
        out
    }

    fn share(&self, q: &Quantities) -> f64 {
        dominant_share(q, &self.total, &self.excluded)
    }

    /// Adds (`sign > 0`) or removes allocated resources of `pair`.
    pub fn track(&mut self, pair: u32, res: &Resources, add: bool) {
        // Apply each scalar entry directly to every aggregate: no temporaries.
        let apply = |q: &mut Quantities, unreserved_only: bool| {
            for r in res.iter() {
                if let Value::Scalar(v) = r.value {
                    if !unreserved_only || r.reservation.is_none() {
                        q.add_arc(&r.name, if add { v } else { -v });
                    }
                }
            }
        };
        let Some(p) = self.pairs.get_mut(pair) else {
            return;
        };
        apply(&mut p.allocation, false);
        let role = p.role;
        let pair_share = dominant_share(&p.allocation, &self.total, &self.excluded);
        if let Some(r) = self.roles.get_mut(role) {
            r.frameworks.update_share(pair, pair_share, add);
            apply(&mut r.own_alloc, false);
            let own_share = dominant_share(&r.own_alloc, &self.total, &self.excluded);
            r.sorter.update_share(role, own_share, add);
        }
        let mut cur = Some(role).filter(|c| *c != ROOT);
        while let Some(node) = cur {
            let Some(r) = self.roles.get_mut(node) else {
                break;
            };
            apply(&mut r.subtree_alloc, false);
            apply(&mut r.subtree_alloc_unreserved, true);
            let parent = r.parent;
            let share = dominant_share(&r.subtree_alloc, &self.total, &self.excluded);
            if let Some(pr) = parent.and_then(|p| self.roles.get_mut(p)) {
                pr.sorter.update_share(node, share, add);
            }
            cur = parent.filter(|c| *c != ROOT);
        }
        self.role_order_dirty = true;
    }

    /// Adds or removes the reservations contained in an agent's `total`.
    pub fn track_reservations(&mut self, total: &Resources, add: bool) {
        for r in total.iter() {
            let Some(role) = r.reservation_role() else {
                continue;
            };
            let idx = self.ensure_role(role);
            let q = Resources::from_iter([r.clone()]).scalar_quantities();
            if let Some(node) = self.roles.get_mut(idx) {
                if add {
                    node.reservation_refs += 1;
                } else {
                    node.reservation_refs = node.reservation_refs.saturating_sub(1);
                }
            }
            for n in self.role_chain(idx) {
                if let Some(node) = self.roles.get_mut(n) {
                    if add {
                        node.subtree_reserved.add(&q);
                    } else {
                        node.subtree_reserved.subtract(&q);
                    }
                }
            }
            if !add {
                self.maybe_gc_role(idx);
            }
        }
    }

    /// Recomputes every cached share (after the cluster total changed).
    pub fn refresh_shares(&mut self) {
        let pair_shares: Vec<(u32, u32, f64)> = self
            .pairs
            .iter()
            .map(|(i, p)| (i, p.role, self.share(&p.allocation)))
            .collect();
        for (i, role, s) in pair_shares {
            if let Some(r) = self.roles.get_mut(role) {
                r.frameworks.update_share(i, s, false);
            }
        }
        let role_shares: Vec<(u32, Option<u32>, f64, f64)> = self
            .roles
            .iter()
            .map(|(i, r)| {
                (
                    i,
                    r.parent,
                    self.share(&r.own_alloc),
                    self.share(&r.subtree_alloc),
                )
            })
            .collect();
        for (i, parent, own, sub) in role_shares {
            if let Some(r) = self.roles.get_mut(i) {
                r.sorter.update_share(i, own, false);
            }
            if let Some(pr) = parent.and_then(|p| self.roles.get_mut(p)) {
                pr.sorter.update_share(i, sub, false);
            }
        }
        self.shares_stale = false;
        self.role_order_dirty = true;
    }

    /// Re-derives whether `pair` takes part in allocation (framework active
    /// and role not suppressed) and updates sorters and activity counts.
    pub fn refresh_pair_active(&mut self, pair: u32) {
        let Some(p) = self.pairs.get(pair) else {
            return;
        };
        let (role, fw) = (p.role, p.framework);
        let Some(f) = self.frameworks.get(fw) else {
            return;
        };
        let Some(r) = self.roles.get(role) else {
            return;
        };
        let want = f.active && !f.suppressed.contains(&r.name) && !f.retired.contains(&r.name);
        let was = r.frameworks.is_active(pair);
        if want == was {
            return;
        }
        if let Some(r) = self.roles.get_mut(role) {
            r.frameworks.set_active(pair, want);
            if want {
                r.active_bits.set(pair);
                r.active_pairs += 1;
            } else {
                r.active_bits.clear(pair);
                r.active_pairs = r.active_pairs.saturating_sub(1);
            }
        }
        for n in self.role_chain(role) {
            if let Some(node) = self.roles.get_mut(n) {
                if want {
                    node.subtree_active += 1;
                } else {
                    node.subtree_active = node.subtree_active.saturating_sub(1);
                }
            }
        }
        if want {
            // New candidates may now accept resources anywhere.
            self.global_epoch += 1;
        }
        self.role_order_dirty = true;
    }

    /// Marks an agent for a walk in the next allocation cycle.
    pub fn mark_dirty(&mut self, agent: u32) {
        if let Some(a) = self.agents.get_mut(agent) {
            if !a.dirty {
                a.dirty = true;
                self.dirty_agents.push(agent);
            }
        }
    }

    /// Called when quota consumption or headroom may have dropped.
    pub fn quota_changed(&mut self) {
        if !self.quota_roles.is_empty() {
            self.global_epoch += 1;
        }
    }

    /// Sets an agent's available resources, keeping the filter-cover cache valid.
    pub fn set_available(&mut self, agent: u32, available: Resources) {
        let Some(a) = self.agents.get_mut(agent) else {
            return;
        };
        if !a.covers_ref.contains(&available) {
            a.covers_ref = available.clone();
            a.covered.clear_all();
        }
        a.available = available;
        self.mark_dirty(agent);
    }

    /// Role order for one agent walk: depth-first over the role tree, each
    /// level in sorter order, emitting roles that have active pairs.
    pub fn compute_role_order(&self, out: &mut Vec<u32>) {
        out.clear();
        let mut stack: Vec<(u32, bool)> = vec![(ROOT, false)];
        while let Some((node, is_self)) = stack.pop() {
            let Some(r) = self.roles.get(node) else {
                continue;
            };
            if is_self {
                if r.active_pairs > 0 {
                    out.push(node);
                }
                continue;
            }
            let start = stack.len();
            for id in r.sorter.iter() {
                if id == node {
                    stack.push((node, true));
                } else if self.roles.get(id).is_some_and(|c| c.subtree_active > 0) {
                    stack.push((id, false));
                }
            }
            stack[start..].reverse();
        }
    }
}
