//! `healthChecks[]` (`v2/types/healthCheck.raml`): `HTTP`, `HTTPS` and `TCP` are run by
//! marathon itself; `MESOS_HTTP`, `MESOS_HTTPS`, `MESOS_TCP` and `COMMAND` are given to Mesos
//! as `TaskInfo.health_check` and run by the executor.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// A health check definition with Marathon's defaults.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HealthCheck {
    /// Protocol (default HTTP).
    #[serde(default = "http")]
    pub protocol: String,
    /// HTTP path.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// Index into the task's ports.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub port_index: Option<i64>,
    /// A fixed port instead of `portIndex`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub port: Option<i64>,
    /// For COMMAND: `{"value": "..."}`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub command: Option<Value>,
    /// Failures ignored for this long after launch.
    #[serde(default = "d300")]
    pub grace_period_seconds: f64,
    /// Between checks.
    #[serde(default = "d60")]
    pub interval_seconds: f64,
    /// A check slower than this fails.
    #[serde(default = "d20")]
    pub timeout_seconds: f64,
    /// Failures in a row before the task is killed (0: never).
    #[serde(default = "three")]
    pub max_consecutive_failures: i64,
    /// Delay before the first check (Mesos checks).
    #[serde(default = "d15")]
    pub delay_seconds: f64,
    /// Treat 1xx answers as neither success nor failure.
    #[serde(default)]
    pub ignore_http1xx: bool,
    /// Fields this version does not know.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

fn http() -> String {
    "HTTP".into()
}
fn d300() -> f64 {
    300.0
}
fn d60() -> f64 {
    60.0
}
fn d20() -> f64 {
    20.0
}
fn d15() -> f64 {
    15.0
}
fn three() -> i64 {
    3
}

/// Every protocol Marathon accepts.
pub const PROTOCOLS: &[&str] = &[
    "HTTP",
    "HTTPS",
    "TCP",
    "COMMAND",
    "MESOS_HTTP",
    "MESOS_HTTPS",
    "MESOS_TCP",
];

impl HealthCheck {
    /// Whether marathon runs this check itself (as opposed to the executor).
    pub fn marathon_side(&self) -> bool {
        matches!(self.protocol.as_str(), "HTTP" | "HTTPS" | "TCP")
    }

    /// The command of a COMMAND check.
    pub fn command_value(&self) -> Option<&str> {
        match &self.command {
            Some(Value::String(s)) => Some(s),
            Some(Value::Object(o)) => o.get("value").and_then(Value::as_str),
            _ => None,
        }
    }
}
