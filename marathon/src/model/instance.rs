//! A launched task of an app (an "instance" in Marathon 1.4+), as stored and as rendered in
//! `/v2/tasks` (`v2/types/task.raml`). Marathon task ids are `<safe app path>.<uuid>`
//! (`prod_web.3f2d...`, upstream `Task.Id.forRunSpec`).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use super::pathid::PathId;

/// One task of an app.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Instance {
    /// Mesos task id.
    pub task_id: String,
    /// The app.
    pub app_id: String,
    /// The app's configuration version it was launched with.
    pub version: String,
    /// Agent id.
    pub agent_id: String,
    /// Agent hostname.
    pub host: String,
    /// Host ports.
    pub ports: Vec<u16>,
    /// Mesos task state (`TASK_STAGING` ...).
    pub state: String,
    /// When it was launched (ISO-8601).
    pub staged_at: String,
    /// When it first ran.
    #[serde(default)]
    pub started_at: Option<String>,
    /// Latest health reported by Mesos checks (`TaskStatus.healthy`).
    #[serde(default)]
    pub healthy: Option<bool>,
    /// Agent attributes (for constraints).
    #[serde(default)]
    pub attributes: BTreeMap<String, String>,
    /// IP addresses from the status updates.
    #[serde(default)]
    pub ip_addresses: Vec<String>,
    /// A kill was requested.
    #[serde(default)]
    pub killing: bool,
    /// When the task was reported unreachable (ms since the epoch).
    #[serde(default)]
    pub unreachable_since_ms: Option<i64>,
    /// `TaskStatus.timestamp` of the latest update applied (older ones are stale).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_status_at: Option<f64>,
}

/// Whether a Mesos task state is terminal.
pub fn is_terminal(state: &str) -> bool {
    matches!(
        state,
        "TASK_FINISHED"
            | "TASK_FAILED"
            | "TASK_KILLED"
            | "TASK_ERROR"
            | "TASK_LOST"
            | "TASK_DROPPED"
            | "TASK_GONE"
            | "TASK_GONE_BY_OPERATOR"
            | "TASK_UNKNOWN"
    )
}

/// A new task id for `app`.
pub fn new_task_id(app: &PathId) -> String {
    format!("{}.{}", app.safe_path(), uuid::Uuid::new_v4())
}

impl Instance {
    /// Whether it is running.
    pub fn running(&self) -> bool {
        self.state == "TASK_RUNNING"
    }

    /// Whether it still counts towards the app's instances.
    pub fn alive(&self) -> bool {
        !is_terminal(&self.state) && !self.killing
    }

    /// The JSON of `/v2/tasks` (health results added by the caller).
    pub fn to_json(&self, service_ports: &[i64], health: Option<Value>) -> Value {
        serde_json::to_value(self.view(service_ports, health)).unwrap_or_else(|_| json!({}))
    }

    /// A view that serializes as [`Instance::to_json`] without building a `Value` (the
    /// `/v2/apps?embed=apps.tasks` path renders thousands of these).
    pub fn view<'a>(&'a self, service_ports: &'a [i64], health: Option<Value>) -> TaskView<'a> {
        TaskView {
            inst: self,
            service_ports,
            health,
        }
    }
}

/// An instance as `/v2/tasks` renders it (`v2/types/task.raml`).
#[derive(Debug)]
pub struct TaskView<'a> {
    inst: &'a Instance,
    service_ports: &'a [i64],
    health: Option<Value>,
}

/// `{"ipAddress": ..., "protocol": "IPv4"}`.
struct IpAddress<'a>(&'a str);

impl Serialize for IpAddress<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut m = s.serialize_map(Some(2))?;
        m.serialize_entry("ipAddress", self.0)?;
        m.serialize_entry("protocol", "IPv4")?;
        m.end()
    }
}

impl Serialize for TaskView<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let i = self.inst;
        let state = if i.killing && !is_terminal(&i.state) {
            "TASK_KILLING"
        } else {
            i.state.as_str()
        };
        let mut m = s.serialize_map(None)?;
        m.serialize_entry("appId", &i.app_id)?;
        m.serialize_entry("id", &i.task_id)?;
        m.serialize_entry("host", &i.host)?;
        m.serialize_entry("ports", &i.ports)?;
        m.serialize_entry("servicePorts", self.service_ports)?;
        m.serialize_entry("slaveId", &i.agent_id)?;
        m.serialize_entry("state", state)?;
        m.serialize_entry("stagedAt", &i.staged_at)?;
        if let Some(started) = &i.started_at {
            m.serialize_entry("startedAt", started)?;
        }
        m.serialize_entry("version", &i.version)?;
        let ips: Vec<IpAddress<'_>> = i.ip_addresses.iter().map(|ip| IpAddress(ip)).collect();
        m.serialize_entry("ipAddresses", &ips)?;
        m.serialize_entry("localVolumes", &[] as &[Value])?;
        if let Some(h) = &self.health {
            m.serialize_entry("healthCheckResults", h)?;
        }
        m.end()
    }
}
