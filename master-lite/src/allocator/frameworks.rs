//! Framework lifecycle: add/remove, activate/deactivate, and per-role
//! SUPPRESS / REVIVE (Mesos `addFramework`, `suppressOffers`, `reviveOffers`).

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use super::errors::AllocatorError;
use super::fasthash::IntSet;
use super::hierarchical::Allocator;
use super::quantities::Quantities;
use super::roles;
use super::state::{Framework, Pair};

impl Allocator {
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

    pub(crate) fn new_framework(&mut self, id: &str, placeholder: bool) -> u32 {
        let id: Arc<str> = Arc::from(id);
        let f = self.st.frameworks.insert(Framework {
            id: Arc::clone(&id),
            roles: BTreeMap::new(),
            suppressed: BTreeSet::new(),
            retired: BTreeSet::new(),
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

    pub(crate) fn framework(&self, id: &str) -> Result<u32, AllocatorError> {
        self.st
            .framework_index
            .get(id)
            .copied()
            .ok_or_else(|| AllocatorError::UnknownFramework(id.to_string()))
    }

    pub(crate) fn agent(&self, id: &str) -> Result<u32, AllocatorError> {
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

    pub(crate) fn clear_pair_filters(&mut self, p: u32) {
        let st = &mut self.st;
        self.filters.remove_pair(p, |a| {
            if let Some(ag) = st.agents.get_mut(a) {
                ag.covered.clear(p);
            }
            st.mark_dirty(a);
        });
    }

    /// UPDATE_FRAMEWORK: changes the subscribed roles and suppressed roles.
    /// Roles that are left stop receiving offers at once; their pair is
    /// dropped when its last allocation is recovered (Mesos keeps tracking
    /// such allocations too).
    pub fn update_framework(
        &mut self,
        id: &str,
        roles_: &[&str],
        suppressed: &[&str],
    ) -> Result<(), AllocatorError> {
        let roles_: Vec<&str> = if roles_.is_empty() {
            vec![roles::DEFAULT_ROLE]
        } else {
            roles_.to_vec()
        };
        roles::validate_all(roles_.iter().copied())?;
        roles::validate_all(suppressed.iter().copied())?;
        let fw = self.framework(id)?;
        let old: Vec<(Arc<str>, u32)> = self
            .st
            .frameworks
            .get(fw)
            .map(|f| f.roles.iter().map(|(r, p)| (Arc::clone(r), *p)).collect())
            .unwrap_or_default();
        for r in &roles_ {
            self.ensure_pair(fw, r);
        }
        if let Some(f) = self.st.frameworks.get_mut(fw) {
            f.suppressed = suppressed.iter().map(|r| Arc::from(*r)).collect();
            f.retired.retain(|r| !roles_.contains(&&**r));
        }
        for (role, p) in old {
            if !roles_.contains(&&*role) {
                if let Some(f) = self.st.frameworks.get_mut(fw) {
                    f.retired.insert(role);
                }
                self.retire_if_idle(fw, p);
            }
        }
        self.refresh_framework(fw);
        Ok(())
    }

    /// Drops pair `p` of `fw` if its role was left and nothing is allocated.
    pub(crate) fn retire_if_idle(&mut self, fw: u32, p: u32) {
        let Some(pair) = self.st.pairs.get(p) else {
            return;
        };
        let Some(role) = self.st.roles.get(pair.role).map(|r| Arc::clone(&r.name)) else {
            return;
        };
        let retired = self
            .st
            .frameworks
            .get(fw)
            .is_some_and(|f| f.retired.contains(&role));
        if !retired || !pair.agents.is_empty() {
            self.st.refresh_pair_active(p);
            return;
        }
        self.remove_pair(p);
        if let Some(f) = self.st.frameworks.get_mut(fw) {
            f.roles.remove(&role);
            f.retired.remove(&role);
        }
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
}
