//! What a master that is not the leader answers (Mesos `Master::Http::redirect` and the
//! `elected()`/`recovered` checks in src/master/http.cpp):
//! - `/redirect`, scheduler and operator API calls, the agent channel and the other
//!   endpoints that need the leader's state: `307` with `Location: //<host>:<port><path>`
//!   (the leader's hostname, else its IP; `/redirect` without the path);
//! - while elected but still recovering the registry: `503` "Master has not finished
//!   recovery"; with no leader known: `503` "No leader elected";
//! - `/health`, `/version`, `/flags`, metrics and `/state` are answered locally; `/state`
//!   names the leader in `leader`/`leader_info`, and `master/elected` is 0.

use http::{header, HeaderValue, Request, Response, StatusCode};
use hyper::body::Incoming;
use meseta_api::MasterInfo;
use serde_json::{json, Value as Json};

use super::{json_response, Body, Ctx, HttpError, Route};
use crate::ha::{Ha, Phase};
use crate::master::lock;

/// The response for `route` when this master is not the serving leader; `None` lets the
/// request through.
pub(super) fn gate(
    ha: &Ha,
    route: Option<Route>,
    req: &Request<Incoming>,
    ctx: &Ctx,
) -> Option<Result<Response<Body>, HttpError>> {
    let phase = ha.phase();
    if phase == Phase::Leading {
        return None;
    }
    let route = route?;
    match route {
        Route::Health | Route::Version | Route::Flags | Route::Prometheus => return None,
        Route::State => return Some(Ok(json_response(&follower_state(ha, ctx)))),
        Route::Metrics => {
            let mut metrics = lock(&ctx.master).metrics_json();
            metrics["master/elected"] = json!(0.0);
            return Some(Ok(json_response(&metrics)));
        }
        _ => {}
    }
    if phase == Phase::Recovering {
        return Some(Err(HttpError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "Master has not finished recovery",
        )));
    }
    let leader = ha.leader().filter(|l| l.id != ha.info().id);
    let Some(leader) = leader else {
        return Some(Err(HttpError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "No leader elected",
        )));
    };
    let path = match route {
        Route::Redirect => String::new(),
        _ => req
            .uri()
            .path_and_query()
            .map(|p| p.as_str().to_string())
            .unwrap_or_default(),
    };
    Some(Ok(redirect(&leader, &path)))
}

/// Waits until every registry change made so far is in ZooKeeper (bounded by Mesos's
/// registry store timeout, 20 s); `503` if leadership is lost first or the write fails.
pub(super) async fn wait_durable(ha: &Ha, ctx: &Ctx) -> Result<(), HttpError> {
    let unavailable = |why: &str| Err(HttpError::new(StatusCode::SERVICE_UNAVAILABLE, why));
    let (wanted, notify) = {
        let m = lock(&ctx.master);
        (m.commit_generations().0, m.durable_notify())
    };
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        let notified = notify.notified();
        tokio::pin!(notified);
        notified.as_mut().enable();
        if !ha.leading() {
            return unavailable("Lost leadership before the change was stored in the registry");
        }
        let (requested, durable) = lock(&ctx.master).commit_generations();
        if durable >= wanted {
            return Ok(());
        }
        if requested < wanted {
            return unavailable("The registry was reset before the change was stored");
        }
        if tokio::time::timeout_at(deadline, notified).await.is_err() {
            return unavailable("Timed out storing the change in the registry");
        }
    }
}

/// `307` to the leader.
fn redirect(leader: &MasterInfo, path: &str) -> Response<Body> {
    let host = leader
        .hostname
        .clone()
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| MasterInfo::decode_ip(leader.ip).to_string());
    let location = format!("//{host}:{}{path}", leader.port);
    let mut r = Response::new(Body::empty());
    *r.status_mut() = StatusCode::TEMPORARY_REDIRECT;
    if let Ok(v) = HeaderValue::from_str(&location) {
        r.headers_mut().insert(header::LOCATION, v);
    }
    r
}

/// `/state` of a non-leading master: its own (empty) state, with the leader ZooKeeper
/// names, if any.
fn follower_state(ha: &Ha, ctx: &Ctx) -> Json {
    let mut state = lock(&ctx.master).state_json();
    let Some(obj) = state.as_object_mut() else {
        return state;
    };
    obj.remove("elected_time");
    obj.remove("leader");
    obj.remove("leader_info");
    if let Some(leader) = ha.leader() {
        obj.insert(
            "leader".into(),
            json!(leader.pid.clone().unwrap_or_default()),
        );
        obj.insert(
            "leader_info".into(),
            json!({
                "id": leader.id,
                "pid": leader.pid,
                "port": leader.port,
                "hostname": leader.hostname,
                "ip": leader.ip,
                "address": leader.address,
                "version": leader.version,
            }),
        );
    }
    state
}
