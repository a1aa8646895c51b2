//! The REST API server on [`meseta_httpd`] (the accept loop of every Meseta server): at most
//! `--http_max_concurrent_requests` connections (then `503`), the header read and keep-alive
//! idle timeout and the body read timeout of `MESETA_HTTP_*`, request bodies of at most
//! `--http_max_body_bytes`; responses are never timed, so `/v2/events` streams stay open.
//! Routing by path prefix to the endpoint groups; every error becomes a status code in
//! [`respond`] (via [`ApiError::status`]).

mod apps;
pub mod auth;
mod misc;
mod query;
mod render;
mod sse;
mod tasks;

use std::net::SocketAddr;
use std::sync::Arc;

use bytes::Bytes;
use http::{header, HeaderValue, Method, Request, Response, StatusCode};
use http_body_util::{BodyExt, LengthLimitError, Limited};
pub use meseta_httpd::ResponseBody as Body;
use meseta_httpd::{BodyError, Limits, RequestBody, ServerConfig};
pub use query::Query;
use serde_json::Value;

use crate::error::ApiError;
use crate::leader::Leadership;
use crate::state::Shared;

/// What handlers share.
#[derive(Debug)]
pub struct Ctx {
    /// The state.
    pub shared: Arc<Shared>,
    /// Leadership and the leader's address.
    pub leader: Arc<Leadership>,
    /// `--http_max_body_bytes`.
    pub max_body: usize,
    /// The `/v2/info` document (static part).
    pub info: Value,
    /// HTTP Basic authentication (`--http_credentials`), when on.
    pub auth: Option<meseta_auth::BasicAuthenticator>,
}

/// A parsed request.
#[derive(Debug)]
pub struct Req {
    /// Method.
    pub method: Method,
    /// Path.
    pub path: String,
    /// Query.
    pub query: Query,
    /// Headers.
    pub headers: http::HeaderMap,
    /// Body.
    pub body: Bytes,
    /// The raw query string.
    pub raw_query: String,
}

impl Req {
    /// The raw query string (for redirects).
    pub fn query_string(&self) -> &str {
        &self.raw_query
    }
}

/// Handler result.
pub type ApiResult = Result<Response<Body>, ApiError>;

/// A JSON response.
pub fn json(status: u16, v: &Value) -> Response<Body> {
    json_bytes(status, serde_json::to_vec(v).unwrap_or_default())
}

/// A JSON response from serialized bytes.
pub fn json_bytes(status: u16, body: Vec<u8>) -> Response<Body> {
    let mut r = Response::new(Body::full(body));
    *r.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::OK);
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json; charset=utf-8"),
    );
    r
}

/// A plain-text response.
pub fn text(status: u16, s: impl Into<Bytes>) -> Response<Body> {
    let mut r = Response::new(Body::full(s.into()));
    *r.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::OK);
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    r
}

fn respond(result: ApiResult) -> Response<Body> {
    match result {
        Ok(r) => r,
        Err(e) => {
            if e.status() >= 500 {
                tracing::warn!(err = %e, "request failed");
            }
            json(e.status(), &e.body())
        }
    }
}

async fn handle(req: Request<RequestBody>, ctx: Arc<Ctx>) -> Response<Body> {
    let (parts, body) = req.into_parts();
    let body = match Limited::new(body, ctx.max_body).collect().await {
        Ok(b) => b.to_bytes(),
        Err(e) if e.is::<LengthLimitError>() => {
            return respond(Err(ApiError::TooLarge(ctx.max_body)))
        }
        Err(e) if e.is::<BodyError>() => {
            return respond(Err(ApiError::BadRequest(format!(
                "cannot read the request body: {e}"
            ))))
        }
        Err(e) => return respond(Err(ApiError::BadRequest(e.to_string()))),
    };
    let req = Req {
        method: parts.method,
        path: parts.uri.path().to_owned(),
        query: Query::parse(parts.uri.query().unwrap_or("")),
        headers: parts.headers,
        body,
        raw_query: parts.uri.query().unwrap_or("").to_owned(),
    };
    if let Some(refused) = auth::refuse(ctx.auth.as_ref(), &req.path, &req.headers) {
        return refused;
    }
    if !ctx.leader.is_leader() && needs_leader(&req.path) {
        return crate::leader::proxy(&ctx.leader, req).await;
    }
    let mut r = respond(route(req, &ctx).await);
    if ctx.leader.is_leader() {
        if let Ok(v) = HeaderValue::from_str(&format!("http://{}", ctx.leader.me())) {
            r.headers_mut().insert(crate::leader::LEADER, v);
        }
    }
    r
}

fn needs_leader(path: &str) -> bool {
    (path.starts_with("/v2/") && path != "/v2/leader" && path != "/v2/info")
        || crate::ui::owns(path)
}

/// Routes a request and maps its error (the web UI calls the API through this).
pub(crate) async fn dispatch(req: Req, ctx: &Ctx) -> Response<Body> {
    respond(route(req, ctx).await)
}

async fn route(req: Req, ctx: &Ctx) -> ApiResult {
    let path = req.path.trim_end_matches('/').to_owned();
    let p = path.as_str();
    if p == "/ping" {
        return Ok(text(200, "pong"));
    }
    if p == "/v2/apps" || p.starts_with("/v2/apps/") {
        return apps::route(req, ctx).await;
    }
    if p == "/v2/tasks" || p == "/v2/tasks/delete" {
        return tasks::route(req, ctx).await;
    }
    if crate::ui::owns(p) {
        return Ok(crate::ui::route(&req, ctx).await);
    }
    if p == "/v2/events" {
        return sse::stream(req, ctx);
    }
    misc::route(req, ctx).await
}

/// The running server.
#[derive(Debug)]
pub struct Server {
    /// Where it listens.
    pub addr: SocketAddr,
}

/// Binds and serves until the process ends.
pub async fn serve(addr: SocketAddr, max_conns: usize, ctx: Arc<Ctx>) -> std::io::Result<Server> {
    let listener = meseta_httpd::bind(addr)?;
    let addr = listener.local_addr()?;
    let limits = Limits::from_process_env().map_err(std::io::Error::other)?;
    let config = ServerConfig {
        limits: Limits {
            max_connections: max_conns.max(1),
            ..limits
        },
        tls: None,
        keepalive: None,
    };
    tokio::spawn(meseta_httpd::serve(listener, config, move |req, _peer| {
        handle(req, Arc::clone(&ctx))
    }));
    Ok(Server { addr })
}
