//! Marathon as marathon-lb reads it: `GET /v2/apps?embed=apps.tasks` with the
//! `User-Agent: marathon-lb` header and basic credentials, failing over across the
//! `--marathon` URLs in order; and the event stream
//! `GET /v2/events?plan-format=light&event_type=…` (Server-Sent Events, `data: <json>` lines).

use std::time::Duration;

use base64::Engine;
use bytes::Bytes;
use http_body_util::{BodyExt, Empty};
use hyper::body::Incoming;
use hyper::{Request, Response, Uri};
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;

/// The events that make marathon-lb look at Marathon again (upstream's list, plus the
/// deployment events so a finished deployment is reflected at once).
pub const EVENTS: &[&str] = &[
    "api_post_event",
    "health_status_changed_event",
    "status_update_event",
    "deployment_success",
    "deployment_failed",
    "deployment_step_success",
    "instance_changed_event",
    "app_terminated_event",
];

/// Largest `/v2/apps` answer read (a Marathon with 50,000 tasks answers ~30 MB).
const MAX_APPS_BODY: usize = 256 << 20;

/// Talking to Marathon failed.
#[derive(Debug, thiserror::Error)]
pub enum MarathonError {
    /// No URL answered.
    #[error("no Marathon answered ({0})")]
    Unreachable(String),
    /// A URL answered with something unusable.
    #[error("{url}: {message}")]
    Bad {
        /// The URL.
        url: String,
        /// What was wrong.
        message: String,
    },
}

/// A client for the `--marathon` URLs.
#[derive(Debug, Clone)]
pub struct Marathon {
    urls: Vec<String>,
    auth: Option<String>,
    client: Client<HttpConnector, Empty<Bytes>>,
}

impl Marathon {
    /// `urls` as given (`http://host:port`, several for HA); `credentials` as `user:password`.
    pub fn new(urls: Vec<String>, credentials: Option<&str>) -> Marathon {
        let mut connector = HttpConnector::new();
        connector.set_connect_timeout(Some(Duration::from_millis(3050)));
        connector.set_nodelay(true);
        Marathon {
            urls: urls
                .into_iter()
                .map(|u| u.trim_end_matches('/').to_owned())
                .collect(),
            auth: credentials.map(|c| {
                format!(
                    "Basic {}",
                    base64::engine::general_purpose::STANDARD.encode(c)
                )
            }),
            client: Client::builder(TokioExecutor::new()).build(connector),
        }
    }

    /// The URLs, in failover order.
    pub fn urls(&self) -> &[String] {
        &self.urls
    }

    async fn get(&self, url: &str, accept: &str) -> Result<Response<Incoming>, String> {
        let uri: Uri = url.parse().map_err(|e| format!("bad URL {url}: {e}"))?;
        let mut req = Request::get(uri)
            .header("User-Agent", "marathon-lb")
            .header("Accept", accept);
        if let Some(a) = &self.auth {
            req = req.header("Authorization", a);
        }
        let req = req.body(Empty::new()).map_err(|e| e.to_string())?;
        let resp = self.client.request(req).await.map_err(|e| e.to_string())?;
        if !resp.status().is_success() {
            return Err(format!("HTTP {}", resp.status()));
        }
        Ok(resp)
    }

    /// All apps with their tasks (the `apps` array), from the first URL that answers.
    pub async fn apps(&self) -> Result<Vec<serde_json::Value>, MarathonError> {
        let mut errors = Vec::new();
        for base in &self.urls {
            let url = format!("{base}/v2/apps?embed=apps.tasks");
            let fetched = tokio::time::timeout(Duration::from_secs(46), async {
                let resp = self.get(&url, "application/json").await?;
                let body = http_body_util::Limited::new(resp.into_body(), MAX_APPS_BODY)
                    .collect()
                    .await
                    .map_err(|e| e.to_string())?
                    .to_bytes();
                serde_json::from_slice::<serde_json::Value>(&body)
                    .map_err(|e| format!("bad JSON: {e}"))
            })
            .await;
            match fetched {
                Ok(Ok(mut v)) => {
                    return match v.get_mut("apps").map(serde_json::Value::take) {
                        Some(serde_json::Value::Array(a)) => Ok(a),
                        _ => Err(MarathonError::Bad {
                            url,
                            message: "no apps array".into(),
                        }),
                    }
                }
                Ok(Err(e)) => errors.push(format!("{base}: {e}")),
                Err(_) => errors.push(format!("{base}: timed out")),
            }
        }
        Err(MarathonError::Unreachable(errors.join("; ")))
    }

    /// Opens the event stream on the first URL that answers; returns the URL and the body.
    pub async fn events(&self) -> Result<(String, Incoming), MarathonError> {
        let filter: String = EVENTS.iter().map(|e| format!("&event_type={e}")).collect();
        let mut errors = Vec::new();
        for base in &self.urls {
            let url = format!("{base}/v2/events?plan-format=light{filter}");
            match tokio::time::timeout(Duration::from_secs(10), self.get(&url, "text/event-stream"))
                .await
            {
                Ok(Ok(resp)) => return Ok((base.clone(), resp.into_body())),
                Ok(Err(e)) => errors.push(format!("{base}: {e}")),
                Err(_) => errors.push(format!("{base}: timed out")),
            }
        }
        Err(MarathonError::Unreachable(errors.join("; ")))
    }
}

/// Splits an SSE byte stream into `data:` payloads (lines may end in `\r\n` or `\n`; a line
/// may arrive in several chunks).
#[derive(Debug, Default)]
pub struct SseLines {
    buf: Vec<u8>,
}

impl SseLines {
    /// Feeds a chunk; returns the `data:` payloads completed by it.
    pub fn feed(&mut self, chunk: &[u8]) -> Vec<String> {
        self.buf.extend_from_slice(chunk);
        let mut out = Vec::new();
        while let Some(pos) = self.buf.iter().position(|b| *b == b'\n') {
            let line: Vec<u8> = self.buf.drain(..=pos).collect();
            let line = String::from_utf8_lossy(&line);
            let line = line.trim_end_matches(['\n', '\r']);
            if let Some(data) = line.strip_prefix("data:") {
                out.push(data.trim_start().to_owned());
            }
        }
        // A line longer than 16 MiB is not an event we can use; drop it rather than grow.
        if self.buf.len() > 16 << 20 {
            self.buf.clear();
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn data_lines_are_reassembled_across_chunks() {
        let mut s = SseLines::default();
        assert!(s
            .feed(b"event: status_update_event\r\ndata: {\"a\"")
            .is_empty());
        assert_eq!(s.feed(b":1}\r\n\r\n: keep-alive\n"), vec!["{\"a\":1}"]);
        assert_eq!(s.feed(b"data:{}\n"), vec!["{}"]);
    }
}
