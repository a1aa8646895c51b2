//! `POST /api/v1/executor` (reference §2): SUBSCRIBE opens a chunked RecordIO stream
//! (SUBSCRIBED, then LAUNCH for queued tasks, HEARTBEAT every `--http_heartbeat_interval`);
//! UPDATE and MESSAGE are answered 202 and forwarded to the master. Unknown framework or
//! executor → 400, not subscribed → 403, an UPDATE for a task the executor was not given →
//! 403. Every call first passes `executor_auth` (bearer token with
//! `--authenticate_http_executors` → 401/403; the caller must be a process of the
//! executor's container → 403).

use std::sync::Arc;

use bytes::Bytes;
use http_body_util::BodyExt;
use hyper::header::{HeaderValue, CONTENT_TYPE};
use hyper::{Request, Response, StatusCode};
use meseta_api::executor::{Call, CallType, Event, EventType, Subscribed};
use meseta_api::internal::{self, FrameworkMessage};
use meseta_api::ContainerId;
use meseta_httpd::RequestBody;
use tokio::sync::mpsc;
use tracing::{info, warn};

use super::{empty, executor_auth, json_body, EventStream, HttpError, RespBody};
use crate::daemon::state::{Executor, Phase, TaskEntry};
use crate::daemon::{updates, Agent};

/// Handles one executor call.
pub async fn handle(
    agent: &Arc<Agent>,
    req: Request<RequestBody>,
) -> Result<Response<RespBody>, HttpError> {
    let (parts, body) = json_body(req).await?;
    let claims = executor_auth::authenticate(agent, &parts)?;
    let call = Call::from_json(&body).map_err(|e| HttpError::BadRequest(e.to_string()))?;
    if let Err(e) = call.validate() {
        agent.state().counters.invalid_status_updates += 1;
        return Err(HttpError::BadRequest(e.to_string()));
    }
    if call.r#type == CallType::Unknown {
        return Err(HttpError::BadRequest(
            "Expecting 'type' to be present".into(),
        ));
    }
    let container_id = known(agent, &call, false)?;
    if let Some(claims) = &claims {
        executor_auth::verify_claims(claims, &call, &container_id)?;
    }
    executor_auth::check_peer(agent, &parts, &call, &container_id).await?;
    match call.r#type {
        CallType::Subscribe => subscribe(agent, &call),
        CallType::Update => update(agent, call),
        CallType::Message => message(agent, call),
        CallType::Heartbeat | CallType::Unknown => Ok(empty(StatusCode::ACCEPTED)),
    }
}

/// Checks that the framework and executor exist (400) and, if asked, are subscribed (403);
/// returns the executor's container id.
fn known(agent: &Agent, call: &Call, must_be_subscribed: bool) -> Result<String, HttpError> {
    let mut state = agent.state();
    let Some(f) = state.frameworks.get_mut(&call.framework_id.value) else {
        return Err(HttpError::BadRequest(format!(
            "Framework {} not found",
            call.framework_id
        )));
    };
    let Some(e) = f.executors.get_mut(&call.executor_id.value) else {
        return Err(HttpError::BadRequest(format!(
            "Executor {} of framework {} not found",
            call.executor_id, call.framework_id
        )));
    };
    if must_be_subscribed && !e.subscribed() {
        return Err(HttpError::Forbidden(format!(
            "Executor {} is not subscribed",
            call.executor_id
        )));
    }
    Ok(e.container_id.clone())
}

/// Whether `task` was given to executor `e` (queued, running or completed).
fn holds_task(e: &Executor, task: &str) -> bool {
    e.tasks.contains_key(task)
        || e.queued.iter().any(|t| t.task_id.value == task)
        || e.completed_tasks
            .iter()
            .any(|t| t.info.task_id.value == task)
}

fn subscribe(agent: &Arc<Agent>, call: &Call) -> Result<Response<RespBody>, HttpError> {
    known(agent, call, false)?;
    let (tx, rx) = mpsc::unbounded_channel::<Bytes>();
    let agent_info = agent.agent_info();
    {
        let mut state = agent.state();
        let fw = call.framework_id.value.as_str();
        let Some(f) = state.frameworks.get_mut(fw) else {
            return Err(HttpError::BadRequest(format!("Framework {fw} not found")));
        };
        let framework_info = f.info.clone();
        let Some(e) = f.executors.get_mut(&call.executor_id.value) else {
            return Err(HttpError::BadRequest("Executor not found".into()));
        };
        if matches!(e.phase, Phase::Terminating | Phase::Terminated) {
            return Err(HttpError::BadRequest(format!(
                "Executor {} is terminating",
                call.executor_id
            )));
        }
        e.events = Some(tx.clone());
        e.phase = Phase::Running;
        let subscribed = Event {
            r#type: EventType::Subscribed,
            subscribed: Some(Subscribed {
                executor_info: e.info.clone(),
                framework_info,
                agent_info,
                container_id: Some(ContainerId::new(e.container_id.clone())),
            }),
            ..Event::default()
        };
        updates::send_event(e, &subscribed);
        tracing::debug!(target: "meseta::timing", stage = "agent.executor_subscribed",
                        executor_id = %call.executor_id);
        for task in std::mem::take(&mut e.queued) {
            updates::send_event(e, &Event::launch(task.clone()));
            e.tasks.insert(
                task.task_id.value.clone(),
                TaskEntry {
                    info: Box::new(task),
                    state: meseta_api::TaskState::Staging,
                    statuses: Vec::new(),
                },
            );
        }
        for kill in std::mem::take(&mut e.pending_kills) {
            updates::send_event(e, &kill);
        }
        info!(executor_id = %call.executor_id, framework_id = %call.framework_id,
              "executor subscribed");
    }
    // The heartbeat task holds only a weak sender: the stream ends when the state drops the
    // executor's sender (executor gone) or the executor disconnects.
    tokio::spawn(heartbeats(
        tx.downgrade(),
        agent.config.http_heartbeat_interval,
    ));
    drop(tx);
    // A re-subscribing executor (agent restart, lost connection) hands back what it sent
    // without an acknowledgement: duplicates are dropped by uuid.
    if let Some(sub) = &call.subscribe {
        for u in &sub.unacknowledged_updates {
            let task = &u.status.task_id.value;
            let held = agent
                .state()
                .executor_mut(&call.framework_id.value, &call.executor_id.value)
                .is_some_and(|e| holds_task(e, task));
            if !held {
                warn!(executor_id = %call.executor_id, task_id = task,
                      "dropping a re-sent update for a task the executor was not given");
                continue;
            }
            updates::forward(
                agent,
                &call.framework_id,
                &call.executor_id,
                u.status.clone(),
            );
        }
    }
    let mut resp = Response::new(EventStream(rx).boxed());
    resp.headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    Ok(resp)
}

async fn heartbeats(tx: mpsc::WeakUnboundedSender<Bytes>, every: std::time::Duration) {
    let Ok(record) = meseta_api::recordio::encode_json(&Event::bare(EventType::Heartbeat)) else {
        return;
    };
    let record = Bytes::from(record);
    loop {
        tokio::time::sleep(every).await;
        let Some(tx) = tx.upgrade() else { return };
        if tx.send(record.clone()).is_err() {
            return;
        }
    }
}

fn update(agent: &Agent, call: Call) -> Result<Response<RespBody>, HttpError> {
    known(agent, &call, true)?;
    let Some(update) = call.update else {
        return Err(HttpError::BadRequest(
            "Expecting 'update' to be present".into(),
        ));
    };
    {
        let mut state = agent.state();
        let task = &update.status.task_id.value;
        let held = state
            .executor_mut(&call.framework_id.value, &call.executor_id.value)
            .is_some_and(|e| holds_task(e, task));
        if !held {
            state.counters.invalid_status_updates += 1;
            return Err(HttpError::Forbidden(format!(
                "Task {task} was not given to executor {} of framework {}",
                call.executor_id, call.framework_id
            )));
        }
        state.counters.valid_status_updates += 1;
    }
    updates::forward(agent, &call.framework_id, &call.executor_id, update.status);
    Ok(empty(StatusCode::ACCEPTED))
}

fn message(agent: &Agent, call: Call) -> Result<Response<RespBody>, HttpError> {
    known(agent, &call, true)?;
    let Some(msg) = call.message else {
        return Err(HttpError::BadRequest(
            "Expecting 'message' to be present".into(),
        ));
    };
    agent.state().counters.valid_framework_messages += 1;
    agent.send(internal::Call {
        r#type: internal::CallType::ExecutorToFramework,
        executor_to_framework: Some(FrameworkMessage {
            framework_id: call.framework_id,
            executor_id: call.executor_id,
            data: msg.data,
        }),
        ..internal::Call::default()
    });
    Ok(empty(StatusCode::ACCEPTED))
}
