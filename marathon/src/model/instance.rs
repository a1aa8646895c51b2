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
        let mut v = json!({
            "appId": self.app_id,
            "id": self.task_id,
            "host": self.host,
            "ports": self.ports,
            "servicePorts": service_ports,
            "slaveId": self.agent_id,
            "state": if self.killing && !is_terminal(&self.state) { "TASK_KILLING" } else { self.state.as_str() },
            "stagedAt": self.staged_at,
            "version": self.version,
            "ipAddresses": self.ip_addresses.iter().map(|ip| json!({"ipAddress": ip, "protocol": "IPv4"})).collect::<Vec<_>>(),
            "localVolumes": [],
        });
        if let Some(s) = &self.started_at {
            v["startedAt"] = json!(s);
        }
        if let Some(h) = health {
            v["healthCheckResults"] = h;
        }
        v
    }
}
