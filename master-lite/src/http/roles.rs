//! Role endpoints: `GET`/`PUT /weights`, `GET`/`POST`/`DELETE /quota`,
//! `GET /roles` (`/roles.json`) and `GET /state-summary`, plus the
//! conversions from operator-API weight and quota messages that
//! [`super::operator`] shares.

use std::collections::BTreeMap;

use http::{Method, Request, Response, StatusCode};
use meseta_api::master::{QuotaConfig as WireQuota, QuotaInfo, QuotaRequest, QuotaStatus};
use meseta_api::{Resource as WireResource, Scalar as WireScalar, ValueType, WeightInfo};
use meseta_auth::Action;
use meseta_httpd::RequestBody;
use serde_json::{json, Value as Json};

use super::authz::{principal, require};
use super::{json_response, read_body, Body, Ctx, HttpError, HttpResult, Route};
use crate::allocator::QuotaConfig;
use crate::master::{lock, Master};

/// `(role, weight)` pairs from `WeightInfo`s (every entry needs a role).
pub fn weights_from_infos(infos: &[WeightInfo]) -> Result<Vec<(String, f64)>, HttpError> {
    infos
        .iter()
        .map(|w| match &w.role {
            Some(r) => Ok((r.clone(), w.weight)),
            None => Err(HttpError::bad_request("WeightInfo is missing 'role'")),
        })
        .collect()
}

fn to_pairs(m: &BTreeMap<String, WireScalar>) -> Vec<(&str, f64)> {
    m.iter().map(|(k, v)| (k.as_str(), v.value)).collect()
}

/// Allocator quota configs from `QuotaConfig` messages (values checked).
pub fn quota_configs(configs: &[WireQuota]) -> Result<Vec<(String, QuotaConfig)>, HttpError> {
    configs
        .iter()
        .map(|c| {
            QuotaConfig::from_f64(&to_pairs(&c.guarantees), &to_pairs(&c.limits))
                .map(|q| (c.role.clone(), q))
                .map_err(|e| HttpError::bad_request(e.to_string()))
        })
        .collect()
}

/// A legacy `QuotaRequest` (`POST /quota`, SET_QUOTA): its guarantee is
/// both the guarantees and the limits (Mesos 1.9+ semantics).
pub fn quota_from_request(r: &QuotaRequest) -> Result<(String, QuotaConfig), HttpError> {
    let role = r
        .role
        .clone()
        .ok_or_else(|| HttpError::bad_request("QuotaRequest is missing 'role'"))?;
    let mut amounts = Vec::new();
    for res in &r.guarantee {
        match (res.r#type, res.scalar) {
            (ValueType::Scalar, Some(s)) => amounts.push((res.name.as_str(), s.value)),
            _ => {
                return Err(HttpError::bad_request(format!(
                    "Quota resource '{}' must be a scalar",
                    res.name
                )))
            }
        }
    }
    let q = QuotaConfig::from_f64(&amounts, &amounts)
        .map_err(|e| HttpError::bad_request(e.to_string()))?;
    Ok((role, q))
}

fn scalar_map(pairs: impl Iterator<Item = (String, f64)>) -> BTreeMap<String, WireScalar> {
    pairs.map(|(k, v)| (k, WireScalar { value: v })).collect()
}

/// The `GET_QUOTA` / `GET /quota` status: `configs` plus legacy `infos`.
pub fn quota_status(m: &Master) -> QuotaStatus {
    let mut status = QuotaStatus::default();
    for (role, q) in m.quotas() {
        let guarantees: Vec<(String, f64)> = q
            .guarantees
            .iter()
            .map(|(n, v)| (n.to_string(), v.as_f64()))
            .collect();
        status.infos.push(QuotaInfo {
            role: Some(role.clone()),
            principal: None,
            guarantee: guarantees
                .iter()
                .map(|(n, v)| WireResource::scalar(n.as_str(), *v))
                .collect(),
        });
        status.configs.push(WireQuota {
            role,
            guarantees: scalar_map(guarantees.into_iter()),
            limits: scalar_map(q.limits.iter().map(|(n, v)| (n.to_string(), v.as_f64()))),
        });
    }
    status
}

fn ok_empty() -> Response<Body> {
    Response::new(Body::empty())
}

fn parse<T: serde::de::DeserializeOwned>(body: &[u8], what: &str) -> Result<T, HttpError> {
    serde_json::from_slice(body)
        .map_err(|e| HttpError::bad_request(format!("Failed to parse {what}: {e}")))
}

fn method_not_allowed(allowed: &str, got: &Method) -> HttpError {
    HttpError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        format!("Expecting one of {{ {allowed} }}, received '{got}'"),
    )
}

/// Serves a role route.
pub async fn handle(route: Route, req: Request<RequestBody>, ctx: &Ctx) -> HttpResult {
    let method = req.method().clone();
    let path = req.uri().path().to_string();
    let who = principal(req.extensions()).cloned();
    let who = who.as_ref();
    let auth = &ctx.auth;
    match (route, &method) {
        (Route::Weights, &Method::GET) => {
            let w: Vec<Json> = lock(&ctx.master)
                .weights()
                .into_iter()
                .filter(|(role, _)| auth.approved(who, Action::ViewRole, Some(role)))
                .map(|(role, weight)| json!({"role": role, "weight": weight}))
                .collect();
            Ok(json_response(&Json::Array(w)))
        }
        (Route::Weights, &Method::PUT) => {
            let (_, body) = read_body(req, ctx.max_body_bytes).await?;
            let infos: Vec<WeightInfo> = parse(&body, "weights")?;
            let weights = weights_from_infos(&infos)?;
            for (role, _) in &weights {
                require(auth, who, Action::UpdateWeight, Some(role))?;
            }
            lock(&ctx.master).update_weights(&weights)?;
            Ok(ok_empty())
        }
        (Route::Weights, m) => Err(method_not_allowed("GET, PUT", m)),
        (Route::Quota, &Method::GET) => {
            let mut status = quota_status(&lock(&ctx.master));
            super::operator_auth::filter_quota(auth, who, &mut status);
            let v = serde_json::to_value(status)
                .map_err(|e| HttpError::new(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?;
            Ok(json_response(&v))
        }
        (Route::Quota, &Method::POST) => {
            let (_, body) = read_body(req, ctx.max_body_bytes).await?;
            let r: QuotaRequest = parse(&body, "quota request")?;
            let q = quota_from_request(&r)?;
            require(auth, who, Action::UpdateQuota, Some(&q.0))?;
            lock(&ctx.master).update_quotas(&[q], r.force == Some(true))?;
            Ok(ok_empty())
        }
        (Route::Quota, &Method::DELETE) => {
            let role = path
                .trim_end_matches('/')
                .rsplit_once("/quota/")
                .map(|(_, r)| r.to_string())
                .filter(|r| !r.is_empty())
                .ok_or_else(|| HttpError::bad_request("Expecting 'DELETE /quota/<role>'"))?;
            require(auth, who, Action::UpdateQuota, Some(&role))?;
            lock(&ctx.master).remove_quota(&role)?;
            Ok(ok_empty())
        }
        (Route::Quota, m) => Err(method_not_allowed("GET, POST, DELETE", m)),
        (_, m) if *m != Method::GET && *m != Method::HEAD => Err(HttpError::new(
            StatusCode::METHOD_NOT_ALLOWED,
            format!("Expecting a 'GET' request, received '{m}'"),
        )),
        (Route::Roles, _) => {
            let mut v = roles_json(&lock(&ctx.master));
            if let Some(list) = v["roles"].as_array_mut() {
                list.retain(|r| {
                    let name = r["name"].as_str().unwrap_or_default();
                    auth.approved(who, Action::ViewRole, Some(name))
                });
            }
            Ok(json_response(&v))
        }
        _ => {
            // Summarized from what the principal may see of /state (view_* ACLs).
            let mut state = lock(&ctx.master).state_json();
            super::authz::filter_state(auth, who, &mut state);
            Ok(json_response(&summary_of(&state)))
        }
    }
}

/// A `ResourceQuantities` JSON object (`{"cpus": 1.5, "mem": 128}`).
fn quantities_json<'a>(q: impl Iterator<Item = (&'a str, crate::allocator::Scalar)>) -> Json {
    Json::Object(q.map(|(n, v)| (n.to_string(), json!(v.as_f64()))).collect())
}

/// The `/roles` document (Mesos `ReadOnlyHandler::roles`).
pub fn roles_json(m: &Master) -> Json {
    let roles: Vec<Json> = m
        .roles()
        .into_iter()
        .map(|r| {
            let mut resources = r.allocated.clone();
            resources.add(&r.offered);
            json!({
                "name": r.name,
                "weight": r.weight,
                "quota": {
                    "role": r.name,
                    "guarantee": quantities_json(r.quota.guarantees.iter()),
                    "limit": quantities_json(r.quota.limits.iter()),
                    "consumed": quantities_json(r.consumed.iter()),
                },
                "resources": quantities_json(resources.iter()),
                "allocated": quantities_json(r.allocated.iter()),
                "offered": quantities_json(r.offered.iter()),
                "reserved": quantities_json(r.reserved.iter()),
                "frameworks": r.frameworks,
            })
        })
        .collect();
    json!({ "roles": roles })
}

const COUNTED: [&str; 11] = [
    "TASK_STAGING",
    "TASK_STARTING",
    "TASK_RUNNING",
    "TASK_KILLING",
    "TASK_FINISHED",
    "TASK_KILLED",
    "TASK_FAILED",
    "TASK_LOST",
    "TASK_ERROR",
    "TASK_UNREACHABLE",
    "TASK_DROPPED",
];

fn add_counts(obj: &mut Json, tasks: &[&Json]) {
    for state in COUNTED {
        let n = tasks.iter().filter(|t| t["state"] == state).count();
        obj[state] = json!(n);
    }
}

fn tasks_of(f: &Json) -> Vec<&Json> {
    ["tasks", "completed_tasks"]
        .iter()
        .flat_map(|k| f[*k].as_array().into_iter().flatten())
        .collect()
}

/// The `/state-summary` document (Mesos `Master::Http::stateSummary`) of a `/state` document.
pub fn summary_of(s: &Json) -> Json {
    let all_fws: Vec<&Json> = s["frameworks"]
        .as_array()
        .into_iter()
        .flatten()
        .chain(s["completed_frameworks"].as_array().into_iter().flatten())
        .collect();
    let all_tasks: Vec<&Json> = all_fws.iter().flat_map(|f| tasks_of(f)).collect();
    let keep = |v: &Json, keys: &[&str]| -> Json {
        let mut o = json!({});
        for k in keys {
            if !v[*k].is_null() {
                o[*k] = v[*k].clone();
            }
        }
        o
    };
    let slaves: Vec<Json> = s["slaves"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|a| {
            let mut o = keep(
                a,
                &[
                    "id",
                    "pid",
                    "hostname",
                    "port",
                    "registered_time",
                    "reregistered_time",
                    "resources",
                    "used_resources",
                    "offered_resources",
                    "reserved_resources",
                    "unreserved_resources",
                    "attributes",
                    "active",
                    "version",
                    "capabilities",
                ],
            );
            let mine: Vec<&Json> = all_tasks
                .iter()
                .copied()
                .filter(|t| t["slave_id"] == a["id"])
                .collect();
            add_counts(&mut o, &mine);
            let mut fws: Vec<&str> = mine
                .iter()
                .filter_map(|t| t["framework_id"].as_str())
                .collect();
            fws.sort_unstable();
            fws.dedup();
            o["framework_ids"] = json!(fws);
            o
        })
        .collect();
    let frameworks: Vec<Json> = s["frameworks"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|f| {
            let mut o = keep(
                f,
                &[
                    "id",
                    "name",
                    "hostname",
                    "webui_url",
                    "active",
                    "connected",
                    "role",
                    "roles",
                    "capabilities",
                    "principal",
                    "used_resources",
                    "offered_resources",
                    "resources",
                ],
            );
            let mine = tasks_of(f);
            add_counts(&mut o, &mine);
            let mut agents: Vec<&str> =
                mine.iter().filter_map(|t| t["slave_id"].as_str()).collect();
            agents.sort_unstable();
            agents.dedup();
            o["slave_ids"] = json!(agents);
            o
        })
        .collect();
    let mut out = json!({
        "hostname": s["hostname"],
        "slaves": slaves,
        "frameworks": frameworks,
    });
    if !s["cluster"].is_null() {
        out["cluster"] = s["cluster"].clone();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conversions_refuse_bad_values() {
        let ok = WeightInfo {
            weight: 2.0,
            role: Some("a".into()),
        };
        assert_eq!(
            weights_from_infos(std::slice::from_ref(&ok)).unwrap(),
            vec![("a".to_string(), 2.0)]
        );
        let no_role = WeightInfo {
            weight: 2.0,
            role: None,
        };
        assert!(weights_from_infos(&[ok, no_role]).is_err());

        let mut c = WireQuota {
            role: "a".into(),
            ..WireQuota::default()
        };
        c.limits.insert("cpus".into(), WireScalar { value: -1.0 });
        assert!(quota_configs(&[c.clone()]).is_err());
        c.limits.insert("cpus".into(), WireScalar { value: 2.0 });
        let q = quota_configs(&[c]).unwrap();
        assert_eq!(q[0].1.limits.get("cpus").map(|s| s.as_f64()), Some(2.0));

        let text = QuotaRequest {
            role: Some("a".into()),
            guarantee: vec![WireResource::ranges("ports", [(1, 2)])],
            ..QuotaRequest::default()
        };
        assert!(quota_from_request(&text).is_err());
        let none = QuotaRequest::default();
        assert!(quota_from_request(&none).is_err());
    }
}
