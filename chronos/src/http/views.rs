//! Read-only views: the dependency graph (`/graph/dot`, `/graph/csv` as Chronos's
//! `Exporter`), run-time statistics (`/stats/{percentile}`, `/job/stat/{name}`), `/metrics`
//! (Dropwizard-shaped JSON, as Chronos serves it) and `/leader`.

use std::collections::HashMap;
use std::fmt::Write as _;

use http::StatusCode;

use super::{json, with_type, ApiError, ApiResult, Body, Ctx};
use crate::core::Core;
use crate::job::Job;

/// `success`, `failure` or `fresh` (Chronos `Exporter.getLastState`).
pub fn last_state(j: &Job) -> &'static str {
    match (j.last_success.is_empty(), j.last_error.is_empty()) {
        (true, true) => "fresh",
        (true, false) => "failure",
        (false, true) => "success",
        // Both ISO 8601 UTC with millis: text order is time order.
        (false, false) if j.last_success > j.last_error => "success",
        _ => "failure",
    }
}

/// `GET /graph/dot`.
pub fn dot(core: &Core) -> http::Response<Body> {
    let e = core.engine();
    let ids: HashMap<&str, usize> = e
        .jobs()
        .enumerate()
        .map(|(i, j)| (j.name.as_str(), i + 1))
        .collect();
    let mut out = String::from("digraph G {\n");
    for j in e.jobs() {
        let _ = writeln!(
            out,
            "  {} [ label = \"{}\" ];",
            ids[j.name.as_str()],
            j.name.replace('"', "\\\"")
        );
    }
    for j in e.jobs() {
        for p in j.parents.iter().flatten() {
            if let (Some(a), Some(b)) = (ids.get(p.as_str()), ids.get(j.name.as_str())) {
                let _ = writeln!(out, "  {a} -> {b};");
            }
        }
    }
    out.push_str("}\n");
    with_type(StatusCode::OK, out.into_bytes(), "text/plain")
}

/// `GET /graph/csv`: `node,<name>,<last state>,<state>` and `link,<parent>,<child>` lines.
pub fn csv(core: &Core) -> http::Response<Body> {
    let e = core.engine();
    let mut out = String::new();
    for j in e.jobs() {
        let _ = writeln!(
            out,
            "node,{},{},{}",
            j.name,
            last_state(j),
            e.job_state(&j.name)
        );
    }
    for j in e.jobs() {
        for p in j.parents.iter().flatten() {
            let _ = writeln!(out, "link,{p},{}", j.name);
        }
    }
    with_type(StatusCode::OK, out.into_bytes(), "text/plain")
}

/// Nearest-rank percentile of sorted values.
fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    // The rank is within 1..=len, so the conversions are exact enough.
    #[allow(
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss,
        clippy::cast_precision_loss
    )]
    let rank = ((p / 100.0) * sorted.len() as f64).ceil().max(1.0) as usize;
    sorted[rank.min(sorted.len()) - 1]
}

/// The Chronos histogram of run times in ms.
fn histogram(mut v: Vec<f64>) -> serde_json::Value {
    v.sort_by(f64::total_cmp);
    #[allow(clippy::cast_precision_loss)]
    let mean = if v.is_empty() {
        0.0
    } else {
        v.iter().sum::<f64>() / v.len() as f64
    };
    serde_json::json!({
        "75thPercentile": percentile(&v, 75.0),
        "95thPercentile": percentile(&v, 95.0),
        "98thPercentile": percentile(&v, 98.0),
        "99thPercentile": percentile(&v, 99.0),
        "median": percentile(&v, 50.0),
        "mean": mean,
        "count": v.len(),
    })
}

/// `GET /stats/{99thPercentile|98thPercentile|95thPercentile|75thPercentile|median|mean}`:
/// `[{jobNameLabel, time}]`, slowest first, time in seconds.
pub fn stats(core: &Core, which: &str) -> http::Response<Body> {
    let e = core.engine();
    let mut rows: Vec<(String, f64)> = e
        .jobs()
        .filter_map(|j| {
            let d = e.durations(&j.name);
            if d.is_empty() {
                return None;
            }
            let h = histogram(d);
            h.get(which)
                .and_then(serde_json::Value::as_f64)
                .map(|t| (j.name.clone(), t))
        })
        .collect();
    drop(e);
    rows.sort_by(|a, b| b.1.total_cmp(&a.1));
    let out: Vec<serde_json::Value> = rows
        .into_iter()
        .map(|(n, t)| serde_json::json!({"jobNameLabel": n, "time": t / 1000.0}))
        .collect();
    json(StatusCode::OK, &out)
}

/// `GET /job/stat/{name}`.
pub fn job_stat(core: &Core, name: &str) -> ApiResult {
    let e = core.engine();
    if e.job(name).is_none() {
        return Err(ApiError::BadRequest(format!("Job '{name}' not found")));
    }
    let h = histogram(e.durations(name));
    Ok(json(
        StatusCode::OK,
        &serde_json::json!({"histogram": h, "taskStatHistory": []}),
    ))
}

/// `GET /metrics`.
pub fn metrics(core: &Core) -> http::Response<Body> {
    let e = core.engine();
    let (mut ok, mut err) = (0u64, 0u64);
    for j in e.jobs() {
        ok += j.success_count;
        err += j.error_count;
    }
    let running = e.runs().count();
    let body = serde_json::json!({
        "version": "3.0.0",
        "gauges": {
            "chronos.jobs.total": {"value": e.len()},
            "chronos.jobs.queued": {"value": e.queue_len()},
            "chronos.runs.in_flight": {"value": running},
        },
        "counters": {
            "chronos.jobs.run.success": {"count": ok},
            "chronos.jobs.run.failure": {"count": err},
        },
        "histograms": {},
        "meters": {},
        "timers": {},
    });
    drop(e);
    json(StatusCode::OK, &body)
}

/// `GET /leader`: `{"leader": "host:port"}`.
pub fn leader(ctx: &Ctx) -> http::Response<Body> {
    match ctx.leader.read().map(|g| g.clone()).unwrap_or(None) {
        None => json(StatusCode::OK, &serde_json::json!({ "leader": ctx.me })),
        Some(l) if !l.is_empty() => json(StatusCode::OK, &serde_json::json!({ "leader": l })),
        Some(_) => ApiError::NotLeader(None).into_response(),
    }
}
