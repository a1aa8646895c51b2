//! A standby answers API calls by proxying them to the leader, as Chronos's `RedirectFilter`
//! does (same method, path, query, headers and body; the leader's status, headers and body
//! back), so a client may talk to any `chronos` of the cluster. A request that already went
//! through a proxy is not proxied again (a stale leader address must not bounce it around):
//! it gets the 503 naming the leader.

use std::sync::OnceLock;
use std::time::Duration;

use bytes::Bytes;
use http::{header, HeaderName, Request, Response};
use http_body_util::{BodyExt, Full, Limited};
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;

use super::{read_body, ApiError, ApiResult, Req};

/// Marks a proxied request; its value is the proxy's `host:port`.
pub const PROXIED_BY: &str = "x-chronos-proxied-by";
/// Longest wait for the leader's whole answer.
const TIMEOUT: Duration = Duration::from_secs(30);
/// Largest answer relayed (`GET /jobs` of 10,000 jobs is about 7 MB).
const MAX_ANSWER: usize = 256 << 20;

/// Headers that belong to one connection, not to the request (RFC 9110 §7.6.1), and the
/// length, which the relayed body sets again.
fn hop_by_hop(name: &HeaderName) -> bool {
    matches!(
        name.as_str(),
        "connection"
            | "keep-alive"
            | "proxy-connection"
            | "proxy-authenticate"
            | "proxy-authorization"
            | "te"
            | "trailer"
            | "transfer-encoding"
            | "upgrade"
            | "host"
            | "content-length"
    )
}

fn client() -> &'static Client<HttpConnector, Full<Bytes>> {
    static CLIENT: OnceLock<Client<HttpConnector, Full<Bytes>>> = OnceLock::new();
    CLIENT.get_or_init(|| {
        let mut http = HttpConnector::new();
        http.set_nodelay(true);
        http.set_connect_timeout(Some(Duration::from_secs(5)));
        Client::builder(TokioExecutor::new()).build(http)
    })
}

/// Whether the request already came through a standby.
pub fn already_proxied(req: &Req) -> bool {
    req.headers().contains_key(PROXIED_BY)
}

/// Sends `req` to the leader at `leader` (`host:port`) and relays its answer.
pub async fn to_leader(leader: &str, me: &str, req: Req) -> ApiResult {
    let method = req.method().clone();
    let path = req
        .uri()
        .path_and_query()
        .map_or("/", |p| p.as_str())
        .to_owned();
    let headers = req.headers().clone();
    let body = read_body(req).await?;
    let mut out = Request::builder()
        .method(method)
        .uri(format!("http://{leader}{path}"));
    for (name, value) in headers.iter().filter(|(n, _)| !hop_by_hop(n)) {
        out = out.header(name, value);
    }
    let out = out
        .header(header::HOST, leader)
        .header(PROXIED_BY, me)
        .body(Full::new(body))
        .map_err(|e| ApiError::BadRequest(format!("cannot forward the request: {e}")))?;
    let unavailable = |e: &dyn std::fmt::Display| {
        ApiError::Unavailable(format!("the leader {leader} did not answer: {e}"))
    };
    let answer = async {
        let resp = client().request(out).await.map_err(|e| unavailable(&e))?;
        let (parts, body) = resp.into_parts();
        let bytes = Limited::new(body, MAX_ANSWER)
            .collect()
            .await
            .map_err(|e| unavailable(&e))?
            .to_bytes();
        Ok::<_, ApiError>((parts, bytes))
    };
    let (parts, bytes) = tokio::time::timeout(TIMEOUT, answer)
        .await
        .map_err(|_| unavailable(&format!("no answer within {TIMEOUT:?}")))??;
    let mut resp = Response::new(Full::new(bytes));
    *resp.status_mut() = parts.status;
    for (name, value) in parts.headers.iter().filter(|(n, _)| !hop_by_hop(n)) {
        resp.headers_mut().append(name, value.clone());
    }
    Ok(resp)
}
