//! The REST API server (hyper 1, HTTP/1.1), bounded: at most
//! `--http_max_concurrent_requests` connections, a header read timeout, request bodies of at
//! most `--http_max_body_bytes`. Routing by path prefix to the endpoint groups; every error
//! becomes a status code in [`respond`] (via [`ApiError::status`]).

mod apps;
mod body;
mod misc;
mod query;
mod render;
mod sse;
mod tasks;

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

pub use body::Body;
use bytes::Bytes;
use http::{header, HeaderValue, Method, Request, Response, StatusCode};
use http_body_util::{BodyExt, Limited};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
pub use query::Query;
use serde_json::Value;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;

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
    let mut r = Response::new(Body::full(serde_json::to_vec(v).unwrap_or_default()));
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

async fn handle(req: Request<Incoming>, ctx: Arc<Ctx>) -> Result<Response<Body>, Infallible> {
    let (parts, body) = req.into_parts();
    let body = match Limited::new(body, ctx.max_body).collect().await {
        Ok(b) => b.to_bytes(),
        Err(_) => return Ok(respond(Err(ApiError::TooLarge(ctx.max_body)))),
    };
    let req = Req {
        method: parts.method,
        path: parts.uri.path().to_owned(),
        query: Query::parse(parts.uri.query().unwrap_or("")),
        headers: parts.headers,
        body,
        raw_query: parts.uri.query().unwrap_or("").to_owned(),
    };
    if !ctx.leader.is_leader() && needs_leader(&req.path) {
        return Ok(crate::leader::proxy(&ctx.leader, req).await);
    }
    Ok(respond(route(req, &ctx).await))
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
    let listener = TcpListener::bind(addr).await?;
    let addr = listener.local_addr()?;
    let slots = Arc::new(Semaphore::new(max_conns.max(1)));
    tokio::spawn(async move {
        loop {
            let Ok(permit) = Arc::clone(&slots).acquire_owned().await else {
                return;
            };
            let (stream, peer) = match listener.accept().await {
                Ok(x) => x,
                Err(err) => {
                    tracing::warn!(%err, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            };
            let _ = stream.set_nodelay(true);
            let ctx = Arc::clone(&ctx);
            tokio::spawn(async move {
                let svc = service_fn(move |req| handle(req, Arc::clone(&ctx)));
                let mut b = http1::Builder::new();
                b.keep_alive(true)
                    .timer(hyper_util::rt::TokioTimer::new())
                    .header_read_timeout(Duration::from_secs(30));
                if let Err(err) = b.serve_connection(TokioIo::new(stream), svc).await {
                    tracing::debug!(%peer, %err, "connection ended");
                }
                drop(permit);
            });
        }
    });
    Ok(Server { addr })
}
