//! The agent's HTTP server (hyper 1, HTTP/1.1): routing libprocess style (`/slave(1)/x` ≡
//! `/x`, longest prefix, trailing `/` trimmed), request bodies capped at [`MAX_BODY`], and the
//! one place where [`HttpError`]s become status codes.
//!
//! Endpoint groups: `executor_api` (`/api/v1/executor`), `operator` (`/api/v1`), `endpoints`
//! (`/state`, `/flags`, `/health`, `/version`, `/containers`, `/monitor/statistics`,
//! `/metrics/snapshot`), `files` (`/files/*`).

pub mod auth;
pub mod endpoints;
pub mod executor_api;
pub mod executor_auth;
pub mod files;
pub mod operator;

use std::convert::Infallible;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use bytes::Bytes;
use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::{Body, Frame};
use hyper::header::{HeaderValue, CONTENT_TYPE};
use hyper::{Method, Request, Response, StatusCode};
use meseta_httpd::RequestBody;
use tokio::sync::mpsc::UnboundedReceiver;

use crate::daemon::Agent;

/// Largest request body accepted (413 beyond).
pub const MAX_BODY: usize = 8 << 20;

/// The response body type of every endpoint.
pub type RespBody = BoxBody<Bytes, Infallible>;

/// A request that cannot be served; mapped to a status in [`HttpError::into_response`].
#[derive(Debug, thiserror::Error)]
pub enum HttpError {
    /// 400.
    #[error("{0}")]
    BadRequest(String),
    /// 401 for a realm (answered with its `WWW-Authenticate` challenge).
    #[error("")]
    Unauthorized(&'static str),
    /// 401 with a `Bearer` `WWW-Authenticate` challenge (executor authentication).
    #[error("{message}")]
    BearerUnauthorized {
        /// The `WWW-Authenticate` value.
        challenge: String,
        /// The body.
        message: String,
    },
    /// 403.
    #[error("{0}")]
    Forbidden(String),
    /// 404.
    #[error("{0}")]
    NotFound(String),
    /// 405.
    #[error("Expecting one of {0}")]
    MethodNotAllowed(&'static str),
    /// 406.
    #[error("{0}")]
    NotAcceptable(String),
    /// 408.
    #[error("{0}")]
    RequestTimeout(String),
    /// 413.
    #[error("Request body is larger than {MAX_BODY} bytes")]
    PayloadTooLarge,
    /// 415.
    #[error("{0}")]
    UnsupportedMediaType(String),
    /// 501.
    #[error("{0}")]
    NotImplemented(String),
    /// 503.
    #[error("{0}")]
    ServiceUnavailable(String),
}

impl HttpError {
    fn status(&self) -> StatusCode {
        match self {
            Self::BadRequest(_) => StatusCode::BAD_REQUEST,
            Self::Unauthorized(_) | Self::BearerUnauthorized { .. } => StatusCode::UNAUTHORIZED,
            Self::Forbidden(_) => StatusCode::FORBIDDEN,
            Self::NotFound(_) => StatusCode::NOT_FOUND,
            Self::MethodNotAllowed(_) => StatusCode::METHOD_NOT_ALLOWED,
            Self::NotAcceptable(_) => StatusCode::NOT_ACCEPTABLE,
            Self::RequestTimeout(_) => StatusCode::REQUEST_TIMEOUT,
            Self::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Self::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::NotImplemented(_) => StatusCode::NOT_IMPLEMENTED,
            Self::ServiceUnavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
        }
    }

    /// The response: the status and the message as plain text.
    pub fn into_response(self) -> Response<RespBody> {
        let mut resp = text(self.to_string());
        *resp.status_mut() = self.status();
        let challenge = match &self {
            Self::Unauthorized(realm) => Some(format!("Basic realm=\"{realm}\"")),
            Self::BearerUnauthorized { challenge, .. } => Some(challenge.clone()),
            _ => None,
        };
        if let Some(challenge) = challenge {
            if let Ok(v) = HeaderValue::from_str(&challenge) {
                resp.headers_mut()
                    .insert(hyper::header::WWW_AUTHENTICATE, v);
            }
        }
        resp
    }
}

/// Serves the agent's endpoints on `listener` ([`meseta_httpd::serve`]: timeouts, connection
/// cap, TLS from `LIBPROCESS_SSL_*`).
pub async fn serve(
    agent: Arc<Agent>,
    listener: tokio::net::TcpListener,
    config: meseta_httpd::ServerConfig,
) {
    meseta_httpd::serve(listener, config, move |req, _peer| {
        route(Arc::clone(&agent), req)
    })
    .await;
}

/// The agent's one connection budget (`max_connections`, sized to its open-file limit)
/// split between its TCP port and its executor socket, so that a task cannot take the agent
/// past its descriptor limit by filling both: a connection to the socket holds two
/// descriptors (the socket and a pidfd of the caller), so the socket gets a sixth of the
/// budget at twice the cost and the port the rest. Returns (port, socket).
pub fn split_connection_budget(
    limits: meseta_httpd::Limits,
) -> (meseta_httpd::Limits, meseta_httpd::Limits) {
    let budget = limits.max_connections.max(3);
    let socket = (budget / 6).max(1);
    let port = budget - 2 * socket;
    (
        meseta_httpd::Limits {
            max_connections: port,
            ..limits
        },
        meseta_httpd::Limits {
            max_connections: socket,
            ..limits
        },
    )
}

/// Serves the executor API (and, as Mesos, the v1 operator API) on the agent's Unix socket
/// (`--domain_socket_location`), with the timeouts of the TCP port and its share of the
/// connection budget ([`split_connection_budget`]). Every other path is a 404.
pub async fn serve_executor_socket(
    agent: Arc<Agent>,
    listener: tokio::net::UnixListener,
    limits: meseta_httpd::Limits,
) {
    meseta_httpd::serve_unix(listener, limits, move |req| {
        let agent = Arc::clone(&agent);
        async move {
            let path = route_path(req.uri().path());
            if path == "/api/v1/executor" || path == "/api/v1" {
                route(agent, req).await
            } else {
                HttpError::NotFound(format!(
                    "No endpoint at {path} on the executor socket (only /slave(1)/api/v1/executor and /slave(1)/api/v1)"
                ))
                .into_response()
            }
        }
    })
    .await;
}

/// The path as libprocess routes it: `/slave(1)` stripped, trailing `/` trimmed.
fn route_path(path: &str) -> &str {
    let p = path.strip_prefix("/slave(1)").unwrap_or(path);
    let p = p.trim_end_matches('/');
    if p.is_empty() {
        "/"
    } else {
        p
    }
}

async fn route(agent: Arc<Agent>, mut req: Request<RequestBody>) -> Response<RespBody> {
    let path = route_path(req.uri().path()).to_owned();
    let principal = match auth::authenticate(&agent, &path, req.headers()) {
        Ok(p) => p,
        Err(e) => return e.into_response(),
    };
    if let Some(p) = &principal {
        req.extensions_mut().insert(p.clone());
    }
    if let Err(e) = authorize(&agent, &path, principal.as_ref(), req.uri().query()).await {
        return e.into_response();
    }
    let result = match path.as_str() {
        "/api/v1/executor" => executor_api::handle(&agent, req).await,
        p if p == "/api/v1" || p.starts_with("/api/v1/") => operator::handle(&agent, req).await,
        "/state" | "/state.json" => {
            let mut doc = endpoints::state_json(&agent);
            auth::filter_state(&agent, principal.as_ref(), &mut doc);
            json(&doc)
        }
        "/flags" | "/flags.json" => endpoints::flags(&agent),
        "/health" => Ok(empty(StatusCode::OK)),
        "/version" => endpoints::version(),
        "/containers" | "/containers.json" => endpoints::containers(&agent).await,
        "/monitor/statistics" | "/monitor/statistics.json" => endpoints::statistics(&agent).await,
        "/metrics/snapshot" => endpoints::metrics(&agent),
        p if p.starts_with("/files/") => files::handle(&agent, p, req.uri().query()).await,
        _ => Err(HttpError::NotFound(format!("No endpoint at {path}"))),
    };
    result.unwrap_or_else(HttpError::into_response)
}

/// The ACL checks of read-only endpoints (`auth` module doc).
async fn authorize(
    agent: &Agent,
    path: &str,
    principal: Option<&meseta_auth::Principal>,
    query: Option<&str>,
) -> Result<(), HttpError> {
    use meseta_auth::Action;
    if agent.config.http_auth.authorizer().is_none() {
        return Ok(());
    }
    if let Some(endpoint) = auth::authorizable_endpoint(path) {
        auth::require(agent, principal, Action::GetEndpoint, Some(endpoint))?;
    }
    if path == "/flags" || path == "/flags.json" {
        auth::require(agent, principal, Action::ViewFlags, None)?;
    }
    if path.starts_with("/files/") {
        if let Some(requested) = query_param(query, "path") {
            auth::authorize_sandbox(agent, principal, &requested).await?;
        }
    }
    Ok(())
}

/// Reads a POST body as JSON bytes (checks method, content type and size).
pub async fn json_body(
    req: Request<RequestBody>,
) -> Result<(hyper::http::request::Parts, Bytes), HttpError> {
    if req.method() != Method::POST {
        return Err(HttpError::MethodNotAllowed("POST"));
    }
    let (parts, body) = req.into_parts();
    if let Some(ct) = parts.headers.get(CONTENT_TYPE) {
        let ct = ct.to_str().unwrap_or_default();
        if !ct.starts_with("application/json") {
            return Err(HttpError::UnsupportedMediaType(format!(
                "Expecting 'Content-Type' of application/json, got '{ct}' (protobuf is not \
                 supported)"
            )));
        }
    }
    if let Some(accept) = parts.headers.get(hyper::header::ACCEPT) {
        let a = accept.to_str().unwrap_or_default();
        if !(a.is_empty() || a.contains("application/json") || a.contains("*/*")) {
            return Err(HttpError::NotAcceptable(format!(
                "Expecting 'Accept' to allow application/json, got '{a}'"
            )));
        }
    }
    let bytes = Limited::new(body, MAX_BODY)
        .collect()
        .await
        .map_err(|e| {
            if e.downcast_ref::<http_body_util::LengthLimitError>()
                .is_some()
            {
                HttpError::PayloadTooLarge
            } else if e.is::<meseta_httpd::BodyError>() {
                HttpError::RequestTimeout(e.to_string())
            } else {
                HttpError::BadRequest(format!("Failed to read the request body: {e}"))
            }
        })?
        .to_bytes();
    Ok((parts, bytes))
}

/// A JSON response.
pub fn json(value: &impl serde::Serialize) -> Result<Response<RespBody>, HttpError> {
    let body = serde_json::to_vec(value)
        .map_err(|e| HttpError::BadRequest(format!("encoding the response: {e}")))?;
    Ok(json_bytes(body))
}

/// A 200 `application/json` response of an encoded body.
pub fn json_bytes(body: Vec<u8>) -> Response<RespBody> {
    let mut resp = Response::new(Full::new(Bytes::from(body)).boxed());
    resp.headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    resp
}

/// A text/plain response with status 200.
pub fn text(body: String) -> Response<RespBody> {
    let mut resp = Response::new(Full::new(Bytes::from(body)).boxed());
    resp.headers_mut().insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    resp
}

/// An empty response with `status`.
pub fn empty(status: StatusCode) -> Response<RespBody> {
    let mut resp = Response::new(Full::new(Bytes::new()).boxed());
    *resp.status_mut() = status;
    resp
}

/// A chunked body fed by a channel of RecordIO records (ends when the sender is dropped).
#[derive(Debug)]
pub struct EventStream(pub UnboundedReceiver<Bytes>);

impl Body for EventStream {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        let first = match self.0.poll_recv(cx) {
            Poll::Ready(Some(first)) => first,
            Poll::Ready(None) => return Poll::Ready(None),
            Poll::Pending => return Poll::Pending,
        };
        // Events queued together (SUBSCRIBED and the LAUNCHes behind it) go out as one chunk.
        let Ok(next) = self.0.try_recv() else {
            return Poll::Ready(Some(Ok(Frame::data(first))));
        };
        let mut buf = bytes::BytesMut::with_capacity(first.len() + next.len());
        buf.extend_from_slice(&first);
        buf.extend_from_slice(&next);
        while buf.len() < 64 << 10 {
            match self.0.try_recv() {
                Ok(more) => buf.extend_from_slice(&more),
                Err(_) => break,
            }
        }
        Poll::Ready(Some(Ok(Frame::data(buf.freeze()))))
    }
}

/// Decodes `a=b&c=d` with percent-escapes.
pub fn query_param(query: Option<&str>, name: &str) -> Option<String> {
    query?.split('&').find_map(|pair| {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        (percent_decode(k) == name).then(|| percent_decode(v))
    })
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap_or("zz");
                match u8::from_str_radix(hex, 16) {
                    Ok(b) => {
                        out.push(b);
                        i += 2;
                    }
                    Err(_) => out.push(b'%'),
                }
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_port_and_the_executor_socket_share_one_descriptor_budget() {
        for budget in [1, 3, 4, 10, 64, 15_000, 65_536] {
            let limits = meseta_httpd::Limits {
                max_connections: budget,
                ..meseta_httpd::Limits::default()
            };
            let (port, socket) = split_connection_budget(limits);
            assert!(
                port.max_connections >= 1 && socket.max_connections >= 1,
                "{budget}"
            );
            // Two descriptors per socket connection: never past the budget.
            assert!(
                port.max_connections + 2 * socket.max_connections <= budget.max(3),
                "{budget}: {} + 2 x {}",
                port.max_connections,
                socket.max_connections
            );
            assert_eq!(port.header_read_timeout, limits.header_read_timeout);
        }
        let (port, socket) = split_connection_budget(meseta_httpd::Limits {
            max_connections: 15_000,
            ..meseta_httpd::Limits::default()
        });
        assert_eq!(
            (port.max_connections, socket.max_connections),
            (10_000, 2_500)
        );
    }

    #[test]
    fn libprocess_paths_and_queries() {
        assert_eq!(route_path("/slave(1)/state/"), "/state");
        assert_eq!(route_path("/"), "/");
        assert_eq!(
            query_param(Some("path=%2Fa%20b&offset=3"), "path").as_deref(),
            Some("/a b")
        );
        assert_eq!(query_param(Some("offset=3"), "path"), None);
        assert_eq!(query_param(Some("p=%"), "p").as_deref(), Some("%"));
    }
}
