//! `POST /api/v1/internal/agent`: the agent side of `meseta_api::internal`.

use http::Request;
use hyper::body::Incoming;
use meseta_api::internal::{Call, CallType};

use super::{accepted, read_body, require_post, stream_response, Ctx, HttpError, HttpResult};
use crate::master::{lock, AgentSubscribed, Sink};

/// Serves one agent call.
pub async fn handle(req: Request<Incoming>, ctx: &Ctx) -> HttpResult {
    require_post(&req)?;
    let (_parts, body) = read_body(req, ctx.max_body_bytes).await?;
    let call: Call = meseta_api::from_json("internal::Call", &body)
        .map_err(|e| HttpError::bad_request(e.to_string()))?;
    let missing = |f: &str| HttpError::bad_request(format!("Expecting '{f}' to be present"));
    match call.r#type {
        CallType::Subscribe => {
            let sub = call.subscribe.ok_or_else(|| missing("subscribe"))?;
            let (sink, rx) = Sink::channel();
            let res = lock(&ctx.master).agent_subscribe(sub, sink)?;
            if let AgentSubscribed::Registered(id) = &res {
                tracing::debug!(agent_id = %id, "agent stream opened");
            }
            Ok(stream_response(rx, &uuid::Uuid::new_v4().to_string()))
        }
        CallType::StatusUpdate => {
            let su = call.status_update.ok_or_else(|| missing("status_update"))?;
            let mut m = lock(&ctx.master);
            let aid = m.check_agent(call.agent_id.as_ref())?;
            m.status_update(&aid, su);
            Ok(accepted())
        }
        CallType::ExecutorToFramework => {
            let msg = call
                .executor_to_framework
                .ok_or_else(|| missing("executor_to_framework"))?;
            let mut m = lock(&ctx.master);
            let aid = m.check_agent(call.agent_id.as_ref())?;
            m.executor_to_framework(&aid, msg);
            Ok(accepted())
        }
        CallType::ExitedExecutor => {
            let e = call
                .exited_executor
                .ok_or_else(|| missing("exited_executor"))?;
            let mut m = lock(&ctx.master);
            let aid = m.check_agent(call.agent_id.as_ref())?;
            m.exited_executor(&aid, e);
            Ok(accepted())
        }
        CallType::Pong => {
            let mut m = lock(&ctx.master);
            let aid = m.check_agent(call.agent_id.as_ref())?;
            m.agent_pong(&aid);
            Ok(accepted())
        }
        CallType::Unknown => Err(HttpError::bad_request("Unknown call type")),
    }
}
