//! The REST server: Chronos 3's `/v1/scheduler/*` and the 2.x `/scheduler/*` (same
//! handlers), `/metrics`, `/ping`, `/leader`, on [`meseta_httpd::serve`] like every Meseta
//! daemon (header and body read timeouts, a connection cap, `MESETA_HTTP_*` settings), with
//! request bodies up to [`MAX_BODY`]. Errors become status codes in one place
//! ([`ApiError::into_response`]): Chronos's `{"status": "Bad Request", "message": ...}` bodies.

pub mod auth;
pub(crate) mod jobs;
mod proxy;
pub(crate) mod views;

use std::sync::Arc;

use bytes::Bytes;
use http::{header, HeaderValue, Method, Request, Response, StatusCode};
use http_body_util::{BodyExt, Full, Limited};
use meseta_httpd::{RequestBody, ServerConfig};
use tokio::net::TcpListener;

use crate::core::Core;
use crate::engine::PutError;
use crate::store::StoreError;

/// Largest request body.
pub const MAX_BODY: usize = 1 << 20;

/// Response body.
pub type Body = Full<Bytes>;

/// A request as handlers get it (its body bounded in time by `meseta-httpd`).
pub type Req = Request<RequestBody>;

/// What handlers share.
#[derive(Debug)]
pub struct Ctx {
    /// The scheduler, once this process leads.
    pub core: std::sync::OnceLock<Arc<Core>>,
    /// `host:port` of the leader when this process is not it (`None`: we lead; `Some("")`:
    /// no leader known yet).
    pub leader: std::sync::RwLock<Option<String>>,
    /// This process's advertised `host:port`.
    pub me: String,
    /// HTTP Basic authentication (`--http_credentials`), when on.
    pub auth: Option<meseta_auth::BasicAuthenticator>,
}

/// An error answer.
#[derive(Debug)]
pub enum ApiError {
    /// 400 with a message.
    BadRequest(String),
    /// 404.
    NotFound(String),
    /// 413.
    TooLarge,
    /// 408: the body did not arrive in time.
    Timeout(String),
    /// 405.
    Method,
    /// 503: not the leader.
    NotLeader(Option<String>),
    /// 503: the leader did not answer a proxied request.
    Unavailable(String),
    /// 500: the store failed.
    Store(StoreError),
}

impl From<PutError> for ApiError {
    fn from(e: PutError) -> Self {
        match e {
            PutError::NotFound(_) => Self::BadRequest(e.to_string()),
            other => Self::BadRequest(other.to_string()),
        }
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        Self::Store(e)
    }
}

impl ApiError {
    /// The one place errors become status codes.
    pub fn into_response(self) -> Response<Body> {
        let (status, message) = match self {
            Self::BadRequest(m) => (StatusCode::BAD_REQUEST, m),
            Self::NotFound(m) => (StatusCode::NOT_FOUND, m),
            Self::TooLarge => (
                StatusCode::PAYLOAD_TOO_LARGE,
                format!("request body larger than {MAX_BODY} bytes"),
            ),
            Self::Timeout(m) => (StatusCode::REQUEST_TIMEOUT, m),
            Self::Method => (StatusCode::METHOD_NOT_ALLOWED, "method not allowed".into()),
            Self::NotLeader(l) => (
                StatusCode::SERVICE_UNAVAILABLE,
                match l {
                    Some(l) => format!("not the leader; the leader is {l}"),
                    None => "not the leader; no leader elected yet".into(),
                },
            ),
            Self::Unavailable(m) => (StatusCode::SERVICE_UNAVAILABLE, m),
            Self::Store(e) => (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
        };
        let body = serde_json::json!({
            "status": status.canonical_reason().unwrap_or(""),
            "message": message,
        });
        json(status, &body)
    }
}

/// A handler's result.
pub type ApiResult = Result<Response<Body>, ApiError>;

/// A JSON response.
pub fn json<T: serde::Serialize>(status: StatusCode, v: &T) -> Response<Body> {
    let bytes = serde_json::to_vec(v).unwrap_or_else(|_| b"null".to_vec());
    with_type(status, bytes, "application/json")
}

/// A response with a content type.
pub fn with_type(status: StatusCode, body: Vec<u8>, ctype: &'static str) -> Response<Body> {
    let mut r = Response::new(Full::new(Bytes::from(body)));
    *r.status_mut() = status;
    r.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(ctype));
    r
}

/// 204, no body.
pub fn no_content() -> Response<Body> {
    let mut r = Response::new(Full::new(Bytes::new()));
    *r.status_mut() = StatusCode::NO_CONTENT;
    r
}

/// Reads a bounded body.
pub async fn read_body(req: Req) -> Result<Bytes, ApiError> {
    match Limited::new(req.into_body(), MAX_BODY).collect().await {
        Ok(c) => Ok(c.to_bytes()),
        Err(e) if e.is::<http_body_util::LengthLimitError>() => Err(ApiError::TooLarge),
        Err(e) if e.is::<meseta_httpd::BodyError>() => Err(ApiError::Timeout(e.to_string())),
        Err(e) => Err(ApiError::BadRequest(format!("cannot read the body: {e}"))),
    }
}

/// Query parameter `key`, percent-decoded.
pub fn query(req: &Req, key: &str) -> Option<String> {
    req.uri().query()?.split('&').find_map(|kv| {
        let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
        (k == key).then(|| {
            percent_encoding::percent_decode_str(&v.replace('+', " "))
                .decode_utf8_lossy()
                .into_owned()
        })
    })
}

/// The core when this process leads, else 503 naming the leader.
fn leading(ctx: &Ctx) -> Result<&Arc<Core>, ApiError> {
    let leader = ctx.leader.read().map(|g| g.clone()).unwrap_or(None);
    match (leader, ctx.core.get()) {
        (None, Some(core)) => Ok(core),
        (Some(l), _) if !l.is_empty() => Err(ApiError::NotLeader(Some(l))),
        _ => Err(ApiError::NotLeader(None)),
    }
}

/// The leader to proxy an API call to: this process is a standby, the leader is known, and
/// the call did not come through another standby already.
fn proxy_target(ctx: &Ctx, req: &Req) -> Option<String> {
    let leader = ctx.leader.read().map(|g| g.clone()).unwrap_or(None)?;
    (!leader.is_empty() && leader != ctx.me && !proxy::already_proxied(req)).then_some(leader)
}

async fn route(req: Req, ctx: Arc<Ctx>) -> ApiResult {
    let path = percent_encoding::percent_decode_str(req.uri().path())
        .decode_utf8_lossy()
        .into_owned();
    let path = path.trim_end_matches('/');
    let rest = path
        .strip_prefix("/v1/scheduler")
        .or_else(|| path.strip_prefix("/scheduler"));
    let api = rest.is_some() || path == "/metrics" || crate::ui::owns(path);
    if let Some(leader) = proxy_target(&ctx, &req).filter(|_| api) {
        return proxy::to_leader(&leader, &ctx.me, req).await;
    }
    match (req.method().clone(), rest, path) {
        (Method::GET, None, "/ping") => {
            Ok(with_type(StatusCode::OK, b"pong\n".to_vec(), "text/plain"))
        }
        (Method::GET, None, "/leader") => Ok(views::leader(&ctx)),
        (Method::GET, None, "/metrics") => Ok(views::metrics(leading(&ctx)?)),
        (_, None, p) if crate::ui::owns(p) => {
            let (method, p) = (req.method().clone(), p.to_owned());
            let query = req.uri().query().unwrap_or("").to_owned();
            let body = read_body(req).await?;
            let ui = crate::ui::UiRequest {
                method: &method,
                path: &p,
                query: &query,
                body: &body,
            };
            Ok(crate::ui::route(ui, leading(&ctx)).await)
        }
        (_, Some(rest), _) => {
            let rest = rest.to_owned();
            jobs::dispatch(req, &rest, leading(&ctx)?).await
        }
        _ => Err(ApiError::NotFound(format!("no route {path}"))),
    }
}

async fn handle(req: Req, ctx: Arc<Ctx>) -> Response<Body> {
    let method = req.method().clone();
    let path = req.uri().path().to_owned();
    if let Some(refused) = auth::refuse(ctx.auth.as_ref(), &path, req.headers()) {
        return refused;
    }
    let resp = route(req, ctx)
        .await
        .unwrap_or_else(ApiError::into_response);
    tracing::debug!(%method, %path, status = resp.status().as_u16(), "request");
    resp
}

/// Serves the API on `listener` until the task is aborted.
pub async fn serve(listener: TcpListener, config: ServerConfig, ctx: Arc<Ctx>) {
    meseta_httpd::serve(listener, config, move |req, _peer| {
        handle(req, Arc::clone(&ctx))
    })
    .await;
}
