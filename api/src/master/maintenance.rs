//! Maintenance (`mesos/v1/maintenance/maintenance.proto`), quota
//! (`mesos/v1/quota/quota.proto`) and `allocator.InverseOfferStatus` messages used by the
//! master operator API.

use serde::{Deserialize, Serialize};

use crate::common::{MachineId, ScalarMap, TimeInfo, Unavailability};
use crate::encoding::null_as_default;
use crate::ids::FrameworkId;
use crate::resources::Resource;

/// `maintenance.Window`: machines going down together.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Window {
    /// The machines.
    #[serde(default, deserialize_with = "null_as_default")]
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub machine_ids: Vec<MachineId>,
    /// When (required).
    pub unavailability: Unavailability,
}

/// `maintenance.Schedule`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Schedule {
    /// Maintenance windows.
    #[serde(default, deserialize_with = "null_as_default")]
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub windows: Vec<Window>,
}

/// `allocator.InverseOfferStatus.Status`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum InverseOfferStatusType {
    /// No answer yet.
    #[default]
    Unknown,
    /// Accepted.
    Accept,
    /// Declined.
    Decline,
}

/// `allocator.InverseOfferStatus`: a framework's answer to an inverse offer.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct InverseOfferStatus {
    /// The answer (required).
    pub status: InverseOfferStatusType,
    /// The framework (required).
    pub framework_id: FrameworkId,
    /// When (required).
    pub timestamp: TimeInfo,
}

/// `maintenance.ClusterStatus.DrainingMachine`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DrainingMachine {
    /// The machine (required).
    pub id: MachineId,
    /// Frameworks' answers.
    #[serde(default, deserialize_with = "null_as_default")]
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub statuses: Vec<InverseOfferStatus>,
}

/// `maintenance.ClusterStatus`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClusterStatus {
    /// Machines being drained.
    #[serde(default, deserialize_with = "null_as_default")]
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub draining_machines: Vec<DrainingMachine>,
    /// Machines down.
    #[serde(default, deserialize_with = "null_as_default")]
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub down_machines: Vec<MachineId>,
}

/// `quota.QuotaInfo` (deprecated guarantees form).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct QuotaInfo {
    /// Role.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
    /// Principal that set it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub principal: Option<String>,
    /// Guaranteed resources.
    #[serde(default, deserialize_with = "null_as_default")]
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub guarantee: Vec<Resource>,
}

/// `quota.QuotaRequest` (deprecated SET_QUOTA).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct QuotaRequest {
    /// Skip capacity checks.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub force: Option<bool>,
    /// Role.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
    /// Guaranteed resources.
    #[serde(default, deserialize_with = "null_as_default")]
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub guarantee: Vec<Resource>,
}

/// `quota.QuotaConfig`: `{"role": "r", "limits": {"cpus": {"value": 4}}}`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct QuotaConfig {
    /// Role (required).
    pub role: String,
    /// Guarantees by resource name.
    #[serde(default, deserialize_with = "null_as_default")]
    #[serde(skip_serializing_if = "ScalarMap::is_empty")]
    pub guarantees: ScalarMap,
    /// Limits by resource name.
    #[serde(default, deserialize_with = "null_as_default")]
    #[serde(skip_serializing_if = "ScalarMap::is_empty")]
    pub limits: ScalarMap,
}

/// `quota.QuotaStatus`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct QuotaStatus {
    /// Deprecated guarantee form.
    #[serde(default, deserialize_with = "null_as_default")]
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub infos: Vec<QuotaInfo>,
    /// Current configs.
    #[serde(default, deserialize_with = "null_as_default")]
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub configs: Vec<QuotaConfig>,
}
