//! `/v2/apps` (upstream `AppsResource.scala`, `AppTasksResource.scala`,
//! `AppVersionsResource.scala`): list with `id`/`cmd`/`label` filters and embeds, create,
//! show, replace or merge (`PUT`/`PATCH`, `partialUpdate`, `force`, rollback by
//! `{"version"}`), delete, restart, an app's tasks (list, kill with `scale`/`wipe`/`host`),
//! and versions.

use http::Method;
use serde_json::{json, Map, Value};

use super::render::{app_json, app_view, task_json, AppView, Embed};
use super::{json, json_bytes, text, ApiResult, Ctx, Req};
use crate::error::ApiError;
use crate::model::validate::{app_from_object, parse_object, DefinitionError, Violation};
use crate::model::PathId;

enum Target {
    App,
    Restart,
    Tasks,
    Task(String),
    Versions,
    Version(String),
}

fn split(path: &str) -> Result<(PathId, Target), ApiError> {
    let rest = path.trim_start_matches("/v2/apps");
    let segs: Vec<&str> = rest.split('/').filter(|s| !s.is_empty()).collect();
    let n = segs.len();
    let (id_segs, target) = match segs.as_slice() {
        [.., "restart"] => (&segs[..n - 1], Target::Restart),
        [.., "tasks"] => (&segs[..n - 1], Target::Tasks),
        [.., "tasks", t] => (&segs[..n - 2], Target::Task((*t).to_owned())),
        [.., "versions"] => (&segs[..n - 1], Target::Versions),
        [.., "versions", v] => (&segs[..n - 2], Target::Version((*v).to_owned())),
        _ => (&segs[..], Target::App),
    };
    let id = PathId::parse(&id_segs.join("/")).map_err(|e| {
        ApiError::Definition(DefinitionError::Invalid(vec![Violation {
            path: "/id".into(),
            errors: vec![e.to_string()],
        }]))
    })?;
    Ok((id, target))
}

/// Dispatches `/v2/apps...`.
pub async fn route(req: Req, ctx: &Ctx) -> ApiResult {
    let path = req.path.trim_end_matches('/').to_owned();
    if path == "/v2/apps" {
        return match req.method {
            Method::GET => list(&req, ctx),
            Method::POST => create(&req, ctx).await,
            Method::PUT | Method::PATCH => bulk_update(&req, ctx).await,
            _ => Err(ApiError::MethodNotAllowed(
                "use GET, POST, PUT or PATCH".into(),
            )),
        };
    }
    let (id, target) = split(&path)?;
    match (target, &req.method) {
        (Target::App, &Method::GET) => show(&id, &req, ctx),
        (Target::App, &Method::PUT) => {
            update(&id, &req, ctx, req.query.flag_or("partialUpdate", true)).await
        }
        (Target::App, &Method::PATCH) => update(&id, &req, ctx, true).await,
        (Target::App, &Method::DELETE) => {
            let force = req.query.flag("force");
            let r = ctx.shared.mutate(|c| c.delete_app(&id, force)).await??;
            Ok(deployment_response(200, &r.to_json(), &r.deployment_id))
        }
        (Target::Restart, &Method::POST) => {
            let force = req.query.flag("force");
            let r = ctx.shared.mutate(|c| c.restart_app(&id, force)).await??;
            Ok(deployment_response(200, &r.to_json(), &r.deployment_id))
        }
        (Target::Tasks, &Method::GET) => super::tasks::app_tasks(&id, &req, ctx),
        (Target::Tasks, &Method::DELETE) => {
            super::tasks::kill_app_tasks(&id, None, &req, ctx).await
        }
        (Target::Task(t), &Method::DELETE) => {
            super::tasks::kill_app_tasks(&id, Some(t), &req, ctx).await
        }
        (Target::Task(t), &Method::GET) => {
            let v = ctx.shared.read(|c| {
                c.instances
                    .get(&t)
                    .map(|i| task_json(c, c.apps.get(&id), i))
            });
            v.map(|t| json(200, &json!({"task": t})))
                .ok_or_else(|| ApiError::NotFound(format!("Task '{t}' does not exist")))
        }
        (Target::Versions, &Method::GET) => ctx.shared.read(|c| {
            let v = c
                .versions
                .get(&id)
                .filter(|_| c.apps.contains_key(&id))
                .ok_or_else(|| ApiError::no_app(&id.to_string()))?;
            let mut list: Vec<&String> = v.keys().collect();
            list.reverse();
            Ok(json(200, &json!({"versions": list})))
        }),
        (Target::Version(ver), &Method::GET) => ctx.shared.read(|c| {
            c.versions
                .get(&id)
                .and_then(|v| v.get(&ver))
                .map(|a| json(200, &serde_json::to_value(a).unwrap_or_default()))
                .ok_or_else(|| {
                    ApiError::NotFound(format!("App '{id}' does not exist in version {ver}"))
                })
        }),
        _ => Err(ApiError::MethodNotAllowed(format!(
            "{} not allowed on {path}",
            req.method
        ))),
    }
}

fn deployment_response(
    status: u16,
    body: &Value,
    deployment_id: &str,
) -> http::Response<super::Body> {
    let mut r = json(status, body);
    if let Ok(v) = http::HeaderValue::from_str(deployment_id) {
        r.headers_mut().insert("Marathon-Deployment-Id", v);
    }
    r
}

/// `{"apps": [...]}`, serialized straight to bytes.
#[derive(serde::Serialize)]
struct Apps<'a> {
    apps: Vec<AppView<'a>>,
}

fn list(req: &Req, ctx: &Ctx) -> ApiResult {
    let embed = Embed::from_query(&req.query, &["counts", "deployments"]);
    let id_filter = req.query.get("id").map(str::to_lowercase);
    let cmd_filter = req.query.get("cmd").map(str::to_owned);
    let label = req.query.get("label").map(str::to_owned);
    let apps = ctx.shared.read(|c| {
        let apps = c
            .apps
            .values()
            .filter(|a| id_filter.as_ref().is_none_or(|f| a.id.contains(f.as_str())))
            .filter(|a| {
                cmd_filter
                    .as_ref()
                    .is_none_or(|f| a.cmd.as_deref().is_some_and(|c| c.contains(f.as_str())))
            })
            .filter(|a| label.as_ref().is_none_or(|l| label_matches(&a.labels, l)))
            .map(|a| app_view(c, a, &embed))
            .collect::<Vec<_>>();
        serde_json::to_vec(&Apps { apps })
    });
    // Serializing values that came from JSON cannot fail; a failure would be a bug.
    let body = apps.map_err(|e| ApiError::Unavailable(format!("cannot render the apps: {e}")))?;
    Ok(json_bytes(200, body))
}

/// Label selectors: `key`, `key==value`, `key!=value`, `key in (a,b)`, comma-separated.
fn label_matches(labels: &std::collections::BTreeMap<String, String>, selector: &str) -> bool {
    selector
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .all(|s| {
            if let Some((k, v)) = s.split_once("!=") {
                labels.get(k.trim()).is_none_or(|x| x != v.trim())
            } else if let Some((k, v)) = s.split_once("==") {
                labels.get(k.trim()).is_some_and(|x| x == v.trim())
            } else if let Some((k, v)) = s.split_once(" in ") {
                let vals: Vec<&str> = v
                    .trim()
                    .trim_matches(|c| c == '(' || c == ')')
                    .split(',')
                    .map(str::trim)
                    .collect();
                labels
                    .get(k.trim())
                    .is_some_and(|x| vals.contains(&x.as_str()))
            } else {
                labels.contains_key(s)
            }
        })
}

async fn create(req: &Req, ctx: &Ctx) -> ApiResult {
    let obj = parse_object(&req.body)?;
    let app = app_from_object(obj, &PathId::root())?;
    let (app, result) = ctx.shared.mutate(|c| c.create_app(app)).await??;
    let body = ctx.shared.read(|c| {
        app_json(
            c,
            &app,
            &Embed::from_query(&super::Query::default(), &["counts", "deployments"]),
        )
    });
    let mut r = deployment_response(201, &body, &result.deployment_id);
    if let Ok(v) = http::HeaderValue::from_str(&app.id) {
        r.headers_mut().insert(http::header::LOCATION, v);
    }
    Ok(r)
}

fn show(id: &PathId, req: &Req, ctx: &Ctx) -> ApiResult {
    let embed = Embed::from_query(
        &req.query,
        &["counts", "deployments", "tasks", "lastTaskFailure"],
    );
    ctx.shared.read(|c| {
        let app = c
            .apps
            .get(id)
            .ok_or_else(|| ApiError::no_app(&id.to_string()))?;
        Ok(json(200, &json!({"app": app_json(c, app, &embed)})))
    })
}

/// The definition an update asks for: the body merged onto the current (or a past)
/// definition when `partial`, the body alone otherwise.
fn merged(
    id: &PathId,
    body: Map<String, Value>,
    partial: bool,
    ctx: &Ctx,
) -> Result<crate::model::App, ApiError> {
    let (current, past) = ctx.shared.read(|c| {
        let past = body
            .get("version")
            .and_then(Value::as_str)
            .and_then(|v| c.versions.get(id).and_then(|vs| vs.get(v)).cloned());
        (c.apps.get(id).cloned(), past)
    });
    let mut obj = match (past, current) {
        (Some(p), _) => serde_json::to_value(p)
            .ok()
            .and_then(|v| v.as_object().cloned())
            .unwrap_or_default(),
        (None, Some(cur)) if partial => {
            let mut base = serde_json::to_value(cur)
                .ok()
                .and_then(|v| v.as_object().cloned())
                .unwrap_or_default();
            for (k, v) in body {
                base.insert(k, v);
            }
            base
        }
        _ => body,
    };
    if let Some(given) = obj.get("id").and_then(Value::as_str) {
        if PathId::parse_in(given, &id.parent()).ok().as_ref() != Some(id) && !given.is_empty() {
            return Err(ApiError::BadRequest(format!(
                "The supplied app id '{given}' does not match the path '{id}'"
            )));
        }
    }
    obj.insert("id".into(), json!(id.to_string()));
    obj.remove("version");
    obj.remove("versionInfo");
    Ok(app_from_object(obj, &PathId::root())?)
}

async fn update(id: &PathId, req: &Req, ctx: &Ctx, partial: bool) -> ApiResult {
    let body = parse_object(&req.body)?;
    let app = merged(id, body, partial, ctx)?;
    let force = req.query.flag("force");
    let (created, r) = ctx.shared.mutate(|c| c.update_app(app, force)).await??;
    Ok(deployment_response(
        if created { 201 } else { 200 },
        &r.to_json(),
        &r.deployment_id,
    ))
}

async fn bulk_update(req: &Req, ctx: &Ctx) -> ApiResult {
    let list: Vec<Value> = serde_json::from_slice(&req.body).map_err(|e| {
        ApiError::Definition(DefinitionError::InvalidJson(vec![Violation {
            path: "/".into(),
            errors: vec![e.to_string()],
        }]))
    })?;
    let partial = req.method == Method::PATCH || req.query.flag_or("partialUpdate", true);
    let force = req.query.flag("force");
    let mut apps = Vec::new();
    for v in list {
        let Value::Object(o) = v else {
            return Err(ApiError::BadRequest("expected an array of apps".into()));
        };
        let id = o
            .get("id")
            .and_then(Value::as_str)
            .and_then(|s| PathId::parse(s).ok())
            .ok_or_else(|| {
                ApiError::Definition(DefinitionError::Invalid(vec![Violation {
                    path: "/id".into(),
                    errors: vec!["error.path.missing".into()],
                }]))
            })?;
        apps.push(merged(&id, o, partial, ctx)?);
    }
    let r = ctx
        .shared
        .mutate(|c| {
            let mut last = None;
            for app in apps {
                last = Some(c.update_app(app, force)?.1);
            }
            Ok::<_, ApiError>(last)
        })
        .await??;
    match r {
        Some(r) => Ok(deployment_response(200, &r.to_json(), &r.deployment_id)),
        None => Ok(json(200, &json!({"deploymentId": null, "version": null}))),
    }
}

/// `text/plain` wanted?
pub fn wants_text(req: &Req) -> bool {
    req.headers
        .get(http::header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|a| a.contains("text/plain") && !a.contains("json"))
}

/// Plain-text task list lines: `app<TAB>servicePort<TAB>host:port...`.
pub fn text_tasks(lines: Vec<String>) -> http::Response<super::Body> {
    text(200, lines.join("\n") + "\n")
}
