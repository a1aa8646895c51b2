//! Health checks and general checks (`HealthCheck`, `CheckInfo`, `CheckStatusInfo`) and
//! service discovery metadata (`DiscoveryInfo`, `Port`, `Ports`).

use serde::{Deserialize, Serialize};

use crate::command::CommandInfo;
use crate::common::Labels;
use crate::container::IpProtocol;
use crate::encoding::{lenient_enum, null_as_default};

/// `HealthCheck.Type` / `CheckInfo.Type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum CheckType {
    /// Unrecognised.
    Unknown,
    /// Run a command; exit 0 is healthy.
    Command,
    /// HTTP GET; 2xx/3xx is healthy.
    Http,
    /// TCP connect.
    Tcp,
}

/// A health check (`mesos.v1.HealthCheck`); failures can kill the task.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct HealthCheck {
    /// Seconds to wait before the first check (default 15).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delay_seconds: Option<f64>,
    /// Seconds between checks (default 10).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interval_seconds: Option<f64>,
    /// Seconds before a check times out (default 20).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout_seconds: Option<f64>,
    /// Failures before the task is killed (default 3).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub consecutive_failures: Option<u32>,
    /// Seconds during which failures are ignored (default 10).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grace_period_seconds: Option<f64>,
    /// Which check to run.
    #[serde(default, deserialize_with = "lenient_enum")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub r#type: Option<CheckType>,
    /// For `COMMAND`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub command: Option<CommandInfo>,
    /// For `HTTP`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub http: Option<HttpCheckInfo>,
    /// For `TCP`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tcp: Option<TcpCheckInfo>,
}

/// `HealthCheck.HTTPCheckInfo`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct HttpCheckInfo {
    /// Address family (default IPv4).
    #[serde(default, deserialize_with = "lenient_enum")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub protocol: Option<IpProtocol>,
    /// `http` (default) or `https`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scheme: Option<String>,
    /// Port to probe (required).
    pub port: u32,
    /// Request path.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// Unused by Mesos.
    #[serde(default, deserialize_with = "null_as_default")]
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub statuses: Vec<u32>,
}

/// `HealthCheck.TCPCheckInfo`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TcpCheckInfo {
    /// Address family (default IPv4).
    #[serde(default, deserialize_with = "lenient_enum")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub protocol: Option<IpProtocol>,
    /// Port to probe (required).
    pub port: u32,
}

/// A non-killing check (`mesos.v1.CheckInfo`); results arrive as `check_status`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CheckInfo {
    /// Which check to run.
    #[serde(default, deserialize_with = "lenient_enum")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub r#type: Option<CheckType>,
    /// For `COMMAND`: `{"command": CommandInfo}`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub command: Option<CheckCommand>,
    /// For `HTTP`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub http: Option<CheckHttp>,
    /// For `TCP`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tcp: Option<CheckTcp>,
    /// Seconds before the first check (default 15).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delay_seconds: Option<f64>,
    /// Seconds between checks (default 10).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interval_seconds: Option<f64>,
    /// Seconds before a check times out (default 20).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout_seconds: Option<f64>,
}

/// `CheckInfo.Command`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CheckCommand {
    /// The command (required).
    pub command: CommandInfo,
}

/// `CheckInfo.Http`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckHttp {
    /// Port (required).
    pub port: u32,
    /// Path.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
}

/// `CheckInfo.Tcp`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckTcp {
    /// Port (required).
    pub port: u32,
}

/// The latest result of a `CheckInfo` (`mesos.v1.CheckStatusInfo`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckStatusInfo {
    /// Which check produced it.
    #[serde(default, deserialize_with = "lenient_enum")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub r#type: Option<CheckType>,
    /// `{"exit_code": n}`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub command: Option<CheckStatusCommand>,
    /// `{"status_code": n}`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub http: Option<CheckStatusHttp>,
    /// `{"succeeded": b}`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tcp: Option<CheckStatusTcp>,
}

/// `CheckStatusInfo.Command`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckStatusCommand {
    /// Exit code, absent if the check has not completed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exit_code: Option<i32>,
}

/// `CheckStatusInfo.Http`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckStatusHttp {
    /// HTTP status code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status_code: Option<u32>,
}

/// `CheckStatusInfo.Tcp`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckStatusTcp {
    /// Whether the connection succeeded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub succeeded: Option<bool>,
}

/// `DiscoveryInfo.Visibility`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Visibility {
    /// Visible to the framework only.
    #[default]
    Framework,
    /// Visible within the cluster.
    Cluster,
    /// Visible outside the cluster.
    External,
}

/// Service discovery metadata (`mesos.v1.DiscoveryInfo`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DiscoveryInfo {
    /// Visibility (required).
    pub visibility: Visibility,
    /// Service name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Environment (prod, dev ...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub environment: Option<String>,
    /// Location (datacenter ...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<String>,
    /// Version.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// Named ports.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ports: Option<Ports>,
    /// Labels.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub labels: Option<Labels>,
}

/// `mesos.v1.Port`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Port {
    /// Port number (required).
    pub number: u32,
    /// Port name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// `tcp` / `udp`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub protocol: Option<String>,
    /// Visibility override.
    #[serde(default, deserialize_with = "lenient_enum")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub visibility: Option<Visibility>,
    /// Labels.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub labels: Option<Labels>,
}

/// `mesos.v1.Ports`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ports {
    /// The ports.
    #[serde(default, deserialize_with = "null_as_default")]
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub ports: Vec<Port>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn health_check_round_trip() {
        let json = r#"{"type":"HTTP","http":{"port":8080,"path":"/health","protocol":"IPv6"},
            "delay_seconds":5.0,"consecutive_failures":2}"#;
        let h: HealthCheck = serde_json::from_str(json).unwrap();
        assert_eq!(h.http.as_ref().unwrap().protocol, Some(IpProtocol::IPv6));
        let back = serde_json::to_value(&h).unwrap();
        assert_eq!(
            back,
            serde_json::from_str::<serde_json::Value>(json).unwrap()
        );
        assert!(serde_json::from_str::<HealthCheck>(r#"{"tcp":{}}"#).is_err());
    }

    #[test]
    fn discovery_requires_visibility() {
        assert!(serde_json::from_str::<DiscoveryInfo>(r#"{"name":"x"}"#).is_err());
        let d: DiscoveryInfo = serde_json::from_str(
            r#"{"visibility":"FRAMEWORK","ports":{"ports":[{"number":80,"name":"http"}]}}"#,
        )
        .unwrap();
        assert_eq!(d.ports.unwrap().ports[0].number, 80);
    }
}
