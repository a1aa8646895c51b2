//! The agent operator API, `POST /api/v1` (reference §3.3): GET_HEALTH, GET_FLAGS,
//! GET_VERSION, GET_METRICS, GET_STATE (and GET_FRAMEWORKS / GET_EXECUTORS / GET_TASKS /
//! GET_AGENT), GET_CONTAINERS, LIST_FILES and READ_FILE. Other known calls → 501.

use hyper::{Request, Response};
use meseta_api::agent::{self as api, Call, CallType, ResponseType};
use meseta_api::{Bytes, ContainerId, ExecutorId, FrameworkId, Task, TaskState, VersionInfo};
use meseta_httpd::RequestBody;
use serde_json::{json, Value as Json};

use super::{auth, endpoints, files, json, json_body, HttpError, RespBody};
use crate::daemon::state::{Executor, Framework, TaskEntry};
use crate::daemon::Agent;
use crate::sandbox_files::listing;

/// Handles one operator call.
pub async fn handle(
    agent: &std::sync::Arc<Agent>,
    req: Request<RequestBody>,
) -> Result<Response<RespBody>, HttpError> {
    let (parts, body) = json_body(req).await?;
    let call = Call::from_json(&body).map_err(|e| HttpError::BadRequest(e.to_string()))?;
    call.validate()
        .map_err(|e| HttpError::BadRequest(e.to_string()))?;
    let principal = parts.extensions.get::<meseta_auth::Principal>();
    match (&call.r#type, &call.read_file, &call.list_files) {
        (CallType::GetFlags, _, _) => {
            auth::require(agent, principal, meseta_auth::Action::ViewFlags, None)?;
        }
        (CallType::GetMetrics, _, _) => {
            let endpoint = Some("/metrics/snapshot");
            auth::require(agent, principal, meseta_auth::Action::GetEndpoint, endpoint)?;
        }
        (CallType::ReadFile, Some(r), _) => {
            auth::authorize_sandbox(agent, principal, &r.path).await?
        }
        (CallType::ListFiles, _, Some(l)) => {
            auth::authorize_sandbox(agent, principal, &l.path).await?
        }
        _ => {}
    }
    match call.r#type {
        CallType::GetHealth => json(&api::Response::health(true)),
        CallType::GetFlags => json(&api::Response::flags(agent.config.flags.clone())),
        CallType::GetVersion => json(&api::Response::version(VersionInfo {
            version: endpoints::VERSION.into(),
            build_user: Some("meseta".into()),
            ..VersionInfo::default()
        })),
        CallType::GetMetrics => json(&api::Response::metrics(endpoints::metrics_list(agent))),
        CallType::GetState => json(&api::Response {
            r#type: ResponseType::GetState,
            get_state: Some(get_state(agent, principal)),
            ..api::Response::default()
        }),
        CallType::GetFrameworks => json(&api::Response {
            r#type: ResponseType::GetFrameworks,
            get_frameworks: get_state(agent, principal).get_frameworks,
            ..api::Response::default()
        }),
        CallType::GetExecutors => json(&api::Response {
            r#type: ResponseType::GetExecutors,
            get_executors: get_state(agent, principal).get_executors,
            ..api::Response::default()
        }),
        CallType::GetTasks => json(&api::Response {
            r#type: ResponseType::GetTasks,
            get_tasks: get_state(agent, principal).get_tasks,
            ..api::Response::default()
        }),
        CallType::GetContainers => json(&get_containers(agent).await),
        CallType::GetAgent => json(&api::Response {
            r#type: ResponseType::GetAgent,
            get_agent: Some(api::GetAgent {
                agent_info: Some(agent.agent_info()),
                ..api::GetAgent::default()
            }),
            ..api::Response::default()
        }),
        CallType::ReadFile => {
            let r = call
                .read_file
                .ok_or_else(|| HttpError::BadRequest("Expecting 'read_file'".into()))?;
            let offset = i64::try_from(r.offset).unwrap_or(i64::MAX);
            let length = r.length.map(|l| i64::try_from(l).unwrap_or(i64::MAX));
            let (data, _, size) = files::read(agent, &r.path, Some(offset), length).await?;
            json(&api::Response {
                r#type: ResponseType::ReadFile,
                read_file: Some(api::response::ReadFile {
                    size,
                    data: Bytes::new(data),
                }),
                ..api::Response::default()
            })
        }
        CallType::ListFiles => {
            let l = call
                .list_files
                .ok_or_else(|| HttpError::BadRequest("Expecting 'list_files'".into()))?;
            json(&list_files(agent, &l.path).await?)
        }
        CallType::Unknown => Err(HttpError::BadRequest(
            "Expecting 'type' to be present".into(),
        )),
        other => Err(HttpError::NotImplemented(format!(
            "{other} is not supported by this agent yet"
        ))),
    }
}

/// LIST_FILES: the first [`listing::MAX_PAGE`] entries, through the same resolver as
/// `/files/browse`.
async fn list_files(agent: &Agent, path: &str) -> Result<Json, HttpError> {
    let (infos, _) = files::list(agent, path, 0, listing::MAX_PAGE).await?;
    let infos: Vec<Json> = infos
        .into_iter()
        .map(|i| {
            json!({
                "path": i.path,
                "nlink": i.stat.st_nlink,
                "size": i.stat.st_size,
                "mtime": {"nanoseconds": i.stat.st_mtime.saturating_mul(1_000_000_000)},
                "mode": i.stat.st_mode,
                "uid": i.uid,
                "gid": i.gid,
            })
        })
        .collect();
    Ok(json!({"type": "LIST_FILES", "list_files": {"file_infos": infos}}))
}

async fn get_containers(agent: &std::sync::Arc<Agent>) -> Json {
    let containers: Vec<Json> = endpoints::containers_json(agent)
        .await
        .into_iter()
        .map(|c| {
            json!({
                "framework_id": {"value": c["framework_id"]},
                "executor_id": {"value": c["executor_id"]},
                "executor_name": c["executor_name"],
                "container_id": ContainerId::new(c["container_id"].as_str().unwrap_or_default()),
                "container_status": {"executor_pid": c["status"]["executor_pid"]},
                "resource_statistics": c["statistics"],
            })
        })
        .collect();
    json!({"type": "GET_CONTAINERS", "get_containers": {"containers": containers}})
}

fn task(t: &TaskEntry, fw: &FrameworkId, ex: &ExecutorId, agent_id: &meseta_api::AgentId) -> Task {
    Task {
        name: t.info.name.clone(),
        task_id: t.info.task_id.clone(),
        framework_id: fw.clone(),
        executor_id: Some(ex.clone()),
        agent_id: agent_id.clone(),
        state: t.state,
        resources: t.info.resources.clone(),
        statuses: t.statuses.clone(),
        ..Task::default()
    }
}

/// GET_STATE as `principal` may see it.
fn get_state(agent: &Agent, principal: Option<&meseta_auth::Principal>) -> api::GetState {
    let mut s = get_state_unfiltered(agent);
    auth::filter_get_state(agent, principal, &mut s);
    s
}

fn get_state_unfiltered(agent: &Agent) -> api::GetState {
    let state = agent.state();
    let agent_id = state.agent_id.clone().unwrap_or_default();
    let mut tasks = api::GetTasks::default();
    let mut executors = api::GetExecutors::default();
    let mut frameworks = api::GetFrameworks::default();
    let mut add_executor = |e: &Executor, fw: &FrameworkId, live: bool| {
        let ex = &e.info.executor_id;
        for q in &e.queued {
            let entry = TaskEntry {
                info: Box::new(q.clone()),
                state: TaskState::Staging,
                statuses: Vec::new(),
            };
            tasks.queued_tasks.push(task(&entry, fw, ex, &agent_id));
        }
        for t in e.tasks.values() {
            let t = task(t, fw, ex, &agent_id);
            if t.state.is_terminal() {
                tasks.terminated_tasks.push(t);
            } else {
                tasks.launched_tasks.push(t);
            }
        }
        for t in &e.completed_tasks {
            tasks.completed_tasks.push(task(t, fw, ex, &agent_id));
        }
        let info = api::Executor {
            executor_info: e.info.clone(),
        };
        if live {
            executors.executors.push(info);
        } else {
            executors.completed_executors.push(info);
        }
    };
    let mut add_framework = |f: &Framework, live: bool| {
        let fw = f.info.id.clone().unwrap_or_default();
        for e in f.executors.values() {
            add_executor(e, &fw, true);
        }
        for e in &f.completed_executors {
            add_executor(e, &fw, false);
        }
        let info = api::Framework {
            framework_info: f.info.clone(),
        };
        if live {
            frameworks.frameworks.push(info);
        } else {
            frameworks.completed_frameworks.push(info);
        }
    };
    for f in state.frameworks.values() {
        add_framework(f, true);
    }
    for f in &state.completed_frameworks {
        add_framework(f, false);
    }
    api::GetState {
        get_tasks: Some(tasks),
        get_executors: Some(executors),
        get_frameworks: Some(frameworks),
    }
}
