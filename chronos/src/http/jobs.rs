//! The job endpoints under `/v1/scheduler` (and `/scheduler`): list, search, add (ISO 8601 or
//! dependent), run now, delete, kill, stats, graph. A change answers 204 only once stored; a
//! refused one answers 400 and changes nothing.

use http::{Method, StatusCode};
use serde::Serialize;

use super::{json, no_content, query, read_body, views, ApiError, ApiResult, Req};
use crate::core::Core;
use crate::job::Job;

/// Routes `rest` (the path after the prefix).
pub async fn dispatch(req: Req, rest: &str, core: &Core) -> ApiResult {
    let m = req.method().clone();
    match (m, rest) {
        (Method::GET, "/jobs") => Ok(list(core)),
        (Method::GET, "/jobs/search") => Ok(search(&req, core)),
        (Method::GET, "/jobs/summary") => Ok(summary(core)),
        (Method::POST | Method::PUT, "/iso8601") => add(req, core, false).await,
        (Method::POST | Method::PUT, "/dependency") => add(req, core, true).await,
        (Method::GET, "/graph/dot") => Ok(views::dot(core)),
        (Method::GET, "/graph/csv") => Ok(views::csv(core)),
        (Method::GET, r) if r.starts_with("/stats/") => Ok(views::stats(core, &r[7..])),
        (Method::GET, r) if r.starts_with("/job/stat/") => views::job_stat(core, &r[10..]),
        (Method::PUT, r) if r.starts_with("/job/success/") => mark_success(core, &r[13..]).await,
        (Method::DELETE, r) if r.starts_with("/task/kill/") => kill(core, &r[11..]).await,
        (Method::GET, r) if r.starts_with("/job/") => get(core, &r[5..]),
        (Method::PUT, r) if r.starts_with("/job/") => {
            let args = query(&req, "arguments").filter(|a| !a.trim().is_empty());
            run(core, &r[5..], args).await
        }
        (Method::DELETE, r) if r.starts_with("/job/") => delete(core, &r[5..]).await,
        (_, r) if known(r) => Err(ApiError::Method),
        (_, r) => Err(ApiError::NotFound(format!("no route {r}"))),
    }
}

fn known(r: &str) -> bool {
    [
        "/jobs",
        "/iso8601",
        "/dependency",
        "/graph/",
        "/stats/",
        "/job/",
        "/task/kill/",
    ]
    .iter()
    .any(|p| r.starts_with(p))
}

fn list(core: &Core) -> http::Response<super::Body> {
    let body = core.engine().jobs_json();
    super::with_type(StatusCode::OK, body, "application/json")
}

fn search(req: &Req, core: &Core) -> http::Response<super::Body> {
    let lower = |k: &str| {
        query(req, k)
            .filter(|v| !v.is_empty())
            .map(|v| v.to_lowercase())
    };
    let (name, command, any) = (lower("name"), lower("command"), lower("any"));
    let limit = query(req, "limit")
        .and_then(|v| v.parse().ok())
        .unwrap_or(10usize);
    let offset = query(req, "offset")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0usize);
    let e = core.engine();
    let found: Vec<Job> = e
        .jobs()
        .filter(|j| {
            let (n, c) = (j.name.to_lowercase(), j.command.to_lowercase());
            let mut ok = name.as_ref().is_none_or(|q| n.contains(q))
                && command.as_ref().is_none_or(|q| c.contains(q));
            if !ok {
                ok = any.as_ref().is_some_and(|q| n.contains(q) || c.contains(q));
            }
            ok
        })
        .skip(offset)
        .take(limit)
        .map(Job::for_display)
        .collect();
    drop(e);
    json(StatusCode::OK, &found)
}

#[derive(Serialize)]
struct Summary {
    name: String,
    status: &'static str,
    state: &'static str,
    schedule: String,
    parents: Vec<String>,
    disabled: bool,
}

fn summary(core: &Core) -> http::Response<super::Body> {
    let e = core.engine();
    let jobs: Vec<Summary> = e
        .jobs()
        .map(|j| Summary {
            name: j.name.clone(),
            status: views::last_state(j),
            state: e.job_state(&j.name),
            schedule: j.schedule.clone().unwrap_or_default(),
            parents: j.parents.clone().unwrap_or_default(),
            disabled: j.disabled,
        })
        .collect();
    drop(e);
    json(StatusCode::OK, &serde_json::json!({ "jobs": jobs }))
}

fn get(core: &Core, name: &str) -> ApiResult {
    let e = core.engine();
    match e.job(name) {
        Some(j) => Ok(json(StatusCode::OK, &j.for_display())),
        None => Err(ApiError::BadRequest(format!("Job '{name}' not found"))),
    }
}

async fn add(req: Req, core: &Core, dependent: bool) -> ApiResult {
    let body = read_body(req).await?;
    add_json(core, &body, dependent).await
}

/// `POST /iso8601` (or `/dependency` when `dependent`) of a JSON body.
pub(crate) async fn add_json(core: &Core, body: &[u8], dependent: bool) -> ApiResult {
    let job: Job = serde_json::from_slice(body)
        .map_err(|e| ApiError::BadRequest(format!("invalid job JSON: {e}")))?;
    let now = core.clock.now();
    {
        let mut e = core.engine();
        if dependent {
            e.put_dependent(job)?;
        } else {
            e.put_scheduled(job, now)?;
        }
    }
    core.persist().await?;
    core.timers_changed.notify_one();
    core.work.notify_one();
    Ok(no_content())
}

/// `PUT /job/{name}`: run now.
pub(crate) async fn run(core: &Core, name: &str, args: Option<String>) -> ApiResult {
    let now = core.clock.now();
    core.engine().run_now(name, args, now)?;
    core.persist().await?;
    core.work.notify_one();
    Ok(no_content())
}

/// `DELETE /job/{name}`.
pub(crate) async fn delete(core: &Core, name: &str) -> ApiResult {
    let now = core.clock.now();
    core.engine().delete(name, now)?;
    core.persist().await?;
    core.work.notify_one();
    Ok(no_content())
}

async fn kill(core: &Core, name: &str) -> ApiResult {
    core.engine().kill(name)?;
    core.persist().await?;
    core.work.notify_one();
    Ok(no_content())
}

async fn mark_success(core: &Core, name: &str) -> ApiResult {
    let now = core.clock.now();
    core.engine().mark_success(name, now)?;
    core.persist().await?;
    core.work.notify_one();
    Ok(json(
        StatusCode::OK,
        &format!("marked job {name} as successful: true"),
    ))
}
