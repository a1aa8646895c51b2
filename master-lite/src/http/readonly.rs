//! Read-only endpoints: `/version`, `/health`, `/state`, `/metrics/snapshot`, `/metrics`
//! (Prometheus), `/redirect`, `/flags`, `/frameworks`, `/slaves`, `/tasks`.
//!
//! With `--acls`: `/state`, `/frameworks` and `/tasks` show only what `view_frameworks`,
//! `view_tasks` and `view_executors` allow, `/flags` needs `view_flags` and the metrics need
//! `get_endpoints` on `/metrics/snapshot` (403 otherwise), as in Mesos.

use http::{header, HeaderValue, Request, Response, StatusCode};
use meseta_auth::Action;
use meseta_httpd::RequestBody;
use serde_json::{json, Value as Json};

use super::authz::{filter_state, principal, require};
use super::{json_response, Body, Ctx, HttpResult, Route};
use crate::master::{lock, render::version_json};

/// Serves a read-only route.
pub fn handle(route: Route, req: &Request<RequestBody>, ctx: &Ctx) -> HttpResult {
    let who = principal(req.extensions());
    let auth = &ctx.auth;
    match route {
        Route::Metrics | Route::Prometheus => {
            require(auth, who, Action::GetEndpoint, Some("/metrics/snapshot"))?;
        }
        Route::Flags => require(auth, who, Action::ViewFlags, None)?,
        _ => {}
    }
    // What `principal` may see of `/state`.
    let state = || {
        let mut s = lock(&ctx.master).state_json();
        filter_state(auth, who, &mut s);
        s
    };
    Ok(match route {
        Route::Version => json_response(&version_json()),
        Route::Health => Response::new(Body::empty()),
        Route::State => json_response(&state()),
        Route::Metrics => json_response(&lock(&ctx.master).metrics_json()),
        Route::Prometheus => {
            let text = prometheus_text(&lock(&ctx.master).metrics_json());
            let mut r = Response::new(Body::full(text));
            r.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/plain; version=0.0.4"),
            );
            r
        }
        Route::Flags => json_response(&json!({ "flags": lock(&ctx.master).flags_json() })),
        Route::Redirect => {
            let m = lock(&ctx.master);
            let loc = format!("//{}:{}", m.config.hostname, m.info.port);
            let mut r = Response::new(Body::empty());
            *r.status_mut() = StatusCode::TEMPORARY_REDIRECT;
            if let Ok(v) = HeaderValue::from_str(&loc) {
                r.headers_mut().insert(header::LOCATION, v);
            }
            r
        }
        Route::Frameworks => {
            let s = state();
            json_response(&json!({
                "frameworks": s["frameworks"],
                "completed_frameworks": s["completed_frameworks"],
                "unregistered_frameworks": [],
            }))
        }
        Route::Slaves => {
            let s = lock(&ctx.master).state_json();
            json_response(&json!({ "slaves": s["slaves"], "recovered_slaves": [] }))
        }
        Route::Tasks => {
            let s = state();
            let mut tasks: Vec<Json> = Vec::new();
            // Mesos `/tasks`: active and completed frameworks alike.
            let fws = ["frameworks", "completed_frameworks"]
                .iter()
                .flat_map(|k| s[*k].as_array().into_iter().flatten());
            for f in fws {
                for key in ["tasks", "completed_tasks"] {
                    tasks.extend(f[key].as_array().into_iter().flatten().cloned());
                }
            }
            json_response(&json!({ "tasks": tasks }))
        }
        Route::Scheduler
        | Route::Agent
        | Route::Operator
        | Route::Weights
        | Route::Quota
        | Route::Roles
        | Route::StateSummary
        | Route::Teardown
        | Route::Ui
        | Route::UiAction
        | Route::UiAsset => Response::new(Body::empty()),
    })
}

/// Renders a `/metrics/snapshot` document in the Prometheus text format: `master/tasks_running`
/// becomes the gauge `master_tasks_running`; names sorted, non-numbers skipped.
pub fn prometheus_text(snapshot: &Json) -> String {
    let mut names: Vec<(String, f64)> = snapshot
        .as_object()
        .into_iter()
        .flatten()
        .filter_map(|(k, v)| Some((k.clone(), v.as_f64()?)))
        .collect();
    names.sort_by(|a, b| a.0.cmp(&b.0));
    let mut out = String::new();
    for (name, value) in names {
        let metric: String = name
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '_' {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        out.push_str(&format!("# TYPE {metric} gauge\n{metric} {value}\n"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prometheus_names_and_values() {
        let text = prometheus_text(
            &json!({"master/tasks_running": 3.0, "master/elected": 1, "allocator/mesos/event_queue_dispatches": 0.5, "x": "no"}),
        );
        assert_eq!(
            text,
            "# TYPE allocator_mesos_event_queue_dispatches gauge\nallocator_mesos_event_queue_dispatches 0.5\n\
             # TYPE master_elected gauge\nmaster_elected 1\n\
             # TYPE master_tasks_running gauge\nmaster_tasks_running 3\n"
        );
    }
}
