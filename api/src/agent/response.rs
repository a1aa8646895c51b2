//! `mesos.v1.agent.Response`: the synchronous answers of the agent operator API.

use serde::{Deserialize, Serialize};

use super::call::ResourceProviderInfo;
use crate::cluster::{AgentInfo, DrainConfig, FileInfo, Flag, Metric, VersionInfo};
use crate::common::TimeInfo;
use crate::container::ContainerStatus;
use crate::encoding::{lenient_enum, null_as_default, Bytes};
use crate::framework::FrameworkInfo;
use crate::ids::{ContainerId, ExecutorId, FrameworkId};
use crate::resources::Resource;
use crate::statistics::ResourceStatistics;
use crate::status::{Operation, Reason, TaskResourceLimitation, TaskState};
use crate::task::{ExecutorInfo, Task};

proto_enum! {
    /// `agent.Response.Type`.
    #[derive(Default)]
    pub enum ResponseType {
        /// Unset.
        #[default]
        Unknown = "UNKNOWN",
        /// See [`GetHealth`].
        GetHealth = "GET_HEALTH",
        /// See [`GetFlags`].
        GetFlags = "GET_FLAGS",
        /// See [`GetVersion`].
        GetVersion = "GET_VERSION",
        /// See [`GetMetrics`].
        GetMetrics = "GET_METRICS",
        /// See [`GetLoggingLevel`].
        GetLoggingLevel = "GET_LOGGING_LEVEL",
        /// See [`ListFiles`].
        ListFiles = "LIST_FILES",
        /// See [`ReadFile`].
        ReadFile = "READ_FILE",
        /// See [`GetState`].
        GetState = "GET_STATE",
        /// See [`GetContainers`].
        GetContainers = "GET_CONTAINERS",
        /// See [`GetFrameworks`].
        GetFrameworks = "GET_FRAMEWORKS",
        /// See [`GetExecutors`].
        GetExecutors = "GET_EXECUTORS",
        /// See [`GetOperations`].
        GetOperations = "GET_OPERATIONS",
        /// See [`GetTasks`].
        GetTasks = "GET_TASKS",
        /// See [`GetAgent`].
        GetAgent = "GET_AGENT",
        /// See [`GetResourceProviders`].
        GetResourceProviders = "GET_RESOURCE_PROVIDERS",
        /// Deprecated; see [`WaitContainer`].
        WaitNestedContainer = "WAIT_NESTED_CONTAINER",
        /// See [`WaitContainer`].
        WaitContainer = "WAIT_CONTAINER",
    }
}

/// An agent operator response (`mesos.v1.agent.Response`).
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
    /// For GET_CONTAINERS.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub get_containers: Option<GetContainers>,
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
    /// For GET_AGENT.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub get_agent: Option<GetAgent>,
    /// For GET_RESOURCE_PROVIDERS.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub get_resource_providers: Option<GetResourceProviders>,
    /// For WAIT_NESTED_CONTAINER.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wait_nested_container: Option<WaitContainer>,
    /// For WAIT_CONTAINER.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wait_container: Option<WaitContainer>,
}

impl Response {
    /// `GET_HEALTH` answer.
    pub fn health(healthy: bool) -> Self {
        Self {
            r#type: ResponseType::GetHealth,
            get_health: Some(GetHealth { healthy }),
            ..Self::default()
        }
    }

    /// `GET_FLAGS` answer from `(name, value)` pairs.
    pub fn flags<K: Into<String>, V: Into<String>>(
        flags: impl IntoIterator<Item = (K, V)>,
    ) -> Self {
        Self {
            r#type: ResponseType::GetFlags,
            get_flags: Some(GetFlags {
                flags: flags
                    .into_iter()
                    .map(|(name, value)| Flag {
                        name: name.into(),
                        value: Some(value.into()),
                    })
                    .collect(),
            }),
            ..Self::default()
        }
    }

    /// `GET_VERSION` answer.
    pub fn version(version_info: VersionInfo) -> Self {
        Self {
            r#type: ResponseType::GetVersion,
            get_version: Some(GetVersion { version_info }),
            ..Self::default()
        }
    }

    /// `GET_METRICS` answer from `(name, value)` pairs.
    pub fn metrics<K: Into<String>>(metrics: impl IntoIterator<Item = (K, f64)>) -> Self {
        Self {
            r#type: ResponseType::GetMetrics,
            get_metrics: Some(GetMetrics {
                metrics: metrics
                    .into_iter()
                    .map(|(name, value)| Metric {
                        name: name.into(),
                        value: Some(value),
                    })
                    .collect(),
            }),
            ..Self::default()
        }
    }
}

/// `Response.GetHealth`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct GetHealth {
    /// Whether the agent is healthy (required).
    pub healthy: bool,
}

/// `Response.GetFlags`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct GetFlags {
    /// All flags.
    #[serde(default, deserialize_with = "null_as_default")]
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub flags: Vec<Flag>,
}

/// `Response.GetVersion`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct GetVersion {
    /// Build information (required).
    pub version_info: VersionInfo,
}

/// `Response.GetMetrics`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct GetMetrics {
    /// Metrics.
    #[serde(default, deserialize_with = "null_as_default")]
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub metrics: Vec<Metric>,
}

/// `Response.GetLoggingLevel`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct GetLoggingLevel {
    /// glog verbosity (required).
    pub level: u32,
}

/// `Response.ListFiles`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ListFiles {
    /// Directory entries.
    #[serde(default, deserialize_with = "null_as_default")]
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub file_infos: Vec<FileInfo>,
}

/// `Response.ReadFile`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReadFile {
    /// Total file size (required).
    pub size: u64,
    /// Bytes read (required, base64).
    pub data: Bytes,
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
}

/// `Response.GetContainers`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct GetContainers {
    /// Containers.
    #[serde(default, deserialize_with = "null_as_default")]
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub containers: Vec<Container>,
}

/// `Response.GetContainers.Container`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Container {
    /// Framework (absent for standalone containers).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub framework_id: Option<FrameworkId>,
    /// Executor.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub executor_id: Option<ExecutorId>,
    /// Executor name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub executor_name: Option<String>,
    /// Container (required).
    pub container_id: ContainerId,
    /// Status.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub container_status: Option<ContainerStatus>,
    /// Usage.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource_statistics: Option<ResourceStatistics>,
}

/// `Response.GetFrameworks`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct GetFrameworks {
    /// Active frameworks.
    #[serde(default, deserialize_with = "null_as_default")]
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub frameworks: Vec<Framework>,
    /// Completed frameworks.
    #[serde(default, deserialize_with = "null_as_default")]
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub completed_frameworks: Vec<Framework>,
}

/// `Response.GetFrameworks.Framework`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Framework {
    /// The framework (required).
    pub framework_info: FrameworkInfo,
}

/// `Response.GetExecutors`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct GetExecutors {
    /// Running executors.
    #[serde(default, deserialize_with = "null_as_default")]
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub executors: Vec<Executor>,
    /// Completed executors.
    #[serde(default, deserialize_with = "null_as_default")]
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub completed_executors: Vec<Executor>,
}

/// `Response.GetExecutors.Executor`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Executor {
    /// The executor (required).
    pub executor_info: ExecutorInfo,
}

/// `Response.GetOperations`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct GetOperations {
    /// Operations.
    #[serde(default, deserialize_with = "null_as_default")]
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub operations: Vec<Operation>,
}

/// `Response.GetTasks`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct GetTasks {
    /// Not yet handed to an executor (e.g. executor registering).
    #[serde(default, deserialize_with = "null_as_default")]
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub pending_tasks: Vec<Task>,
    /// Queued for an executor.
    #[serde(default, deserialize_with = "null_as_default")]
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub queued_tasks: Vec<Task>,
    /// Launched.
    #[serde(default, deserialize_with = "null_as_default")]
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub launched_tasks: Vec<Task>,
    /// Terminal but not acknowledged.
    #[serde(default, deserialize_with = "null_as_default")]
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub terminated_tasks: Vec<Task>,
    /// Terminal and acknowledged.
    #[serde(default, deserialize_with = "null_as_default")]
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub completed_tasks: Vec<Task>,
}

/// `Response.GetAgent`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct GetAgent {
    /// The agent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent_info: Option<AgentInfo>,
    /// Drain configuration, if draining.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub drain_config: Option<DrainConfig>,
    /// When draining is estimated to start.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub estimated_drain_start_time: Option<TimeInfo>,
}

/// `Response.GetResourceProviders`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct GetResourceProviders {
    /// Providers.
    #[serde(default, deserialize_with = "null_as_default")]
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub resource_providers: Vec<ResourceProvider>,
}

/// `Response.GetResourceProviders.ResourceProvider`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ResourceProvider {
    /// The provider (required).
    pub resource_provider_info: ResourceProviderInfo,
    /// Its resources.
    #[serde(default, deserialize_with = "null_as_default")]
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub total_resources: Vec<Resource>,
}

/// `Response.WaitContainer` / `Response.WaitNestedContainer`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct WaitContainer {
    /// Wait status of the container's init process.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exit_status: Option<i32>,
    /// Resulting task state.
    #[serde(default, deserialize_with = "lenient_enum")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub state: Option<TaskState>,
    /// Reason.
    #[serde(default, deserialize_with = "lenient_enum")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<Reason>,
    /// Limitation hit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limitation: Option<TaskResourceLimitation>,
    /// Message.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}
