//! `POST /api/v1` (also reached as `/api/v1/operator`): the v1 master
//! operator API (`mesos.v1.master.Call` → `mesos.v1.master.Response`, JSON
//! only). Queries answer `200` with `{"type": T, "<t>": {...}}`; actions
//! answer `200` (or `202` for reservations) with an empty body.

use http::{Request, Response, StatusCode};
use meseta_api::agent::response::{GetFlags, GetHealth, GetMetrics, GetOperations, GetVersion};
use meseta_api::master::{
    Agent as AgentView, Call, CallType, Executor, Framework as FrameworkView, GetAgents,
    GetExecutors, GetFrameworks, GetMaintenanceSchedule, GetMaintenanceStatus, GetMaster, GetQuota,
    GetRoles, GetState, GetTasks, GetWeights, Response as OpResponse, ResponseType,
};
use meseta_api::{Flag, Metric, Role, TimeInfo, VersionInfo, WeightInfo};
use meseta_httpd::RequestBody;

use super::{
    json_response, operator_auth, read_body, require_json, require_json_accept, require_post, Body,
    Ctx, HttpError,
};
use crate::master::{lock, render::version_json, Master, Sink};

/// Serves one operator call.
pub async fn handle(req: Request<RequestBody>, ctx: &Ctx) -> super::HttpResult {
    require_post(&req)?;
    let (parts, body) = read_body(req, ctx.max_body_bytes).await?;
    require_json(&parts)?;
    require_json_accept(&parts)?;
    let call = Call::from_json(&body).map_err(|e| HttpError::bad_request(e.to_string()))?;
    call.validate()
        .map_err(|e| HttpError::bad_request(format!("Failed to validate master::Call: {e}")))?;
    let who = super::authz::principal(&parts.extensions);
    execute(call, who, ctx)
}

/// Runs a validated operator call for `who` (also the web UI's buttons).
pub(crate) fn execute(
    call: Call,
    who: Option<&meseta_auth::Principal>,
    ctx: &Ctx,
) -> super::HttpResult {
    let auth = &ctx.auth;
    let mut m = lock(&ctx.master);
    operator_auth::authorize_call(auth, who, &m, &call)?;
    let mut resp = OpResponse::default();
    match call.r#type {
        CallType::GetHealth => {
            resp.r#type = ResponseType::GetHealth;
            resp.get_health = Some(GetHealth { healthy: true });
        }
        CallType::GetFlags => {
            resp.r#type = ResponseType::GetFlags;
            resp.get_flags = Some(GetFlags {
                flags: m
                    .flags_json()
                    .into_iter()
                    .map(|(name, v)| Flag {
                        name,
                        value: Some(v.as_str().map_or_else(|| v.to_string(), str::to_string)),
                    })
                    .collect(),
            });
        }
        CallType::GetVersion => {
            let v = version_json();
            resp.r#type = ResponseType::GetVersion;
            resp.get_version = Some(GetVersion {
                version_info: VersionInfo {
                    version: v["version"].as_str().unwrap_or_default().to_string(),
                    build_date: v["build_date"].as_str().map(str::to_string),
                    build_time: v["build_time"].as_f64(),
                    build_user: v["build_user"].as_str().map(str::to_string),
                    ..VersionInfo::default()
                },
            });
        }
        CallType::GetMetrics => {
            resp.r#type = ResponseType::GetMetrics;
            let snapshot = m.metrics_json();
            resp.get_metrics = Some(GetMetrics {
                metrics: snapshot
                    .as_object()
                    .into_iter()
                    .flatten()
                    .map(|(name, v)| Metric {
                        name: name.clone(),
                        value: v.as_f64(),
                    })
                    .collect(),
            });
        }
        CallType::GetState => {
            resp.r#type = ResponseType::GetState;
            let mut state = GetState {
                get_tasks: Some(tasks(&m)),
                get_executors: Some(executors(&m)),
                get_frameworks: Some(frameworks(&m)),
                get_agents: Some(agents(&m)),
            };
            operator_auth::filter_state(auth, who, &m, &mut state);
            resp.get_state = Some(state);
        }
        CallType::Subscribe => {
            let mut state = GetState {
                get_tasks: Some(tasks(&m)),
                get_executors: Some(executors(&m)),
                get_frameworks: Some(frameworks(&m)),
                get_agents: Some(agents(&m)),
            };
            operator_auth::filter_state(auth, who, &m, &mut state);
            let (sink, rx) = Sink::channel();
            m.operator_subscribe(sink, state, auth.clone(), who.cloned());
            let mut r = Response::new(Body::Unbounded(rx));
            r.headers_mut().insert(
                http::header::CONTENT_TYPE,
                http::HeaderValue::from_static("application/json"),
            );
            return Ok(r);
        }
        CallType::GetAgents => {
            resp.r#type = ResponseType::GetAgents;
            resp.get_agents = Some(agents(&m));
        }
        CallType::GetFrameworks => {
            resp.r#type = ResponseType::GetFrameworks;
            let mut f = frameworks(&m);
            operator_auth::filter_frameworks(auth, who, &mut f);
            resp.get_frameworks = Some(f);
        }
        CallType::GetExecutors => {
            resp.r#type = ResponseType::GetExecutors;
            let mut e = executors(&m);
            operator_auth::filter_executors(auth, who, &m, &mut e);
            resp.get_executors = Some(e);
        }
        CallType::GetTasks => {
            resp.r#type = ResponseType::GetTasks;
            let mut t = tasks(&m);
            operator_auth::filter_tasks(auth, who, &m, &mut t);
            resp.get_tasks = Some(t);
        }
        CallType::GetRoles => {
            resp.r#type = ResponseType::GetRoles;
            resp.get_roles = Some(GetRoles {
                roles: m
                    .roles()
                    .into_iter()
                    .map(|r| Role {
                        name: r.name,
                        weight: r.weight,
                        frameworks: r
                            .frameworks
                            .iter()
                            .map(|f| meseta_api::FrameworkId::new(f.as_str()))
                            .collect(),
                        resources: r.resources,
                    })
                    .collect(),
            });
        }
        CallType::GetMaster => {
            resp.r#type = ResponseType::GetMaster;
            resp.get_master = Some(GetMaster {
                master_info: Some(m.info.clone()),
                start_time: Some(m.start_time),
                elected_time: Some(m.start_time),
            });
        }
        // No offer operations are tracked and no maintenance is scheduled:
        // these answer empty, in shape.
        CallType::GetOperations => {
            resp.r#type = ResponseType::GetOperations;
            resp.get_operations = Some(GetOperations::default());
        }
        CallType::GetMaintenanceStatus => {
            resp.r#type = ResponseType::GetMaintenanceStatus;
            resp.get_maintenance_status = Some(GetMaintenanceStatus::default());
        }
        CallType::GetMaintenanceSchedule => {
            resp.r#type = ResponseType::GetMaintenanceSchedule;
            resp.get_maintenance_schedule = Some(GetMaintenanceSchedule::default());
        }
        CallType::GetWeights => {
            resp.r#type = ResponseType::GetWeights;
            resp.get_weights = Some(GetWeights {
                weight_infos: m
                    .weights()
                    .into_iter()
                    .map(|(role, weight)| WeightInfo {
                        weight,
                        role: Some(role),
                    })
                    .collect(),
            });
        }
        CallType::GetQuota => {
            resp.r#type = ResponseType::GetQuota;
            let mut status = super::roles::quota_status(&m);
            operator_auth::filter_quota(auth, who, &mut status);
            resp.get_quota = Some(GetQuota { status });
        }
        CallType::UpdateWeights => {
            let infos = call
                .update_weights
                .map(|u| u.weight_infos)
                .unwrap_or_default();
            let weights = super::roles::weights_from_infos(&infos)?;
            m.update_weights(&weights)?;
            return Ok(Response::new(Body::empty()));
        }
        CallType::UpdateQuota => {
            let u = call.update_quota.unwrap_or_default();
            let configs = super::roles::quota_configs(&u.quota_configs)?;
            m.update_quotas(&configs, u.force == Some(true))?;
            return Ok(Response::new(Body::empty()));
        }
        CallType::SetQuota => {
            let r = call.set_quota.map(|q| q.quota_request).unwrap_or_default();
            let q = super::roles::quota_from_request(&r)?;
            m.update_quotas(&[q], r.force == Some(true))?;
            return Ok(Response::new(Body::empty()));
        }
        CallType::RemoveQuota => {
            let role = call.remove_quota.map(|q| q.role).unwrap_or_default();
            m.remove_quota(&role)?;
            return Ok(Response::new(Body::empty()));
        }
        CallType::ReserveResources | CallType::UnreserveResources => {
            let reserve = call.r#type == CallType::ReserveResources;
            let (agent, resources) = match (call.reserve_resources, call.unreserve_resources) {
                (Some(r), _) if reserve => (r.agent_id.value, r.resources),
                (_, Some(u)) if !reserve => (u.agent_id.value, u.resources),
                _ => return Err(HttpError::bad_request("Missing resources")),
            };
            m.reserve(&agent, &resources, reserve)?;
            let mut r = Response::new(Body::empty());
            *r.status_mut() = StatusCode::ACCEPTED;
            return Ok(r);
        }
        CallType::MarkAgentGone | CallType::DeactivateAgent | CallType::ReactivateAgent => {
            let agent = call
                .mark_agent_gone
                .or(call.deactivate_agent)
                .or(call.reactivate_agent)
                .map(|a| a.agent_id.value)
                .unwrap_or_default();
            match call.r#type {
                CallType::MarkAgentGone => m.mark_agent_gone(&agent)?,
                CallType::DeactivateAgent => m.deactivate_agent(&agent)?,
                _ => m.reactivate_agent(&agent)?,
            }
            return Ok(Response::new(Body::empty()));
        }
        CallType::Teardown => {
            let id = call
                .teardown
                .map(|t| t.framework_id.value)
                .unwrap_or_default();
            if !m.frameworks.contains_key(&id) {
                return Err(HttpError::bad_request(format!(
                    "Framework {id} is not registered"
                )));
            }
            m.remove_framework(&id)?;
            return Ok(Response::new(Body::empty()));
        }
        CallType::DrainAgent => {
            let d = call.drain_agent.unwrap_or_default();
            m.drain_agent(
                &d.agent_id.value,
                d.max_grace_period,
                d.mark_gone == Some(true),
            )?;
            return Ok(Response::new(Body::empty()));
        }
        CallType::Unknown => return Err(HttpError::bad_request("Unknown call type")),
        other => {
            return Err(HttpError::new(
                StatusCode::NOT_IMPLEMENTED,
                format!("Operator call {other:?} is not implemented"),
            ))
        }
    }
    if auth.authorizer().is_some() {
        operator_auth::filter_roles(
            auth,
            who,
            resp.get_weights.as_mut(),
            resp.get_roles.as_mut(),
        );
    }
    let v = serde_json::to_value(&resp)
        .map_err(|e| HttpError::new(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?;
    Ok(json_response(&v))
}

#[allow(clippy::cast_possible_truncation)]
fn time_info(secs: f64) -> TimeInfo {
    TimeInfo {
        nanoseconds: (secs * 1e9) as i64,
    }
}

fn agents(m: &Master) -> GetAgents {
    let mut ids: Vec<&String> = m.agents.keys().collect();
    ids.sort();
    let mut agents = Vec::new();
    for id in ids {
        let Some(a) = m.agents.get(id) else { continue };
        let mut offered = Vec::new();
        for o in m.offers.values().filter(|o| o.offer.agent_id.value == *id) {
            offered.extend(o.offer.resources.iter().cloned());
        }
        let mut allocated = Vec::new();
        for f in m.frameworks.values() {
            for t in f.tasks.values().filter(|t| t.task.agent_id.value == *id) {
                allocated.extend(crate::convert::to_wire(&t.alloc));
            }
        }
        allocated.extend(offered.iter().cloned());
        agents.push(AgentView {
            agent_info: a.info.clone(),
            active: a.sink.is_some() && !a.deactivated,
            deactivated: Some(a.deactivated),
            drain_info: a.drain,
            version: a.version.clone(),
            pid: Some(a.pid()),
            registered_time: Some(time_info(a.registered_time)),
            reregistered_time: a.reregistered_time.map(time_info),
            total_resources: m
                .agent_total_wire(id)
                .unwrap_or_else(|| a.info.resources.clone()),
            allocated_resources: allocated,
            offered_resources: offered,
            ..AgentView::default()
        });
    }
    GetAgents {
        agents,
        recovered_agents: Vec::new(),
    }
}

fn framework_view(m: &Master, f: &crate::master::Framework, active: bool) -> FrameworkView {
    let mut offers = Vec::new();
    let mut offered = Vec::new();
    for o in f.offers.iter().filter_map(|id| m.offers.get(id)) {
        offered.extend(o.offer.resources.iter().cloned());
        offers.push(o.offer.clone());
    }
    let mut allocated = Vec::new();
    for t in f.tasks.values() {
        allocated.extend(crate::convert::to_wire(&t.alloc));
    }
    for e in f.executors.values() {
        allocated.extend(crate::convert::to_wire(&e.alloc));
    }
    allocated.extend(offered.iter().cloned());
    FrameworkView {
        framework_info: f.info.clone(),
        active: active && f.stream.is_some(),
        connected: f.stream.is_some(),
        recovered: f.recovered,
        registered_time: Some(time_info(f.registered_time)),
        reregistered_time: f.reregistered_time.map(time_info),
        offers,
        allocated_resources: allocated,
        offered_resources: offered,
        ..FrameworkView::default()
    }
}

fn sorted_frameworks(m: &Master) -> Vec<&crate::master::Framework> {
    let mut fws: Vec<&crate::master::Framework> = m.frameworks.values().collect();
    fws.sort_by(|a, b| a.id.cmp(&b.id));
    fws
}

fn frameworks(m: &Master) -> GetFrameworks {
    GetFrameworks {
        frameworks: sorted_frameworks(m)
            .into_iter()
            .map(|f| framework_view(m, f, true))
            .collect(),
        completed_frameworks: m
            .completed_frameworks
            .iter()
            .map(|f| framework_view(m, f, false))
            .collect(),
        recovered_frameworks: Vec::new(),
    }
}

fn executors(m: &Master) -> GetExecutors {
    let mut executors = Vec::new();
    for f in sorted_frameworks(m) {
        for ((agent, _), e) in &f.executors {
            executors.push(Executor {
                executor_info: e.info.clone(),
                agent_id: meseta_api::AgentId::new(agent.as_str()),
            });
        }
    }
    GetExecutors {
        executors,
        orphan_executors: Vec::new(),
    }
}

fn tasks(m: &Master) -> GetTasks {
    let mut out = GetTasks::default();
    for f in sorted_frameworks(m)
        .into_iter()
        .chain(m.completed_frameworks.iter())
    {
        let mut live: Vec<_> = f.tasks.values().map(|t| t.task.clone()).collect();
        live.sort_by(|a, b| a.task_id.value.cmp(&b.task_id.value));
        out.tasks.extend(live);
        out.completed_tasks
            .extend(f.completed_tasks.iter().map(|t| t.task.clone()));
    }
    out
}
