//! The master's HTTP client to agents, for what the UI shows from them (container
//! statistics, sandbox listings and file contents). Requests go to the agent's address as
//! the master knows it (`hostname:port` from its registration), so the browser needs to reach
//! only the master; the browser's `Authorization` is passed on, so an agent with
//! authentication on sees the same principal. Bounded: 5 s per request, 4 MiB per answer.

use std::time::Duration;

use bytes::Bytes;
use http::{header, Request, StatusCode};
use http_body_util::{BodyExt, Empty, Limited};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use serde_json::Value as Json;

use crate::http::{Ctx, HttpError};
use crate::master::lock;

/// Time for one request to an agent.
const TIMEOUT: Duration = Duration::from_secs(5);
/// Largest answer read from an agent.
const MAX_BODY: usize = 4 << 20;

/// `host:port` of agent `id`.
pub fn agent_address(ctx: &Ctx, id: &str) -> Result<String, HttpError> {
    let m = lock(&ctx.master);
    let a = m
        .agents
        .get(id)
        .ok_or_else(|| HttpError::new(StatusCode::NOT_FOUND, format!("No agent {id}")))?;
    Ok(format!(
        "{}:{}",
        a.info.hostname,
        a.info.port.unwrap_or(5051)
    ))
}

/// GETs `path_and_query` from the agent at `addr`; returns the status and body.
pub async fn get<B>(
    req: &Request<B>,
    addr: &str,
    path_and_query: &str,
) -> Result<(StatusCode, Bytes), HttpError> {
    let unavailable = |why: String| {
        HttpError::new(
            StatusCode::BAD_GATEWAY,
            format!("Agent {addr} did not answer {path_and_query}: {why}"),
        )
    };
    let mut out = Request::get(format!("http://{addr}{path_and_query}"));
    if let Some(auth) = req.headers().get(header::AUTHORIZATION) {
        out = out.header(header::AUTHORIZATION, auth);
    }
    let out = out
        .body(Empty::<Bytes>::new())
        .map_err(|e| unavailable(e.to_string()))?;
    let client = Client::builder(TokioExecutor::new()).build_http::<Empty<Bytes>>();
    let fetch = async {
        let resp = client
            .request(out)
            .await
            .map_err(|e| unavailable(e.to_string()))?;
        let status = resp.status();
        let body = Limited::new(resp.into_body(), MAX_BODY)
            .collect()
            .await
            .map_err(|e| unavailable(e.to_string()))?
            .to_bytes();
        Ok::<_, HttpError>((status, body))
    };
    tokio::time::timeout(TIMEOUT, fetch)
        .await
        .map_err(|_| unavailable(format!("no answer within {TIMEOUT:?}")))?
}

/// GETs JSON from an agent; the agent's own status and message on errors.
pub async fn get_json<B>(
    req: &Request<B>,
    addr: &str,
    path_and_query: &str,
) -> Result<Json, HttpError> {
    let (status, body) = get(req, addr, path_and_query).await?;
    if !status.is_success() {
        let status = if status == StatusCode::UNAUTHORIZED || status == StatusCode::FORBIDDEN {
            status
        } else {
            StatusCode::BAD_GATEWAY
        };
        return Err(HttpError::new(
            status,
            format!("Agent {addr}: {}", String::from_utf8_lossy(&body)),
        ));
    }
    serde_json::from_slice(&body).map_err(|e| {
        HttpError::new(
            StatusCode::BAD_GATEWAY,
            format!("Agent {addr} sent bad JSON for {path_and_query}: {e}"),
        )
    })
}
