//! Resource bags with exact arithmetic (Mesos `Resources`).
//!
//! A [`Resource`] is a named scalar, range or set value, optionally
//! reserved to a role (statically or dynamically) and optionally tagged
//! with the role it is allocated to. [`Resources`] keeps at most one entry
//! per identity (name, kind, reservation, allocation role) and never stores
//! empty entries, so equality is structural.

use std::collections::BTreeSet;
use std::sync::Arc;

use super::quantities::{Limits, Quantities};
use super::ranges::Ranges;
use super::roles;
use super::scalar::Scalar;

/// How a reservation was made.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ReservationKind {
    /// Configured on the agent command line (`cpus(role):2`).
    Static,
    /// Made at runtime with a RESERVE operation.
    Dynamic {
        /// Principal that made the reservation, if any.
        principal: Option<Arc<str>>,
    },
}

/// A reservation of a resource to a role.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Reservation {
    /// Role the resource is reserved to (never `*`).
    pub role: Arc<str>,
    /// Static or dynamic.
    pub kind: ReservationKind,
}

/// The value of a resource.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Value {
    /// An exact fixed-point scalar (cpus, mem, disk, gpus, ...).
    Scalar(Scalar),
    /// Integer ranges (ports).
    Ranges(Ranges),
    /// A set of strings.
    Set(BTreeSet<String>),
}

impl Value {
    fn is_empty(&self) -> bool {
        match self {
            Value::Scalar(s) => !s.is_positive(),
            Value::Ranges(r) => r.is_empty(),
            Value::Set(s) => s.is_empty(),
        }
    }

    fn same_kind(&self, other: &Value) -> bool {
        std::mem::discriminant(self) == std::mem::discriminant(other)
    }

    fn add(&mut self, other: &Value) {
        match (self, other) {
            (Value::Scalar(a), Value::Scalar(b)) => *a += *b,
            (Value::Ranges(a), Value::Ranges(b)) => a.add(b),
            (Value::Set(a), Value::Set(b)) => a.extend(b.iter().cloned()),
            _ => {}
        }
    }

    fn subtract(&mut self, other: &Value) {
        match (self, other) {
            (Value::Scalar(a), Value::Scalar(b)) => *a = a.saturating_sub_zero(*b),
            (Value::Ranges(a), Value::Ranges(b)) => a.subtract(b),
            (Value::Set(a), Value::Set(b)) => a.retain(|x| !b.contains(x)),
            _ => {}
        }
    }

    fn contains(&self, other: &Value) -> bool {
        match (self, other) {
            (Value::Scalar(a), Value::Scalar(b)) => a >= b,
            (Value::Ranges(a), Value::Ranges(b)) => a.contains(b),
            (Value::Set(a), Value::Set(b)) => b.is_subset(a),
            _ => false,
        }
    }
}

/// One resource entry.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Resource {
    /// Resource name (`cpus`, `mem`, `ports`, ...).
    pub name: Arc<str>,
    /// Amount.
    pub value: Value,
    /// Reservation, or `None` for unreserved (`*`) resources.
    pub reservation: Option<Reservation>,
    /// Role the resource is offered/allocated to, if any.
    pub allocation_role: Option<Arc<str>>,
}

impl Resource {
    /// An unreserved scalar resource.
    pub fn scalar(name: &str, value: Scalar) -> Self {
        Resource {
            name: Arc::from(name),
            value: Value::Scalar(value),
            reservation: None,
            allocation_role: None,
        }
    }

    /// An unreserved range resource.
    pub fn ranges(name: &str, value: Ranges) -> Self {
        Resource {
            name: Arc::from(name),
            value: Value::Ranges(value),
            reservation: None,
            allocation_role: None,
        }
    }

    /// Same identity (everything but the amount).
    fn same_identity(&self, other: &Resource) -> bool {
        (Arc::ptr_eq(&self.name, &other.name) || self.name == other.name)
            && self.value.same_kind(&other.value)
            && self.reservation == other.reservation
            && self.allocation_role == other.allocation_role
    }

    /// The role this resource is reserved to, if reserved.
    pub fn reservation_role(&self) -> Option<&str> {
        self.reservation.as_ref().map(|r| &*r.role)
    }

    /// True if a framework in `role` may be offered this resource.
    pub fn is_allocatable_to(&self, role: &str) -> bool {
        self.reservation_role()
            .is_none_or(|r| roles::can_use_reservation(role, r))
    }
}

/// A bag of resources with exact arithmetic.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Resources {
    items: Vec<Resource>,
}

impl Resources {
    /// An empty bag.
    pub const fn new() -> Self {
        Resources { items: Vec::new() }
    }

    /// Entries of the bag.
    pub fn iter(&self) -> std::slice::Iter<'_, Resource> {
        self.items.iter()
    }

    /// True if the bag holds nothing.
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// Removes everything, keeping the allocation.
    pub fn clear(&mut self) {
        self.items.clear();
    }

    /// Adds one resource.
    pub fn add_resource(&mut self, r: &Resource) {
        if r.value.is_empty() {
            return;
        }
        match self.items.iter_mut().find(|x| x.same_identity(r)) {
            Some(x) => x.value.add(&r.value),
            None => self.items.push(r.clone()),
        }
    }

    /// Removes one resource (amounts not present are ignored).
    pub fn subtract_resource(&mut self, r: &Resource) {
        if let Some(i) = self.items.iter().position(|x| x.same_identity(r)) {
            self.items[i].value.subtract(&r.value);
            if self.items[i].value.is_empty() {
                self.items.swap_remove(i);
            }
        }
    }

    /// True if `r` is fully contained.
    pub fn contains_resource(&self, r: &Resource) -> bool {
        r.value.is_empty()
            || self
                .items
                .iter()
                .any(|x| x.same_identity(r) && x.value.contains(&r.value))
    }

    /// `self += other`.
    pub fn add(&mut self, other: &Resources) {
        for r in &other.items {
            self.add_resource(r);
        }
    }

    /// `self -= other` (amounts not present are ignored).
    pub fn subtract(&mut self, other: &Resources) {
        for r in &other.items {
            self.subtract_resource(r);
        }
    }

    /// `self - other` as a new bag.
    pub fn minus(&self, other: &Resources) -> Resources {
        let mut out = self.clone();
        out.subtract(other);
        out
    }

    /// `self + other` as a new bag.
    pub fn plus(&self, other: &Resources) -> Resources {
        let mut out = self.clone();
        out.add(other);
        out
    }

    /// True if every entry of `other` is contained in `self`.
    pub fn contains(&self, other: &Resources) -> bool {
        other.items.iter().all(|r| self.contains_resource(r))
    }

    /// Entries matching `pred`.
    pub fn filter(&self, mut pred: impl FnMut(&Resource) -> bool) -> Resources {
        Resources {
            items: self.items.iter().filter(|r| pred(r)).cloned().collect(),
        }
    }

    /// Entries a framework in `role` may be offered: unreserved ones and
    /// those reserved to `role` or one of its ancestors.
    pub fn allocatable_to(&self, role: &str) -> Resources {
        if self.items.iter().all(|r| r.reservation.is_none()) {
            return self.clone();
        }
        self.filter(|r| r.is_allocatable_to(role))
    }

    /// True if some entry is reserved.
    pub fn has_reservations(&self) -> bool {
        self.items.iter().any(|r| r.reservation.is_some())
    }

    /// Adds scalar amounts per name to `all`, and those of unreserved
    /// entries also to `unreserved`, in one pass without cloning.
    pub fn add_scalar_split(&self, all: &mut Quantities, unreserved: &mut Quantities) {
        for r in &self.items {
            if let Value::Scalar(s) = r.value {
                all.add_arc(&r.name, s);
                if r.reservation.is_none() {
                    unreserved.add_arc(&r.name, s);
                }
            }
        }
    }

    /// Unreserved entries.
    pub fn unreserved(&self) -> Resources {
        self.filter(|r| r.reservation.is_none())
    }

    /// Reserved entries.
    pub fn reserved(&self) -> Resources {
        self.filter(|r| r.reservation.is_some())
    }

    /// Tags every entry as allocated to `role`.
    pub fn allocate(&mut self, role: &str) {
        let role: Arc<str> = Arc::from(role);
        self.retag(Some(role));
    }

    /// Removes allocation tags.
    pub fn unallocate(&mut self) {
        self.retag(None);
    }

    /// Tags every entry as allocated to an interned `role`.
    pub fn allocate_arc(&mut self, role: &Arc<str>) {
        self.retag(Some(Arc::clone(role)));
    }

    fn retag(&mut self, role: Option<Arc<str>>) {
        let uniform = self
            .items
            .windows(2)
            .all(|w| w[0].allocation_role == w[1].allocation_role);
        if uniform {
            // Identities stay distinct: retag in place.
            for r in &mut self.items {
                r.allocation_role.clone_from(&role);
            }
            return;
        }
        let old = std::mem::take(&mut self.items);
        for mut r in old {
            r.allocation_role.clone_from(&role);
            self.add_resource(&r);
        }
    }

    /// Copy with allocation tags removed.
    pub fn unallocated(&self) -> Resources {
        let mut r = self.clone();
        r.unallocate();
        r
    }

    /// Distinct allocation roles present (untagged entries are ignored).
    pub fn allocation_roles(&self) -> BTreeSet<Arc<str>> {
        self.items
            .iter()
            .filter_map(|r| r.allocation_role.clone())
            .collect()
    }

    /// Entries allocated to `role`.
    pub fn allocated_to(&self, role: &str) -> Resources {
        self.filter(|r| r.allocation_role.as_deref() == Some(role))
    }

    /// Sum of scalar amounts per name (reservations and tags ignored).
    pub fn scalar_quantities(&self) -> Quantities {
        let mut q = Quantities::new();
        self.add_scalar_quantities_to(&mut q);
        q
    }

    /// Adds the scalar amounts per name to `q` without allocating a new map.
    pub fn add_scalar_quantities_to(&self, q: &mut Quantities) {
        for r in &self.items {
            if let Value::Scalar(s) = r.value {
                q.add_arc(&r.name, s);
            }
        }
    }

    /// Subtracts the scalar amounts per name from `q`.
    pub fn sub_scalar_quantities_from(&self, q: &mut Quantities) {
        for r in &self.items {
            if let Value::Scalar(s) = r.value {
                q.add_arc(&r.name, -s);
            }
        }
    }

    /// Total scalar amount of `name` across all entries.
    pub fn scalar(&self, name: &str) -> Scalar {
        self.items
            .iter()
            .filter(|r| &*r.name == name)
            .filter_map(|r| match r.value {
                Value::Scalar(s) => Some(s),
                _ => None,
            })
            .sum()
    }

    /// True if, for every name in `q`, the summed scalar amount is at least
    /// the quantity (Mesos `Resources::contains(ResourceQuantities)`).
    pub fn contains_quantities(&self, q: &Quantities) -> bool {
        q.iter().all(|(n, v)| self.scalar(n) >= v)
    }

    /// Keeps at most `target` of each scalar name; names absent from
    /// `target` are dropped (Mesos `shrinkResources(…, ResourceQuantities)`).
    pub fn shrink_to_quantities(&self, target: &Quantities) -> Resources {
        let mut budget = target.clone();
        let mut out = Resources::new();
        for r in &self.items {
            let Value::Scalar(s) = r.value else { continue };
            let take = s.min(budget.get(&r.name));
            if take.is_positive() {
                budget.add_arc(&r.name, -take);
                let mut c = r.clone();
                c.value = Value::Scalar(take);
                out.add_resource(&c);
            }
        }
        out
    }

    /// Keeps at most `limits` of each limited scalar name; unlimited names are
    /// kept whole (Mesos `shrinkResources(…, ResourceLimits)`).
    pub fn shrink_to_limits(&self, limits: &Limits) -> Resources {
        if limits.is_empty() {
            return self.clone();
        }
        let mut budget = limits.clone();
        let mut out = Resources::new();
        for r in &self.items {
            match (&r.value, budget.get(&r.name)) {
                (_, None) => out.add_resource(r),
                (Value::Scalar(s), Some(b)) => {
                    let take = (*s).min(b);
                    if take.is_positive() {
                        budget.set(&r.name, b - take);
                        let mut c = r.clone();
                        c.value = Value::Scalar(take);
                        out.add_resource(&c);
                    }
                }
                _ => {}
            }
        }
        out
    }
}

impl FromIterator<Resource> for Resources {
    fn from_iter<I: IntoIterator<Item = Resource>>(iter: I) -> Self {
        let mut r = Resources::new();
        for x in iter {
            r.add_resource(&x);
        }
        r
    }
}
