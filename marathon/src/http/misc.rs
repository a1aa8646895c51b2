//! The smaller endpoints: `/v2/deployments` (list, rollback or forced stop), `/v2/groups`
//! (the tree of apps by path; a group POST/PUT creates or updates each of its apps),
//! `/v2/queue`, `/v2/info`, `/v2/leader`, `/metrics`, `/v2/eventSubscriptions`.

use std::time::Instant;

use http::Method;
use serde_json::{json, Map, Value};

use super::render::{app_json, Embed};
use super::{json, ApiResult, Ctx, Req};
use crate::error::ApiError;
use crate::model::validate::{app_from_object, parse_object};
use crate::model::PathId;
use crate::state::Core;

/// Dispatches what the other modules do not.
pub async fn route(req: Req, ctx: &Ctx) -> ApiResult {
    let path = req.path.trim_end_matches('/').to_owned();
    let p = path.as_str();
    match (p, &req.method) {
        ("/v2/deployments", &Method::GET) => Ok(json(
            200,
            &ctx.shared.read(|c| {
                json!(c
                    .deployments
                    .values()
                    .map(|d| d.to_json())
                    .collect::<Vec<_>>())
            }),
        )),
        (p, &Method::DELETE) if p.starts_with("/v2/deployments/") => {
            let id = p.trim_start_matches("/v2/deployments/").to_owned();
            let force = req.query.flag("force");
            match ctx
                .shared
                .mutate(|c| c.cancel_deployment(&id, force))
                .await??
            {
                Some(r) => Ok(json(200, &r.to_json())),
                None => Ok(json(202, &json!({}))),
            }
        }
        ("/v2/groups", _) | ("/v2/groups/", _) => groups(&PathId::root(), &req, ctx).await,
        (p, _) if p.starts_with("/v2/groups/") => {
            let raw = p.trim_start_matches("/v2/groups");
            let raw = raw.strip_suffix("/versions").unwrap_or(raw);
            let id = PathId::parse(raw).map_err(|e| ApiError::BadRequest(e.to_string()))?;
            if p.ends_with("/versions") {
                return Ok(json(200, &json!([])));
            }
            groups(&id, &req, ctx).await
        }
        ("/v2/queue", &Method::GET) => Ok(json(200, &ctx.shared.read(queue))),
        (p, &Method::DELETE) if p.starts_with("/v2/queue/") && p.ends_with("/delay") => {
            let id = PathId::parse(p.trim_start_matches("/v2/queue").trim_end_matches("/delay"))
                .map_err(|e| ApiError::BadRequest(e.to_string()))?;
            ctx.shared.mutate(|c| c.backoff.remove(&id)).await?;
            Ok(json(204, &json!({})))
        }
        ("/v2/info", &Method::GET) => Ok(json(200, &info(ctx))),
        ("/v2/leader", &Method::GET) => match ctx.leader.leader_address() {
            Some(l) => Ok(json(200, &json!({"leader": l}))),
            None => Err(ApiError::NotFound("There is no leader".into())),
        },
        ("/v2/leader", &Method::DELETE) => {
            if !ctx.leader.is_leader() {
                return Err(ApiError::NotFound("There is no leader".into()));
            }
            ctx.leader.abdicate();
            Ok(json(200, &json!({"message": "Leadership abdicated"})))
        }
        ("/metrics", &Method::GET) => Ok(json(200, &metrics(ctx))),
        ("/v2/eventSubscriptions", &Method::GET) => Ok(json(200, &json!({"callbackUrls": []}))),
        ("/v2/eventSubscriptions", _) => Err(ApiError::BadRequest(
            "HTTP callback subscriptions are not supported; read /v2/events (Server-Sent Events)"
                .into(),
        )),
        _ => Err(ApiError::NotFound(format!("no resource at {p}"))),
    }
}

fn queue(c: &Core) -> Value {
    let now = Instant::now();
    let mut items = Vec::new();
    for (id, app) in &c.apps {
        let n = usize::try_from(app.instances).unwrap_or(0);
        let alive = c.instances_of(&app.id).filter(|i| c.counts(i, app)).count();
        if alive >= n {
            continue;
        }
        let left = c
            .backoff
            .get(id)
            .map(|b| b.until.saturating_duration_since(now).as_secs_f64())
            .unwrap_or(0.0);
        items.push(json!({
            "app": app_json(c, app, &Embed::default()),
            "count": n - alive,
            "delay": {"timeLeftSeconds": crate::model::sat_i64(left.ceil()), "overdue": left <= 0.0},
            "since": app.version,
        }));
    }
    json!({"queue": items})
}

fn info(ctx: &Ctx) -> Value {
    let mut v = ctx.info.clone();
    v["elected"] = json!(ctx.leader.is_leader());
    v["leader"] = json!(ctx.leader.leader_address());
    v["frameworkId"] = json!(ctx.shared.read(|c| c.framework_id.clone()));
    v
}

fn metrics(ctx: &Ctx) -> Value {
    let (apps, tasks, deployments, running) = ctx.shared.read(|c| {
        (
            c.apps.len(),
            c.instances.len(),
            c.deployments.len(),
            c.instances.values().filter(|i| i.running()).count(),
        )
    });
    let g = |v: usize| json!({"value": v});
    json!({
        "version": "4.0.0",
        "counters": {},
        "gauges": {
            "marathon.apps.active.gauge": g(apps),
            "marathon.instances.launched.gauge": g(tasks),
            "marathon.instances.running.gauge": g(running),
            "marathon.deployments.active.gauge": g(deployments),
            "marathon.http.event-streams.active.gauge": g(ctx.shared.read(|c| c.events.subscribers())),
            "marathon.leadership.is-leader.gauge": g(usize::from(ctx.leader.is_leader())),
        },
        "histograms": {}, "meters": {}, "timers": {},
    })
}

fn group_json(c: &Core, id: &PathId) -> Value {
    let embed = Embed::default();
    let apps: Vec<Value> = c
        .apps
        .iter()
        .filter(|(a, _)| a.parent() == *id)
        .map(|(_, a)| app_json(c, a, &embed))
        .collect();
    let mut children: Vec<PathId> = c
        .apps
        .keys()
        .filter(|a| a.starts_with(id) && a.segments().len() > id.segments().len() + 1)
        .map(|a| {
            PathId::parse(&a.segments()[..=id.segments().len()].join("/"))
                .unwrap_or_else(|_| PathId::root())
        })
        .collect();
    children.dedup();
    let version = c
        .apps
        .values()
        .filter(|a| PathId::parse(&a.id).is_ok_and(|p| p.starts_with(id)))
        .filter_map(|a| a.version.clone())
        .max();
    json!({
        "id": id.to_string(), "apps": apps, "pods": [], "dependencies": [],
        "groups": children.iter().map(|g| group_json(c, g)).collect::<Vec<_>>(),
        "version": version,
    })
}

/// The apps of a group definition, with absolute ids.
fn flatten(
    obj: &Map<String, Value>,
    base: &PathId,
    out: &mut Vec<Map<String, Value>>,
) -> Result<(), ApiError> {
    let gid = match obj.get("id").and_then(Value::as_str) {
        Some(s) => PathId::parse_in(s, base).map_err(|e| ApiError::BadRequest(e.to_string()))?,
        None => base.clone(),
    };
    for a in obj
        .get("apps")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let mut a = a
            .as_object()
            .cloned()
            .ok_or_else(|| ApiError::BadRequest("apps must be objects".into()))?;
        let rel = a.get("id").and_then(Value::as_str).unwrap_or("").to_owned();
        let id = PathId::parse_in(&rel, &gid)
            .map_err(|e| ApiError::BadRequest(format!("app id '{rel}': {e}")))?;
        a.insert("id".into(), json!(id.to_string()));
        out.push(a);
    }
    for g in obj
        .get("groups")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        if let Some(g) = g.as_object() {
            flatten(g, &gid, out)?;
        }
    }
    Ok(())
}

async fn groups(id: &PathId, req: &Req, ctx: &Ctx) -> ApiResult {
    match req.method {
        Method::GET => ctx.shared.read(|c| {
            if !id.is_root() && !c.apps.keys().any(|a| a.starts_with(id) && a != id) {
                return Err(ApiError::NotFound(format!("Group '{id}' does not exist")));
            }
            Ok(json(200, &group_json(c, id)))
        }),
        Method::POST | Method::PUT | Method::PATCH => {
            let mut obj = parse_object(&req.body)?;
            if !obj.contains_key("id") {
                obj.insert("id".into(), json!(id.to_string()));
            }
            let mut defs = Vec::new();
            flatten(&obj, &id.parent(), &mut defs)?;
            let mut apps = Vec::new();
            for d in defs {
                apps.push(app_from_object(d, &PathId::root())?);
            }
            let force = req.query.flag("force");
            let create = req.method == Method::POST;
            // PUT replaces the group: its apps missing from a given `apps`/`groups` go.
            let replaces = req.method == Method::PUT
                && (obj.contains_key("apps") || obj.contains_key("groups"));
            let gid = obj
                .get("id")
                .and_then(Value::as_str)
                .and_then(|g| PathId::parse_in(g, &id.parent()).ok())
                .unwrap_or_else(|| id.clone());
            let r = ctx
                .shared
                .mutate(|c| {
                    let removed: Vec<PathId> = if replaces {
                        c.apps
                            .keys()
                            .filter(|a| {
                                a.starts_with(&gid) && !apps.iter().any(|n| n.id == a.to_string())
                            })
                            .cloned()
                            .collect()
                    } else {
                        Vec::new()
                    };
                    c.deploy_group(apps, removed, create, force)
                })
                .await??;
            let body = r
                .map(|r| r.to_json())
                .unwrap_or_else(|| json!({"deploymentId": null, "version": null}));
            Ok(json(if create { 201 } else { 200 }, &body))
        }
        Method::DELETE => {
            let force = req.query.flag("force");
            let r = ctx
                .shared
                .mutate(|c| {
                    let ids: Vec<PathId> = c
                        .apps
                        .keys()
                        .filter(|a| a.starts_with(id))
                        .cloned()
                        .collect();
                    let mut last = None;
                    for a in ids {
                        last = Some(c.delete_app(&a, force)?);
                    }
                    Ok::<_, ApiError>(last)
                })
                .await??;
            let body = r
                .map(|r| r.to_json())
                .unwrap_or_else(|| json!({"deploymentId": null, "version": null}));
            Ok(json(200, &body))
        }
        _ => Err(ApiError::MethodNotAllowed(
            "use GET, POST, PUT, PATCH or DELETE".into(),
        )),
    }
}
