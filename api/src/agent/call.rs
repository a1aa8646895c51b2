//! `mesos.v1.agent.Call` and its bodies (plus `ResourceProviderInfo`).

use serde::{Deserialize, Serialize};

use super::process_io::ProcessIo;
use crate::common::{DurationInfo, ScalarMap};
use crate::encoding::{lenient_enum, null_as_default};
use crate::error::ValidationError;
use crate::ids::{ContainerId, ResourceProviderId};
use crate::resources::{ReservationInfo, Resource};
use crate::value::Attribute;
use crate::{CommandInfo, ContainerInfo, Image};

proto_enum! {
    /// `agent.Call.Type`. Parsing is strict: an unknown name is a deserialization error.
    #[derive(Default)]
    pub enum CallType {
        /// Invalid / unset.
        #[default]
        Unknown = "UNKNOWN",
        /// Agent health.
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
        /// Tasks, executors, frameworks.
        GetState = "GET_STATE",
        /// Containers with status and statistics.
        GetContainers = "GET_CONTAINERS",
        /// Frameworks.
        GetFrameworks = "GET_FRAMEWORKS",
        /// Executors.
        GetExecutors = "GET_EXECUTORS",
        /// Operations.
        GetOperations = "GET_OPERATIONS",
        /// Tasks.
        GetTasks = "GET_TASKS",
        /// AgentInfo and drain state.
        GetAgent = "GET_AGENT",
        /// Resource providers.
        GetResourceProviders = "GET_RESOURCE_PROVIDERS",
        /// Deprecated: use LAUNCH_CONTAINER.
        LaunchNestedContainer = "LAUNCH_NESTED_CONTAINER",
        /// Deprecated: use WAIT_CONTAINER.
        WaitNestedContainer = "WAIT_NESTED_CONTAINER",
        /// Deprecated: use KILL_CONTAINER.
        KillNestedContainer = "KILL_NESTED_CONTAINER",
        /// Deprecated: use REMOVE_CONTAINER.
        RemoveNestedContainer = "REMOVE_NESTED_CONTAINER",
        /// Launch a nested container attached to the connection.
        LaunchNestedContainerSession = "LAUNCH_NESTED_CONTAINER_SESSION",
        /// Stream input into a container (streaming request).
        AttachContainerInput = "ATTACH_CONTAINER_INPUT",
        /// Stream a container's output (streaming response).
        AttachContainerOutput = "ATTACH_CONTAINER_OUTPUT",
        /// Launch a standalone or nested container.
        LaunchContainer = "LAUNCH_CONTAINER",
        /// Wait for a container to exit.
        WaitContainer = "WAIT_CONTAINER",
        /// Signal a container.
        KillContainer = "KILL_CONTAINER",
        /// Remove a terminated container.
        RemoveContainer = "REMOVE_CONTAINER",
        /// Add a resource provider config.
        AddResourceProviderConfig = "ADD_RESOURCE_PROVIDER_CONFIG",
        /// Update a resource provider config.
        UpdateResourceProviderConfig = "UPDATE_RESOURCE_PROVIDER_CONFIG",
        /// Remove a resource provider config.
        RemoveResourceProviderConfig = "REMOVE_RESOURCE_PROVIDER_CONFIG",
        /// Mark a resource provider gone.
        MarkResourceProviderGone = "MARK_RESOURCE_PROVIDER_GONE",
        /// Remove unused container images.
        PruneImages = "PRUNE_IMAGES",
    }
}

/// An agent operator call (`mesos.v1.agent.Call`).
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
    /// For GET_CONTAINERS.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub get_containers: Option<GetContainers>,
    /// For LAUNCH_NESTED_CONTAINER.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub launch_nested_container: Option<LaunchNestedContainer>,
    /// For WAIT_NESTED_CONTAINER.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wait_nested_container: Option<ContainerRef>,
    /// For KILL_NESTED_CONTAINER.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kill_nested_container: Option<KillContainer>,
    /// For REMOVE_NESTED_CONTAINER.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remove_nested_container: Option<ContainerRef>,
    /// For LAUNCH_NESTED_CONTAINER_SESSION.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub launch_nested_container_session: Option<LaunchNestedContainer>,
    /// For ATTACH_CONTAINER_INPUT.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attach_container_input: Option<AttachContainerInput>,
    /// For ATTACH_CONTAINER_OUTPUT.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attach_container_output: Option<ContainerRef>,
    /// For LAUNCH_CONTAINER.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub launch_container: Option<LaunchContainer>,
    /// For WAIT_CONTAINER.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wait_container: Option<ContainerRef>,
    /// For KILL_CONTAINER.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kill_container: Option<KillContainer>,
    /// For REMOVE_CONTAINER.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remove_container: Option<ContainerRef>,
    /// For ADD_RESOURCE_PROVIDER_CONFIG.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub add_resource_provider_config: Option<ResourceProviderConfig>,
    /// For UPDATE_RESOURCE_PROVIDER_CONFIG.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub update_resource_provider_config: Option<ResourceProviderConfig>,
    /// For REMOVE_RESOURCE_PROVIDER_CONFIG.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remove_resource_provider_config: Option<RemoveResourceProviderConfig>,
    /// For MARK_RESOURCE_PROVIDER_GONE.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mark_resource_provider_gone: Option<MarkResourceProviderGone>,
    /// For PRUNE_IMAGES.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prune_images: Option<PruneImages>,
}

impl Call {
    /// A call with no body (GET_HEALTH, GET_FLAGS, GET_STATE, ...).
    pub fn bare(r#type: CallType) -> Self {
        Self {
            r#type,
            ..Self::default()
        }
    }

    /// Parses a JSON request body; the error text is suitable for a `400` response.
    pub fn from_json(body: &[u8]) -> Result<Self, crate::DecodeError> {
        crate::from_json("agent::Call", body)
    }

    /// Checks the body required by the type is present (Mesos' `agent::validation`).
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
            CallType::LaunchNestedContainer => {
                need(&self.launch_nested_container, "launch_nested_container")
            }
            CallType::WaitNestedContainer => {
                need(&self.wait_nested_container, "wait_nested_container")
            }
            CallType::KillNestedContainer => {
                need(&self.kill_nested_container, "kill_nested_container")
            }
            CallType::RemoveNestedContainer => {
                need(&self.remove_nested_container, "remove_nested_container")
            }
            CallType::LaunchNestedContainerSession => need(
                &self.launch_nested_container_session,
                "launch_nested_container_session",
            ),
            CallType::AttachContainerInput => {
                need(&self.attach_container_input, "attach_container_input")
            }
            CallType::AttachContainerOutput => {
                need(&self.attach_container_output, "attach_container_output")
            }
            CallType::LaunchContainer => need(&self.launch_container, "launch_container"),
            CallType::WaitContainer => need(&self.wait_container, "wait_container"),
            CallType::KillContainer => need(&self.kill_container, "kill_container"),
            CallType::RemoveContainer => need(&self.remove_container, "remove_container"),
            CallType::AddResourceProviderConfig => need(
                &self.add_resource_provider_config,
                "add_resource_provider_config",
            ),
            CallType::UpdateResourceProviderConfig => need(
                &self.update_resource_provider_config,
                "update_resource_provider_config",
            ),
            CallType::RemoveResourceProviderConfig => need(
                &self.remove_resource_provider_config,
                "remove_resource_provider_config",
            ),
            CallType::MarkResourceProviderGone => need(
                &self.mark_resource_provider_gone,
                "mark_resource_provider_gone",
            ),
            _ => Ok(()),
        }
    }
}

/// `Call.GetMetrics`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct GetMetrics {
    /// Maximum time to collect metrics.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout: Option<DurationInfo>,
}

/// `Call.SetLoggingLevel`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SetLoggingLevel {
    /// glog verbosity (required).
    pub level: u32,
    /// How long until it reverts (required).
    pub duration: DurationInfo,
}

/// `Call.ListFiles`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ListFiles {
    /// Virtual path, e.g. `/var/log` or a sandbox path (required).
    pub path: String,
}

/// `Call.ReadFile`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReadFile {
    /// Virtual path (required).
    pub path: String,
    /// Byte offset (required).
    pub offset: u64,
    /// Maximum bytes to return.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub length: Option<u64>,
}

/// `Call.GetContainers`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct GetContainers {
    /// Include nested containers (default false).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub show_nested: Option<bool>,
    /// Include standalone containers (default false).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub show_standalone: Option<bool>,
}

/// `Call.LaunchNestedContainer` / `Call.LaunchNestedContainerSession`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct LaunchNestedContainer {
    /// New container's ID, with `parent` set (required).
    pub container_id: ContainerId,
    /// Command.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub command: Option<CommandInfo>,
    /// Container settings.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub container: Option<ContainerInfo>,
}

/// A call body naming just a container (`WaitContainer`, `RemoveContainer`,
/// `AttachContainerOutput` and their nested variants).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContainerRef {
    /// The container (required).
    pub container_id: ContainerId,
}

/// `Call.KillContainer` / `Call.KillNestedContainer`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct KillContainer {
    /// The container (required).
    pub container_id: ContainerId,
    /// Signal number (default SIGKILL).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signal: Option<i32>,
}

/// `Call.LaunchContainer`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct LaunchContainer {
    /// Container ID; standalone without `parent` (required).
    pub container_id: ContainerId,
    /// Command.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub command: Option<CommandInfo>,
    /// Resources (standalone containers).
    #[serde(default, deserialize_with = "null_as_default")]
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub resources: Vec<Resource>,
    /// Container settings.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub container: Option<ContainerInfo>,
    /// Resource limits.
    #[serde(default, deserialize_with = "null_as_default")]
    #[serde(skip_serializing_if = "ScalarMap::is_empty")]
    pub limits: ScalarMap,
}

/// `Call.AttachContainerInput.Type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum AttachContainerInputType {
    /// Unrecognised.
    Unknown,
    /// First record: which container.
    ContainerId,
    /// Following records: input.
    ProcessIo,
}

/// `Call.AttachContainerInput`: one record of the streaming request.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct AttachContainerInput {
    /// Record kind.
    #[serde(default, deserialize_with = "lenient_enum")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub r#type: Option<AttachContainerInputType>,
    /// For CONTAINER_ID.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub container_id: Option<ContainerId>,
    /// For PROCESS_IO.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub process_io: Option<ProcessIo>,
}

/// `mesos.v1.ResourceProviderInfo` (the CSI `storage` section is kept as raw JSON).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ResourceProviderInfo {
    /// ID, once registered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<ResourceProviderId>,
    /// Attributes.
    #[serde(default, deserialize_with = "null_as_default")]
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub attributes: Vec<Attribute>,
    /// Provider type, e.g. `org.apache.mesos.rp.local.storage` (required).
    pub r#type: String,
    /// Provider name (required).
    pub name: String,
    /// Default reservations.
    #[serde(default, deserialize_with = "null_as_default")]
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub default_reservations: Vec<ReservationInfo>,
    /// `ResourceProviderInfo.Storage`, uninterpreted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub storage: Option<serde_json::Value>,
}

/// `Call.AddResourceProviderConfig` / `Call.UpdateResourceProviderConfig`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ResourceProviderConfig {
    /// The provider (required).
    pub info: ResourceProviderInfo,
}

/// `Call.RemoveResourceProviderConfig`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RemoveResourceProviderConfig {
    /// Provider type (required).
    pub r#type: String,
    /// Provider name (required).
    pub name: String,
}

/// `Call.MarkResourceProviderGone`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MarkResourceProviderGone {
    /// The provider (required).
    pub resource_provider_id: ResourceProviderId,
}

/// `Call.PruneImages`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PruneImages {
    /// Images to keep.
    #[serde(default, deserialize_with = "null_as_default")]
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub excluded_images: Vec<Image>,
}
