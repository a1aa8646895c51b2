//! `mesos.v1.master.Call`: operator calls POSTed to the master's `/api/v1`.

use serde::{Deserialize, Serialize};

use super::maintenance::{QuotaConfig, QuotaRequest, Schedule};
use crate::agent::{GetMetrics, ListFiles, ReadFile, SetLoggingLevel};
use crate::cluster::WeightInfo;
use crate::common::MachineId;
use crate::encoding::null_as_default;
use crate::error::ValidationError;
use crate::ids::{AgentId, FrameworkId};
use crate::resources::Resource;
use crate::value::Scalar;

proto_enum! {
    /// `master.Call.Type`. Parsing is strict: an unknown name is a deserialization error.
    #[derive(Default)]
    pub enum CallType {
        /// Invalid / unset.
        #[default]
        Unknown = "UNKNOWN",
        /// Master health.
        GetHealth = "GET_HEALTH",
        /// Flag values.
        GetFlags = "GET_FLAGS",
        /// Build information.
        GetVersion = "GET_VERSION",
        /// Metrics snapshot.
        GetMetrics = "GET_METRICS",
        /// glog verbosity.
        GetLoggingLevel = "GET_LOGGING_LEVEL",
        /// Change glog verbosity for a while.
        SetLoggingLevel = "SET_LOGGING_LEVEL",
        /// Directory listing.
        ListFiles = "LIST_FILES",
        /// File contents.
        ReadFile = "READ_FILE",
        /// Full cluster state.
        GetState = "GET_STATE",
        /// Agents.
        GetAgents = "GET_AGENTS",
        /// Frameworks.
        GetFrameworks = "GET_FRAMEWORKS",
        /// Executors.
        GetExecutors = "GET_EXECUTORS",
        /// Operations.
        GetOperations = "GET_OPERATIONS",
        /// Tasks.
        GetTasks = "GET_TASKS",
        /// Roles.
        GetRoles = "GET_ROLES",
        /// Role weights.
        GetWeights = "GET_WEIGHTS",
        /// Change role weights.
        UpdateWeights = "UPDATE_WEIGHTS",
        /// MasterInfo and times.
        GetMaster = "GET_MASTER",
        /// Open the operator event stream.
        Subscribe = "SUBSCRIBE",
        /// Dynamically reserve.
        ReserveResources = "RESERVE_RESOURCES",
        /// Unreserve.
        UnreserveResources = "UNRESERVE_RESOURCES",
        /// Create persistent volumes.
        CreateVolumes = "CREATE_VOLUMES",
        /// Destroy persistent volumes.
        DestroyVolumes = "DESTROY_VOLUMES",
        /// Grow a volume.
        GrowVolume = "GROW_VOLUME",
        /// Shrink a volume.
        ShrinkVolume = "SHRINK_VOLUME",
        /// Maintenance status.
        GetMaintenanceStatus = "GET_MAINTENANCE_STATUS",
        /// Maintenance schedule.
        GetMaintenanceSchedule = "GET_MAINTENANCE_SCHEDULE",
        /// Replace the maintenance schedule.
        UpdateMaintenanceSchedule = "UPDATE_MAINTENANCE_SCHEDULE",
        /// Machines go down.
        StartMaintenance = "START_MAINTENANCE",
        /// Machines come back up.
        StopMaintenance = "STOP_MAINTENANCE",
        /// Drain an agent.
        DrainAgent = "DRAIN_AGENT",
        /// Stop offering an agent.
        DeactivateAgent = "DEACTIVATE_AGENT",
        /// Resume offering an agent.
        ReactivateAgent = "REACTIVATE_AGENT",
        /// Quota status.
        GetQuota = "GET_QUOTA",
        /// Change quota.
        UpdateQuota = "UPDATE_QUOTA",
        /// Deprecated: set quota guarantees.
        SetQuota = "SET_QUOTA",
        /// Deprecated: remove quota.
        RemoveQuota = "REMOVE_QUOTA",
        /// Remove a framework.
        Teardown = "TEARDOWN",
        /// Mark an agent gone.
        MarkAgentGone = "MARK_AGENT_GONE",
    }
}

/// A master operator call (`mesos.v1.master.Call`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Call {
    /// Call type (required here; an unknown name fails to parse).
    pub r#type: CallType,
    /// For GET_METRICS.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub get_metrics: Option<GetMetrics>,
    /// For SET_LOGGING_LEVEL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub set_logging_level: Option<SetLoggingLevel>,
    /// For LIST_FILES.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub list_files: Option<ListFiles>,
    /// For READ_FILE.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub read_file: Option<ReadFile>,
    /// For UPDATE_WEIGHTS.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub update_weights: Option<UpdateWeights>,
    /// For RESERVE_RESOURCES.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reserve_resources: Option<ReserveResources>,
    /// For UNRESERVE_RESOURCES.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unreserve_resources: Option<AgentResources>,
    /// For CREATE_VOLUMES.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub create_volumes: Option<AgentVolumes>,
    /// For DESTROY_VOLUMES.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub destroy_volumes: Option<AgentVolumes>,
    /// For GROW_VOLUME.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grow_volume: Option<GrowVolume>,
    /// For SHRINK_VOLUME.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shrink_volume: Option<ShrinkVolume>,
    /// For UPDATE_MAINTENANCE_SCHEDULE.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub update_maintenance_schedule: Option<UpdateMaintenanceSchedule>,
    /// For START_MAINTENANCE.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_maintenance: Option<Machines>,
    /// For STOP_MAINTENANCE.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stop_maintenance: Option<Machines>,
    /// For DRAIN_AGENT.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub drain_agent: Option<DrainAgent>,
    /// For DEACTIVATE_AGENT.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deactivate_agent: Option<AgentRef>,
    /// For REACTIVATE_AGENT.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reactivate_agent: Option<AgentRef>,
    /// For UPDATE_QUOTA.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub update_quota: Option<UpdateQuota>,
    /// For TEARDOWN.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub teardown: Option<Teardown>,
    /// For MARK_AGENT_GONE.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mark_agent_gone: Option<AgentRef>,
    /// For SET_QUOTA (deprecated).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub set_quota: Option<SetQuota>,
    /// For REMOVE_QUOTA (deprecated).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remove_quota: Option<RemoveQuota>,
}

impl Call {
    /// Parses a JSON request body; the error text is suitable for a `400` response.
    pub fn from_json(body: &[u8]) -> Result<Self, crate::DecodeError> {
        crate::from_json("master::Call", body)
    }

    /// Checks the body required by the type is present.
    pub fn validate(&self) -> Result<(), ValidationError> {
        fn need<T>(v: &Option<T>, name: &str) -> Result<(), ValidationError> {
            v.as_ref()
                .map(|_| ())
                .ok_or_else(|| ValidationError::missing(name))
        }
        match self.r#type {
            CallType::SetLoggingLevel => need(&self.set_logging_level, "set_logging_level"),
            CallType::ListFiles => need(&self.list_files, "list_files"),
            CallType::ReadFile => need(&self.read_file, "read_file"),
            CallType::UpdateWeights => need(&self.update_weights, "update_weights"),
            CallType::ReserveResources => need(&self.reserve_resources, "reserve_resources"),
            CallType::UnreserveResources => need(&self.unreserve_resources, "unreserve_resources"),
            CallType::CreateVolumes => need(&self.create_volumes, "create_volumes"),
            CallType::DestroyVolumes => need(&self.destroy_volumes, "destroy_volumes"),
            CallType::GrowVolume => need(&self.grow_volume, "grow_volume"),
            CallType::ShrinkVolume => need(&self.shrink_volume, "shrink_volume"),
            CallType::UpdateMaintenanceSchedule => need(
                &self.update_maintenance_schedule,
                "update_maintenance_schedule",
            ),
            CallType::StartMaintenance => need(&self.start_maintenance, "start_maintenance"),
            CallType::StopMaintenance => need(&self.stop_maintenance, "stop_maintenance"),
            CallType::DrainAgent => need(&self.drain_agent, "drain_agent"),
            CallType::DeactivateAgent => need(&self.deactivate_agent, "deactivate_agent"),
            CallType::ReactivateAgent => need(&self.reactivate_agent, "reactivate_agent"),
            CallType::UpdateQuota => need(&self.update_quota, "update_quota"),
            CallType::Teardown => need(&self.teardown, "teardown"),
            CallType::MarkAgentGone => need(&self.mark_agent_gone, "mark_agent_gone"),
            CallType::SetQuota => need(&self.set_quota, "set_quota"),
            CallType::RemoveQuota => need(&self.remove_quota, "remove_quota"),
            _ => Ok(()),
        }
    }
}

/// `Call.UpdateWeights`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct UpdateWeights {
    /// New weights.
    #[serde(default, deserialize_with = "null_as_default")]
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub weight_infos: Vec<WeightInfo>,
}

/// `Call.ReserveResources`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ReserveResources {
    /// Agent (required).
    pub agent_id: AgentId,
    /// Resources before (reservation refinement).
    #[serde(default, deserialize_with = "null_as_default")]
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub source: Vec<Resource>,
    /// Resources with the new reservation.
    #[serde(default, deserialize_with = "null_as_default")]
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub resources: Vec<Resource>,
}

/// `Call.UnreserveResources`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct AgentResources {
    /// Agent (required).
    pub agent_id: AgentId,
    /// Resources.
    #[serde(default, deserialize_with = "null_as_default")]
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub resources: Vec<Resource>,
}

/// `Call.CreateVolumes` / `Call.DestroyVolumes`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct AgentVolumes {
    /// Agent (required).
    pub agent_id: AgentId,
    /// Persistent volumes.
    #[serde(default, deserialize_with = "null_as_default")]
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub volumes: Vec<Resource>,
}

/// `Call.GrowVolume`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct GrowVolume {
    /// Agent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent_id: Option<AgentId>,
    /// Volume (required).
    pub volume: Resource,
    /// Disk to add (required).
    pub addition: Resource,
}

/// `Call.ShrinkVolume`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ShrinkVolume {
    /// Agent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent_id: Option<AgentId>,
    /// Volume (required).
    pub volume: Resource,
    /// Amount to remove (required).
    pub subtract: Scalar,
}

/// `Call.UpdateMaintenanceSchedule`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct UpdateMaintenanceSchedule {
    /// New schedule (required).
    pub schedule: Schedule,
}

/// `Call.StartMaintenance` / `Call.StopMaintenance`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Machines {
    /// Machines.
    #[serde(default, deserialize_with = "null_as_default")]
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub machines: Vec<MachineId>,
}

/// `google.protobuf.Duration` as stout renders it: `{"seconds": 600, "nanos": 0}`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProtoDuration {
    /// Whole seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seconds: Option<i64>,
    /// Nanoseconds part.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nanos: Option<i32>,
}

/// `Call.DrainAgent`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DrainAgent {
    /// Agent (required).
    pub agent_id: AgentId,
    /// Cap on kill grace periods.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_grace_period: Option<ProtoDuration>,
    /// Mark gone once drained (default false).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mark_gone: Option<bool>,
}

/// A call body naming one agent (`DeactivateAgent`, `ReactivateAgent`, `MarkAgentGone`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AgentRef {
    /// Agent (required).
    pub agent_id: AgentId,
}

/// `Call.UpdateQuota`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct UpdateQuota {
    /// Skip capacity checks.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub force: Option<bool>,
    /// New configs.
    #[serde(default, deserialize_with = "null_as_default")]
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub quota_configs: Vec<QuotaConfig>,
}

/// `Call.SetQuota` (deprecated).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SetQuota {
    /// Request (required).
    pub quota_request: QuotaRequest,
}

/// `Call.RemoveQuota` (deprecated).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RemoveQuota {
    /// Role (required).
    pub role: String,
}

/// `Call.Teardown`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Teardown {
    /// Framework (required).
    pub framework_id: FrameworkId,
}
