//! `POST /api/v1/internal/agent`: the agent side of `meseta_api::internal`.
//!
//! The body is one `Call`, or a JSON array of calls other than SUBSCRIBE (the agent sends
//! whatever it has queued in one request: under load a status update costs no HTTP round
//! trip of its own). A batch is checked whole before any call in it is applied, under one
//! lock of the master, in order; an agent of an older version sends single calls and is
//! answered as before.

use http::Request;
use meseta_api::internal::{
    Call, CallType, ExitedExecutor, FrameworkMessage, StatusUpdate, Subscribe,
};
use meseta_httpd::RequestBody;

use super::{accepted, read_body, require_post, stream_response, Ctx, HttpError, HttpResult};
use crate::master::{lock, AgentSubscribed, Master, Sink};

/// Most calls in one batch (the agent sends at most 256).
const MAX_BATCH: usize = 1024;

/// A call checked for its required field, ready to apply.
#[derive(Debug)]
enum Checked {
    Subscribe(Box<Subscribe>),
    StatusUpdate(Box<StatusUpdate>),
    ExecutorToFramework(FrameworkMessage),
    ExitedExecutor(ExitedExecutor),
    Pong,
}

fn check(call: Call) -> Result<Checked, HttpError> {
    let missing = |f: &str| HttpError::bad_request(format!("Expecting '{f}' to be present"));
    Ok(match call.r#type {
        CallType::Subscribe => Checked::Subscribe(Box::new(
            call.subscribe.ok_or_else(|| missing("subscribe"))?,
        )),
        CallType::StatusUpdate => Checked::StatusUpdate(Box::new(
            call.status_update.ok_or_else(|| missing("status_update"))?,
        )),
        CallType::ExecutorToFramework => Checked::ExecutorToFramework(
            call.executor_to_framework
                .ok_or_else(|| missing("executor_to_framework"))?,
        ),
        CallType::ExitedExecutor => Checked::ExitedExecutor(
            call.exited_executor
                .ok_or_else(|| missing("exited_executor"))?,
        ),
        CallType::Pong => Checked::Pong,
        CallType::Unknown => return Err(HttpError::bad_request("Unknown call type")),
    })
}

/// Serves one agent call, or a batch of them.
pub async fn handle(req: Request<RequestBody>, ctx: &Ctx) -> HttpResult {
    require_post(&req)?;
    let (_parts, body) = read_body(req, ctx.max_body_bytes).await?;
    if body.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'[') {
        return batch(&body, ctx);
    }
    let call: Call = meseta_api::from_json("internal::Call", &body)
        .map_err(|e| HttpError::bad_request(e.to_string()))?;
    let agent_id = call.agent_id.clone();
    match check(call)? {
        Checked::Subscribe(sub) => {
            let (sink, rx) = Sink::channel();
            let res = lock(&ctx.master).agent_subscribe(*sub, sink)?;
            if let AgentSubscribed::Registered(id) = &res {
                tracing::debug!(agent_id = %id, "agent stream opened");
            }
            Ok(stream_response(rx, &uuid::Uuid::new_v4().to_string()))
        }
        other => {
            let mut m = lock(&ctx.master);
            let aid = m.check_agent(agent_id.as_ref())?;
            apply(&mut m, &aid, other);
            Ok(accepted())
        }
    }
}

/// A JSON array of calls from one registered agent.
fn batch(body: &[u8], ctx: &Ctx) -> HttpResult {
    let calls: Vec<Call> = meseta_api::from_json("internal::Call batch", body)
        .map_err(|e| HttpError::bad_request(e.to_string()))?;
    if calls.len() > MAX_BATCH {
        return Err(HttpError::bad_request(format!(
            "A batch holds at most {MAX_BATCH} calls"
        )));
    }
    let Some(agent_id) = calls.first().and_then(|c| c.agent_id.clone()) else {
        return Err(HttpError::bad_request("Expecting 'agent_id' to be present"));
    };
    if calls.iter().any(|c| c.agent_id.as_ref() != Some(&agent_id)) {
        return Err(HttpError::bad_request(
            "Every call of a batch must name the same 'agent_id'",
        ));
    }
    let checked = calls
        .into_iter()
        .map(check)
        .collect::<Result<Vec<_>, _>>()?;
    if checked.iter().any(|c| matches!(c, Checked::Subscribe(_))) {
        return Err(HttpError::bad_request("SUBSCRIBE cannot be batched"));
    }
    let mut m = lock(&ctx.master);
    let aid = m.check_agent(Some(&agent_id))?;
    for call in checked {
        apply(&mut m, &aid, call);
    }
    Ok(accepted())
}

/// Applies a checked call (not SUBSCRIBE) of registered agent `aid`.
fn apply(m: &mut Master, aid: &str, call: Checked) {
    match call {
        Checked::StatusUpdate(su) => m.status_update(aid, *su),
        Checked::ExecutorToFramework(msg) => m.executor_to_framework(aid, msg),
        Checked::ExitedExecutor(e) => m.exited_executor(aid, e),
        Checked::Pong => m.agent_pong(aid),
        Checked::Subscribe(_) => {}
    }
}
