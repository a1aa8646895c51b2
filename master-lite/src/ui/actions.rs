//! The UI's buttons (HTML forms, POST): kill a task, and deactivate, reactivate or drain an
//! agent. Agent actions are operator API calls (`DEACTIVATE_AGENT`, `REACTIVATE_AGENT`,
//! `DRAIN_AGENT`) run through the operator handler with the same principal and ACLs. The
//! operator API has no call to kill a task; the UI sends the framework's own KILL to the
//! agent as the master does for a scheduler, allowed to principals that may tear the
//! framework down (`teardown_frameworks` on its principal).
//!
//! Cross-site requests are refused: a browser sends stored Basic credentials with any form
//! post, so a form from another origin must not be able to kill tasks.

use http::{Request, StatusCode};
use meseta_api::master::Call;
use meseta_api::scheduler::Kill;
use meseta_api::TaskId;
use meseta_auth::Action;
use meseta_httpd::RequestBody;
use meseta_ui as ui;
use serde_json::json;

use super::enc;
use crate::http::{operator, principal, read_body, require, Ctx, HttpError, HttpResult};
use crate::master::lock;

/// Serves `POST /ui/actions/<what>`.
pub async fn handle(path: &str, req: Request<RequestBody>, ctx: &Ctx) -> HttpResult {
    same_origin(&req)?;
    let (parts, body) = read_body(req, ctx.max_body_bytes).await?;
    let form: Vec<(String, String)> = form_urlencoded::parse(&body).into_owned().collect();
    let field = |k: &str| {
        form.iter()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.trim().to_string())
            .filter(|v| !v.is_empty())
            .ok_or_else(|| HttpError::bad_request(format!("Missing form field '{k}'")))
    };
    let who = principal(&parts.extensions);
    match path {
        "/ui/actions/kill" => {
            let (fw, task) = (field("framework")?, field("task")?);
            let mut m = lock(&ctx.master);
            let fw_principal = match m.frameworks.get(&fw) {
                None => return Err(HttpError::bad_request(format!("No active framework {fw}"))),
                Some(f) if !f.tasks.contains_key(&task) => {
                    return Err(HttpError::bad_request(format!(
                        "Task {task} of framework {fw} is not running"
                    )))
                }
                Some(f) => f.info.principal.clone(),
            };
            require(
                &ctx.auth,
                who,
                Action::TeardownFramework,
                fw_principal.as_deref(),
            )?;
            let kill = Kill {
                task_id: TaskId::new(&task),
                agent_id: None,
                kill_policy: None,
            };
            tracing::info!(framework_id = %fw, task_id = %task, principal = ?who, "web UI kills task");
            m.kill(&fw, &kill);
            Ok(ui::see_other(&super::tasks::task_href(&fw, &task)))
        }
        "/ui/actions/agent" => {
            let (agent, op) = (field("agent")?, field("op")?);
            let id = json!({ "value": agent });
            let call = match op.as_str() {
                "deactivate" => {
                    json!({ "type": "DEACTIVATE_AGENT", "deactivate_agent": { "agent_id": id } })
                }
                "reactivate" => {
                    json!({ "type": "REACTIVATE_AGENT", "reactivate_agent": { "agent_id": id } })
                }
                "drain" => {
                    let mut d = json!({ "agent_id": id });
                    if let Ok(g) = field("grace") {
                        // Range checks are the operator API's (a negative period is its 400).
                        let secs = g.parse::<i64>().map_err(|_| {
                            HttpError::bad_request(format!(
                                "Grace period '{g}' is not a whole number of seconds"
                            ))
                        })?;
                        d["max_grace_period"] = json!({ "seconds": secs });
                    }
                    json!({ "type": "DRAIN_AGENT", "drain_agent": d })
                }
                other => {
                    return Err(HttpError::bad_request(format!(
                        "Unknown agent action '{other}'"
                    )))
                }
            };
            let call = Call::from_json(call.to_string().as_bytes())
                .map_err(|e| HttpError::bad_request(e.to_string()))?;
            call.validate().map_err(|e| {
                HttpError::bad_request(format!("Failed to validate master::Call: {e}"))
            })?;
            operator::execute(call, who, ctx)?;
            Ok(ui::see_other(&format!("/ui/agents/{}", enc(&agent))))
        }
        _ => Err(HttpError::new(StatusCode::NOT_FOUND, "No such action")),
    }
}

/// 403 for a form posted from another site (`Sec-Fetch-Site`, else `Origin` vs `Host`).
fn same_origin<B>(req: &Request<B>) -> Result<(), HttpError> {
    let h = req.headers();
    let get = |n: &str| h.get(n).and_then(|v| v.to_str().ok());
    if let Some(site) = get("sec-fetch-site") {
        if site == "same-origin" || site == "none" {
            return Ok(());
        }
        return Err(HttpError::forbidden(format!("Refusing a {site} form post")));
    }
    match (get("origin"), get("host")) {
        (Some(origin), Some(host)) if origin.split("://").nth(1) != Some(host) => Err(
            HttpError::forbidden(format!("Refusing a form post from origin {origin}")),
        ),
        _ => Ok(()),
    }
}
