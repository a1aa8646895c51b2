//! Leadership: whether this process leads, and where the leader's API is. Without HA
//! (`--disable_ha`) the process leads from the start. Non-leaders forward API calls to the
//! leader and relay its answer (upstream `LeaderProxyFilter`): the forwarded request carries
//! `X-Marathon-Via: 1.1 <me>` (a request that already passed here is a loop: 502), the
//! answer `X-Marathon-Leader: http://<leader>` and the `Via` header. The event stream is
//! redirected (307) instead, as Marathon ≥ 1.7 does for `/v2/events`.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use std::time::Duration;

use http::{header, HeaderName, HeaderValue, Request, Response, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper_util::rt::TokioIo;
use serde_json::json;
use tokio::net::TcpStream;
use tokio::sync::Notify;

use crate::http::{json, Body, Req};

/// The header naming the processes a proxied request or answer passed.
pub const VIA: &str = "x-marathon-via";
/// The header naming the leader's URL.
pub const LEADER: &str = "x-marathon-leader";

/// Why forwarding to the leader failed (answered 502 to the client).
#[derive(Debug, thiserror::Error)]
enum ProxyError {
    #[error("cannot connect: {0}")]
    Connect(#[from] std::io::Error),
    #[error("no answer within {0:?}")]
    Timeout(Duration),
    #[error(transparent)]
    Http(#[from] hyper::Error),
    #[error(transparent)]
    Request(#[from] http::Error),
}

/// The leadership state of this process.
#[derive(Debug)]
pub struct Leadership {
    me: String,
    /// `--leader_proxy_connection_timeout`.
    pub connect_timeout: Duration,
    /// `--leader_proxy_read_timeout`.
    pub read_timeout: Duration,
    leading: AtomicBool,
    leader: Mutex<Option<String>>,
    /// Signalled by `DELETE /v2/leader`.
    pub abdicated: Notify,
}

impl Leadership {
    /// A process advertising `me` (`host:port`), not leading yet.
    pub fn new(me: String) -> Self {
        Self {
            me,
            connect_timeout: Duration::from_secs(5),
            read_timeout: Duration::from_secs(10),
            leading: AtomicBool::new(false),
            leader: Mutex::new(None),
            abdicated: Notify::new(),
        }
    }

    /// This process's `host:port`.
    pub fn me(&self) -> &str {
        &self.me
    }

    /// Whether this process leads.
    pub fn is_leader(&self) -> bool {
        self.leading.load(Ordering::SeqCst)
    }

    /// Records who leads (`None`: nobody known), as the election reports it.
    pub fn set_leader(&self, leader: Option<String>) {
        *self.leader.lock().unwrap_or_else(|e| e.into_inner()) = leader;
    }

    /// Starts serving as leader (after the state is loaded) or stops.
    pub fn set_leading(&self, leading: bool) {
        if leading {
            self.set_leader(Some(self.me.clone()));
        }
        self.leading.store(leading, Ordering::SeqCst);
    }

    /// The leader's `host:port`.
    pub fn leader_address(&self) -> Option<String> {
        self.leader
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Gives up leadership (`DELETE /v2/leader`).
    pub fn abdicate(&self) {
        self.abdicated.notify_waiters();
        self.abdicated.notify_one();
    }
}

/// Answers a request meant for the leader: forwarded, or a redirect for the event stream.
pub async fn proxy(l: &Leadership, req: Req) -> Response<Body> {
    let Some(leader) = l.leader_address().filter(|a| a != l.me()) else {
        return json(
            503,
            &json!({"message": "Could not determine the current leader"}),
        );
    };
    let me = format!("1.1 {}", l.me());
    let looped = req.headers.get_all(VIA).iter().any(|v| {
        v.to_str()
            .is_ok_and(|v| v.split(',').any(|h| h.trim() == me))
    });
    if looped {
        return json(502, &json!({"message": "Detected proxying loop."}));
    }
    if req.path.trim_end_matches('/') == "/v2/events" {
        return redirect(&leader, &req);
    }
    match forward(l, &leader, &me, req).await {
        Ok(r) => r,
        Err(err) => {
            tracing::warn!(%leader, %err, "cannot proxy to the leader");
            json(
                502,
                &json!({"message": format!("Could not reach the leader at {leader}: {err}")}),
            )
        }
    }
}

fn path_and_query(req: &Req) -> String {
    let q = req.query_string();
    if q.is_empty() {
        req.path.clone()
    } else {
        format!("{}?{q}", req.path)
    }
}

fn redirect(leader: &str, req: &Req) -> Response<Body> {
    let loc = format!("http://{leader}{}", path_and_query(req));
    let mut r = json(307, &json!({"message": format!("the leader is {leader}")}));
    *r.status_mut() = StatusCode::TEMPORARY_REDIRECT;
    if let Ok(v) = HeaderValue::from_str(&loc) {
        r.headers_mut().insert(header::LOCATION, v);
    }
    r
}

/// Hop-by-hop headers (RFC 9110 §7.6.1) and the ones hyper sets itself.
fn hop_by_hop(name: &HeaderName) -> bool {
    [
        header::CONNECTION,
        header::TRANSFER_ENCODING,
        header::CONTENT_LENGTH,
        header::HOST,
        header::TE,
        header::UPGRADE,
        header::PROXY_AUTHORIZATION,
    ]
    .contains(name)
        || name.as_str() == "keep-alive"
}

async fn forward(
    l: &Leadership,
    leader: &str,
    me: &str,
    req: Req,
) -> Result<Response<Body>, ProxyError> {
    let stream = tokio::time::timeout(l.connect_timeout, TcpStream::connect(leader))
        .await
        .map_err(|_| ProxyError::Timeout(l.connect_timeout))??;
    let _ = stream.set_nodelay(true);
    let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
    tokio::spawn(conn);
    let mut out = Request::builder()
        .method(req.method.clone())
        .uri(path_and_query(&req));
    for (k, v) in req.headers.iter().filter(|(k, _)| !hop_by_hop(k)) {
        out = out.header(k, v);
    }
    let out = out
        .header(header::HOST, leader)
        .header(VIA, me)
        .body(Full::new(req.body))?;
    let wait = l.read_timeout;
    let answer = tokio::time::timeout(wait, async {
        let resp = sender.send_request(out).await?;
        let (parts, body) = resp.into_parts();
        let bytes = body.collect().await?.to_bytes();
        Ok::<_, ProxyError>((parts, bytes))
    })
    .await
    .map_err(|_| ProxyError::Timeout(wait))??;
    let (mut parts, bytes) = answer;
    let drop: Vec<HeaderName> = parts
        .headers
        .keys()
        .filter(|k| hop_by_hop(k))
        .cloned()
        .collect();
    for k in drop {
        parts.headers.remove(k);
    }
    if let Ok(v) = HeaderValue::from_str(me) {
        parts.headers.append(VIA, v);
    }
    if let Ok(v) = HeaderValue::from_str(&format!("http://{leader}")) {
        parts.headers.insert(LEADER, v);
    }
    Ok(Response::from_parts(parts, Body::full(bytes)))
}
