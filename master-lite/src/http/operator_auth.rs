//! Authorization of master operator calls (Mesos `src/master/http.cpp`): actions need their
//! ACL (403 otherwise) and queries show only what the principal may see.
//!
//! | call | ACL (object) |
//! |---|---|
//! | TEARDOWN | `teardown_frameworks` (the framework's principal) |
//! | MARK_AGENT_GONE, DRAIN_AGENT, (DE/RE)ACTIVATE_AGENT | `mark_agents_gone`, `drain_agents`, `deactivate_agents`, `reactivate_agents` (ANY) |
//! | UPDATE_WEIGHTS | `update_weights` (each role) |
//! | UPDATE_QUOTA, SET_QUOTA, REMOVE_QUOTA | `update_quotas` (each role) |
//! | RESERVE_RESOURCES / UNRESERVE_RESOURCES | `reserve_resources` (role) / `unreserve_resources` (reserver principal) |
//! | GET_FLAGS, GET_METRICS | `view_flags`, `get_endpoints` (`/metrics/snapshot`) |
//! | GET_MAINTENANCE_SCHEDULE, GET_MAINTENANCE_STATUS | `get_maintenance_schedules`, `get_maintenance_statuses` (ANY) |
//! | GET_STATE, GET_FRAMEWORKS, GET_TASKS, GET_EXECUTORS, SUBSCRIBE | filtered by `view_frameworks`, `view_tasks`, `view_executors` (users) |
//! | GET_QUOTA | filtered by `get_quotas` (role) |
//! | GET_WEIGHTS, GET_ROLES | filtered by `view_roles` (role) |

use std::collections::HashMap;

use meseta_api::master::{
    Call, CallType, GetExecutors, GetFrameworks, GetRoles, GetState, GetTasks, GetWeights,
    QuotaStatus,
};
use meseta_api::Resource;
use meseta_auth::{Action, HttpAuth, Principal};

use super::authz::{executor_user, require};
use super::HttpError;
use crate::master::Master;

/// What an action call needs, checked before it runs.
pub fn authorize_call(
    auth: &HttpAuth,
    who: Option<&Principal>,
    m: &Master,
    call: &Call,
) -> Result<(), HttpError> {
    if auth.authorizer().is_none() {
        return Ok(());
    }
    let need = |action, object: Option<&str>| require(auth, who, action, object);
    match call.r#type {
        CallType::GetFlags => need(Action::ViewFlags, None),
        CallType::GetMetrics => need(Action::GetEndpoint, Some("/metrics/snapshot")),
        CallType::MarkAgentGone => need(Action::MarkAgentGone, None),
        CallType::DrainAgent => need(Action::DrainAgent, None),
        CallType::DeactivateAgent => need(Action::DeactivateAgent, None),
        CallType::ReactivateAgent => need(Action::ReactivateAgent, None),
        CallType::GetMaintenanceSchedule => need(Action::GetMaintenanceSchedule, None),
        CallType::GetMaintenanceStatus => need(Action::GetMaintenanceStatus, None),
        CallType::Teardown => {
            let id = call
                .teardown
                .as_ref()
                .map(|t| t.framework_id.value.as_str());
            match id.and_then(|id| m.frameworks.get(id)) {
                // An unknown framework is a 400 from the handler, as in Mesos.
                None => Ok(()),
                // Mesos: the framework's principal, or ANY when it has none.
                Some(f) => need(Action::TeardownFramework, f.info.principal.as_deref()),
            }
        }
        CallType::UpdateWeights => {
            let mut roles = call
                .update_weights
                .iter()
                .flat_map(|u| &u.weight_infos)
                .filter_map(|w| w.role.as_deref());
            roles.try_for_each(|r| need(Action::UpdateWeight, Some(r)))
        }
        CallType::UpdateQuota => {
            let mut configs = call.update_quota.iter().flat_map(|u| &u.quota_configs);
            configs.try_for_each(|c| need(Action::UpdateQuota, Some(&c.role)))
        }
        CallType::SetQuota => {
            let role = call
                .set_quota
                .as_ref()
                .and_then(|q| q.quota_request.role.as_deref());
            need(Action::UpdateQuota, Some(role.unwrap_or_default()))
        }
        CallType::RemoveQuota => {
            let role = call.remove_quota.as_ref().map(|q| q.role.as_str());
            need(Action::UpdateQuota, Some(role.unwrap_or_default()))
        }
        CallType::ReserveResources => {
            let res = call.reserve_resources.iter().flat_map(|r| &r.resources);
            res.map(reservation)
                .try_for_each(|(role, _)| need(Action::ReserveResources, Some(role)))
        }
        CallType::UnreserveResources => {
            let res = call.unreserve_resources.iter().flat_map(|r| &r.resources);
            res.map(reservation)
                .try_for_each(|(_, p)| need(Action::UnreserveResources, Some(p)))
        }
        _ => Ok(()),
    }
}

/// The role and principal of a resource's (last) reservation, refined format first.
pub(super) fn reservation(r: &Resource) -> (&str, &str) {
    match r.reservations.last().or(r.reservation.as_ref()) {
        Some(res) => (
            res.role
                .as_deref()
                .or(r.role.as_deref())
                .unwrap_or_default(),
            res.principal.as_deref().unwrap_or_default(),
        ),
        None => (r.role.as_deref().unwrap_or("*"), ""),
    }
}

/// Frameworks' users by id (active and completed), for task and executor filters.
fn framework_users(m: &Master) -> HashMap<&str, &str> {
    m.frameworks
        .values()
        .chain(m.completed_frameworks.iter())
        .map(|f| (f.id.as_str(), f.info.user.as_str()))
        .collect()
}

/// Filters a GET_STATE (also the SUBSCRIBE snapshot).
pub fn filter_state(auth: &HttpAuth, who: Option<&Principal>, m: &Master, s: &mut GetState) {
    if let Some(f) = s.get_frameworks.as_mut() {
        filter_frameworks(auth, who, f);
    }
    if let Some(t) = s.get_tasks.as_mut() {
        filter_tasks(auth, who, m, t);
    }
    if let Some(e) = s.get_executors.as_mut() {
        filter_executors(auth, who, m, e);
    }
}

/// `view_frameworks` on GET_FRAMEWORKS.
pub fn filter_frameworks(auth: &HttpAuth, who: Option<&Principal>, f: &mut GetFrameworks) {
    if auth.authorizer().is_none() {
        return;
    }
    let can = |fw: &meseta_api::master::Framework| {
        auth.approved(who, Action::ViewFramework, Some(&fw.framework_info.user))
    };
    f.frameworks.retain(can);
    f.completed_frameworks.retain(can);
    f.recovered_frameworks
        .retain(|fw| auth.approved(who, Action::ViewFramework, Some(&fw.user)));
}

/// `view_tasks` on GET_TASKS: the task's user, else its framework's.
pub fn filter_tasks(auth: &HttpAuth, who: Option<&Principal>, m: &Master, t: &mut GetTasks) {
    if auth.authorizer().is_none() {
        return;
    }
    let users = framework_users(m);
    let can = |task: &meseta_api::Task| {
        let fw_user = users.get(task.framework_id.value.as_str()).copied();
        let user = task.user.as_deref().or(fw_user).unwrap_or_default();
        auth.approved(who, Action::ViewTask, Some(user))
    };
    for list in [
        &mut t.pending_tasks,
        &mut t.tasks,
        &mut t.unreachable_tasks,
        &mut t.completed_tasks,
        &mut t.orphan_tasks,
    ] {
        list.retain(can);
    }
}

/// `view_executors` on GET_EXECUTORS.
pub fn filter_executors(
    auth: &HttpAuth,
    who: Option<&Principal>,
    m: &Master,
    e: &mut GetExecutors,
) {
    if auth.authorizer().is_none() {
        return;
    }
    let users = framework_users(m);
    e.executors.retain(|ex| {
        let fw = ex.executor_info.framework_id.as_ref();
        let fw_user = fw
            .and_then(|f| users.get(f.value.as_str()).copied())
            .unwrap_or_default();
        let user = executor_user(&ex.executor_info, fw_user);
        auth.approved(who, Action::ViewExecutor, Some(user))
    });
}

/// `get_quotas` on GET_QUOTA.
pub fn filter_quota(auth: &HttpAuth, who: Option<&Principal>, q: &mut QuotaStatus) {
    q.configs
        .retain(|c| auth.approved(who, Action::GetQuota, Some(&c.role)));
    q.infos.retain(|i| {
        let role = i.role.as_deref().unwrap_or_default();
        auth.approved(who, Action::GetQuota, Some(role))
    });
}

/// `view_roles` on GET_WEIGHTS and GET_ROLES.
pub fn filter_roles(
    auth: &HttpAuth,
    who: Option<&Principal>,
    weights: Option<&mut GetWeights>,
    roles: Option<&mut GetRoles>,
) {
    let can = |role: &str| auth.approved(who, Action::ViewRole, Some(role));
    if let Some(w) = weights {
        w.weight_infos
            .retain(|i| can(i.role.as_deref().unwrap_or_default()));
    }
    if let Some(r) = roles {
        r.roles.retain(|role| can(&role.name));
    }
}
