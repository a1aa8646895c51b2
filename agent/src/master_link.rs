//! The agent's side of `meseta_api::internal`: SUBSCRIBE and read the master's event stream,
//! answer PINGs with PONGs, re-subscribe with the same agent id (and the running tasks) with
//! randomized exponential backoff (a delay in [0, `--registration_backoff_factor`] doubling
//! to 1 min, as Mesos) when the stream drops, PINGs stop for `total_ping_timeout_seconds`, or
//! `MasterDetector` detects another leading master, and POST queued calls in order.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::client::conn::http1::SendRequest;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use meseta_api::internal::{self, Call, CallType, Event, EventType, Subscribe};
use meseta_api::Task;
use tokio::sync::mpsc::UnboundedReceiver;
use tracing::{debug, info, warn};

use crate::daemon::{launch, lifecycle, updates, Agent};
use crate::master_detector::MasterDetector;

/// Longest wait between registration attempts (Mesos: 1 min).
const MAX_BACKOFF: Duration = Duration::from_secs(60);

/// Why a request to the master failed.
#[derive(Debug, thiserror::Error)]
pub enum LinkError {
    /// TCP connect.
    #[error("connecting to {addr}: {source}")]
    Connect {
        /// Master address.
        addr: String,
        /// Why.
        source: std::io::Error,
    },
    /// HTTP.
    #[error("HTTP: {0}")]
    Http(#[from] hyper::Error),
    /// Request building.
    #[error("request: {0}")]
    Request(#[from] hyper::http::Error),
    /// Non-2xx answer.
    #[error("master answered {0}")]
    Status(StatusCode),
    /// Stream content.
    #[error("event stream: {0}")]
    Stream(String),
}

/// POSTs JSON to the master on a fresh connection (TLS when `LIBPROCESS_SSL_ENABLED` is set,
/// [`meseta_httpd::ClientTls`]) and returns the response.
pub async fn post(addr: &str, path: &str, body: Vec<u8>) -> Result<Response<Incoming>, LinkError> {
    let mut sender = connect(addr).await?;
    Ok(sender.send_request(request(addr, path, body)?).await?)
}

/// A new HTTP/1.1 connection to the master (TLS when configured).
async fn connect(addr: &str) -> Result<SendRequest<Full<Bytes>>, LinkError> {
    let connect_error = |source| LinkError::Connect {
        addr: addr.to_owned(),
        source,
    };
    let stream = tokio::net::TcpStream::connect(addr)
        .await
        .map_err(connect_error)?;
    let _ = stream.set_nodelay(true);
    match client_tls().map_err(connect_error)? {
        None => spawn_conn(TokioIo::new(stream)).await,
        Some(tls) => {
            let host = addr.rsplit_once(':').map_or(addr, |(h, _)| h);
            let host = host.trim_start_matches('[').trim_end_matches(']');
            let stream = tls.connect(host, stream).await.map_err(connect_error)?;
            spawn_conn(TokioIo::new(stream)).await
        }
    }
}

fn request(addr: &str, path: &str, body: Vec<u8>) -> Result<Request<Full<Bytes>>, LinkError> {
    Ok(Request::post(path)
        .header("Host", addr)
        .header("Content-Type", "application/json")
        .header("Accept", "application/json")
        .body(Full::new(Bytes::from(body)))?)
}

/// The send loop's connection to the current master, kept alive between calls so a status
/// update costs no TCP (or TLS) handshake.
#[derive(Debug, Default)]
struct KeptConnection {
    conn: Option<(String, SendRequest<Full<Bytes>>)>,
}

impl KeptConnection {
    /// POSTs on the kept connection to `addr`, or on a new one when there is none, it leads
    /// elsewhere, or the master closed it before reading the call.
    async fn post(
        &mut self,
        addr: &str,
        path: &str,
        body: Vec<u8>,
    ) -> Result<Response<Incoming>, LinkError> {
        if let Some((kept_addr, mut sender)) = self.conn.take() {
            if kept_addr == addr && sender.ready().await.is_ok() {
                match sender
                    .send_request(request(addr, path, body.clone())?)
                    .await
                {
                    Ok(resp) => {
                        self.conn = Some((kept_addr, sender));
                        return Ok(resp);
                    }
                    // An update sent twice is applied once (same uuid at the master).
                    Err(err) if err.is_canceled() || err.is_closed() => {
                        debug!(%err, "kept connection to the master closed; reconnecting");
                    }
                    Err(err) => return Err(err.into()),
                }
            }
        }
        let mut sender = connect(addr).await?;
        let resp = sender.send_request(request(addr, path, body)?).await?;
        self.conn = Some((addr.to_owned(), sender));
        Ok(resp)
    }
}

/// The agent's client TLS settings, read once from the environment.
fn client_tls() -> Result<Option<&'static meseta_httpd::ClientTls>, std::io::Error> {
    static TLS: std::sync::OnceLock<Result<Option<meseta_httpd::ClientTls>, String>> =
        std::sync::OnceLock::new();
    match TLS.get_or_init(|| meseta_httpd::ClientTls::from_process_env().map_err(|e| e.to_string()))
    {
        Ok(tls) => Ok(tls.as_ref()),
        Err(e) => Err(std::io::Error::other(e.clone())),
    }
}

/// The HTTP/1.1 handshake on `io`, its connection driven by a task of its own.
async fn spawn_conn<I>(io: I) -> Result<SendRequest<Full<Bytes>>, LinkError>
where
    I: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static,
{
    let (sender, conn) = hyper::client::conn::http1::handshake(io).await?;
    tokio::spawn(async move {
        if let Err(err) = conn.await {
            debug!(%err, "master connection ended");
        }
    });
    Ok(sender)
}

/// Runs the link until the process ends.
pub async fn run(agent: Arc<Agent>, outbox: UnboundedReceiver<Call>) {
    let mut detector = MasterDetector::new(&agent.config.master, agent.config.zk_session_timeout);
    tokio::spawn(send_loop(agent.clone(), outbox, detector.clone()));
    let mut attempt: u32 = 0;
    loop {
        let master = detector.detect().await;
        match subscribe_once(&agent, &master, &mut detector, &mut attempt).await {
            Ok(()) => info!(%master, "master closed the event stream"),
            Err(err) => warn!(%err, %master, "master link failed"),
        }
        agent.state().registered = false;
        let factor = agent.config.registration_backoff_factor;
        let cap = factor
            .saturating_mul(2u32.saturating_pow(attempt.min(16)))
            .min(MAX_BACKOFF);
        let wait = cap.mul_f64(rand_fraction());
        attempt = attempt.saturating_add(1);
        debug!(?wait, "re-subscribing after backoff");
        tokio::select! {
            () = tokio::time::sleep(wait.max(Duration::from_millis(50))) => {}
            () = detector.changed_from(&master) => {
                // A newly detected master: start over with a delay in [0, factor], as a
                // Mesos agent does on `detected()`.
                attempt = 0;
                tokio::time::sleep(factor.mul_f64(rand_fraction())).await;
            }
        }
    }
}

fn rand_fraction() -> f64 {
    let [a, b, ..] = *uuid::Uuid::new_v4().as_bytes();
    f64::from(u16::from_le_bytes([a, b])) / f64::from(u16::MAX)
}

async fn subscribe_once(
    agent: &Arc<Agent>,
    master: &str,
    detector: &mut MasterDetector,
    attempt: &mut u32,
) -> Result<(), LinkError> {
    let call = Call {
        r#type: CallType::Subscribe,
        subscribe: Some(subscribe_info(agent)),
        ..Call::default()
    };
    let body = serde_json::to_vec(&call).map_err(|e| LinkError::Stream(e.to_string()))?;
    let resp = post(master, internal::PATH, body).await?;
    if resp.status() != StatusCode::OK {
        return Err(LinkError::Status(resp.status()));
    }
    let mut body = resp.into_body();
    let mut decoder = meseta_api::recordio::Decoder::new();
    // Until REGISTERED gives the real interval, wait generously.
    let mut silence = Duration::from_secs(60);
    loop {
        let next = tokio::select! {
            next = tokio::time::timeout(silence, body.frame()) => next,
            () = detector.changed_from(master) => {
                return Err(LinkError::Stream("another master leads now".into()));
            }
        };
        let frame = match next {
            Err(_) => {
                return Err(LinkError::Stream(format!(
                    "no PING from the master for {silence:?}"
                )))
            }
            Ok(None) => return Ok(()),
            Ok(Some(frame)) => frame?,
        };
        let Ok(data) = frame.into_data() else {
            continue;
        };
        let records = decoder
            .decode(&data)
            .map_err(|e| LinkError::Stream(e.to_string()))?;
        for record in records {
            let event: Event = serde_json::from_slice(&record)
                .map_err(|e| LinkError::Stream(format!("bad event: {e}")))?;
            if let Some(r) = &event.registered {
                silence = ping_silence(r);
                *attempt = 0;
            }
            handle(agent, master, event);
        }
    }
}

/// How long the master may stay silent before the agent treats it as gone: Mesos's
/// `total_ping_timeout_seconds` (`--agent_ping_timeout` × `--max_agent_ping_timeouts`), or
/// three heartbeats from a master that does not say.
fn ping_silence(r: &internal::Registered) -> Duration {
    let secs = r
        .connection
        .as_ref()
        .map_or(r.heartbeat_interval_seconds * 3.0, |c| {
            c.total_ping_timeout_seconds
        });
    Duration::try_from_secs_f64(secs)
        .unwrap_or(MAX_BACKOFF)
        .max(Duration::from_secs(1))
}

/// Answers a PING with a PONG on its own connection (the outbox may be busy with updates).
fn pong(agent: &Arc<Agent>, master: &str) {
    let Some(agent_id) = agent.state().agent_id.clone() else {
        return;
    };
    let call = Call {
        r#type: CallType::Pong,
        agent_id: Some(agent_id),
        ..Call::default()
    };
    let Ok(body) = serde_json::to_vec(&call) else {
        return;
    };
    let master = master.to_owned();
    tokio::spawn(async move {
        match post(&master, internal::PATH, body).await {
            Ok(resp) if resp.status().is_success() => {}
            Ok(resp) => debug!(status = %resp.status(), "master refused a PONG"),
            Err(err) => debug!(%err, "sending a PONG failed"),
        }
    });
}

/// What the agent is and runs, for (re-)registration.
fn subscribe_info(agent: &Agent) -> Subscribe {
    let agent_info = agent.agent_info();
    let state = agent.state();
    let mut sub = Subscribe {
        agent_info,
        version: env!("CARGO_PKG_VERSION").into(),
        ..Subscribe::default()
    };
    let Some(agent_id) = state.agent_id.clone() else {
        return sub;
    };
    for f in state.frameworks.values() {
        sub.frameworks.push(f.info.clone());
        let fw_id = f.info.id.clone().unwrap_or_default();
        for e in f.executors.values() {
            sub.executors.push(e.info.clone());
            let queued = e
                .queued
                .iter()
                .map(|t| (t, meseta_api::TaskState::Staging, &[][..]));
            let launched = e
                .tasks
                .values()
                .map(|t| (&*t.info, t.state, &t.statuses[..]));
            for (info, state, statuses) in queued.chain(launched) {
                sub.tasks.push(Task {
                    name: info.name.clone(),
                    task_id: info.task_id.clone(),
                    framework_id: fw_id.clone(),
                    executor_id: Some(e.info.executor_id.clone()),
                    agent_id: agent_id.clone(),
                    state,
                    resources: info.resources.clone(),
                    statuses: statuses.last().cloned().into_iter().collect(),
                    ..Task::default()
                });
            }
        }
    }
    sub
}

fn handle(agent: &Arc<Agent>, master: &str, event: Event) {
    match event.r#type {
        EventType::Registered => {
            let Some(r) = event.registered else { return };
            info!(agent_id = %r.agent_id, "registered with the master");
            let id = r.agent_id.value.clone();
            {
                let mut state = agent.state();
                state.agent_id = Some(r.agent_id);
                state.master_info = Some(r.master_info);
                state.registered = true;
            }
            // Mesos checkpoints slave.info at registration, for every agent.
            agent.checkpointer.agent(&agent.agent_info(), &id);
        }
        EventType::RunTask => {
            if let Some(run) = event.run_task {
                launch::run_task(agent, run);
            }
        }
        EventType::KillTask => {
            if let Some(k) = event.kill_task {
                lifecycle::kill_task(agent, &k);
            }
        }
        EventType::Acknowledge => {
            if let Some(a) = event.acknowledge {
                updates::acknowledge(agent, &a);
            }
        }
        EventType::ShutdownFramework => {
            if let Some(s) = event.shutdown_framework {
                lifecycle::shutdown_framework(agent, &s.framework_id);
            }
        }
        EventType::ShutdownExecutor => {
            if let Some(s) = event.shutdown_executor {
                lifecycle::shutdown_executor(agent, &s.framework_id, &s.executor_id.value);
            }
        }
        EventType::FrameworkToExecutor => {
            if let Some(m) = event.framework_to_executor {
                lifecycle::framework_message(agent, m);
            }
        }
        EventType::Ping => pong(agent, master),
        EventType::Heartbeat | EventType::Unknown => {}
        EventType::Shutdown => {
            warn!(message = ?event.message, "the master removed this agent; starting over");
            lifecycle::destroy_all(agent);
            let mut state = agent.state();
            state.agent_id = None;
            state.pending.clear();
        }
    }
}

/// Most calls sent in one request.
const MAX_BATCH: usize = 256;

/// POSTs queued calls in order: one request carries everything queued meanwhile (a JSON array
/// of calls; to a master that refuses arrays, one call per request from then on), so updates
/// reach the master in order and a burst of them costs a few round trips. Calls made while
/// unregistered are dropped: status updates come back through the retry loop.
async fn send_loop(
    agent: Arc<Agent>,
    mut outbox: UnboundedReceiver<Call>,
    detector: MasterDetector,
) {
    let mut conn = KeptConnection::default();
    let mut batches = true;
    let mut calls = Vec::with_capacity(MAX_BATCH);
    while outbox.recv_many(&mut calls, MAX_BATCH).await > 0 {
        let agent_id = {
            let state = agent.state();
            if !state.registered {
                None
            } else {
                state.agent_id.clone()
            }
        };
        let (Some(agent_id), Some(master)) = (agent_id, detector.current()) else {
            debug!(calls = calls.len(), "not registered; calls dropped");
            calls.clear();
            continue;
        };
        for call in &mut calls {
            call.agent_id = Some(agent_id.clone());
        }
        if batches && calls.len() > 1 {
            match post_calls(&mut conn, &master, &calls).await {
                Posted::Refused(StatusCode::BAD_REQUEST) => {
                    info!("the master refuses batched calls; sending one call per request");
                    batches = false;
                }
                _ => {
                    calls.clear();
                    continue;
                }
            }
        }
        for call in calls.drain(..) {
            post_calls(&mut conn, &master, std::slice::from_ref(&call)).await;
        }
    }
}

/// How a POST of calls ended.
enum Posted {
    Accepted,
    Refused(StatusCode),
    Failed,
}

/// POSTs `calls` (one as a JSON object, several as an array) on the kept connection.
async fn post_calls(conn: &mut KeptConnection, master: &str, calls: &[Call]) -> Posted {
    let body = match calls {
        [one] => serde_json::to_vec(one),
        many => serde_json::to_vec(many),
    };
    let Ok(body) = body else {
        return Posted::Failed;
    };
    let kind = || {
        calls
            .first()
            .map(|c| c.r#type.to_string())
            .unwrap_or_default()
    };
    match conn.post(master, internal::PATH, body).await {
        Ok(resp) if resp.status().is_success() => {
            // Read the (empty) body so the connection can carry the next call.
            let _ = resp.into_body().collect().await;
            for su in calls.iter().filter_map(|c| c.status_update.as_ref()) {
                debug!(target: "meseta::timing", stage = "agent.update_posted",
                       task_id = %su.status.task_id, state = %su.status.state);
            }
            Posted::Accepted
        }
        Ok(resp) => {
            warn!(status = %resp.status(), call = kind(), calls = calls.len(),
                  "master refused a call");
            Posted::Refused(resp.status())
        }
        Err(err) => {
            warn!(%err, call = kind(), calls = calls.len(), "sending a call to the master failed");
            Posted::Failed
        }
    }
}
