//! The master's HTTP server (hyper 1, HTTP/1.1): libprocess-style routing
//! (`/master/<route>` ≡ `/<route>`, longest prefix, trailing `/` ignored),
//! request-body limits, and the one place where errors become status codes.

mod agent;
mod authz;
mod ha_gate;
mod jsonp;
pub(crate) mod operator;
mod operator_auth;
mod readonly;
mod roles;
mod scheduler;
mod scheduler_auth;
mod teardown;

use std::convert::Infallible;
use std::sync::Arc;

pub(crate) use authz::{principal, require};
use bytes::Bytes;
use http::{header, HeaderValue, Method, Request, Response, StatusCode};
use http_body_util::{BodyExt, Limited};
use meseta_httpd::RequestBody;
/// Response bodies: a complete buffer, or a RecordIO event stream fed by a
/// [`crate::master::Sink`] (chunked, queued events coalesced into one write).
pub use meseta_httpd::ResponseBody as Body;

use crate::master::{CallError, Shared};

/// What request handlers share.
#[derive(Debug)]
pub struct Ctx {
    /// The master.
    pub master: Shared,
    /// `--max_request_body_bytes`.
    pub max_body_bytes: u64,
    /// Leader election (`--zk`); `None` for a master that runs alone.
    pub ha: Option<Arc<crate::ha::Ha>>,
    /// Authentication realms and `--acls`.
    pub auth: meseta_auth::HttpAuth,
}

/// An error response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpError {
    /// Status code.
    pub status: StatusCode,
    /// Plain-text body.
    pub message: String,
    /// `WWW-Authenticate` of a 401.
    pub challenge: Option<String>,
}

impl HttpError {
    /// An error with `status`.
    pub fn new(status: StatusCode, message: impl Into<String>) -> Self {
        HttpError {
            status,
            message: message.into(),
            challenge: None,
        }
    }

    /// 403 from an authorization decision.
    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, message)
    }

    /// 400.
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, message)
    }
}

impl From<CallError> for HttpError {
    fn from(e: CallError) -> Self {
        let status = match &e {
            CallError::BadRequest(_) => StatusCode::BAD_REQUEST,
            CallError::Forbidden(_) => StatusCode::FORBIDDEN,
            CallError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        };
        HttpError::new(status, e.to_string())
    }
}

/// Handler result.
pub type HttpResult = Result<Response<Body>, HttpError>;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Route {
    Scheduler,
    Agent,
    Version,
    Health,
    State,
    Metrics,
    /// `/metrics`: the same metrics in Prometheus text format.
    Prometheus,
    Redirect,
    Flags,
    Frameworks,
    Slaves,
    Tasks,
    /// `/api/v1` (and `/api/v1/operator`): the operator API.
    Operator,
    Weights,
    Quota,
    Roles,
    StateSummary,
    /// `POST /teardown` (`frameworkId=<id>`).
    Teardown,
    /// The web UI's pages and fragments (`/`, `/ui/...`).
    Ui,
    /// The web UI's forms (`POST /ui/actions/...`).
    UiAction,
    /// The web UI's static assets (`/ui/assets/...`), open so a 401 page is styled.
    UiAsset,
}

fn lookup(path: &str) -> Option<Route> {
    Some(match path {
        "/api/v1/scheduler" => Route::Scheduler,
        meseta_api::internal::PATH => Route::Agent,
        "/version" => Route::Version,
        "/health" => Route::Health,
        "/state" | "/state.json" => Route::State,
        "/metrics/snapshot" => Route::Metrics,
        "/metrics" => Route::Prometheus,
        "/redirect" => Route::Redirect,
        "/flags" => Route::Flags,
        "/frameworks" | "/frameworks.json" => Route::Frameworks,
        "/slaves" | "/slaves.json" => Route::Slaves,
        "/tasks" | "/tasks.json" => Route::Tasks,
        "/api/v1" => Route::Operator,
        "/weights" => Route::Weights,
        "/quota" => Route::Quota,
        "/roles" | "/roles.json" => Route::Roles,
        "/state-summary" => Route::StateSummary,
        "/teardown" => Route::Teardown,
        "/ui" => Route::Ui,
        "/ui/actions" => Route::UiAction,
        "/ui/assets" => Route::UiAsset,
        _ => return None,
    })
}

/// libprocess routing: drop a leading `/master`, trim trailing `/`, then strip
/// path components until a route matches.
fn route(path: &str) -> Option<Route> {
    if path == "/" {
        return Some(Route::Ui);
    }
    let trimmed = path.trim_end_matches('/');
    let mut p = match trimmed.strip_prefix("/master") {
        Some(rest) if rest.is_empty() || rest.starts_with('/') => rest,
        _ => trimmed,
    };
    loop {
        if p.is_empty() {
            return None;
        }
        if let Some(r) = lookup(p) {
            return Some(r);
        }
        p = &p[..p.rfind('/')?];
    }
}

/// Serves one request.
pub async fn handle(
    req: Request<RequestBody>,
    ctx: Arc<Ctx>,
) -> Result<Response<Body>, Infallible> {
    let path = req.uri().path().to_string();
    let jsonp = jsonp::callback(req.uri().query());
    let method = req.method().clone();
    let route = route(&path);
    // As Mesos: authenticate first, then redirect to the leader, then serve.
    let req = match authz::authenticate(route, req, &ctx) {
        Ok(req) => req,
        Err(e) => return Ok(error_response(&path, e)),
    };
    let gated = ctx
        .ha
        .as_deref()
        .and_then(|ha| ha_gate::gate(ha, route, &req, &ctx));
    let served_here = gated.is_none();
    let result = match gated {
        Some(answer) => answer,
        None => dispatch(route, req, &ctx).await,
    };
    let result = match (result, ctx.ha.as_deref()) {
        (Ok(resp), Some(ha)) if served_here && writes_registry(&path, &method) => {
            ha_gate::wait_durable(ha, &ctx).await.map(|()| resp)
        }
        (result, _) => result,
    };
    let result = match jsonp {
        Some(cb) => result.and_then(|r| jsonp::wrap(r, &cb)),
        None => result,
    };
    Ok(result.unwrap_or_else(|e| error_response(&path, e)))
}

async fn dispatch(route: Option<Route>, req: Request<RequestBody>, ctx: &Ctx) -> HttpResult {
    match route {
        None => Err(HttpError::new(StatusCode::NOT_FOUND, "")),
        Some(Route::Scheduler) => scheduler::handle(req, ctx).await,
        Some(Route::Agent) => agent::handle(req, ctx).await,
        Some(Route::Operator) => operator::handle(req, ctx).await,
        Some(Route::Teardown) => teardown::handle(req, ctx).await,
        Some(Route::Ui | Route::UiAction | Route::UiAsset) => crate::ui::handle(req, ctx).await,
        Some(r @ (Route::Weights | Route::Quota | Route::Roles | Route::StateSummary)) => {
            roles::handle(r, req, ctx).await
        }
        Some(r) => {
            if req.method() != Method::GET && req.method() != Method::HEAD {
                Err(HttpError::new(
                    StatusCode::METHOD_NOT_ALLOWED,
                    format!("Expecting a 'GET' request, received '{}'", req.method()),
                ))
            } else {
                readonly::handle(r, &req, ctx)
            }
        }
    }
}

/// The one place where errors become responses.
fn error_response(path: &str, e: HttpError) -> Response<Body> {
    if e.status.is_server_error() || e.status == StatusCode::FORBIDDEN {
        tracing::warn!(%path, status = %e.status, message = %e.message, "request failed");
    } else {
        tracing::debug!(%path, status = %e.status, message = %e.message, "request refused");
    }
    let ui = matches!(route(path), Some(Route::Ui | Route::UiAction));
    let mut resp = if ui {
        let fragment = path.starts_with("/ui/fragments/");
        crate::ui::html_response(e.status, crate::ui::error_page(&e, fragment))
    } else {
        let mut r = Response::new(Body::full(e.message));
        *r.status_mut() = e.status;
        r.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/plain; charset=utf-8"),
        );
        r
    };
    if let Some(v) = e.challenge.and_then(|c| HeaderValue::from_str(&c).ok()) {
        resp.headers_mut().insert(header::WWW_AUTHENTICATE, v);
    }
    resp
}

/// Operator changes that go to the registry (weights, quota, reservations, agent state):
/// with a replicated registry they are answered only once ZooKeeper has them, as Mesos
/// answers after its registrar's commit.
fn writes_registry(path: &str, method: &Method) -> bool {
    let route = route(path);
    let mutating = method == Method::POST || method == Method::PUT || method == Method::DELETE;
    mutating
        && matches!(
            route,
            Some(Route::Operator | Route::Weights | Route::Quota | Route::UiAction)
        )
}

/// Reads the request body, enforcing the size limit (413).
pub(crate) async fn read_body(
    req: Request<RequestBody>,
    limit: u64,
) -> Result<(http::request::Parts, Bytes), HttpError> {
    let too_large = || {
        HttpError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("Request body is larger than {limit} bytes (--max_request_body_bytes)"),
        )
    };
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit) {
        return Err(too_large());
    }
    let (parts, body) = req.into_parts();
    let limit = usize::try_from(limit).unwrap_or(usize::MAX);
    match Limited::new(body, limit).collect().await {
        Ok(c) => Ok((parts, c.to_bytes())),
        Err(e) if e.is::<http_body_util::LengthLimitError>() => Err(too_large()),
        Err(e) if e.is::<meseta_httpd::BodyError>() => {
            Err(HttpError::new(StatusCode::REQUEST_TIMEOUT, e.to_string()))
        }
        Err(e) => Err(HttpError::bad_request(format!(
            "Failed to read request body: {e}"
        ))),
    }
}

/// Content-Type must be JSON (protobuf is not supported).
fn require_json(parts: &http::request::Parts) -> Result<(), HttpError> {
    let Some(ct) = parts.headers.get(header::CONTENT_TYPE) else {
        return Err(HttpError::bad_request(
            "Expecting 'Content-Type' to be present",
        ));
    };
    let ct = ct.to_str().unwrap_or_default();
    let media = ct.split(';').next().unwrap_or_default().trim();
    if media.eq_ignore_ascii_case("application/json") {
        Ok(())
    } else {
        Err(HttpError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            format!("Expecting 'Content-Type' of application/json; got '{ct}'"),
        ))
    }
}

/// An `Accept` header, if present, must allow JSON (406 otherwise).
fn require_json_accept(parts: &http::request::Parts) -> Result<(), HttpError> {
    let Some(accept) = parts.headers.get(header::ACCEPT) else {
        return Ok(());
    };
    let a = accept.to_str().unwrap_or_default();
    let ok = a.split(',').any(|m| {
        let m = m.split(';').next().unwrap_or_default().trim();
        m.eq_ignore_ascii_case("application/json") || m == "*/*" || m == "application/*"
    });
    if ok {
        Ok(())
    } else {
        Err(HttpError::new(
            StatusCode::NOT_ACCEPTABLE,
            "Expecting 'Accept' to allow application/json",
        ))
    }
}

fn require_post(req: &Request<RequestBody>) -> Result<(), HttpError> {
    if req.method() == Method::POST {
        Ok(())
    } else {
        Err(HttpError::new(
            StatusCode::METHOD_NOT_ALLOWED,
            format!("Expecting a 'POST' request, received '{}'", req.method()),
        ))
    }
}

/// `202 Accepted`, empty.
fn accepted() -> Response<Body> {
    let mut r = Response::new(Body::empty());
    *r.status_mut() = StatusCode::ACCEPTED;
    r
}

/// A `200` RecordIO event stream with `Mesos-Stream-Id`.
fn stream_response(rx: crate::master::SinkReceiver, stream_id: &str) -> Response<Body> {
    let mut r = Response::new(Body::Unbounded(rx));
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    if let Ok(v) = HeaderValue::from_str(stream_id) {
        h.insert("Mesos-Stream-Id", v);
    }
    r
}

/// A JSON `200`.
fn json_response(v: &serde_json::Value) -> Response<Body> {
    let mut r = Response::new(Body::full(v.to_string()));
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn libprocess_routing() {
        assert_eq!(route("/api/v1/scheduler"), Some(Route::Scheduler));
        assert_eq!(route("/api/v1/scheduler/"), Some(Route::Scheduler));
        assert_eq!(route("/master/api/v1/scheduler"), Some(Route::Scheduler));
        assert_eq!(route("/master/state"), Some(Route::State));
        assert_eq!(route("/state.json"), Some(Route::State));
        assert_eq!(route("/master/state.json"), Some(Route::State));
        assert_eq!(route("/state/extra/parts"), Some(Route::State));
        assert_eq!(route("/master/redirect"), Some(Route::Redirect));
        assert_eq!(route("/metrics/snapshot"), Some(Route::Metrics));
        assert_eq!(route("/metrics"), Some(Route::Prometheus));
        assert_eq!(route("/master/metrics"), Some(Route::Prometheus));
        assert_eq!(route("/api/v1"), Some(Route::Operator));
        assert_eq!(route("/api/v1/operator"), Some(Route::Operator));
        assert_eq!(route("/master/api/v1"), Some(Route::Operator));
        assert_eq!(route("/master/state-summary"), Some(Route::StateSummary));
        assert_eq!(route("/quota/web"), Some(Route::Quota));
        assert_eq!(route("/roles.json"), Some(Route::Roles));
        assert_eq!(route("/nope"), None);
        assert_eq!(route("/"), Some(Route::Ui));
        assert_eq!(route("/ui/agents/a1"), Some(Route::Ui));
        assert_eq!(route("/ui/actions/kill"), Some(Route::UiAction));
        assert_eq!(route("/ui/assets/meseta.css"), Some(Route::UiAsset));
        assert_eq!(route("/master"), None);
    }
}
