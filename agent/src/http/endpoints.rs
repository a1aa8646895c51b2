//! Read-only JSON endpoints in Mesos shapes (reference §3.2): `/state`, `/flags`, `/version`,
//! `/containers` (with the `"meseta"` extension agentctl reads), `/monitor/statistics` and
//! `/metrics/snapshot`. The builders are shared with the operator API.

use std::collections::HashMap;

use hyper::Response;
use meseta_api::resource_format::{attributes_to_state_json, resources_to_state_json};
use meseta_api::{Resource, ResourceStatistics, TaskState};
use serde_json::{json, Map, Value as Json};

use super::{json, HttpError, RespBody};
use crate::daemon::state::{Executor, Framework, Phase, TaskEntry};
use crate::daemon::Agent;

/// The agent's version.
pub const VERSION: &str = "1.11.0";

/// `/version` body (libprocess VersionProcess shape).
pub fn version_json() -> Json {
    json!({
        "version": VERSION,
        "meseta_version": env!("CARGO_PKG_VERSION"),
        "build_date": "",
        "build_time": 0.0,
        "build_user": "meseta",
    })
}

/// `GET /version`.
pub fn version() -> Result<Response<RespBody>, HttpError> {
    json(&version_json())
}

/// `GET /flags`.
pub fn flags(agent: &Agent) -> Result<Response<RespBody>, HttpError> {
    let map: Map<String, Json> = agent
        .config
        .flags
        .iter()
        .map(|(k, v)| (k.clone(), Json::String(v.clone())))
        .collect();
    json(&json!({ "flags": map }))
}

/// `GET /state`.
pub fn state(agent: &Agent) -> Result<Response<RespBody>, HttpError> {
    json(&state_json(agent))
}

/// The `/state` document.
pub fn state_json(agent: &Agent) -> Json {
    let state = agent.state();
    let agent_id = state
        .agent_id
        .as_ref()
        .map(|a| a.value.clone())
        .unwrap_or_default();
    let frameworks: Vec<Json> = state
        .frameworks
        .values()
        .map(|f| framework_json(f, &agent_id))
        .collect();
    let completed: Vec<Json> = state
        .completed_frameworks
        .iter()
        .map(|f| framework_json(f, &agent_id))
        .collect();
    let used: Vec<Resource> = state
        .frameworks
        .values()
        .flat_map(|f| f.executors.values())
        .flat_map(executor_resources)
        .collect();
    let flags: Map<String, Json> = agent
        .config
        .flags
        .iter()
        .map(|(k, v)| (k.clone(), Json::String(v.clone())))
        .collect();
    let mut doc = version_json();
    let extra = json!({
        "start_time": agent.start_time,
        "id": agent_id,
        "pid": agent.pid(),
        "hostname": agent.config.hostname,
        "capabilities": ["MULTI_ROLE", "HIERARCHICAL_ROLE", "RESERVATION_REFINEMENT"],
        "resources": resources_to_state_json(&agent.config.resources),
        "reserved_resources": {},
        "unreserved_resources": resources_to_state_json(&agent.config.resources),
        "reserved_resources_full": {},
        "unreserved_resources_full": agent.config.resources,
        "reserved_resources_allocated": {},
        "unreserved_resources_allocated": resources_to_state_json(&used),
        "resource_providers": [],
        "attributes": attributes_to_state_json(&agent.config.attributes),
        "master_hostname": state.master_info.as_ref().and_then(|m| m.hostname.clone()),
        "flags": flags,
        "frameworks": frameworks,
        "completed_frameworks": completed,
    });
    if let (Some(d), Json::Object(e)) = (doc.as_object_mut(), extra) {
        d.extend(e);
    }
    doc
}

fn framework_json(f: &Framework, agent_id: &str) -> Json {
    let id = f
        .info
        .id
        .as_ref()
        .map(|i| i.value.clone())
        .unwrap_or_default();
    let executors: Vec<Json> = f
        .executors
        .values()
        .map(|e| executor_json(e, &id, agent_id))
        .collect();
    let completed: Vec<Json> = f
        .completed_executors
        .iter()
        .map(|e| executor_json(e, &id, agent_id))
        .collect();
    json!({
        "id": id,
        "name": f.info.name,
        "user": f.info.user,
        "failover_timeout": f.info.failover_timeout.unwrap_or(0.0),
        "checkpoint": f.info.checkpoint.unwrap_or(false),
        "hostname": f.info.hostname.clone().unwrap_or_default(),
        "principal": f.info.principal,
        "role": f.info.role.clone().unwrap_or_else(|| "*".into()),
        "roles": f.info.effective_roles(),
        "executors": executors,
        "completed_executors": completed,
    })
}

fn executor_resources(e: &Executor) -> Vec<Resource> {
    let mut r = e.info.resources.clone();
    r.extend(e.queued.iter().flat_map(|t| t.resources.clone()));
    r.extend(e.tasks.values().flat_map(|t| t.info.resources.clone()));
    r
}

fn executor_json(e: &Executor, fw: &str, agent_id: &str) -> Json {
    let task = |t: &TaskEntry| task_json(t, fw, &e.info.executor_id.value, agent_id);
    let queued: Vec<Json> = e
        .queued
        .iter()
        .map(|info| {
            task(&TaskEntry {
                info: Box::new(info.clone()),
                state: TaskState::Staging,
                statuses: Vec::new(),
            })
        })
        .collect();
    let (completed, live): (Vec<&TaskEntry>, Vec<&TaskEntry>) = if e.phase == Phase::Terminated {
        (e.tasks.values().collect(), Vec::new())
    } else {
        (Vec::new(), e.tasks.values().collect())
    };
    let mut completed: Vec<Json> = completed.into_iter().map(task).collect();
    completed.extend(e.completed_tasks.iter().map(task));
    json!({
        "id": e.info.executor_id.value,
        "name": e.info.name.clone().unwrap_or_default(),
        "source": e.info.source.clone().unwrap_or_default(),
        "container": e.container_id,
        "directory": e.directory.display().to_string(),
        "resources": resources_to_state_json(&executor_resources(e)),
        "type": if e.command_executor { "DEFAULT" } else { "CUSTOM" },
        "tasks": live.into_iter().map(task).collect::<Vec<_>>(),
        "queued_tasks": queued,
        "completed_tasks": completed,
    })
}

fn task_json(t: &TaskEntry, fw: &str, ex: &str, agent_id: &str) -> Json {
    let statuses: Vec<Json> = t
        .statuses
        .iter()
        .map(|s| {
            json!({
                "state": s.state,
                "timestamp": s.timestamp.unwrap_or_default(),
                "container_status": s.container_status,
            })
        })
        .collect();
    json!({
        "id": t.info.task_id.value,
        "name": t.info.name,
        "framework_id": fw,
        "executor_id": if t.info.executor.is_some() { ex } else { "" },
        "slave_id": agent_id,
        "state": t.state,
        "resources": resources_to_state_json(&t.info.resources),
        "role": "*",
        "statuses": statuses,
    })
}

/// What a container entry needs from the agent's state, copied out under the state lock so
/// that the usage reads (cgroup files, `/proc`) happen without it.
#[derive(Debug)]
struct Row {
    framework_id: String,
    container_id: String,
    executor_id: String,
    executor_name: String,
    source: String,
    launched: Option<crate::containerizer::Launched>,
    cpus: Option<f64>,
    mem_mb: Option<f64>,
    task_ids: Vec<String>,
    sandbox: String,
    recovered: bool,
}

/// The rows of every container; `detail` adds the task ids and the sandbox, which
/// `/monitor/statistics` does not show (a tenth of its time went into copying them).
fn rows(agent: &Agent, detail: bool) -> Vec<Row> {
    let state = agent.state();
    let mut out = Vec::new();
    for (fw, f) in &state.frameworks {
        for e in f.executors.values() {
            out.push(Row {
                framework_id: fw.clone(),
                container_id: e.container_id.clone(),
                executor_id: e.info.executor_id.value.clone(),
                executor_name: e.info.name.clone().unwrap_or_default(),
                source: e.info.source.clone().unwrap_or_default(),
                launched: e.launched,
                cpus: e.cpus,
                mem_mb: e.mem_mb,
                task_ids: if detail { e.task_ids() } else { Vec::new() },
                sandbox: if detail {
                    e.directory.display().to_string()
                } else {
                    String::new()
                },
                recovered: e.recovered,
            });
        }
    }
    out
}

/// One entry per live container: Mesos fields plus the `"meseta"` extension. The usage of
/// all containers is read on the blocking pool (one `/proc` pass without cgroups).
pub async fn containers_json(agent: &std::sync::Arc<Agent>) -> Vec<Json> {
    let rows = rows(agent, true);
    let agent = std::sync::Arc::clone(agent);
    tokio::task::spawn_blocking(move || build_entries(&agent, rows))
        .await
        .unwrap_or_default()
}

/// The usage of every launched container among `rows`, keyed by container id.
fn usage_of_rows(agent: &Agent, rows: &[Row]) -> HashMap<String, ResourceStatistics> {
    let launched: Vec<(&str, Option<f64>, Option<f64>)> = rows
        .iter()
        .filter(|r| r.launched.is_some())
        .map(|r| (r.container_id.as_str(), r.cpus, r.mem_mb))
        .collect();
    crate::daemon::containerizers::usage_of(agent, &launched)
}

fn build_entries(agent: &Agent, rows: Vec<Row>) -> Vec<Json> {
    let mut usage = usage_of_rows(agent, &rows);
    let mut out = Vec::with_capacity(rows.len());
    for row in rows {
        let Some(launched) = row.launched else {
            // A container waiting for its image shows its pull progress.
            if let Some(pull) = crate::daemon::image::pull_json(&row.container_id) {
                out.push(json!({
                    "container_id": row.container_id,
                    "executor_id": row.executor_id,
                    "framework_id": row.framework_id,
                    "meseta": {"task_ids": row.task_ids, "image_pull": pull,
                               "sandbox": row.sandbox},
                }));
            }
            continue;
        };
        let mut stats = usage.remove(&row.container_id);
        agent.disk.fill(&row.container_id, &mut stats);
        let cgroups: Vec<String> = agent
            .containerizer
            .cgroups()
            .and_then(|cg| cg.paths(&row.container_id).ok())
            .unwrap_or_default()
            .into_iter()
            .map(|p| p.display().to_string())
            .collect();
        // Limits are validated positive and far below 2^53 MB.
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        let mem_bytes = row.mem_mb.map(|m| (m * 1024.0 * 1024.0).round() as u64);
        out.push(json!({
            "container_id": row.container_id,
            "executor_id": row.executor_id,
            "executor_name": row.executor_name,
            "framework_id": row.framework_id,
            "source": row.source,
            "statistics": stats,
            "status": {
                "container_id": {"value": row.container_id},
                "executor_pid": launched.pid,
            },
            "meseta": {
                "pid": launched.pid,
                "supervisor_pid": launched.supervisor_pid,
                "task_ids": row.task_ids,
                "cgroups": cgroups,
                "sandbox": row.sandbox,
                "recovered": row.recovered,
                "limits": {"cpus": row.cpus, "mem_bytes": mem_bytes},
            },
        }));
    }
    out
}

/// `GET /containers`.
pub async fn containers(agent: &std::sync::Arc<Agent>) -> Result<Response<RespBody>, HttpError> {
    json(&containers_json(agent).await)
}

/// One `/monitor/statistics` entry, in Mesos's shape.
#[derive(Debug, serde::Serialize)]
struct StatisticsEntry<'a> {
    executor_id: &'a str,
    executor_name: &'a str,
    framework_id: &'a str,
    source: &'a str,
    statistics: Option<ResourceStatistics>,
}

/// The `/monitor/statistics` body: usage read and JSON encoded straight from typed entries
/// (no intermediate `Value`), both on the blocking thread that calls this.
fn statistics_body(agent: &Agent, rows: &[Row]) -> serde_json::Result<Vec<u8>> {
    let mut usage = usage_of_rows(agent, rows);
    let entries: Vec<StatisticsEntry<'_>> = rows
        .iter()
        .filter(|row| row.launched.is_some())
        .map(|row| {
            let mut stats = usage.remove(&row.container_id);
            agent.disk.fill(&row.container_id, &mut stats);
            StatisticsEntry {
                executor_id: &row.executor_id,
                executor_name: &row.executor_name,
                framework_id: &row.framework_id,
                source: &row.source,
                statistics: stats,
            }
        })
        .collect();
    // About 350 bytes per entry: one allocation for the whole body.
    let mut body = Vec::with_capacity(64 + entries.len() * 384);
    serde_json::to_writer(&mut body, &entries)?;
    Ok(body)
}

/// `GET /monitor/statistics`: one entry per running container, in Mesos's shape.
pub async fn statistics(agent: &std::sync::Arc<Agent>) -> Result<Response<RespBody>, HttpError> {
    let rows = rows(agent, false);
    let agent = std::sync::Arc::clone(agent);
    let body = tokio::task::spawn_blocking(move || statistics_body(&agent, &rows))
        .await
        .map_err(|e| HttpError::ServiceUnavailable(format!("reading usage: {e}")))?
        .map_err(|e| HttpError::BadRequest(format!("encoding the response: {e}")))?;
    Ok(super::json_bytes(body))
}

/// Every metric, flat (`slave/registered`, ...).
pub fn metrics_list(agent: &Agent) -> Vec<(String, f64)> {
    let (gc_ok, gc_failed) = agent.gc.removals();
    let state = agent.state();
    let b = |v: bool| if v { 1.0 } else { 0.0 };
    let n = |v: usize| v as f64;
    let terminal = |s: TaskState| {
        state
            .counters
            .terminal
            .get(s.as_str())
            .copied()
            .unwrap_or(0) as f64
    };
    let total =
        |name: &str| meseta_api::resource_format::scalar_total(&agent.config.resources, name);
    let used: Vec<Resource> = state
        .frameworks
        .values()
        .flat_map(|f| f.executors.values())
        .flat_map(executor_resources)
        .collect();
    let used_of = |name: &str| meseta_api::resource_format::scalar_total(&used, name);
    let mut m = vec![
        ("slave/registered", b(state.registered)),
        ("slave/uptime_secs", agent.started.elapsed().as_secs_f64()),
        ("slave/frameworks_active", n(state.frameworks.len())),
        (
            "slave/tasks_staging",
            n(state.count_tasks(TaskState::Staging)),
        ),
        (
            "slave/tasks_starting",
            n(state.count_tasks(TaskState::Starting)),
        ),
        (
            "slave/tasks_running",
            n(state.count_tasks(TaskState::Running)),
        ),
        (
            "slave/tasks_killing",
            n(state.count_tasks(TaskState::Killing)),
        ),
        ("slave/tasks_finished", terminal(TaskState::Finished)),
        ("slave/tasks_failed", terminal(TaskState::Failed)),
        ("slave/tasks_killed", terminal(TaskState::Killed)),
        ("slave/tasks_lost", terminal(TaskState::Lost)),
        ("slave/tasks_gone", terminal(TaskState::Gone)),
        ("slave/tasks_dropped", terminal(TaskState::Dropped)),
        (
            "slave/executors_registering",
            n(state.count_executors(Phase::Registering)),
        ),
        (
            "slave/executors_running",
            n(state.count_executors(Phase::Running)),
        ),
        (
            "slave/executors_terminating",
            n(state.count_executors(Phase::Terminating)),
        ),
        (
            "slave/executors_terminated",
            state.counters.executors_terminated as f64,
        ),
        (
            "slave/valid_status_updates",
            state.counters.valid_status_updates as f64,
        ),
        (
            "slave/invalid_status_updates",
            state.counters.invalid_status_updates as f64,
        ),
        (
            "slave/valid_framework_messages",
            state.counters.valid_framework_messages as f64,
        ),
        ("slave/recovery_errors", 0.0),
        (
            "slave/container_launch_errors",
            state.counters.container_launch_errors as f64,
        ),
        (
            "containerizer/mesos/container_destroy_errors",
            state.counters.container_destroy_errors as f64,
        ),
        ("slave/cpus_total", total("cpus")),
        ("slave/cpus_used", used_of("cpus")),
        ("slave/mem_total", total("mem")),
        ("slave/mem_used", used_of("mem")),
        ("slave/disk_total", total("disk")),
        ("slave/disk_used", used_of("disk")),
        ("slave/gpus_total", total("gpus")),
        ("slave/gpus_used", used_of("gpus")),
        ("gc/path_removals_succeeded", gc_ok as f64),
        ("gc/path_removals_failed", gc_failed as f64),
        ("gc/path_removals_pending", n(agent.gc.pending())),
    ];
    m.sort_by(|a, b| a.0.cmp(b.0));
    m.into_iter().map(|(k, v)| (k.to_owned(), v)).collect()
}

/// `GET /metrics/snapshot`.
pub fn metrics(agent: &Agent) -> Result<Response<RespBody>, HttpError> {
    let map: Map<String, Json> = metrics_list(agent)
        .into_iter()
        .map(|(k, v)| (k, json!(v)))
        .collect();
    json(&map)
}
