//! The v1 executor API (`mesos/v1/executor/executor.proto`): [`Call`]s an executor POSTs
//! to the agent's `/api/v1/executor` and the [`Event`]s streamed back.

use serde::{Deserialize, Serialize};

use crate::cluster::AgentInfo;
use crate::encoding::{null_as_default, Bytes};
use crate::error::{check_uuid, ValidationError};
use crate::framework::FrameworkInfo;
use crate::ids::{ContainerId, ExecutorId, FrameworkId, TaskId};
use crate::status::{Source, TaskState, TaskStatus};
use crate::task::{ExecutorInfo, KillPolicy, TaskGroupInfo, TaskInfo};

proto_enum! {
    /// `executor.Call.Type`. Parsing is strict: an unknown name is a deserialization error.
    #[derive(Default)]
    pub enum CallType {
        /// Invalid / unset.
        #[default]
        Unknown = "UNKNOWN",
        /// Connect and open the event stream.
        Subscribe = "SUBSCRIBE",
        /// Send a task status update.
        Update = "UPDATE",
        /// Send a framework message.
        Message = "MESSAGE",
        /// Keep-alive.
        Heartbeat = "HEARTBEAT",
    }
}

/// An executor call (`mesos.v1.executor.Call`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Call {
    /// The executor (required).
    pub executor_id: ExecutorId,
    /// Its framework (required).
    pub framework_id: FrameworkId,
    /// Call type (required here; an unknown name fails to parse).
    pub r#type: CallType,
    /// For SUBSCRIBE.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subscribe: Option<Subscribe>,
    /// For UPDATE.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub update: Option<Update>,
    /// For MESSAGE.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<Message>,
}

impl Call {
    /// Parses a JSON request body; the error text is suitable for a `400` response.
    pub fn from_json(body: &[u8]) -> Result<Self, crate::DecodeError> {
        crate::from_json("executor::Call", body)
    }

    /// Mesos' `validateExecutorCall`: body present for the type; for UPDATE a 16-byte
    /// `uuid`, matching `executor_id`, `source` SOURCE_EXECUTOR and a state other than
    /// TASK_STAGING.
    pub fn validate(&self) -> Result<(), ValidationError> {
        match self.r#type {
            CallType::Unknown | CallType::Heartbeat => Ok(()),
            CallType::Subscribe => match self.subscribe {
                Some(_) => Ok(()),
                None => Err(ValidationError::missing("subscribe")),
            },
            CallType::Message => match self.message {
                Some(_) => Ok(()),
                None => Err(ValidationError::missing("message")),
            },
            CallType::Update => {
                let status = &self
                    .update
                    .as_ref()
                    .ok_or_else(|| ValidationError::missing("update"))?
                    .status;
                let uuid = status
                    .uuid
                    .as_ref()
                    .ok_or_else(|| ValidationError::missing("uuid"))?;
                check_uuid(uuid)?;
                if let Some(id) = &status.executor_id {
                    if id != &self.executor_id {
                        return Err(ValidationError(format!(
                            "ExecutorID in Call: {} does not match ExecutorID in TaskStatus: {}",
                            self.executor_id, id
                        )));
                    }
                }
                if status.source != Some(Source::Executor) {
                    return Err(ValidationError(format!(
                        "Received Call from executor {} of framework {} with invalid source, \
                         expecting 'SOURCE_EXECUTOR'",
                        self.executor_id, self.framework_id
                    )));
                }
                if status.state == TaskState::Staging {
                    return Err(ValidationError(format!(
                        "Received TASK_STAGING from executor {} of framework {} which is not \
                         allowed",
                        self.executor_id, self.framework_id
                    )));
                }
                Ok(())
            }
        }
    }
}

/// `Call.Subscribe`: what the executor still has in flight when (re)subscribing.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Subscribe {
    /// Tasks launched but with no acknowledged update.
    #[serde(default, deserialize_with = "null_as_default")]
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub unacknowledged_tasks: Vec<TaskInfo>,
    /// Updates sent but not acknowledged.
    #[serde(default, deserialize_with = "null_as_default")]
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub unacknowledged_updates: Vec<Update>,
}

/// `Call.Update`: `{"status": TaskStatus}`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Update {
    /// The status (required; must carry `uuid`).
    pub status: TaskStatus,
}

/// `Call.Message` / `Event.Message`: `{"data": base64}`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Message {
    /// Payload (required).
    pub data: Bytes,
}

proto_enum! {
    /// `executor.Event.Type`.
    #[derive(Default)]
    pub enum EventType {
        /// Invalid / unset.
        #[default]
        Unknown = "UNKNOWN",
        /// First event on the stream.
        Subscribed = "SUBSCRIBED",
        /// Launch a task.
        Launch = "LAUNCH",
        /// Launch a task group.
        LaunchGroup = "LAUNCH_GROUP",
        /// Kill a task.
        Kill = "KILL",
        /// A status update was acknowledged.
        Acknowledged = "ACKNOWLEDGED",
        /// Framework message.
        Message = "MESSAGE",
        /// Error.
        Error = "ERROR",
        /// Shut down all tasks and exit.
        Shutdown = "SHUTDOWN",
        /// Keep-alive.
        Heartbeat = "HEARTBEAT",
    }
}

/// An executor event (`mesos.v1.executor.Event`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Event {
    /// Event type.
    pub r#type: EventType,
    /// For SUBSCRIBED.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subscribed: Option<Subscribed>,
    /// For ACKNOWLEDGED.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub acknowledged: Option<Acknowledged>,
    /// For LAUNCH.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub launch: Option<Launch>,
    /// For LAUNCH_GROUP.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub launch_group: Option<LaunchGroup>,
    /// For KILL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kill: Option<Kill>,
    /// For MESSAGE.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<Message>,
    /// For ERROR.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<Error>,
}

impl Event {
    /// An event of `type` with no body (SHUTDOWN, HEARTBEAT).
    pub fn bare(r#type: EventType) -> Self {
        Self {
            r#type,
            ..Self::default()
        }
    }

    /// `LAUNCH` of one task.
    pub fn launch(task: TaskInfo) -> Self {
        Self {
            r#type: EventType::Launch,
            launch: Some(Launch { task }),
            ..Self::default()
        }
    }

    /// `KILL` of one task.
    pub fn kill(task_id: TaskId, kill_policy: Option<KillPolicy>) -> Self {
        Self {
            r#type: EventType::Kill,
            kill: Some(Kill {
                task_id,
                kill_policy,
            }),
            ..Self::default()
        }
    }

    /// `ACKNOWLEDGED` for an update.
    pub fn acknowledged(task_id: TaskId, uuid: Bytes) -> Self {
        Self {
            r#type: EventType::Acknowledged,
            acknowledged: Some(Acknowledged { task_id, uuid }),
            ..Self::default()
        }
    }
}

/// `Event.Subscribed`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Subscribed {
    /// The executor (required). pymesos compares `executor_id` exactly.
    pub executor_info: ExecutorInfo,
    /// The framework (required). pymesos compares `id` exactly.
    pub framework_info: FrameworkInfo,
    /// The agent (required).
    pub agent_info: AgentInfo,
    /// The executor's container.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub container_id: Option<ContainerId>,
}

/// `Event.Launch`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Launch {
    /// The task (required).
    pub task: TaskInfo,
}

/// `Event.LaunchGroup`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct LaunchGroup {
    /// The tasks (required).
    pub task_group: TaskGroupInfo,
}

/// `Event.Kill`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Kill {
    /// Task (required).
    pub task_id: TaskId,
    /// Kill policy override.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kill_policy: Option<KillPolicy>,
}

/// `Event.Acknowledged`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Acknowledged {
    /// Task (required).
    pub task_id: TaskId,
    /// The acknowledged update's UUID (required, 16 bytes).
    pub uuid: Bytes,
}

/// `Event.Error`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Error {
    /// Explanation (required).
    pub message: String,
}
