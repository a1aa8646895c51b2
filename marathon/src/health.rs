//! Marathon-side health checks (`HTTP`, `HTTPS`, `TCP`; upstream `health/HealthCheckActor`):
//! every running instance of an app with such a check is probed every `intervalSeconds` on
//! `host:port` with `timeoutSeconds`; failures within `gracePeriodSeconds` of the launch are
//! ignored until the first success; after `maxConsecutiveFailures` in a row the instance is
//! killed (and replaced by the scheduler). `HTTPS` is probed as a TCP connect (no TLS client
//! in this build), which the results' `lastFailureCause` does not distinguish.

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::model::health::HealthCheck;
use crate::model::{timestamp, App, PathId};
use crate::state::{Core, Shared};

/// Results of the Marathon-side check of one task.
#[derive(Debug, Clone, Default)]
pub struct HealthState {
    /// Healthy (None: not checked yet).
    pub alive: Option<bool>,
    /// Failures in a row.
    pub consecutive_failures: u32,
    /// First success.
    pub first_success: Option<String>,
    /// Last success.
    pub last_success: Option<String>,
    /// Last failure.
    pub last_failure: Option<String>,
    /// Why it last failed.
    pub last_failure_cause: Option<String>,
    /// Next probe.
    pub next_at: Option<Instant>,
    /// A probe is running.
    pub in_flight: bool,
}

impl HealthState {
    /// The `healthCheckResults[]` entry.
    pub fn to_json(&self, task_id: &str) -> Value {
        json!({
            "alive": self.alive.unwrap_or(false),
            "consecutiveFailures": self.consecutive_failures,
            "firstSuccess": self.first_success,
            "lastSuccess": self.last_success,
            "lastFailure": self.last_failure,
            "lastFailureCause": self.last_failure_cause,
            "taskId": task_id,
            "instanceId": task_id,
        })
    }
}

/// The `healthCheckResults` of a task: Marathon-side results, or the Mesos `healthy` flag.
pub fn results(
    core: &Core,
    app: &App,
    task_id: &str,
    mesos_healthy: Option<bool>,
) -> Option<Value> {
    if app.health_checks.is_empty() {
        return None;
    }
    if let Some(h) = core.health.get(task_id) {
        if h.alive.is_some() {
            return Some(json!([h.to_json(task_id)]));
        }
    }
    Some(match mesos_healthy {
        Some(alive) => json!([{"alive": alive, "consecutiveFailures": 0, "firstSuccess": null,
            "lastSuccess": null, "lastFailure": null, "lastFailureCause": null, "taskId": task_id, "instanceId": task_id}]),
        None => json!([]),
    })
}

/// One probe: `Ok` when healthy, `Err(cause)` otherwise.
async fn probe(hc: &HealthCheck, host: &str, port: u16) -> Result<(), String> {
    let timeout = Duration::from_secs_f64(hc.timeout_seconds.clamp(0.1, 3600.0));
    let fut = async {
        let mut s = TcpStream::connect((host, port))
            .await
            .map_err(|e| e.to_string())?;
        if hc.protocol != "HTTP" {
            return Ok(());
        }
        let path = hc.path.clone().unwrap_or_else(|| "/".into());
        let req = format!("GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\nUser-Agent: marathon\r\nConnection: close\r\n\r\n");
        s.write_all(req.as_bytes())
            .await
            .map_err(|e| e.to_string())?;
        let mut buf = vec![0u8; 256];
        let n = s.read(&mut buf).await.map_err(|e| e.to_string())?;
        let head = String::from_utf8_lossy(&buf[..n]);
        let code: u16 = head
            .split_whitespace()
            .nth(1)
            .and_then(|c| c.parse().ok())
            .ok_or("no HTTP status line")?;
        if (200..400).contains(&code) {
            Ok(())
        } else {
            Err(format!("HTTP {code}"))
        }
    };
    tokio::time::timeout(timeout, fut)
        .await
        .map_err(|_| "timed out".to_owned())?
}

/// Runs Marathon-side checks until the process ends.
pub async fn run(shared: Arc<Shared>) {
    let mut t = tokio::time::interval(Duration::from_millis(500));
    loop {
        t.tick().await;
        let due = shared.mutate(due_probes).await.unwrap_or_default();
        for (task_id, app, hc, host, port) in due {
            let shared = Arc::clone(&shared);
            tokio::spawn(async move {
                let result = probe(&hc, &host, port).await;
                let _ = shared
                    .mutate(|core| record(core, &task_id, &app, &hc, result))
                    .await;
            });
        }
    }
}

type Due = (String, App, HealthCheck, String, u16);

fn due_probes(core: &mut Core) -> Vec<Due> {
    let now = Instant::now();
    let mut out = Vec::new();
    for inst in core
        .instances
        .values()
        .filter(|i| i.running() && !i.killing)
    {
        let Some(app) = PathId::parse(&inst.app_id)
            .ok()
            .and_then(|id| core.apps.get(&id))
        else {
            continue;
        };
        let Some(hc) = app.health_checks.iter().find(|h| h.marathon_side()) else {
            continue;
        };
        let h = core.health.get(&inst.task_id);
        if h.is_some_and(|h| h.in_flight || h.next_at.is_some_and(|n| n > now)) {
            continue;
        }
        let port = match hc.port {
            Some(p) => u16::try_from(p).ok(),
            None => usize::try_from(hc.port_index.unwrap_or(0))
                .ok()
                .and_then(|i| inst.ports.get(i).copied()),
        };
        if let Some(port) = port {
            out.push((
                inst.task_id.clone(),
                app.clone(),
                hc.clone(),
                inst.host.clone(),
                port,
            ));
        }
    }
    for (task_id, ..) in &out {
        core.health.entry(task_id.clone()).or_default().in_flight = true;
    }
    out
}

fn record(core: &mut Core, task_id: &str, app: &App, hc: &HealthCheck, result: Result<(), String>) {
    let Some(inst) = core.instances.get(task_id).cloned() else {
        core.health.remove(task_id);
        return;
    };
    let h = core.health.entry(task_id.to_owned()).or_default();
    let before = h.alive;
    h.in_flight = false;
    h.next_at =
        Some(Instant::now() + Duration::from_secs_f64(hc.interval_seconds.clamp(0.1, 86_400.0)));
    let now = timestamp();
    let mut kill = false;
    match result {
        Ok(()) => {
            h.alive = Some(true);
            h.consecutive_failures = 0;
            h.first_success.get_or_insert_with(|| now.clone());
            h.last_success = Some(now);
        }
        Err(cause) => {
            let started = inst
                .started_at
                .as_deref()
                .and_then(|s| chrono::DateTime::parse_from_rfc3339(s).ok());
            let in_grace = h.first_success.is_none()
                && started.is_some_and(|s| {
                    (chrono::Utc::now() - s.with_timezone(&chrono::Utc)).num_milliseconds() as f64
                        / 1000.0
                        < hc.grace_period_seconds
                });
            if in_grace {
                return;
            }
            h.alive = Some(false);
            h.consecutive_failures += 1;
            h.last_failure = Some(now);
            h.last_failure_cause = Some(cause);
            kill = hc.max_consecutive_failures > 0
                && i64::from(h.consecutive_failures) >= hc.max_consecutive_failures;
            core.events.publish(
                "failed_health_check_event",
                json!({"appId": app.id, "taskId": task_id, "instanceId": task_id, "healthCheck": hc}),
            );
        }
    }
    let after = core.health.get(task_id).and_then(|h| h.alive);
    if before != after {
        // Readiness moved: deployments may advance.
        core.kick = true;
        core.events.publish(
            "health_status_changed_event",
            json!({"appId": app.id, "taskId": task_id, "instanceId": task_id, "version": inst.version, "alive": after.unwrap_or(false)}),
        );
    }
    if kill {
        core.events.publish(
            "unhealthy_instance_kill_event",
            json!({"appId": app.id, "taskId": task_id, "instanceId": task_id, "version": inst.version, "reason": "health check failures", "host": inst.host, "slaveId": inst.agent_id}),
        );
        core.kill_instance(task_id);
    }
}
