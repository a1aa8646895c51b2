//! What runs: `ExecutorInfo`, `TaskInfo`, `TaskGroupInfo`, the master/agent's `Task`
//! record, and `KillPolicy`.

use serde::{Deserialize, Serialize};

use crate::checks::{CheckInfo, DiscoveryInfo, HealthCheck};
use crate::command::CommandInfo;
use crate::common::{DurationInfo, Labels, ScalarMap};
use crate::container::ContainerInfo;
use crate::encoding::{lenient_enum, null_as_default, Bytes};
use crate::ids::{AgentId, ExecutorId, FrameworkId, TaskId};
use crate::resources::Resource;
use crate::status::{TaskState, TaskStatus};

/// How long to wait between the graceful and the forcible kill (`mesos.v1.KillPolicy`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct KillPolicy {
    /// Grace period between SIGTERM and SIGKILL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grace_period: Option<DurationInfo>,
}

/// `ExecutorInfo.Type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ExecutorType {
    /// Unrecognised.
    Unknown,
    /// Mesos' built-in default executor (task groups).
    Default,
    /// A framework-provided executor run from `command`.
    Custom,
}

/// Describes an executor (`mesos.v1.ExecutorInfo`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ExecutorInfo {
    /// DEFAULT or CUSTOM.
    #[serde(default, deserialize_with = "lenient_enum")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub r#type: Option<ExecutorType>,
    /// Executor ID (required).
    pub executor_id: ExecutorId,
    /// Owning framework (filled in by the master).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub framework_id: Option<FrameworkId>,
    /// Command to start a CUSTOM executor.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub command: Option<CommandInfo>,
    /// Container for the executor.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub container: Option<ContainerInfo>,
    /// Resources for the executor itself.
    #[serde(default, deserialize_with = "null_as_default")]
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub resources: Vec<Resource>,
    /// Human-readable name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Deprecated source tag.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    /// Opaque data for the executor.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data: Option<Bytes>,
    /// Service discovery.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub discovery: Option<DiscoveryInfo>,
    /// Overrides the agent's `--executor_shutdown_grace_period`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shutdown_grace_period: Option<DurationInfo>,
    /// Labels.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub labels: Option<Labels>,
}

/// A task to launch (`mesos.v1.TaskInfo`): exactly one of `executor` or `command`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TaskInfo {
    /// Task name (required).
    pub name: String,
    /// Task ID (required).
    pub task_id: TaskId,
    /// Agent to run on (required).
    pub agent_id: AgentId,
    /// Resources for the task.
    #[serde(default, deserialize_with = "null_as_default")]
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub resources: Vec<Resource>,
    /// Custom executor to run the task with.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub executor: Option<ExecutorInfo>,
    /// Command for the built-in command executor.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub command: Option<CommandInfo>,
    /// Container for the task.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub container: Option<ContainerInfo>,
    /// Health check.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub health_check: Option<HealthCheck>,
    /// General check.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub check: Option<CheckInfo>,
    /// Kill grace period.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kill_policy: Option<KillPolicy>,
    /// Opaque data passed to the executor.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data: Option<Bytes>,
    /// Labels.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub labels: Option<Labels>,
    /// Service discovery.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub discovery: Option<DiscoveryInfo>,
    /// Kill the task (TASK_FAILED, REASON_MAX_COMPLETION_TIME_REACHED) after this long.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_completion_time: Option<DurationInfo>,
    /// Resource limits above the allocation (`cpus`, `mem`).
    #[serde(default, deserialize_with = "null_as_default")]
    #[serde(skip_serializing_if = "ScalarMap::is_empty")]
    pub limits: ScalarMap,
}

/// A group of tasks launched together by one executor (`mesos.v1.TaskGroupInfo`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TaskGroupInfo {
    /// The tasks.
    #[serde(default, deserialize_with = "null_as_default")]
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub tasks: Vec<TaskInfo>,
}

/// The master's / agent's record of a task (`mesos.v1.Task`), as in GET_STATE.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Task {
    /// Task name (required).
    pub name: String,
    /// Task ID (required).
    pub task_id: TaskId,
    /// Framework (required).
    pub framework_id: FrameworkId,
    /// Executor, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub executor_id: Option<ExecutorId>,
    /// Agent (required).
    pub agent_id: AgentId,
    /// Latest state (required).
    pub state: TaskState,
    /// Resources.
    #[serde(default, deserialize_with = "null_as_default")]
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub resources: Vec<Resource>,
    /// Status history.
    #[serde(default, deserialize_with = "null_as_default")]
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub statuses: Vec<TaskStatus>,
    /// State of the latest update not yet acknowledged.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status_update_state: Option<TaskState>,
    /// UUID of that update.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status_update_uuid: Option<Bytes>,
    /// Labels.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub labels: Option<Labels>,
    /// Service discovery.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub discovery: Option<DiscoveryInfo>,
    /// Container.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub container: Option<ContainerInfo>,
    /// Health check.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub health_check: Option<HealthCheck>,
    /// Kill policy.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kill_policy: Option<KillPolicy>,
    /// User the task runs as.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    /// Resource limits.
    #[serde(default, deserialize_with = "null_as_default")]
    #[serde(skip_serializing_if = "ScalarMap::is_empty")]
    pub limits: ScalarMap,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pymesos_example_task_round_trips() {
        // Shape of pymesos examples/scheduler.py launchTasks.
        let json = r#"{"task_id":{"value":"t1"},"agent_id":{"value":"S0"},"name":"task t1",
            "executor":{"executor_id":{"value":"MinimalExecutor"},"name":"MinimalExecutor",
              "command":{"value":"python -m pymesos.executor"},
              "resources":[{"name":"mem","type":"SCALAR","scalar":{"value":32}}]},
            "data":"SGVsbG8gZnJvbSB0YXNrIHQxIQ==",
            "resources":[{"name":"cpus","type":"SCALAR","scalar":{"value":0.1}}],
            "kill_policy":{"grace_period":{"nanoseconds":3000000000}},
            "limits":{"cpus":{"value":2}}}"#;
        let t: TaskInfo = serde_json::from_str(json).unwrap();
        assert_eq!(t.data.as_ref().unwrap().as_slice(), b"Hello from task t1!");
        let grace = t.kill_policy.unwrap().grace_period.unwrap();
        assert_eq!(grace.to_duration().as_secs(), 3);
        assert_eq!(t.limits["cpus"].value, 2.0);
        let back = serde_json::to_string(&t).unwrap();
        let again: TaskInfo = serde_json::from_str(&back).unwrap();
        assert_eq!(again, t);
    }

    #[test]
    fn task_info_required_fields() {
        let missing_agent = r#"{"task_id":{"value":"t"},"name":"n"}"#;
        let err = serde_json::from_str::<TaskInfo>(missing_agent).unwrap_err();
        assert!(err.to_string().contains("agent_id"), "{err}");
        assert!(serde_json::from_str::<ExecutorInfo>(r#"{"name":"x"}"#).is_err());
    }

    #[test]
    fn executor_type() {
        let e: ExecutorInfo =
            serde_json::from_str(r#"{"type":"DEFAULT","executor_id":{"value":"e"}}"#).unwrap();
        assert_eq!(e.r#type, Some(ExecutorType::Default));
    }
}
