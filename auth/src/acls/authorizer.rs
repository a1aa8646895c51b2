//! Mesos's local authorizer (`src/authorizer/local/authorizer.cpp`): the rules of an action are
//! tried in order, the first whose subject and object both *match* the request decides (it
//! grants when both are *allowed*), and `permissive` decides when none matches. An
//! unauthenticated request is the subject `ANY`; an object the caller does not name is `ANY`.
//!
//! Role actions (`register_frameworks`, `reserve_resources`, `update_weights`, `get_quotas`,
//! `update_quotas`, `view_roles`, ...) follow `LocalHierarchicalRoleApprover`: a rule value
//! `a/%` covers every role nested below `a/` (not `a` itself), and a framework must be allowed
//! every role it asks for.

use super::entity::Entity;
use super::{object_kind, Acls, ObjectKind, Rule};

/// The actions Meseta's servers check, each named by its `ACLs` JSON key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Action {
    /// Subscribe a framework with some roles (object: role).
    RegisterFramework,
    /// Launch a task as a user (object: user).
    RunTask,
    /// Tear down a framework (object: the framework's principal).
    TeardownFramework,
    /// Reserve resources for a role (object: role).
    ReserveResources,
    /// Unreserve resources (object: the reservation's principal).
    UnreserveResources,
    /// GET an authorizable endpoint (object: path).
    GetEndpoint,
    /// See a framework (object: its user).
    ViewFramework,
    /// See a task (object: its user).
    ViewTask,
    /// See an executor (object: its user).
    ViewExecutor,
    /// Read a sandbox (object: the executor's or framework's user).
    AccessSandbox,
    /// See a role (object: role).
    ViewRole,
    /// See the flags (object: ANY).
    ViewFlags,
    /// Change a role's weight (object: role).
    UpdateWeight,
    /// See a role's quota (object: role).
    GetQuota,
    /// Change a role's quota (object: role).
    UpdateQuota,
    /// Mark an agent gone (object: ANY).
    MarkAgentGone,
    /// Drain an agent (object: ANY).
    DrainAgent,
    /// Deactivate an agent (object: ANY).
    DeactivateAgent,
    /// Reactivate an agent (object: ANY).
    ReactivateAgent,
    /// Change the maintenance schedule (object: ANY).
    UpdateMaintenanceSchedule,
    /// See the maintenance schedule (object: ANY).
    GetMaintenanceSchedule,
    /// See the maintenance status (object: ANY).
    GetMaintenanceStatus,
}

impl Action {
    /// The `ACLs` JSON key holding this action's rules.
    pub fn key(self) -> &'static str {
        match self {
            Action::RegisterFramework => "register_frameworks",
            Action::RunTask => "run_tasks",
            Action::TeardownFramework => "teardown_frameworks",
            Action::ReserveResources => "reserve_resources",
            Action::UnreserveResources => "unreserve_resources",
            Action::GetEndpoint => "get_endpoints",
            Action::ViewFramework => "view_frameworks",
            Action::ViewTask => "view_tasks",
            Action::ViewExecutor => "view_executors",
            Action::AccessSandbox => "access_sandboxes",
            Action::ViewRole => "view_roles",
            Action::ViewFlags => "view_flags",
            Action::UpdateWeight => "update_weights",
            Action::GetQuota => "get_quotas",
            Action::UpdateQuota => "update_quotas",
            Action::MarkAgentGone => "mark_agents_gone",
            Action::DrainAgent => "drain_agents",
            Action::DeactivateAgent => "deactivate_agents",
            Action::ReactivateAgent => "reactivate_agents",
            Action::UpdateMaintenanceSchedule => "update_maintenance_schedules",
            Action::GetMaintenanceSchedule => "get_maintenance_schedules",
            Action::GetMaintenanceStatus => "get_maintenance_statuses",
        }
    }
}

/// The local authorizer over validated [`Acls`].
#[derive(Debug, Clone)]
pub struct Authorizer {
    acls: Acls,
}

impl Authorizer {
    /// An authorizer for `acls`.
    pub fn new(acls: Acls) -> Self {
        Authorizer { acls }
    }

    /// Whether `subject` (`None`: unauthenticated) may do `action` on `object` (`None`: any
    /// object).
    pub fn approved(&self, subject: Option<&str>, action: Action, object: Option<&str>) -> bool {
        let subject = subject.map_or(Entity::Any, Entity::one);
        let object = object.map_or(Entity::Any, Entity::one);
        let rules = self.acls.rules(action.key());
        if object_kind(action.key()) == Some(ObjectKind::Roles) {
            self.approved_role(rules, &subject, &object)
        } else {
            first_match(rules, &subject, &object).unwrap_or(self.acls.permissive)
        }
    }

    /// `register_frameworks`: every role must be approved; no role at all is `permissive`.
    pub fn approved_roles<'a>(
        &self,
        subject: Option<&str>,
        action: Action,
        roles: impl IntoIterator<Item = &'a str>,
    ) -> bool {
        let mut any = false;
        for role in roles {
            any = true;
            if !self.approved(subject, action, Some(role)) {
                return false;
            }
        }
        any || self.acls.permissive
    }

    fn approved_role(&self, rules: &[Rule], subject: &Entity, object: &Entity) -> bool {
        for rule in split_recursive(rules) {
            let decided = match (&rule.objects, object) {
                (Entity::Some(v), Entity::Some(o)) if is_recursive(v) => {
                    let prefix = &v[0][..v[0].len() - 1];
                    if o.first().is_some_and(|role| role.starts_with(prefix)) {
                        first_match(
                            std::slice::from_ref(&Rule {
                                subjects: rule.subjects.clone(),
                                objects: Entity::Any,
                            }),
                            subject,
                            object,
                        )
                    } else {
                        None
                    }
                }
                (Entity::Some(v), _) if is_recursive(v) => None,
                _ => first_match(std::slice::from_ref(&rule), subject, object),
            };
            if let Some(d) = decided {
                return d;
            }
        }
        self.acls.permissive
    }
}

fn is_recursive(values: &[String]) -> bool {
    values.len() == 1 && values[0].ends_with("/%")
}

/// `createHierarchicalRoleACLs`: a rule naming `a/%` among other roles becomes one rule per
/// recursive value followed by one for the plain values, in place.
fn split_recursive(rules: &[Rule]) -> Vec<Rule> {
    let mut out = Vec::new();
    for rule in rules {
        match &rule.objects {
            Entity::Some(values) => {
                let (recursive, plain): (Vec<&String>, Vec<&String>) =
                    values.iter().partition(|v| v.ends_with("/%"));
                for r in recursive {
                    out.push(Rule {
                        subjects: rule.subjects.clone(),
                        objects: Entity::one(r.clone()),
                    });
                }
                if !plain.is_empty() {
                    out.push(Rule {
                        subjects: rule.subjects.clone(),
                        objects: Entity::Some(plain.into_iter().cloned().collect()),
                    });
                }
            }
            _ => out.push(rule.clone()),
        }
    }
    out
}

/// The decision of the first rule matching both entities, if any.
fn first_match(rules: &[Rule], subject: &Entity, object: &Entity) -> Option<bool> {
    rules
        .iter()
        .find(|r| subject.matches(&r.subjects) && object.matches(&r.objects))
        .map(|r| subject.allowed_by(&r.subjects) && object.allowed_by(&r.objects))
}

#[cfg(test)]
#[path = "authorizer_tests.rs"]
mod tests;
