//! `POST /api/v1/scheduler`: the v1 scheduler API (Mesos `Master::Http::scheduler`).

use http::Request;
use meseta_api::scheduler::{Call, CallType};
use meseta_api::Reason;
use meseta_httpd::RequestBody;

use super::{
    accepted, read_body, require_json, require_json_accept, require_post, scheduler_auth,
    stream_response, Ctx, HttpError, HttpResult,
};
use crate::master::{lock, Sink};

const STREAM_ID: &str = "Mesos-Stream-Id";

/// Serves one scheduler call.
pub async fn handle(req: Request<RequestBody>, ctx: &Ctx) -> HttpResult {
    require_post(&req)?;
    let (parts, body) = read_body(req, ctx.max_body_bytes).await?;
    require_json(&parts)?;
    let mut call = Call::from_json(&body).map_err(|e| HttpError::bad_request(e.to_string()))?;
    call.validate()
        .map_err(|e| HttpError::bad_request(format!("Failed to validate scheduler::Call: {e}")))?;
    let principal = super::authz::principal(&parts.extensions);
    let stream_id = parts
        .headers
        .get(STREAM_ID)
        .map(|v| v.to_str().unwrap_or_default().to_string());

    if call.r#type == CallType::Subscribe {
        if stream_id.is_some() {
            return Err(HttpError::bad_request(
                "Subscribe calls should not include the 'Mesos-Stream-Id' header",
            ));
        }
        require_json_accept(&parts)?;
        scheduler_auth::subscribe_principal(&mut call, principal)?;
        let (sink, rx) = Sink::channel();
        if let Some(refusal) = scheduler_auth::register_refusal(&ctx.auth, &call) {
            // Mesos refuses on the stream: an ERROR event, then the stream closes.
            tracing::info!(error = ?refusal.error, "refusing subscription");
            sink.send(&refusal);
            return Ok(stream_response(rx, &uuid::Uuid::new_v4().to_string()));
        }
        let id = lock(&ctx.master).subscribe(call, sink)?;
        return Ok(stream_response(rx, &id));
    }

    let Some(stream_id) = stream_id else {
        return Err(HttpError::bad_request(
            "All non-subscribe calls should include the 'Mesos-Stream-Id' header",
        ));
    };
    let fw = call
        .framework_id
        .as_ref()
        .map(|f| f.value.clone())
        .unwrap_or_default();
    let mut m = lock(&ctx.master);
    scheduler_auth::call_principal(&m, &fw, principal)?;
    m.check_stream(&fw, &stream_id)?;
    match call.r#type {
        CallType::Teardown => {
            m.counters.message("messages_unregister_framework");
            m.remove_framework(&fw)?;
        }
        CallType::Accept => {
            if let Some(mut a) = call.accept {
                if let Some(info) = m.frameworks.get(&fw).map(|f| f.info.clone()) {
                    scheduler_auth::drop_unauthorized_reservations(&ctx.auth, &info, &mut a);
                    for (task, message) in
                        scheduler_auth::unauthorized_tasks(&ctx.auth, &info, &mut a)
                    {
                        m.refuse_task(&fw, &task, Reason::TaskUnauthorized, message);
                    }
                }
                m.accept(&fw, a);
            }
        }
        CallType::Decline => {
            if let Some(d) = &call.decline {
                m.decline(&fw, d);
            }
        }
        CallType::Revive => {
            m.revive(&fw, &call.revive.map(|r| r.roles).unwrap_or_default())?;
        }
        CallType::Suppress => {
            m.suppress(&fw, &call.suppress.map(|r| r.roles).unwrap_or_default())?;
        }
        CallType::Kill => {
            if let Some(k) = &call.kill {
                m.kill(&fw, k);
            }
        }
        CallType::Shutdown => {
            if let Some(s) = &call.shutdown {
                m.shutdown_executor(&fw, s);
            }
        }
        CallType::Acknowledge => {
            if let Some(a) = &call.acknowledge {
                m.acknowledge(&fw, a)?;
            }
        }
        CallType::Reconcile => {
            if let Some(r) = &call.reconcile {
                m.reconcile(&fw, r);
            }
        }
        CallType::Message => {
            if let Some(msg) = &call.message {
                m.message(&fw, msg);
            }
        }
        CallType::Request
        | CallType::AcceptInverseOffers
        | CallType::DeclineInverseOffers
        | CallType::AcknowledgeOperationStatus
        | CallType::ReconcileOperations => {}
        CallType::UpdateFramework => {
            if let Some(u) = call.update_framework {
                m.update_framework(&fw, u)?;
            }
            // Mesos answers UPDATE_FRAMEWORK with 200, not 202.
            return Ok(http::Response::new(super::Body::empty()));
        }
        CallType::Subscribe | CallType::Unknown => {
            return Err(HttpError::bad_request("Unknown call type"));
        }
    }
    Ok(accepted())
}
