//! `POST /teardown` with the body `frameworkId=<id>` (Mesos `Master::Http::teardown`): the
//! v0 way to tear a framework down, read-write realm, `teardown_frameworks` ACL on the
//! framework's principal.

use http::{Request, Response};
use meseta_auth::Action;
use meseta_httpd::RequestBody;

use super::authz::{principal, require};
use super::{read_body, require_post, Body, Ctx, HttpError, HttpResult};
use crate::master::lock;

/// Serves `/teardown`.
pub async fn handle(req: Request<RequestBody>, ctx: &Ctx) -> HttpResult {
    require_post(&req)?;
    let (parts, body) = read_body(req, ctx.max_body_bytes).await?;
    let body = String::from_utf8_lossy(&body);
    let id = body
        .split('&')
        .filter_map(|pair| pair.split_once('='))
        .find(|(k, _)| *k == "frameworkId")
        .map(|(_, v)| {
            percent_encoding::percent_decode_str(&v.replace('+', " "))
                .decode_utf8_lossy()
                .into_owned()
        })
        .ok_or_else(|| {
            HttpError::bad_request("Missing 'frameworkId' query parameter in the request body")
        })?;
    let mut m = lock(&ctx.master);
    let fw_principal = match m.frameworks.get(&id) {
        None => {
            return Err(HttpError::bad_request(
                "No framework found with specified ID",
            ))
        }
        Some(f) => f.info.principal.clone(),
    };
    let who = principal(&parts.extensions);
    require(
        &ctx.auth,
        who,
        Action::TeardownFramework,
        fw_principal.as_deref(),
    )?;
    m.remove_framework(&id)?;
    Ok(Response::new(Body::empty()))
}
