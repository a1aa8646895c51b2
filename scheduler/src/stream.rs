//! One subscription: the SUBSCRIBE request (following 307 redirects from non-leading
//! masters) and the RecordIO event stream read under the heartbeat watchdog.

use std::time::{Duration, Instant};

use http::{Response, StatusCode};
use http_body_util::BodyExt;
use hyper::body::Incoming;
use meseta_api::recordio::Decoder;
use meseta_api::scheduler::{self as wire, EventType};
use tracing::{debug, warn};

use crate::backoff::Backoff;
use crate::calls::acknowledge_call;
use crate::detector::MasterAddr;
use crate::driver::Driver;
use crate::event::Event;
use crate::handle::{Scheduler, Session};
use crate::http::STREAM_ID;

/// How an attempt ended.
#[derive(Debug)]
pub(crate) enum Outcome {
    /// `stop` was asked for, or nobody reads the events any more.
    Stopped,
    /// The master refused for good (ERROR event, 4xx on SUBSCRIBE).
    Fatal(String),
    /// Worth retrying.
    Lost(String),
}

/// POSTs SUBSCRIBE to `master`, following up to `max_redirects` 307s.
pub(crate) async fn subscribe(
    driver: &Driver,
    mut master: MasterAddr,
) -> Result<(MasterAddr, Response<Incoming>), Outcome> {
    let transport = &driver.shared.transport;
    let body = serde_json::to_vec(&driver.shared.subscribe_call())
        .map_err(|e| Outcome::Fatal(format!("encoding SUBSCRIBE: {e}")))?;
    let mut redirects = 0;
    loop {
        let resp = transport
            .open_stream(&master, body.clone())
            .await
            .map_err(|e| Outcome::Lost(e.to_string()))?;
        let status = resp.status();
        if status == StatusCode::TEMPORARY_REDIRECT || status == StatusCode::PERMANENT_REDIRECT {
            let location = resp
                .headers()
                .get(http::header::LOCATION)
                .and_then(|v| v.to_str().ok())
                .and_then(MasterAddr::from_location);
            let Some(leader) = location else {
                return Err(Outcome::Lost(format!(
                    "{master} redirected without a usable Location"
                )));
            };
            redirects += 1;
            if redirects > driver.config.max_redirects {
                return Err(Outcome::Lost(format!(
                    "too many redirects (last to {leader})"
                )));
            }
            debug!(from = %master, to = %leader, "following the redirect to the leading master");
            master = leader;
            continue;
        }
        if status == StatusCode::OK {
            return Ok((master, resp));
        }
        let text = transport.error_text(resp).await;
        let message = format!("SUBSCRIBE to {master} answered {status}: {text}");
        // 4xx: the framework info, credentials or authorization are wrong; retrying the same
        // request cannot succeed. 5xx (503 while a master recovers or elects): retry.
        return Err(
            if status.is_client_error()
                && status != StatusCode::REQUEST_TIMEOUT
                && status != StatusCode::TOO_MANY_REQUESTS
            {
                Outcome::Fatal(message)
            } else {
                Outcome::Lost(message)
            },
        );
    }
}

/// Reads the stream of a 200 SUBSCRIBE answer until it ends.
pub(crate) async fn run_session(
    driver: &Driver,
    master: MasterAddr,
    resp: Response<Incoming>,
    backoff: &mut Backoff,
) -> Outcome {
    let Some(stream_id) = resp
        .headers()
        .get(STREAM_ID)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
    else {
        return Outcome::Lost(format!("{master} answered SUBSCRIBE without {STREAM_ID}"));
    };
    let mut body = resp.into_body();
    let mut decoder = Decoder::new();
    let mut silence = driver.config.request_timeout;
    let mut subscribed = false;
    // Only watched once subscribed: before that, detect(Some(master)) would race the attempt.
    let leader_change = driver.leader_change(&master);
    tokio::pin!(leader_change);
    loop {
        let frame = tokio::select! {
            f = tokio::time::timeout(silence, body.frame()) => f,
            reason = &mut leader_change, if subscribed => return Outcome::Lost(reason),
        };
        let at = Instant::now();
        let data = match frame {
            Err(_) => {
                return Outcome::Lost(format!(
                    "no event from {master} for {silence:?} (heartbeats missed)"
                ))
            }
            Ok(None) => return Outcome::Lost(format!("{master} closed the event stream")),
            Ok(Some(Err(e))) => return Outcome::Lost(format!("event stream from {master}: {e}")),
            Ok(Some(Ok(frame))) => match frame.into_data() {
                Ok(data) => data,
                Err(_) => continue, // trailers
            },
        };
        let records = match decoder.decode(&data) {
            Ok(r) => r,
            Err(e) => return Outcome::Lost(format!("event stream from {master}: {e}")),
        };
        for record in records {
            let ev: wire::Event = match serde_json::from_slice(&record) {
                Ok(ev) => ev,
                Err(e) => {
                    warn!(%master, error = %e, "skipping an event that does not parse");
                    continue;
                }
            };
            if ev.r#type == EventType::Subscribed {
                let Some(sub) = ev.subscribed else {
                    return Outcome::Lost("SUBSCRIBED without its body".into());
                };
                let heartbeat = sub
                    .heartbeat_interval_seconds
                    .filter(|s| s.is_finite() && *s > 0.0)
                    .map(Duration::from_secs_f64);
                silence = driver.config.silence_limit(heartbeat);
                {
                    let mut st = driver.shared.state();
                    st.framework_info.id = Some(sub.framework_id.clone());
                    st.session = Some(Session {
                        master: master.clone(),
                        stream_id: stream_id.clone(),
                    });
                }
                subscribed = true;
                backoff.reset();
                let event = Event::Subscribed {
                    framework_id: sub.framework_id,
                    master_info: sub.master_info,
                    master: master.clone(),
                    heartbeat_interval: heartbeat,
                };
                if !driver.emit_at(at, event).await {
                    return Outcome::Stopped;
                }
                continue;
            }
            let Some(event) = Event::from_wire(ev) else {
                continue;
            };
            if let Event::Error(message) = event {
                return Outcome::Fatal(message);
            }
            let ack = match &event {
                Event::Update(status) if driver.config.implicit_acknowledgements => {
                    acknowledge_call(status)
                }
                _ => None,
            };
            if !driver.emit_at(at, event).await {
                return Outcome::Stopped;
            }
            if let Some(call) = ack {
                // Off the read path: a slow ACKNOWLEDGE must not stall the stream.
                let handle = Scheduler {
                    shared: driver.shared.clone(),
                };
                tokio::spawn(async move {
                    if let Err(e) = handle.call(call).await {
                        warn!(error = %e, "implicit acknowledgement failed; the agent will retry the update");
                    }
                });
            }
        }
    }
}
