//! `GET /v2/events`: Server-Sent Events (upstream `EventsResource`, `docs/docs/event-bus.md`).
//! Frames are `event: <type>` and `data: <json>` lines ended by `\r\n` (which both
//! marathon-python's line reader and marathon-lb's `\r\n` splitter accept); a comment line
//! keeps idle streams alive every [`KEEP_ALIVE`]; `event_type=` (repeatable) filters. Plans in
//! deployment events are always in the light format (`plan-format=light`).

use std::time::Duration;

use bytes::Bytes;
use http::{header, HeaderValue, Response};
use serde_json::json;
use tokio::sync::{broadcast, mpsc};

use super::{ApiResult, Body, Ctx, Req};
use crate::error::ApiError;

/// Longest silence on a stream.
pub const KEEP_ALIVE: Duration = Duration::from_secs(15);

fn frame(kind: &str, data: &serde_json::Value) -> Bytes {
    Bytes::from(format!("event: {kind}\r\ndata: {data}\r\n\r\n"))
}

/// Opens an event stream.
pub fn stream(req: Req, ctx: &Ctx) -> ApiResult {
    if req.method != http::Method::GET {
        return Err(ApiError::MethodNotAllowed("use GET".into()));
    }
    let accepts = req
        .headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|a| a.contains("text/event-stream") || a.contains("*/*"));
    if !accepts {
        return Err(ApiError::MethodNotAllowed(
            "the event stream needs 'Accept: text/event-stream'".into(),
        ));
    }
    let filter = req.query.all("event_type");
    let wants = move |k: &str| filter.is_empty() || filter.iter().any(|f| f == k);
    let events = ctx.shared.read(|c| c.events.clone());
    let mut rx = events.subscribe();
    let (tx, body) = mpsc::channel::<Bytes>(64);
    tokio::spawn(async move {
        let attached = json!({"remoteAddress": "", "eventType": "event_stream_attached", "timestamp": crate::model::timestamp()});
        if wants("event_stream_attached")
            && tx
                .send(frame("event_stream_attached", &attached))
                .await
                .is_err()
        {
            return;
        }
        // The first bytes must leave at once so clients see the stream open.
        if tx
            .send(Bytes::from_static(b": stream attached\r\n\r\n"))
            .await
            .is_err()
        {
            return;
        }
        loop {
            let out = match tokio::time::timeout(KEEP_ALIVE, rx.recv()).await {
                Err(_) => Bytes::from_static(b": keep-alive\r\n\r\n"),
                Ok(Ok(ev)) if wants(&ev.kind) => frame(&ev.kind, &ev.data),
                Ok(Ok(_)) => continue,
                Ok(Err(broadcast::error::RecvError::Lagged(n))) => {
                    Bytes::from(format!(": lagged, {n} events dropped\r\n\r\n"))
                }
                Ok(Err(broadcast::error::RecvError::Closed)) => return,
            };
            if tx.send(out).await.is_err() {
                return;
            }
        }
    });
    let mut r = Response::new(Body::Stream(body));
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/event-stream"),
    );
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("no-cache, no-store, must-revalidate"),
    );
    Ok(r)
}
