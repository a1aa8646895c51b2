//! `mesos.v1.master.Response`: synchronous answers of the master operator API. Bodies
//! identical to the agent's (health, flags, version, metrics, files, operations) are
//! shared with [`crate::agent::response`].

use serde::{Deserialize, Serialize};

use super::maintenance::{ClusterStatus, QuotaStatus, Schedule};
use crate::agent::response::{
    GetFlags, GetHealth, GetLoggingLevel, GetMetrics, GetOperations, GetVersion, ListFiles,
    ReadFile,
};
use crate::cluster::{AgentCapability, AgentInfo, DrainInfo, MasterInfo, Role, WeightInfo};
use crate::common::TimeInfo;
use crate::encoding::null_as_default;
use crate::framework::FrameworkInfo;
use crate::ids::AgentId;
use crate::offer::{InverseOffer, Offer};
use crate::resources::Resource;
use crate::scheduler::OfferConstraints;
use crate::task::{ExecutorInfo, Task};

proto_enum! {
    /// `master.Response.Type`.
    #[derive(Default)]
    pub enum ResponseType {
        /// Unset.
        #[default]
        Unknown = "UNKNOWN",
        /// Health.
        GetHealth = "GET_HEALTH",
        /// Flags.
        GetFlags = "GET_FLAGS",
        /// Version.
        GetVersion = "GET_VERSION",
        /// Metrics.
        GetMetrics = "GET_METRICS",
        /// Logging level.
        GetLoggingLevel = "GET_LOGGING_LEVEL",
        /// Directory listing.
        ListFiles = "LIST_FILES",
        /// File contents.
        ReadFile = "READ_FILE",
        /// Full state.
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
        /// Weights.
        GetWeights = "GET_WEIGHTS",
        /// Master.
        GetMaster = "GET_MASTER",
        /// Maintenance status.
        GetMaintenanceStatus = "GET_MAINTENANCE_STATUS",
        /// Maintenance schedule.
        GetMaintenanceSchedule = "GET_MAINTENANCE_SCHEDULE",
        /// Quota.
        GetQuota = "GET_QUOTA",
    }
}

/// A master operator response (`mesos.v1.master.Response`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Response {
    /// Response type.
    pub r#type: ResponseType,
    /// For GET_HEALTH.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub get_health: Option<GetHealth>,
    /// For GET_FLAGS.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub get_flags: Option<GetFlags>,
    /// For GET_VERSION.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub get_version: Option<GetVersion>,
    /// For GET_METRICS.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub get_metrics: Option<GetMetrics>,
    /// For GET_LOGGING_LEVEL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub get_logging_level: Option<GetLoggingLevel>,
    /// For LIST_FILES.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub list_files: Option<ListFiles>,
    /// For READ_FILE.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub read_file: Option<ReadFile>,
    /// For GET_STATE.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub get_state: Option<GetState>,
    /// For GET_AGENTS.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub get_agents: Option<GetAgents>,
    /// For GET_FRAMEWORKS.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub get_frameworks: Option<GetFrameworks>,
    /// For GET_EXECUTORS.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub get_executors: Option<GetExecutors>,
    /// For GET_OPERATIONS.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub get_operations: Option<GetOperations>,
    /// For GET_TASKS.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub get_tasks: Option<GetTasks>,
    /// For GET_ROLES.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub get_roles: Option<GetRoles>,
    /// For GET_WEIGHTS.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub get_weights: Option<GetWeights>,
    /// For GET_MASTER.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub get_master: Option<GetMaster>,
    /// For GET_MAINTENANCE_STATUS.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub get_maintenance_status: Option<GetMaintenanceStatus>,
    /// For GET_MAINTENANCE_SCHEDULE.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub get_maintenance_schedule: Option<GetMaintenanceSchedule>,
    /// For GET_QUOTA.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub get_quota: Option<GetQuota>,
}

/// `Response.GetState`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct GetState {
    /// Tasks.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub get_tasks: Option<GetTasks>,
    /// Executors.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub get_executors: Option<GetExecutors>,
    /// Frameworks.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub get_frameworks: Option<GetFrameworks>,
    /// Agents.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub get_agents: Option<GetAgents>,
}

/// `Response.GetAgents`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct GetAgents {
    /// Registered agents.
    #[serde(default, deserialize_with = "null_as_default")]
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub agents: Vec<Agent>,
    /// Agents recovered from the registry but not yet re-registered.
    #[serde(default, deserialize_with = "null_as_default")]
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub recovered_agents: Vec<AgentInfo>,
}

/// `Response.GetAgents.Agent`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Agent {
    /// The agent (required).
    pub agent_info: AgentInfo,
    /// Connected (required).
    pub active: bool,
    /// Deactivated by the operator.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deactivated: Option<bool>,
    /// Mesos version of the agent (required).
    pub version: String,
    /// libprocess PID.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pid: Option<String>,
    /// First registration.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub registered_time: Option<TimeInfo>,
    /// Last re-registration.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reregistered_time: Option<TimeInfo>,
    /// Total resources.
    #[serde(default, deserialize_with = "null_as_default")]
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub total_resources: Vec<Resource>,
    /// Allocated resources.
    #[serde(default, deserialize_with = "null_as_default")]
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub allocated_resources: Vec<Resource>,
    /// Offered resources.
    #[serde(default, deserialize_with = "null_as_default")]
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub offered_resources: Vec<Resource>,
    /// Agent capabilities.
    #[serde(default, deserialize_with = "null_as_default")]
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub capabilities: Vec<AgentCapability>,
    /// Resource providers.
    #[serde(default, deserialize_with = "null_as_default")]
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub resource_providers: Vec<crate::agent::ResourceProvider>,
    /// Drain state.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub drain_info: Option<DrainInfo>,
    /// When draining is estimated to start.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub estimated_drain_start_time: Option<TimeInfo>,
}

/// `Response.GetFrameworks`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct GetFrameworks {
    /// Active and inactive frameworks.
    #[serde(default, deserialize_with = "null_as_default")]
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub frameworks: Vec<Framework>,
    /// Completed frameworks.
    #[serde(default, deserialize_with = "null_as_default")]
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub completed_frameworks: Vec<Framework>,
    /// Deprecated.
    #[serde(default, deserialize_with = "null_as_default")]
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub recovered_frameworks: Vec<FrameworkInfo>,
}

/// `Response.GetFrameworks.Framework`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Framework {
    /// The framework (required).
    pub framework_info: FrameworkInfo,
    /// Active (required).
    pub active: bool,
    /// Connected (required).
    pub connected: bool,
    /// Recovered from agents but not re-subscribed (required).
    pub recovered: bool,
    /// First subscription.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub registered_time: Option<TimeInfo>,
    /// Last re-subscription.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reregistered_time: Option<TimeInfo>,
    /// When it disconnected.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unregistered_time: Option<TimeInfo>,
    /// Outstanding offers.
    #[serde(default, deserialize_with = "null_as_default")]
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub offers: Vec<Offer>,
    /// Outstanding inverse offers.
    #[serde(default, deserialize_with = "null_as_default")]
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub inverse_offers: Vec<InverseOffer>,
    /// Allocated resources.
    #[serde(default, deserialize_with = "null_as_default")]
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub allocated_resources: Vec<Resource>,
    /// Offered resources.
    #[serde(default, deserialize_with = "null_as_default")]
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub offered_resources: Vec<Resource>,
    /// Offer constraints.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub offer_constraints: Option<OfferConstraints>,
}

/// `Response.GetExecutors`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct GetExecutors {
    /// Executors.
    #[serde(default, deserialize_with = "null_as_default")]
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub executors: Vec<Executor>,
    /// Deprecated.
    #[serde(default, deserialize_with = "null_as_default")]
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub orphan_executors: Vec<Executor>,
}

/// `Response.GetExecutors.Executor`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Executor {
    /// The executor (required).
    pub executor_info: ExecutorInfo,
    /// Where it runs (required).
    pub agent_id: AgentId,
}

/// `Response.GetTasks`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct GetTasks {
    /// Deprecated.
    #[serde(default, deserialize_with = "null_as_default")]
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub pending_tasks: Vec<Task>,
    /// Non-terminal tasks.
    #[serde(default, deserialize_with = "null_as_default")]
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub tasks: Vec<Task>,
    /// Tasks on unreachable agents.
    #[serde(default, deserialize_with = "null_as_default")]
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub unreachable_tasks: Vec<Task>,
    /// Terminal tasks.
    #[serde(default, deserialize_with = "null_as_default")]
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub completed_tasks: Vec<Task>,
    /// Deprecated.
    #[serde(default, deserialize_with = "null_as_default")]
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub orphan_tasks: Vec<Task>,
}

/// `Response.GetRoles`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct GetRoles {
    /// Roles.
    #[serde(default, deserialize_with = "null_as_default")]
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub roles: Vec<Role>,
}

/// `Response.GetWeights`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct GetWeights {
    /// Weights.
    #[serde(default, deserialize_with = "null_as_default")]
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub weight_infos: Vec<WeightInfo>,
}

/// `Response.GetMaster`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct GetMaster {
    /// The master.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub master_info: Option<MasterInfo>,
    /// Start time, seconds since the epoch.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_time: Option<f64>,
    /// Election time, seconds since the epoch.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub elected_time: Option<f64>,
}

/// `Response.GetMaintenanceStatus`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct GetMaintenanceStatus {
    /// Status (required).
    pub status: ClusterStatus,
}

/// `Response.GetMaintenanceSchedule`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct GetMaintenanceSchedule {
    /// Schedule (required).
    pub schedule: Schedule,
}

/// `Response.GetQuota`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct GetQuota {
    /// Status (required).
    pub status: QuotaStatus,
}
