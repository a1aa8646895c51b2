//! Authentication and authorization of the agent's endpoints, as Mesos's
//! `src/slave/slave.cpp` routes and `src/slave/http.cpp` handlers do.
//!
//! Realms: `/state`, `/flags`, `/containers`, `/monitor/statistics`, `/metrics/snapshot` and
//! `/files/*` are read-only (`mesos-agent-readonly`); the operator API `/api/v1` is read-write
//! (`mesos-agent-readwrite`); `/health` and `/version` are open. `/api/v1/executor` is the
//! executor realm, authenticated by the executor-token code, not here.
//!
//! ACLs: `/files/*`, READ_FILE and LIST_FILES need `access_sandboxes` for the user of the
//! sandbox's executor (its command's user, else its framework's); `/flags` and GET_FLAGS need
//! `view_flags`; `/containers`, `/monitor/statistics` and `/metrics/snapshot` need
//! `get_endpoints`; `/state` shows only the frameworks and executors `view_frameworks` and
//! `view_executors` allow.

use std::path::{Component, Path, PathBuf};

use meseta_auth::{Action, EndpointClass, Principal};
use serde_json::Value as Json;

use super::HttpError;
use crate::daemon::Agent;

/// The realm class of a routed path.
pub fn class(path: &str) -> EndpointClass {
    match path {
        "/health" | "/version" | "/api/v1/executor" => EndpointClass::Open,
        p if p == "/api/v1" || p.starts_with("/api/v1/") => EndpointClass::ReadWrite,
        _ => EndpointClass::ReadOnly,
    }
}

/// Authenticates a request for `path`.
pub fn authenticate(
    agent: &Agent,
    path: &str,
    headers: &hyper::HeaderMap,
) -> Result<Option<Principal>, HttpError> {
    agent
        .config
        .http_auth
        .authenticate(class(path), headers)
        .map_err(|u| HttpError::Unauthorized(u.realm))
}

/// 403 unless `principal` may do `action` on `object`.
pub fn require(
    agent: &Agent,
    principal: Option<&Principal>,
    action: Action,
    object: Option<&str>,
) -> Result<(), HttpError> {
    if agent.config.http_auth.approved(principal, action, object) {
        return Ok(());
    }
    let who = principal.map_or_else(|| "anonymous".to_owned(), |p| format!("'{p}'"));
    let what = object.map_or_else(String::new, |o| format!(" on '{o}'"));
    Err(HttpError::Forbidden(format!(
        "Principal {who} is not authorized to {}{what}",
        action.key()
    )))
}

/// The authorizable endpoint a routed path is, for `get_endpoints`.
pub fn authorizable_endpoint(path: &str) -> Option<&'static str> {
    match path {
        "/containers" | "/containers.json" => Some("/containers"),
        "/monitor/statistics" | "/monitor/statistics.json" => Some("/monitor/statistics"),
        "/metrics/snapshot" => Some("/metrics/snapshot"),
        _ => None,
    }
}

/// `..` and `.` removed without touching the file system.
fn lexical(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            Component::ParentDir => {
                out.pop();
            }
            Component::CurDir => {}
            other => out.push(other),
        }
    }
    out
}

/// The user whose sandbox `path` is in: `<work_dir>/slaves/<agent>/frameworks/<framework>/
/// executors/<executor>/...` → the executor's command user, else its framework's user.
/// `None` outside any known sandbox (the object is then ANY).
fn sandbox_user(agent: &Agent, path: &Path) -> Option<String> {
    let root = agent.config.work_dir.join("slaves");
    let rest = path.strip_prefix(&root).ok()?;
    let parts: Vec<&str> = rest.iter().filter_map(|c| c.to_str()).collect();
    let (fw_id, ex_id) = match parts.as_slice() {
        [_, "frameworks", fw, "executors", ex, ..] => (*fw, Some(*ex)),
        [_, "frameworks", fw, ..] => (*fw, None),
        _ => return None,
    };
    let state = agent.state();
    let fw = state.frameworks.get(fw_id).or_else(|| {
        state
            .completed_frameworks
            .iter()
            .find(|f| f.info.id.as_ref().is_some_and(|i| i.value == fw_id))
    })?;
    let executor_user = ex_id.and_then(|ex| {
        let e = fw.executors.get(ex).or_else(|| {
            fw.completed_executors
                .iter()
                .find(|e| e.info.executor_id.value == ex)
        })?;
        e.info.command.as_ref()?.user.clone()
    });
    Some(executor_user.unwrap_or_else(|| fw.info.user.clone()))
}

/// `access_sandboxes` for a requested `/files` path, checked on both its lexical form and
/// where its symlinks lead, so a link into another framework's sandbox is not a way around.
pub async fn authorize_sandbox(
    agent: &Agent,
    principal: Option<&Principal>,
    requested: &str,
) -> Result<(), HttpError> {
    if agent.config.http_auth.authorizer().is_none() {
        return Ok(());
    }
    let lexical = lexical(Path::new(requested));
    let probe = lexical.clone();
    // canonicalize touches the file system: keep it off the runtime's threads.
    let real = tokio::task::spawn_blocking(move || probe.canonicalize().ok())
        .await
        .ok()
        .flatten();
    for p in std::iter::once(&lexical).chain(real.as_ref()) {
        let user = sandbox_user(agent, p);
        require(agent, principal, Action::AccessSandbox, user.as_deref())?;
    }
    Ok(())
}

/// Removes from the `/state` document the frameworks and executors `principal` may not see.
pub fn filter_state(agent: &Agent, principal: Option<&Principal>, doc: &mut Json) {
    let auth = &agent.config.http_auth;
    if auth.authorizer().is_none() {
        return;
    }
    // (framework id, executor id) → executor command user, from the live state.
    let users: std::collections::HashMap<(String, String), String> = {
        let state = agent.state();
        state
            .frameworks
            .iter()
            .flat_map(|(fw, f)| {
                f.executors.values().filter_map(move |e| {
                    let user = e.info.command.as_ref()?.user.clone()?;
                    Some(((fw.clone(), e.info.executor_id.value.clone()), user))
                })
            })
            .collect()
    };
    for key in ["frameworks", "completed_frameworks"] {
        let Some(list) = doc.get_mut(key).and_then(Json::as_array_mut) else {
            continue;
        };
        list.retain(|f| {
            let user = f["user"].as_str().unwrap_or_default();
            auth.approved(principal, Action::ViewFramework, Some(user))
        });
        for f in list.iter_mut() {
            let fw_id = f["id"].as_str().unwrap_or_default().to_owned();
            let fw_user = f["user"].as_str().unwrap_or_default().to_owned();
            for ex_key in ["executors", "completed_executors"] {
                if let Some(e) = f.get_mut(ex_key).and_then(Json::as_array_mut) {
                    e.retain(|e| {
                        let ex_id = e["id"].as_str().unwrap_or_default().to_owned();
                        let user = users.get(&(fw_id.clone(), ex_id)).unwrap_or(&fw_user);
                        auth.approved(principal, Action::ViewExecutor, Some(user))
                    });
                }
            }
        }
    }
}

/// Filters an operator GET_STATE (and so GET_FRAMEWORKS, GET_EXECUTORS, GET_TASKS) by
/// `view_frameworks`, `view_executors` and `view_tasks`, each on its own, as Mesos does.
pub fn filter_get_state(
    agent: &Agent,
    principal: Option<&Principal>,
    s: &mut meseta_api::agent::GetState,
) {
    let auth = &agent.config.http_auth;
    if auth.authorizer().is_none() {
        return;
    }
    let users: std::collections::HashMap<String, String> = {
        let state = agent.state();
        state
            .frameworks
            .values()
            .chain(state.completed_frameworks.iter())
            .filter_map(|f| Some((f.info.id.as_ref()?.value.clone(), f.info.user.clone())))
            .collect()
    };
    let fw_user = |id: Option<&meseta_api::FrameworkId>| {
        id.and_then(|i| users.get(&i.value))
            .map_or("", String::as_str)
    };
    let can = |action, user: &str| auth.approved(principal, action, Some(user));
    if let Some(f) = s.get_frameworks.as_mut() {
        for list in [&mut f.frameworks, &mut f.completed_frameworks] {
            list.retain(|f| can(Action::ViewFramework, &f.framework_info.user));
        }
    }
    if let Some(e) = s.get_executors.as_mut() {
        for list in [&mut e.executors, &mut e.completed_executors] {
            list.retain(|e| {
                let info = &e.executor_info;
                let command_user = info.command.as_ref().and_then(|c| c.user.as_deref());
                let user = command_user.unwrap_or(fw_user(info.framework_id.as_ref()));
                can(Action::ViewExecutor, user)
            });
        }
    }
    if let Some(t) = s.get_tasks.as_mut() {
        for list in [
            &mut t.pending_tasks,
            &mut t.queued_tasks,
            &mut t.launched_tasks,
            &mut t.terminated_tasks,
            &mut t.completed_tasks,
        ] {
            list.retain(|t| {
                let user = t.user.as_deref().unwrap_or(fw_user(Some(&t.framework_id)));
                can(Action::ViewTask, user)
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn realms_and_lexical_paths() {
        assert_eq!(class("/health"), EndpointClass::Open);
        assert_eq!(class("/state"), EndpointClass::ReadOnly);
        assert_eq!(class("/files/read"), EndpointClass::ReadOnly);
        assert_eq!(class("/api/v1"), EndpointClass::ReadWrite);
        assert_eq!(class("/api/v1/executor"), EndpointClass::Open);
        assert_eq!(
            lexical(Path::new(
                "/w/slaves/a/frameworks/f1/executors/e/../../../f2/./x"
            )),
            Path::new("/w/slaves/a/frameworks/f2/x")
        );
    }
}
