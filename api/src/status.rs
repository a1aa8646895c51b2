//! Task and operation state: `TaskState`, `TaskStatus` (with `Source` and the complete
//! `Reason` enum), `TaskResourceLimitation`, `OperationState`, `OperationStatus`,
//! `Operation` and the `UUID` message.

use serde::{Deserialize, Serialize};

use crate::checks::CheckStatusInfo;
use crate::common::{Labels, TimeInfo};
use crate::container::ContainerStatus;
use crate::encoding::{lenient_enum, null_as_default, Bytes};
use crate::ids::{AgentId, ExecutorId, FrameworkId, OperationId, ResourceProviderId, TaskId};
use crate::offer::OfferOperation;
use crate::resources::Resource;

proto_enum! {
    /// The state of a task (`mesos.v1.TaskState`).
    #[derive(Default)]
    pub enum TaskState {
        /// Initial state, set by master/agent.
        #[default]
        Staging = "TASK_STAGING",
        /// The executor is launching the task.
        Starting = "TASK_STARTING",
        /// Running.
        Running = "TASK_RUNNING",
        /// Being killed (frameworks with TASK_KILLING_STATE).
        Killing = "TASK_KILLING",
        /// Terminal: finished successfully.
        Finished = "TASK_FINISHED",
        /// Terminal: failed.
        Failed = "TASK_FAILED",
        /// Terminal: killed.
        Killed = "TASK_KILLED",
        /// Terminal: invalid task description.
        Error = "TASK_ERROR",
        /// Lost (non-PARTITION_AWARE frameworks).
        Lost = "TASK_LOST",
        /// Terminal: never launched (PARTITION_AWARE).
        Dropped = "TASK_DROPPED",
        /// Agent unreachable (PARTITION_AWARE).
        Unreachable = "TASK_UNREACHABLE",
        /// Terminal: task is gone (PARTITION_AWARE).
        Gone = "TASK_GONE",
        /// Agent marked gone by the operator (PARTITION_AWARE).
        GoneByOperator = "TASK_GONE_BY_OPERATOR",
        /// Unknown to the master (reconciliation, PARTITION_AWARE).
        Unknown = "TASK_UNKNOWN",
    }
}

impl TaskState {
    /// Whether Mesos treats the state as terminal (`protobuf::isTerminalState`):
    /// FINISHED, FAILED, KILLED, ERROR, LOST, DROPPED, GONE, GONE_BY_OPERATOR.
    pub fn is_terminal(self) -> bool {
        matches!(
            self,
            Self::Finished
                | Self::Failed
                | Self::Killed
                | Self::Error
                | Self::Lost
                | Self::Dropped
                | Self::Gone
                | Self::GoneByOperator
        )
    }
}

proto_enum! {
    /// `TaskStatus.Source`: who generated the update.
    pub enum Source {
        /// The master.
        Master = "SOURCE_MASTER",
        /// The agent.
        Agent = "SOURCE_AGENT",
        /// The executor.
        Executor = "SOURCE_EXECUTOR",
    }
}

proto_enum! {
    /// `TaskStatus.Reason`: why a task reached its state (all values of mesos.proto).
    pub enum Reason {
        /// Deprecated catch-all for command executor failures (0).
        CommandExecutorFailed = "REASON_COMMAND_EXECUTOR_FAILED",
        /// Container launch failed (21).
        ContainerLaunchFailed = "REASON_CONTAINER_LAUNCH_FAILED",
        /// Generic container limitation (19).
        ContainerLimitation = "REASON_CONTAINER_LIMITATION",
        /// Disk limit exceeded (20).
        ContainerLimitationDisk = "REASON_CONTAINER_LIMITATION_DISK",
        /// Memory limit exceeded / OOM (8).
        ContainerLimitationMemory = "REASON_CONTAINER_LIMITATION_MEMORY",
        /// Container preempted (17).
        ContainerPreempted = "REASON_CONTAINER_PREEMPTED",
        /// Container update failed (22).
        ContainerUpdateFailed = "REASON_CONTAINER_UPDATE_FAILED",
        /// `max_completion_time` reached (33).
        MaxCompletionTimeReached = "REASON_MAX_COMPLETION_TIME_REACHED",
        /// Executor did not subscribe in time (23).
        ExecutorRegistrationTimeout = "REASON_EXECUTOR_REGISTRATION_TIMEOUT",
        /// Executor did not re-subscribe after agent restart (24).
        ExecutorReregistrationTimeout = "REASON_EXECUTOR_REREGISTRATION_TIMEOUT",
        /// Executor exited (1).
        ExecutorTerminated = "REASON_EXECUTOR_TERMINATED",
        /// No longer used (2).
        ExecutorUnregistered = "REASON_EXECUTOR_UNREGISTERED",
        /// Framework removed (3).
        FrameworkRemoved = "REASON_FRAMEWORK_REMOVED",
        /// Sandbox GC error (4).
        GcError = "REASON_GC_ERROR",
        /// Invalid framework ID (5).
        InvalidFrameworkId = "REASON_INVALID_FRAMEWORKID",
        /// Invalid offers in ACCEPT (6).
        InvalidOffers = "REASON_INVALID_OFFERS",
        /// IO switchboard exited (27).
        IoSwitchboardExited = "REASON_IO_SWITCHBOARD_EXITED",
        /// Agent lost its master (7).
        MasterDisconnected = "REASON_MASTER_DISCONNECTED",
        /// Reconciliation answer (9).
        Reconciliation = "REASON_RECONCILIATION",
        /// Resources unknown (18).
        ResourcesUnknown = "REASON_RESOURCES_UNKNOWN",
        /// Agent disconnected (10).
        AgentDisconnected = "REASON_AGENT_DISCONNECTED",
        /// Agent draining (34).
        AgentDraining = "REASON_AGENT_DRAINING",
        /// Agent removed (11).
        AgentRemoved = "REASON_AGENT_REMOVED",
        /// Agent removed by the operator (31).
        AgentRemovedByOperator = "REASON_AGENT_REMOVED_BY_OPERATOR",
        /// Agent re-registered (32).
        AgentReregistered = "REASON_AGENT_REREGISTERED",
        /// Agent restarted (12).
        AgentRestarted = "REASON_AGENT_RESTARTED",
        /// Agent unknown (13).
        AgentUnknown = "REASON_AGENT_UNKNOWN",
        /// Killed while launching (30).
        TaskKilledDuringLaunch = "REASON_TASK_KILLED_DURING_LAUNCH",
        /// Check status changed (28).
        TaskCheckStatusUpdated = "REASON_TASK_CHECK_STATUS_UPDATED",
        /// Health changed (29).
        TaskHealthCheckStatusUpdated = "REASON_TASK_HEALTH_CHECK_STATUS_UPDATED",
        /// Invalid task group (25).
        TaskGroupInvalid = "REASON_TASK_GROUP_INVALID",
        /// Unauthorized task group (26).
        TaskGroupUnauthorized = "REASON_TASK_GROUP_UNAUTHORIZED",
        /// Invalid task (14).
        TaskInvalid = "REASON_TASK_INVALID",
        /// Unauthorized task (15).
        TaskUnauthorized = "REASON_TASK_UNAUTHORIZED",
        /// Unknown task (16).
        TaskUnknown = "REASON_TASK_UNKNOWN",
    }
}

/// Resources whose limit a task hit (`mesos.v1.TaskResourceLimitation`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TaskResourceLimitation {
    /// The limited resources.
    #[serde(default, deserialize_with = "null_as_default")]
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub resources: Vec<Resource>,
}

/// A task status update (`mesos.v1.TaskStatus`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TaskStatus {
    /// The task (required).
    pub task_id: TaskId,
    /// New state (required).
    pub state: TaskState,
    /// Human-readable explanation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// Who generated the update.
    #[serde(default, deserialize_with = "lenient_enum")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source: Option<Source>,
    /// Why.
    #[serde(default, deserialize_with = "lenient_enum")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<Reason>,
    /// Opaque executor data.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data: Option<Bytes>,
    /// Agent (must be set when `uuid` is, pymesos acknowledges with it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent_id: Option<AgentId>,
    /// Executor.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub executor_id: Option<ExecutorId>,
    /// Seconds since the epoch.
    #[serde(default, deserialize_with = "crate::encoding::lenient_f64_opt")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timestamp: Option<f64>,
    /// Update UUID (16 bytes) to acknowledge; absent for master-generated updates.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uuid: Option<Bytes>,
    /// Health check result.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub healthy: Option<bool>,
    /// Check result.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub check_status: Option<CheckStatusInfo>,
    /// Labels.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub labels: Option<Labels>,
    /// Container runtime info (IPs, PID).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub container_status: Option<ContainerStatus>,
    /// When the agent became unreachable.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unreachable_time: Option<TimeInfo>,
    /// Limitation that caused the state.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limitation: Option<TaskResourceLimitation>,
}

impl TaskStatus {
    /// A bare status for `task_id` in `state`.
    pub fn new(task_id: TaskId, state: TaskState) -> Self {
        Self {
            task_id,
            state,
            ..Self::default()
        }
    }

    /// Whether the update must be acknowledged (it carries a `uuid`); master-generated
    /// updates (e.g. reconciliation answers) do not.
    pub fn needs_acknowledgement(&self) -> bool {
        self.uuid.is_some()
    }
}

proto_enum! {
    /// `mesos.v1.OperationState`.
    #[derive(Default)]
    pub enum OperationState {
        /// Not supported.
        #[default]
        Unsupported = "OPERATION_UNSUPPORTED",
        /// In progress.
        Pending = "OPERATION_PENDING",
        /// Terminal: done.
        Finished = "OPERATION_FINISHED",
        /// Terminal: failed.
        Failed = "OPERATION_FAILED",
        /// Terminal: invalid.
        Error = "OPERATION_ERROR",
        /// Terminal: dropped.
        Dropped = "OPERATION_DROPPED",
        /// Agent unreachable.
        Unreachable = "OPERATION_UNREACHABLE",
        /// Terminal: agent gone.
        GoneByOperator = "OPERATION_GONE_BY_OPERATOR",
        /// Agent recovering.
        Recovering = "OPERATION_RECOVERING",
        /// Unknown to the master.
        Unknown = "OPERATION_UNKNOWN",
    }
}

/// The `mesos.v1.UUID` message: `{"value": base64}`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Uuid {
    /// 16 raw bytes.
    pub value: Bytes,
}

/// An operation status update (`mesos.v1.OperationStatus`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct OperationStatus {
    /// Framework-chosen operation ID.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub operation_id: Option<OperationId>,
    /// State (required).
    pub state: OperationState,
    /// Explanation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// Resources after the operation.
    #[serde(default, deserialize_with = "null_as_default")]
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub converted_resources: Vec<Resource>,
    /// Update UUID to acknowledge.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uuid: Option<Uuid>,
    /// Agent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent_id: Option<AgentId>,
    /// Resource provider.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource_provider_id: Option<ResourceProviderId>,
}

/// An offer operation and its status history (`mesos.v1.Operation`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Operation {
    /// Framework.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub framework_id: Option<FrameworkId>,
    /// Agent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent_id: Option<AgentId>,
    /// The operation (required).
    pub info: OfferOperation,
    /// Latest status (required).
    pub latest_status: OperationStatus,
    /// History.
    #[serde(default, deserialize_with = "null_as_default")]
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub statuses: Vec<OperationStatus>,
    /// Operation UUID (required).
    pub uuid: Uuid,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn all_task_states_by_name() {
        for name in [
            "TASK_STAGING",
            "TASK_STARTING",
            "TASK_RUNNING",
            "TASK_KILLING",
            "TASK_FINISHED",
            "TASK_FAILED",
            "TASK_KILLED",
            "TASK_ERROR",
            "TASK_LOST",
            "TASK_DROPPED",
            "TASK_UNREACHABLE",
            "TASK_GONE",
            "TASK_GONE_BY_OPERATOR",
            "TASK_UNKNOWN",
        ] {
            let s: TaskState = serde_json::from_value(name.into()).unwrap();
            assert_eq!(serde_json::to_value(s).unwrap(), name);
        }
        assert!(TaskState::Gone.is_terminal());
        assert!(!TaskState::Unreachable.is_terminal());
    }

    #[test]
    fn reason_names_match_proto() {
        for name in [
            "REASON_COMMAND_EXECUTOR_FAILED",
            "REASON_CONTAINER_LIMITATION_MEMORY",
            "REASON_INVALID_OFFERS",
            "REASON_EXECUTOR_REGISTRATION_TIMEOUT",
            "REASON_EXECUTOR_TERMINATED",
            "REASON_INVALID_FRAMEWORKID",
            "REASON_GC_ERROR",
            "REASON_IO_SWITCHBOARD_EXITED",
            "REASON_TASK_HEALTH_CHECK_STATUS_UPDATED",
            "REASON_AGENT_REMOVED_BY_OPERATOR",
            "REASON_MAX_COMPLETION_TIME_REACHED",
            "REASON_AGENT_DRAINING",
        ] {
            let r: Reason = serde_json::from_value(name.into()).unwrap();
            assert_eq!(serde_json::to_value(r).unwrap(), name);
        }
    }

    #[test]
    fn status_state_is_required_and_strict() {
        assert!(serde_json::from_str::<TaskStatus>(r#"{"task_id":{"value":"t"}}"#).is_err());
        let bad = r#"{"task_id":{"value":"t"},"state":"TASK_EXPLODED"}"#;
        assert!(serde_json::from_str::<TaskStatus>(bad).is_err());
        // Unknown optional enums are dropped, as Mesos does.
        let odd = r#"{"task_id":{"value":"t"},"state":"TASK_RUNNING","reason":"REASON_NEW"}"#;
        assert_eq!(
            serde_json::from_str::<TaskStatus>(odd).unwrap().reason,
            None
        );
    }
}
