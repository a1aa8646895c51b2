//! Leadership: whether this process leads, and where the leader's API is. Without HA
//! (`--disable_ha`) the process leads from the start. Non-leaders answer API calls with a
//! `307` redirect to the leader (the method and body are kept by HTTP clients on 307),
//! as Marathon ≥ 1.7 does for `/v2/events`.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;

use http::{header, HeaderValue, Response, StatusCode};
use serde_json::json;
use tokio::sync::Notify;

use crate::http::{json, Body, Req};

/// The leadership state of this process.
#[derive(Debug)]
pub struct Leadership {
    me: String,
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

/// Answers a request meant for the leader.
pub async fn proxy(l: &Leadership, req: Req) -> Response<Body> {
    let Some(leader) = l.leader_address().filter(|a| a != l.me()) else {
        return json(
            503,
            &json!({"message": "Could not determine the current leader"}),
        );
    };
    let q = req.query_string();
    let loc = format!(
        "http://{leader}{}{}",
        req.path,
        if q.is_empty() {
            String::new()
        } else {
            format!("?{q}")
        }
    );
    let mut r = json(307, &json!({"message": format!("the leader is {leader}")}));
    *r.status_mut() = StatusCode::TEMPORARY_REDIRECT;
    if let Ok(v) = HeaderValue::from_str(&loc) {
        r.headers_mut().insert(header::LOCATION, v);
    }
    r
}
