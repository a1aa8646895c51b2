//! Cluster members and operator metadata: `MasterInfo`, `AgentInfo` (+ capabilities),
//! `VersionInfo`, `Flag`, `Metric`, `FileInfo`, drain configuration and `WeightInfo`.

use serde::{Deserialize, Serialize};

use crate::common::{Address, DomainInfo, DurationInfo, TimeInfo};
use crate::encoding::{lenient_enum, null_as_default};
use crate::ids::AgentId;
use crate::resources::Resource;
use crate::value::Attribute;

/// `MasterInfo.Capability.Type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum MasterCapabilityType {
    /// Unrecognised.
    Unknown,
    /// Agents may change resources/attributes on re-registration.
    AgentUpdate,
    /// Supports agent draining.
    AgentDraining,
    /// Supports quota limits.
    QuotaV2,
}

/// `MasterInfo.Capability`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MasterCapability {
    /// The capability (unknown names parse as `None`).
    #[serde(default, deserialize_with = "lenient_enum")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub r#type: Option<MasterCapabilityType>,
}

/// Describes a master (`mesos.v1.MasterInfo`), sent in SUBSCRIBED and stored in ZooKeeper.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MasterInfo {
    /// Master ID (a UUID) (required).
    pub id: String,
    /// IPv4 address as a `uint32` in network byte order, a Mesos quirk (required).
    pub ip: u32,
    /// Port (required; usually 5050).
    pub port: u32,
    /// libprocess PID, `master@ip:port`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pid: Option<String>,
    /// Host name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hostname: Option<String>,
    /// Mesos version, e.g. `1.11.0` (pymesos checks it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// Address (the field clients should use).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<Address>,
    /// Fault domain.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub domain: Option<DomainInfo>,
    /// Capabilities.
    #[serde(default, deserialize_with = "null_as_default")]
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub capabilities: Vec<MasterCapability>,
}

impl MasterInfo {
    /// Encodes an IPv4 address as Mesos does for `ip`: the in-memory network-order
    /// `uint32` read as little-endian, so `10.0.0.1` becomes `16777226`.
    pub fn encode_ip(ip: std::net::Ipv4Addr) -> u32 {
        u32::from_le_bytes(ip.octets())
    }

    /// Decodes the `ip` field back to an address.
    pub fn decode_ip(ip: u32) -> std::net::Ipv4Addr {
        std::net::Ipv4Addr::from(ip.to_le_bytes())
    }
}

/// `AgentInfo.Capability.Type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum AgentCapabilityType {
    /// Unrecognised.
    Unknown,
    /// Supports multi-role frameworks.
    MultiRole,
    /// Supports hierarchical roles.
    HierarchicalRole,
    /// Supports reservation refinement.
    ReservationRefinement,
    /// Hosts resource providers.
    ResourceProvider,
    /// Supports GROW/SHRINK_VOLUME.
    ResizeVolume,
    /// Sends operation feedback.
    AgentOperationFeedback,
    /// Supports draining.
    AgentDraining,
    /// Supports `TaskInfo.limits`.
    TaskResourceLimits,
}

/// `AgentInfo.Capability`. (`AgentInfo` itself has no capabilities field in v1; they
/// travel in the registration messages and the operator API.)
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AgentCapability {
    /// The capability (unknown names parse as `None`).
    #[serde(default, deserialize_with = "lenient_enum")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub r#type: Option<AgentCapabilityType>,
}

/// Describes an agent (`mesos.v1.AgentInfo`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct AgentInfo {
    /// Host name (required).
    pub hostname: String,
    /// Port (default 5051).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub port: Option<i32>,
    /// Total resources.
    #[serde(default, deserialize_with = "null_as_default")]
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub resources: Vec<Resource>,
    /// Attributes.
    #[serde(default, deserialize_with = "null_as_default")]
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub attributes: Vec<Attribute>,
    /// Agent ID, once registered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<AgentId>,
    /// Fault domain.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub domain: Option<DomainInfo>,
}

/// Build information (`mesos.v1.VersionInfo`), as served by `/version` and GET_VERSION.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct VersionInfo {
    /// Version string, e.g. `1.11.0` (required).
    pub version: String,
    /// Build date.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub build_date: Option<String>,
    /// Build time, seconds since the epoch.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub build_time: Option<f64>,
    /// Build user.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub build_user: Option<String>,
    /// Git commit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub git_sha: Option<String>,
    /// Git branch.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub git_branch: Option<String>,
    /// Git tag.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub git_tag: Option<String>,
}

/// A command-line flag and its value (`mesos.v1.Flag`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Flag {
    /// Flag name without `--` (required).
    pub name: String,
    /// Value as text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
}

/// A metric sample (`mesos.v1.Metric`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Metric {
    /// Metric name, e.g. `slave/tasks_running` (required).
    pub name: String,
    /// Value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<f64>,
}

/// A sandbox file entry (`mesos.v1.FileInfo`), as returned by LIST_FILES.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileInfo {
    /// Absolute path (required).
    pub path: String,
    /// Number of hard links.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nlink: Option<i32>,
    /// Size in bytes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size: Option<u64>,
    /// Last modification time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mtime: Option<TimeInfo>,
    /// `st_mode` bits.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mode: Option<u32>,
    /// Owner user name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uid: Option<String>,
    /// Owner group name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gid: Option<String>,
}

/// `mesos.v1.DrainState`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum DrainState {
    /// Unknown.
    #[default]
    Unknown,
    /// Tasks are being killed.
    Draining,
    /// All tasks are gone.
    Drained,
}

/// `mesos.v1.DrainConfig`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DrainConfig {
    /// Cap on task kill grace periods.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_grace_period: Option<DurationInfo>,
    /// Mark the agent gone once drained (default false).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mark_gone: Option<bool>,
}

/// `mesos.v1.DrainInfo`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DrainInfo {
    /// Current state (required).
    pub state: DrainState,
    /// Requested configuration (required).
    pub config: DrainConfig,
}

/// A role and what it holds (`mesos.v1.Role`), as in GET_ROLES.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Role {
    /// Role name (required).
    pub name: String,
    /// Weight (required).
    pub weight: f64,
    /// Frameworks subscribed to the role.
    #[serde(default, deserialize_with = "null_as_default")]
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub frameworks: Vec<crate::ids::FrameworkId>,
    /// Resources allocated to the role.
    #[serde(default, deserialize_with = "null_as_default")]
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub resources: Vec<Resource>,
}

/// A role's weight (`mesos.v1.WeightInfo`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct WeightInfo {
    /// Weight (required).
    pub weight: f64,
    /// Role.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn master_info_ip_quirk() {
        let ip = std::net::Ipv4Addr::new(10, 0, 0, 1);
        assert_eq!(MasterInfo::encode_ip(ip), 16_777_226);
        assert_eq!(MasterInfo::decode_ip(16_777_226), ip);
    }

    #[test]
    fn zookeeper_master_info_parses() {
        let json = r#"{"address":{"hostname":"m1","ip":"10.0.0.1","port":5050},"hostname":"m1",
            "id":"6a1c5d6e","ip":16777226,"pid":"master@10.0.0.1:5050","port":5050,
            "version":"1.11.0","capabilities":[{"type":"AGENT_UPDATE"}]}"#;
        let m: MasterInfo = serde_json::from_str(json).unwrap();
        assert_eq!(m.address.as_ref().unwrap().port, 5050);
        let back = serde_json::to_value(&m).unwrap();
        assert_eq!(
            back,
            serde_json::from_str::<serde_json::Value>(json).unwrap()
        );
        assert!(serde_json::from_str::<MasterInfo>(r#"{"id":"x","port":5050}"#).is_err());
    }

    #[test]
    fn agent_info_requires_hostname() {
        assert!(serde_json::from_str::<AgentInfo>(r#"{"port":5051}"#).is_err());
        let a: AgentInfo =
            serde_json::from_str(r#"{"hostname":"a1","id":{"value":"S1"}}"#).unwrap();
        assert_eq!(a.id.unwrap().value, "S1");
    }
}
