//! `mesos.v1.master.Event`: the operator event stream opened by SUBSCRIBE.

use serde::{Deserialize, Serialize};

use super::response::{Agent, Framework, GetState};
use crate::framework::FrameworkInfo;
use crate::ids::{AgentId, FrameworkId};
use crate::status::{TaskState, TaskStatus};
use crate::task::Task;

proto_enum! {
    /// `master.Event.Type`.
    #[derive(Default)]
    pub enum EventType {
        /// Unset.
        #[default]
        Unknown = "UNKNOWN",
        /// First event: full state.
        Subscribed = "SUBSCRIBED",
        /// A task was added.
        TaskAdded = "TASK_ADDED",
        /// A task's state changed.
        TaskUpdated = "TASK_UPDATED",
        /// An agent registered.
        AgentAdded = "AGENT_ADDED",
        /// An agent was removed.
        AgentRemoved = "AGENT_REMOVED",
        /// A framework subscribed.
        FrameworkAdded = "FRAMEWORK_ADDED",
        /// A framework re-subscribed or changed.
        FrameworkUpdated = "FRAMEWORK_UPDATED",
        /// A framework was removed.
        FrameworkRemoved = "FRAMEWORK_REMOVED",
        /// Keep-alive.
        Heartbeat = "HEARTBEAT",
    }
}

/// A master operator event (`mesos.v1.master.Event`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Event {
    /// Event type.
    pub r#type: EventType,
    /// For SUBSCRIBED.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subscribed: Option<Subscribed>,
    /// For TASK_ADDED.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub task_added: Option<TaskAdded>,
    /// For TASK_UPDATED.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub task_updated: Option<TaskUpdated>,
    /// For AGENT_ADDED.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent_added: Option<AgentAdded>,
    /// For AGENT_REMOVED.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent_removed: Option<AgentRemoved>,
    /// For FRAMEWORK_ADDED.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub framework_added: Option<FrameworkEvent>,
    /// For FRAMEWORK_UPDATED.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub framework_updated: Option<FrameworkEvent>,
    /// For FRAMEWORK_REMOVED.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub framework_removed: Option<FrameworkRemoved>,
}

/// `Event.Subscribed`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Subscribed {
    /// Full state at subscription time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub get_state: Option<GetState>,
    /// Seconds between HEARTBEAT events.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub heartbeat_interval_seconds: Option<f64>,
}

/// `Event.TaskAdded`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TaskAdded {
    /// The task (required).
    pub task: Task,
}

/// `Event.TaskUpdated`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TaskUpdated {
    /// Framework (required).
    pub framework_id: FrameworkId,
    /// Latest status (required).
    pub status: TaskStatus,
    /// Latest state (required).
    pub state: TaskState,
}

/// `Event.AgentAdded`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct AgentAdded {
    /// The agent (required).
    pub agent: Agent,
}

/// `Event.AgentRemoved`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AgentRemoved {
    /// The agent (required).
    pub agent_id: AgentId,
}

/// `Event.FrameworkAdded` / `Event.FrameworkUpdated`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct FrameworkEvent {
    /// The framework (required).
    pub framework: Framework,
}

/// `Event.FrameworkRemoved`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct FrameworkRemoved {
    /// The framework (required).
    pub framework_info: FrameworkInfo,
}
