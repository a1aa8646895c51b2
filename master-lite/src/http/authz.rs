//! Authentication of every request and the master's authorization helpers.
//!
//! Realms follow the routes of Mesos's `src/master/master.cpp`: `/api/v1/scheduler` is the
//! framework realm (`--authenticate_http_frameworks`); the operator API `/api/v1`, `/quota`
//! and `/weights` are read-write; `/state`, `/flags`, `/frameworks`, `/slaves`, `/tasks`,
//! `/roles`, `/state-summary` and `/metrics/snapshot` are read-only; `/health`, `/version`
//! and `/redirect` are never authenticated. The agent channel is not an HTTP realm in Mesos
//! (agents authenticate with `--authenticate_agents`, which Meseta does not have).
//!
//! The authenticated [`Principal`] travels in the request's extensions. Frameworks are
//! authorized as their `FrameworkInfo.principal`, as Mesos's framework object approvers do.

use http::{Request, StatusCode};
use meseta_api::{ExecutorInfo, FrameworkInfo, TaskInfo};
use meseta_auth::{Action, EndpointClass, HttpAuth, Principal};
use serde_json::Value as Json;

use super::{Ctx, HttpError, Route};

/// The realm class of a route.
pub fn class(route: Option<Route>) -> EndpointClass {
    match route {
        Some(Route::Scheduler) => EndpointClass::Framework,
        Some(
            Route::Operator | Route::Weights | Route::Quota | Route::Teardown | Route::UiAction,
        ) => EndpointClass::ReadWrite,
        Some(
            Route::State
            | Route::Metrics
            | Route::Prometheus
            | Route::Flags
            | Route::Frameworks
            | Route::Slaves
            | Route::Tasks
            | Route::Roles
            | Route::StateSummary
            | Route::Ui,
        ) => EndpointClass::ReadOnly,
        Some(Route::Agent | Route::Version | Route::Health | Route::Redirect | Route::UiAsset)
        | None => EndpointClass::Open,
    }
}

/// Authenticates `req` for its route; the principal, if any, goes into its extensions.
pub fn authenticate<B>(
    route: Option<Route>,
    mut req: Request<B>,
    ctx: &Ctx,
) -> Result<Request<B>, HttpError> {
    match ctx.auth.authenticate(class(route), req.headers()) {
        Ok(Some(p)) => {
            req.extensions_mut().insert(p);
            Ok(req)
        }
        Ok(None) => Ok(req),
        Err(u) => {
            let mut e = HttpError::new(StatusCode::UNAUTHORIZED, "");
            e.challenge = Some(u.challenge());
            Err(e)
        }
    }
}

/// The authenticated principal of a request.
pub fn principal(ext: &http::Extensions) -> Option<&Principal> {
    ext.get::<Principal>()
}

/// 403 unless `principal` may do `action` on `object`.
pub fn require(
    auth: &HttpAuth,
    principal: Option<&Principal>,
    action: Action,
    object: Option<&str>,
) -> Result<(), HttpError> {
    if auth.approved(principal, action, object) {
        Ok(())
    } else {
        let who = principal.map_or_else(|| "anonymous".to_owned(), |p| format!("'{p}'"));
        let what = object.map_or_else(String::new, |o| format!(" on '{o}'"));
        Err(HttpError::forbidden(format!(
            "Principal {who} is not authorized to {}{what}",
            action.key()
        )))
    }
}

/// The user a task runs as (Mesos `VIEW_TASK`/`RUN_TASK` object): its command's, its
/// executor's, else the framework's.
pub fn task_user<'a>(task: &'a TaskInfo, framework: &'a FrameworkInfo) -> &'a str {
    task.command
        .as_ref()
        .and_then(|c| c.user.as_deref())
        .or_else(|| {
            task.executor
                .as_ref()
                .and_then(|e| e.command.as_ref())
                .and_then(|c| c.user.as_deref())
        })
        .unwrap_or(&framework.user)
}

/// The user an executor runs as (`VIEW_EXECUTOR` object).
pub fn executor_user<'a>(e: &'a ExecutorInfo, framework_user: &'a str) -> &'a str {
    e.command
        .as_ref()
        .and_then(|c| c.user.as_deref())
        .unwrap_or(framework_user)
}

/// Removes from a `/state`-shaped document what `principal` may not see: frameworks
/// (`view_frameworks`), their tasks (`view_tasks`) and executors (`view_executors`).
pub fn filter_state(auth: &HttpAuth, principal: Option<&Principal>, state: &mut Json) {
    if auth.authorizer().is_none() {
        return;
    }
    let can = |action, user: &str| auth.approved(principal, action, Some(user));
    for key in ["frameworks", "completed_frameworks"] {
        let Some(list) = state.get_mut(key).and_then(Json::as_array_mut) else {
            continue;
        };
        list.retain(|f| {
            can(
                Action::ViewFramework,
                f["user"].as_str().unwrap_or_default(),
            )
        });
        for f in list.iter_mut() {
            let fw_user = f["user"].as_str().unwrap_or_default().to_owned();
            for tasks in ["tasks", "completed_tasks", "unreachable_tasks"] {
                if let Some(t) = f.get_mut(tasks).and_then(Json::as_array_mut) {
                    t.retain(|t| can(Action::ViewTask, t["user"].as_str().unwrap_or(&fw_user)));
                }
            }
            if let Some(e) = f.get_mut("executors").and_then(Json::as_array_mut) {
                e.retain(|e| {
                    let user = e["command"]["user"].as_str().unwrap_or(&fw_user);
                    can(Action::ViewExecutor, user)
                });
            }
        }
    }
}
