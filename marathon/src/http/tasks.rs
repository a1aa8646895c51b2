//! Tasks: `/v2/tasks` (`?status=running|staging`, JSON or the `text/plain` listing),
//! `POST /v2/tasks/delete` (`{"ids": [...]}`, `scale`, `wipe`), and an app's tasks
//! (`/v2/apps/{id}/tasks[/{taskId}]` GET and DELETE with `host`, `scale`, `wipe`).
//! A kill with `scale` lowers the app's `instances` in one deployment; without it the
//! task is replaced.

use std::collections::BTreeMap;

use http::Method;
use serde_json::{json, Value};

use super::apps::{text_tasks, wants_text};
use super::render::task_json;
use super::{json, ApiResult, Ctx, Req};
use crate::error::ApiError;
use crate::model::PathId;
use crate::state::{Core, DeploymentResult};

/// Dispatches `/v2/tasks` and `/v2/tasks/delete`.
pub async fn route(req: Req, ctx: &Ctx) -> ApiResult {
    let path = req.path.trim_end_matches('/');
    match (path, &req.method) {
        ("/v2/tasks", &Method::GET) => list(&req, ctx),
        ("/v2/tasks/delete", &Method::POST) => delete_many(&req, ctx).await,
        _ => Err(ApiError::MethodNotAllowed(format!(
            "{} not allowed on {path}",
            req.method
        ))),
    }
}

fn status_filter(req: &Req) -> Vec<String> {
    req.query
        .all("status")
        .into_iter()
        .map(|s| format!("TASK_{}", s.to_uppercase()))
        .collect()
}

fn list(req: &Req, ctx: &Ctx) -> ApiResult {
    let statuses = status_filter(req);
    if wants_text(req) {
        return Ok(text_tasks(ctx.shared.read(|c| text_lines(c, None))));
    }
    let tasks = ctx.shared.read(|c| {
        c.instances
            .values()
            .filter(|i| statuses.is_empty() || statuses.contains(&i.state))
            .map(|i| {
                task_json(
                    c,
                    PathId::parse(&i.app_id).ok().and_then(|id| c.apps.get(&id)),
                    i,
                )
            })
            .collect::<Vec<_>>()
    });
    Ok(json(200, &json!({"tasks": tasks})))
}

fn text_lines(c: &Core, only: Option<&PathId>) -> Vec<String> {
    let mut out = Vec::new();
    for (id, app) in c
        .apps
        .iter()
        .filter(|(id, _)| only.is_none_or(|o| o == *id))
    {
        let hosts: Vec<_> = c.instances_of(&app.id).filter(|i| i.running()).collect();
        for (idx, sp) in app.service_ports().iter().enumerate() {
            let mut line = format!("{}\t{sp}\t", id.safe_path());
            for h in &hosts {
                if let Some(p) = h.ports.get(idx) {
                    line.push_str(&format!("{}:{p}\t", h.host));
                }
            }
            out.push(line);
        }
    }
    out
}

/// `GET /v2/apps/{id}/tasks`.
pub fn app_tasks(id: &PathId, req: &Req, ctx: &Ctx) -> ApiResult {
    if wants_text(req) {
        return Ok(text_tasks(ctx.shared.read(|c| text_lines(c, Some(id)))));
    }
    ctx.shared.read(|c| {
        let app = c
            .apps
            .get(id)
            .ok_or_else(|| ApiError::no_app(&id.to_string()))?;
        let tasks: Vec<Value> = c
            .instances_of(&app.id)
            .map(|i| task_json(c, Some(app), i))
            .collect();
        Ok(json(200, &json!({"tasks": tasks})))
    })
}

/// Kills `ids` (grouped by app); with `scale`, lowers each app's instances accordingly.
fn kill(
    c: &mut Core,
    ids: &[String],
    scale: bool,
    wipe: bool,
    force: bool,
) -> Result<(Vec<Value>, Option<DeploymentResult>), ApiError> {
    let mut by_app: BTreeMap<PathId, Vec<String>> = BTreeMap::new();
    for t in ids {
        if let Some(i) = c.instances.get(t) {
            if let Ok(id) = PathId::parse(&i.app_id) {
                by_app.entry(id).or_default().push(t.clone());
            }
        }
    }
    let mut killed = Vec::new();
    let mut result = None;
    for (app_id, tasks) in by_app {
        let app = c.apps.get(&app_id).cloned();
        for t in &tasks {
            if let Some(i) = c.instances.get(t) {
                killed.push(task_json(c, app.as_ref(), i));
            }
        }
        if scale {
            if let Some(mut app) = app.clone() {
                let killing = tasks
                    .iter()
                    .filter(|t| c.instances.get(*t).is_some_and(|i| i.alive()))
                    .count();
                app.instances = (app.instances - i64::try_from(killing).unwrap_or(0)).max(0);
                result = Some(c.update_app(app, force)?.1);
            }
        }
        for t in &tasks {
            c.kill_instance(t);
            if wipe {
                c.forget_instance(t);
            }
        }
    }
    Ok((killed, result))
}

/// `DELETE /v2/apps/{id}/tasks[/{taskId}]`.
pub async fn kill_app_tasks(id: &PathId, one: Option<String>, req: &Req, ctx: &Ctx) -> ApiResult {
    let scale = req.query.flag("scale");
    let wipe = req.query.flag("wipe");
    let force = req.query.flag("force");
    let host = req.query.get("host").map(str::to_owned);
    let single = one.is_some();
    let out = ctx
        .shared
        .mutate(|c| {
            if !c.apps.contains_key(id) {
                return Err(ApiError::no_app(&id.to_string()));
            }
            let ids: Vec<String> = match &one {
                Some(t)
                    if c.instances
                        .get(t)
                        .is_some_and(|i| i.app_id == id.to_string()) =>
                {
                    vec![t.clone()]
                }
                Some(t) => return Err(ApiError::NotFound(format!("Task '{t}' does not exist"))),
                None => c
                    .instances_of(&id.to_string())
                    .filter(|i| host.as_ref().is_none_or(|h| h == "*" || *h == i.host))
                    .map(|i| i.task_id.clone())
                    .collect(),
            };
            kill(c, &ids, scale, wipe, force)
        })
        .await??;
    Ok(match out {
        (_, Some(d)) => json(200, &d.to_json()),
        (tasks, None) if single => json(200, &json!({"task": tasks.into_iter().next()})),
        (tasks, None) => json(200, &json!({"tasks": tasks})),
    })
}

async fn delete_many(req: &Req, ctx: &Ctx) -> ApiResult {
    let body: Value = serde_json::from_slice(&req.body)
        .map_err(|e| ApiError::BadRequest(format!("Invalid JSON: {e}")))?;
    let ids: Vec<String> = body
        .get("ids")
        .and_then(Value::as_array)
        .ok_or_else(|| ApiError::BadRequest("expected {\"ids\": [...]}".into()))?
        .iter()
        .filter_map(|v| v.as_str().map(str::to_owned))
        .collect();
    let (scale, wipe, force) = (
        req.query.flag("scale"),
        req.query.flag("wipe"),
        req.query.flag("force"),
    );
    let (tasks, d) = ctx
        .shared
        .mutate(|c| kill(c, &ids, scale, wipe, force))
        .await??;
    Ok(match d {
        Some(d) => json(200, &d.to_json()),
        None => json(200, &json!({"tasks": tasks})),
    })
}
