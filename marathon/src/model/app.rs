//! The app definition (`v2/types/app.raml`) with Marathon's defaults. Parsing keeps unknown
//! fields (`extra`) and writes them back; numbers that validation must judge (`instances`,
//! resources) are parsed wide so a negative value is a 422 with a path, not a parse error.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::container::{Container, PortDefinition};
use super::health::HealthCheck;

/// An app as stored and served.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct App {
    /// Absolute path id (normalised by [`App::normalise`]).
    #[serde(default)]
    pub id: String,
    /// Shell command.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cmd: Option<String>,
    /// Arguments (no shell).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub args: Option<Vec<String>>,
    /// User to run as.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    /// Environment (values are strings, or `{"secret": name}`).
    #[serde(default)]
    pub env: BTreeMap<String, Value>,
    /// Wanted instances.
    #[serde(default = "one")]
    pub instances: i64,
    /// CPU shares per instance.
    #[serde(default = "one_f")]
    pub cpus: f64,
    /// MiB per instance.
    #[serde(default = "mem")]
    pub mem: f64,
    /// Disk MiB per instance.
    #[serde(default)]
    pub disk: f64,
    /// GPUs per instance.
    #[serde(default)]
    pub gpus: i64,
    /// Custom executor (empty: the command executor).
    #[serde(default)]
    pub executor: String,
    /// Placement constraints `[field, operator, value?]`.
    #[serde(default)]
    pub constraints: Vec<Vec<String>>,
    /// Roles whose resources may be used.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub accepted_resource_roles: Option<Vec<String>>,
    /// Container.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub container: Option<Container>,
    /// Host ports and their service ports (host networking).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub port_definitions: Option<Vec<PortDefinition>>,
    /// Legacy form of `portDefinitions` (service ports only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ports: Option<Vec<i64>>,
    /// Use the `portDefinitions` ports as host ports.
    #[serde(default)]
    pub require_ports: bool,
    /// Health checks.
    #[serde(default)]
    pub health_checks: Vec<HealthCheck>,
    /// Rolling upgrade limits.
    #[serde(default)]
    pub upgrade_strategy: UpgradeStrategy,
    /// Labels.
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
    /// Artifacts fetched into the sandbox.
    #[serde(default)]
    pub fetch: Vec<Value>,
    /// Legacy form of `fetch` (read, then folded into `fetch`).
    #[serde(default, skip_serializing)]
    pub uris: Option<Vec<String>>,
    /// First relaunch delay after a failure.
    #[serde(default = "one_f")]
    pub backoff_seconds: f64,
    /// Growth of the delay per failure.
    #[serde(default = "backoff_factor")]
    pub backoff_factor: f64,
    /// Largest delay.
    #[serde(default = "max_delay")]
    pub max_launch_delay_seconds: f64,
    /// SIGTERM to SIGKILL grace period.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub task_kill_grace_period_seconds: Option<f64>,
    /// `YOUNGEST_FIRST` or `OLDEST_FIRST`.
    #[serde(default = "youngest")]
    pub kill_selection: String,
    /// `{"inactiveAfterSeconds", "expungeAfterSeconds"}` or `"disabled"`.
    #[serde(default = "unreachable_default")]
    pub unreachable_strategy: Value,
    /// Apps that must be deployed first.
    #[serde(default)]
    pub dependencies: Vec<String>,
    /// Networks (passed through).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub networks: Option<Vec<Value>>,
    /// Role (passed through).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
    /// Version timestamp (set by marathon).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// Times of the last scaling and the last configuration change.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version_info: Option<VersionInfo>,
    /// Fields this version does not know, kept as given.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `upgradeStrategy`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UpgradeStrategy {
    /// Share of instances that must stay healthy during an upgrade.
    #[serde(default = "one_f")]
    pub minimum_health_capacity: f64,
    /// Share of extra instances allowed during an upgrade.
    #[serde(default = "one_f")]
    pub maximum_over_capacity: f64,
}

impl Default for UpgradeStrategy {
    fn default() -> Self {
        Self {
            minimum_health_capacity: 1.0,
            maximum_over_capacity: 1.0,
        }
    }
}

/// `versionInfo`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct VersionInfo {
    /// Last change of `instances` (or anything).
    pub last_scaling_at: String,
    /// Last change of anything but `instances`.
    pub last_config_change_at: String,
}

fn one() -> i64 {
    1
}
fn one_f() -> f64 {
    1.0
}
fn mem() -> f64 {
    128.0
}
fn backoff_factor() -> f64 {
    1.15
}
fn max_delay() -> f64 {
    300.0
}
fn youngest() -> String {
    "YOUNGEST_FIRST".into()
}
fn unreachable_default() -> Value {
    serde_json::json!({"inactiveAfterSeconds": 0, "expungeAfterSeconds": 0})
}

impl App {
    /// The version tasks of this app are compared against: the last configuration change.
    pub fn config_version(&self) -> &str {
        self.version_info
            .as_ref()
            .map(|v| v.last_config_change_at.as_str())
            .or(self.version.as_deref())
            .unwrap_or("")
    }

    /// Whether two definitions differ in more than `instances` (and version fields).
    pub fn config_differs(&self, other: &App) -> bool {
        let strip = |a: &App| App {
            instances: 0,
            version: None,
            version_info: None,
            ..a.clone()
        };
        strip(self) != strip(other)
    }

    /// Seconds after which an unreachable instance is replaced, if at all.
    pub fn unreachable_inactive_after(&self) -> Option<f64> {
        match &self.unreachable_strategy {
            Value::Object(o) => Some(
                o.get("inactiveAfterSeconds")
                    .and_then(Value::as_f64)
                    .unwrap_or(0.0),
            ),
            _ => None,
        }
    }

    /// Host networking port definitions (empty for BRIDGE containers).
    pub fn port_defs(&self) -> &[PortDefinition] {
        self.port_definitions.as_deref().unwrap_or(&[])
    }

    /// Whether the app runs in Docker BRIDGE/USER networking (ports via port mappings).
    pub fn is_bridge(&self) -> bool {
        self.container.as_ref().is_some_and(Container::is_bridge)
    }

    /// How many host ports each instance needs.
    pub fn host_port_count(&self) -> usize {
        if self.is_bridge() {
            self.container
                .as_ref()
                .map(|c| {
                    c.port_mappings()
                        .iter()
                        .filter(|m| m.host_port.is_some())
                        .count()
                })
                .unwrap_or(0)
        } else {
            self.port_defs().len()
        }
    }

    /// The service ports, in order.
    pub fn service_ports(&self) -> Vec<i64> {
        if self.is_bridge() {
            self.container
                .as_ref()
                .map(|c| c.port_mappings().iter().map(|m| m.service_port).collect())
                .unwrap_or_default()
        } else {
            self.port_defs().iter().map(|p| p.port).collect()
        }
    }
}
