//! Read-only endpoints: `/version`, `/health`, `/state`, `/metrics/snapshot`,
//! `/redirect`, `/flags`, `/frameworks`, `/slaves`, `/tasks`.

use http::{header, HeaderValue, Request, Response, StatusCode};
use hyper::body::Incoming;
use serde_json::{json, Value as Json};

use super::{json_response, Body, Ctx, HttpResult, Route};
use crate::master::{lock, render::version_json};

/// Serves a read-only route.
pub fn handle(route: Route, _req: &Request<Incoming>, ctx: &Ctx) -> HttpResult {
    Ok(match route {
        Route::Version => json_response(&version_json()),
        Route::Health => Response::new(Body::empty()),
        Route::State => json_response(&lock(&ctx.master).state_json()),
        Route::Metrics => json_response(&lock(&ctx.master).metrics_json()),
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
            let s = lock(&ctx.master).state_json();
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
            let s = lock(&ctx.master).state_json();
            let mut tasks: Vec<Json> = Vec::new();
            for f in s["frameworks"].as_array().into_iter().flatten() {
                for key in ["tasks", "completed_tasks"] {
                    tasks.extend(f[key].as_array().into_iter().flatten().cloned());
                }
            }
            json_response(&json!({ "tasks": tasks }))
        }
        Route::Scheduler | Route::Agent => Response::new(Body::empty()),
    })
}
