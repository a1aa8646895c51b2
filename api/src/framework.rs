//! `FrameworkInfo` (what a scheduler registers with) and its capabilities and
//! `OfferFilters`.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::common::{Labels, ScalarMap};
use crate::encoding::{lenient_enum, null_as_default};
use crate::ids::FrameworkId;

/// `FrameworkInfo.Capability.Type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum FrameworkCapabilityType {
    /// Unrecognised.
    Unknown,
    /// Accepts revocable resources.
    RevocableResources,
    /// Understands `TASK_KILLING`.
    TaskKillingState,
    /// Accepts GPU resources.
    GpuResources,
    /// Accepts shared resources.
    SharedResources,
    /// Receives TASK_UNREACHABLE / TASK_GONE ... instead of TASK_LOST.
    PartitionAware,
    /// Uses `roles` instead of `role`.
    MultiRole,
    /// Understands reservation refinement.
    ReservationRefinement,
    /// Receives offers from other regions.
    RegionAware,
}

/// `FrameworkInfo.Capability`: `{"type": "MULTI_ROLE"}`.
///
/// An unrecognised type name parses as `type: None` (Mesos drops unknown optional enums),
/// so a newer scheduler's capabilities do not make SUBSCRIBE fail.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FrameworkCapability {
    /// The capability.
    #[serde(default, deserialize_with = "lenient_enum")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub r#type: Option<FrameworkCapabilityType>,
}

impl From<FrameworkCapabilityType> for FrameworkCapability {
    fn from(t: FrameworkCapabilityType) -> Self {
        Self { r#type: Some(t) }
    }
}

/// Describes a framework (`mesos.v1.FrameworkInfo`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct FrameworkInfo {
    /// Default user for tasks (required; may be empty to mean the agent's user).
    pub user: String,
    /// Framework name (required).
    pub name: String,
    /// Set on re-subscription and by the master.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<FrameworkId>,
    /// Seconds the master keeps tasks after the scheduler disconnects (default 0).
    #[serde(default, deserialize_with = "crate::encoding::lenient_f64_opt")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub failover_timeout: Option<f64>,
    /// Checkpoint tasks on agents so they survive agent restarts (default false).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub checkpoint: Option<bool>,
    /// Deprecated single role (default `"*"`); ignored with `MULTI_ROLE`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
    /// Roles, with the `MULTI_ROLE` capability.
    #[serde(default, deserialize_with = "null_as_default")]
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub roles: Vec<String>,
    /// Scheduler host name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hostname: Option<String>,
    /// Authentication principal.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub principal: Option<String>,
    /// Framework web UI.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub webui_url: Option<String>,
    /// Capabilities.
    #[serde(default, deserialize_with = "null_as_default")]
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub capabilities: Vec<FrameworkCapability>,
    /// Labels.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub labels: Option<Labels>,
    /// Per-role offer filters.
    #[serde(default, deserialize_with = "null_as_default")]
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub offer_filters: BTreeMap<String, OfferFilters>,
}

impl FrameworkInfo {
    /// Whether the framework declared `capability`.
    pub fn has_capability(&self, capability: FrameworkCapabilityType) -> bool {
        self.capabilities
            .iter()
            .any(|c| c.r#type == Some(capability))
    }

    /// The framework's roles as the master sees them: `roles` with `MULTI_ROLE`, else
    /// the single `role` (default `"*"`).
    pub fn effective_roles(&self) -> Vec<String> {
        if self.has_capability(FrameworkCapabilityType::MultiRole) {
            self.roles.clone()
        } else {
            vec![self.role.clone().unwrap_or_else(|| "*".to_string())]
        }
    }

    /// `failover_timeout` with the default (0) applied.
    pub fn failover_timeout_secs(&self) -> f64 {
        self.failover_timeout.unwrap_or(0.0)
    }

    /// `checkpoint` with the default (false) applied.
    pub fn is_checkpointing(&self) -> bool {
        self.checkpoint.unwrap_or(false)
    }
}

/// Per-role offer filtering (`mesos.v1.OfferFilters`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct OfferFilters {
    /// Minimum resource quantities worth offering.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_allocatable_resources: Option<MinAllocatableResources>,
}

/// `OfferFilters.MinAllocatableResources`: offer if any of the quantities is met.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct MinAllocatableResources {
    /// Alternatives.
    #[serde(default, deserialize_with = "null_as_default")]
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub quantities: Vec<ResourceQuantities>,
}

/// `OfferFilters.ResourceQuantities`: `{"quantities": {"cpus": {"value": 1}}}`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ResourceQuantities {
    /// Resource name → minimum quantity.
    #[serde(default, deserialize_with = "null_as_default")]
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub quantities: ScalarMap,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pymesos_style_framework_info() {
        let json = r#"{"user":"","name":"test","hostname":"h","failover_timeout":100,
            "capabilities":[{"type":"GPU_RESOURCES"},{"type":"SOME_FUTURE_CAPABILITY"}],
            "roles":["a"],"offer_filters":{"a":{"min_allocatable_resources":
            {"quantities":[{"quantities":{"cpus":{"value":1}}}]}}}}"#;
        let f: FrameworkInfo = serde_json::from_str(json).unwrap();
        assert!(f.has_capability(FrameworkCapabilityType::GpuResources));
        assert_eq!(f.capabilities[1].r#type, None);
        assert_eq!(f.effective_roles(), vec!["*".to_string()]);
        assert_eq!(f.failover_timeout_secs(), 100.0);
        assert!(!f.is_checkpointing());
        let q = &f.offer_filters["a"]
            .min_allocatable_resources
            .as_ref()
            .unwrap()
            .quantities;
        assert_eq!(q[0].quantities["cpus"].value, 1.0);
    }

    #[test]
    fn user_and_name_are_required() {
        assert!(serde_json::from_str::<FrameworkInfo>(r#"{"name":"x"}"#).is_err());
        assert!(serde_json::from_str::<FrameworkInfo>(r#"{"user":"x"}"#).is_err());
    }
}
