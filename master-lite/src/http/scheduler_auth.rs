//! Authentication and authorization of scheduler calls, as Mesos's `Master::Http::scheduler`,
//! `validation::scheduler::call::validate` and the framework object approvers do:
//!
//! * SUBSCRIBE: a `FrameworkInfo.principal` other than the authenticated one is a 400; an unset
//!   one is filled in with the authenticated principal; `register_frameworks` must allow the
//!   principal every role, else the stream carries an ERROR event and closes.
//! * Other calls: the authenticated principal must be the framework's (400).
//! * ACCEPT: each LAUNCH'ed task needs `run_tasks` for its user, checked with the framework's
//!   principal; a refused task gets `TASK_ERROR` / `REASON_TASK_UNAUTHORIZED`.

use meseta_api::scheduler::{Accept, Call, Event};
use meseta_api::{FrameworkInfo, OfferOperationType, TaskInfo};
use meseta_auth::{Action, HttpAuth, Principal};

use super::authz::task_user;
use super::operator_auth::reservation;
use super::HttpError;
use crate::master::Master;

/// Mesos's message for a principal mismatch.
fn mismatch(authenticated: &Principal, declared: &str) -> String {
    format!(
        "Authenticated principal '{authenticated}' does not match principal '{declared}' set in \
         `FrameworkInfo`"
    )
}

/// Checks and completes `FrameworkInfo.principal` of a SUBSCRIBE.
pub fn subscribe_principal(
    call: &mut Call,
    principal: Option<&Principal>,
) -> Result<(), HttpError> {
    let (Some(p), Some(sub)) = (principal, call.subscribe.as_mut()) else {
        return Ok(());
    };
    let info = &mut sub.framework_info;
    match &info.principal {
        Some(declared) if declared != &p.0 => Err(HttpError::bad_request(format!(
            "Failed to validate scheduler::Call: {}",
            mismatch(p, declared)
        ))),
        Some(_) => Ok(()),
        None => {
            tracing::warn!(
                principal = %p,
                "Setting 'principal' in FrameworkInfo because the framework authenticated with \
                 that principal but did not set it in FrameworkInfo"
            );
            info.principal = Some(p.0.clone());
            Ok(())
        }
    }
}

/// The ERROR event for a SUBSCRIBE that `register_frameworks` refuses, if it does.
pub fn register_refusal(auth: &HttpAuth, call: &Call) -> Option<Event> {
    let sub = call.subscribe.as_ref()?;
    let info = &sub.framework_info;
    let roles = info.effective_roles();
    let principal = info.principal.clone().map(Principal);
    if auth.approved_roles(
        principal.as_ref(),
        Action::RegisterFramework,
        roles.iter().map(String::as_str),
    ) {
        return None;
    }
    let id = call
        .framework_id
        .as_ref()
        .map(|f| f.value.as_str())
        .unwrap_or_default();
    Some(Event::error(format!(
        "Not authorized to register framework {id} with roles {{ {} }}",
        roles.join(", ")
    )))
}

/// A non-SUBSCRIBE call must come from the framework's own principal.
pub fn call_principal(
    m: &Master,
    fw: &str,
    principal: Option<&Principal>,
) -> Result<(), HttpError> {
    let (Some(p), Some(f)) = (principal, m.frameworks.get(fw)) else {
        return Ok(());
    };
    let declared = f.info.principal.as_deref().unwrap_or_default();
    if declared == p.0 {
        Ok(())
    } else {
        Err(HttpError::bad_request(mismatch(p, declared)))
    }
}

/// Drops the RESERVE and UNRESERVE operations of an ACCEPT that `reserve_resources` (on each
/// resource's role) or `unreserve_resources` (on its reserver) refuse the framework's
/// principal, as Mesos drops them with a warning; the resources stay in the offer.
pub fn drop_unauthorized_reservations(auth: &HttpAuth, info: &FrameworkInfo, accept: &mut Accept) {
    if auth.authorizer().is_none() {
        return;
    }
    let principal = info.principal.clone().map(Principal);
    let p = principal.as_ref();
    accept.operations.retain(|op| {
        let allowed = match op.r#type {
            Some(OfferOperationType::Reserve) => op
                .reserve
                .iter()
                .flat_map(|r| &r.resources)
                .all(|r| auth.approved(p, Action::ReserveResources, Some(reservation(r).0))),
            Some(OfferOperationType::Unreserve) => op
                .unreserve
                .iter()
                .flat_map(|r| &r.resources)
                .all(|r| auth.approved(p, Action::UnreserveResources, Some(reservation(r).1))),
            _ => true,
        };
        if !allowed {
            tracing::warn!(
                framework_id = ?info.id.as_ref().map(|i| &i.value),
                operation = ?op.r#type,
                "dropping offer operation: not authorized"
            );
        }
        allowed
    });
}

/// Removes the tasks `run_tasks` refuses from an ACCEPT and returns them with Mesos's message.
pub fn unauthorized_tasks(
    auth: &HttpAuth,
    info: &FrameworkInfo,
    accept: &mut Accept,
) -> Vec<(TaskInfo, String)> {
    if auth.authorizer().is_none() {
        return Vec::new();
    }
    let principal = info.principal.clone().map(Principal);
    let fw_id = info
        .id
        .as_ref()
        .map(|i| i.value.as_str())
        .unwrap_or_default();
    let mut refused = Vec::new();
    for op in &mut accept.operations {
        if op.r#type != Some(OfferOperationType::Launch) {
            continue;
        }
        let Some(launch) = op.launch.as_mut() else {
            continue;
        };
        let tasks = std::mem::take(&mut launch.task_infos);
        for t in tasks {
            let user = task_user(&t, info).to_owned();
            if auth.approved(principal.as_ref(), Action::RunTask, Some(&user)) {
                launch.task_infos.push(t);
            } else {
                let msg = format!(
                    "Not authorized to launch task {} of framework {fw_id} under user '{user}'",
                    t.task_id.value
                );
                refused.push((t, msg));
            }
        }
    }
    refused
}
