//! Meseta's agent ↔ master channel (DESIGN.md: "ours, HTTP+JSON"), shaped after Mesos's
//! internal messages (`src/messages/messages.proto`: `RegisterSlaveMessage`,
//! `RunTaskMessage`, `StatusUpdateMessage`, ...) but carried like the v1 APIs.
//!
//! Transport, all on the master's port:
//! * The agent `POST`s [`Call`] `SUBSCRIBE` to [`PATH`] and keeps the chunked RecordIO
//!   response open (`Content-Type: application/json`, `Mesos-Stream-Id` header). The first
//!   [`Event`] is `REGISTERED` with the agent id (new, or the same one when
//!   `subscribe.agent_info.id` was set and the master knows it: re-registration). The master
//!   then streams `RUN_TASK`, `KILL_TASK`, `ACKNOWLEDGE`, `SHUTDOWN_FRAMEWORK`,
//!   `SHUTDOWN_EXECUTOR`, `FRAMEWORK_TO_EXECUTOR` and a `PING` every
//!   `--agent_ping_timeout` (Mesos's `PingSlaveMessage`).
//! * Every other call is its own `POST` to [`PATH`] with `agent_id` set, answered `202`.
//!   `PONG` answers a `PING` (`PongSlaveMessage`).
//! * Health (Mesos's `SlaveObserver`): a PING not answered by a PONG within
//!   `--agent_ping_timeout` is one timeout; after `--max_agent_ping_timeouts` in a row (a
//!   hung agent whose TCP connection stays open, or one whose stream is gone) the agent is
//!   marked *unreachable*: its tasks become `TASK_UNREACHABLE` (`TASK_LOST` for frameworks
//!   that are not PARTITION_AWARE) with `REASON_AGENT_REMOVED`, its stream is closed, and
//!   it is kept in the registry's unreachable list. When it re-subscribes with its id it is
//!   re-admitted: the tasks it reports are re-added and their frameworks get an update in
//!   the reported state with `REASON_AGENT_REREGISTERED`.
//! * `REGISTERED` carries `connection.total_ping_timeout_seconds`; an agent that receives no
//!   PING for that long assumes the master is gone, re-detects it and re-subscribes with
//!   backoff (`--registration_backoff_factor`), tasks still running.
//! * Status updates are at-least-once: the agent resends an update (same `uuid`) until an
//!   `ACKNOWLEDGE` with that uuid arrives; the master forwards acknowledgements from the
//!   scheduler and de-duplicates by uuid.

use serde::{Deserialize, Serialize};

use crate::cluster::{AgentInfo, MasterInfo};
use crate::encoding::{null_as_default, Bytes};
use crate::framework::FrameworkInfo;
use crate::ids::{AgentId, ExecutorId, FrameworkId, TaskId};
use crate::status::{TaskState, TaskStatus};
use crate::task::{ExecutorInfo, KillPolicy, Task, TaskInfo};

/// The master endpoint of this channel.
pub const PATH: &str = "/api/v1/internal/agent";

proto_enum! {
    /// Agent → master call type.
    #[derive(Default)]
    pub enum CallType {
        /// Invalid / unset.
        #[default]
        Unknown = "UNKNOWN",
        /// Register or re-register and open the event stream.
        Subscribe = "SUBSCRIBE",
        /// A task status update for the scheduler.
        StatusUpdate = "STATUS_UPDATE",
        /// An executor's MESSAGE for its scheduler.
        ExecutorToFramework = "EXECUTOR_TO_FRAMEWORK",
        /// An executor ended (its tasks have been updated separately).
        ExitedExecutor = "EXITED_EXECUTOR",
        /// The answer to a `PING` (`PongSlaveMessage`).
        Pong = "PONG",
    }
}

/// An agent → master call.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Call {
    /// Call type.
    pub r#type: CallType,
    /// The calling agent; required for everything but a first SUBSCRIBE.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent_id: Option<AgentId>,
    /// For SUBSCRIBE.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subscribe: Option<Subscribe>,
    /// For STATUS_UPDATE.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status_update: Option<StatusUpdate>,
    /// For EXECUTOR_TO_FRAMEWORK.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub executor_to_framework: Option<FrameworkMessage>,
    /// For EXITED_EXECUTOR.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exited_executor: Option<ExitedExecutor>,
}

/// `SUBSCRIBE`: what the agent is and (when re-registering) what it runs.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Subscribe {
    /// Hostname, port, resources, attributes; `id` set to re-register with that id.
    pub agent_info: AgentInfo,
    /// Meseta version of the agent.
    #[serde(default)]
    pub version: String,
    /// Frameworks with tasks on the agent (re-registration).
    #[serde(
        default,
        deserialize_with = "null_as_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub frameworks: Vec<FrameworkInfo>,
    /// Executors running on the agent (re-registration).
    #[serde(
        default,
        deserialize_with = "null_as_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub executors: Vec<ExecutorInfo>,
    /// Tasks on the agent with their latest state (re-registration).
    #[serde(
        default,
        deserialize_with = "null_as_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub tasks: Vec<Task>,
}

/// `StatusUpdate` (messages.proto): one update, identified by `uuid`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct StatusUpdate {
    /// The task's framework.
    pub framework_id: FrameworkId,
    /// The executor that produced it, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub executor_id: Option<ExecutorId>,
    /// The status; `status.uuid` equals `uuid` and `status.agent_id` is set.
    pub status: TaskStatus,
    /// Seconds since the epoch.
    pub timestamp: f64,
    /// Update id (16 bytes) to acknowledge.
    pub uuid: Bytes,
    /// The task's newest state at the agent when this update was (re)sent, as Mesos's
    /// `StatusUpdate.latest_state`: a retried older update (TASK_STARTING resent after
    /// TASK_RUNNING went out) must not move the master's task back.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub latest_state: Option<TaskState>,
}

/// An opaque message between an executor and its scheduler.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct FrameworkMessage {
    /// The framework.
    pub framework_id: FrameworkId,
    /// The executor.
    pub executor_id: ExecutorId,
    /// Payload.
    pub data: Bytes,
}

/// `EXITED_EXECUTOR`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ExitedExecutor {
    /// The framework.
    pub framework_id: FrameworkId,
    /// The executor.
    pub executor_id: ExecutorId,
    /// Raw wait status.
    pub status: i32,
}

proto_enum! {
    /// Master → agent event type.
    #[derive(Default)]
    pub enum EventType {
        /// Invalid / unset.
        #[default]
        Unknown = "UNKNOWN",
        /// First event: the agent's id.
        Registered = "REGISTERED",
        /// Launch a task (with its executor, or `command` for the command executor).
        RunTask = "RUN_TASK",
        /// Kill a task.
        KillTask = "KILL_TASK",
        /// The scheduler acknowledged a status update.
        Acknowledge = "ACKNOWLEDGE",
        /// Kill every executor and task of a framework.
        ShutdownFramework = "SHUTDOWN_FRAMEWORK",
        /// A scheduler's MESSAGE for an executor.
        FrameworkToExecutor = "FRAMEWORK_TO_EXECUTOR",
        /// Keep-alive (older masters; now `PING`).
        Heartbeat = "HEARTBEAT",
        /// Health check: answer with a `PONG` call (`PingSlaveMessage`).
        Ping = "PING",
        /// The master removed this agent; it must not re-register with the same id.
        Shutdown = "SHUTDOWN",
        /// A scheduler's SHUTDOWN call: stop one executor (and its tasks).
        ShutdownExecutor = "SHUTDOWN_EXECUTOR",
    }
}

/// A master → agent event.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Event {
    /// Event type.
    pub r#type: EventType,
    /// For REGISTERED.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub registered: Option<Registered>,
    /// For RUN_TASK.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub run_task: Option<RunTask>,
    /// For KILL_TASK.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kill_task: Option<KillTask>,
    /// For ACKNOWLEDGE.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub acknowledge: Option<Acknowledge>,
    /// For SHUTDOWN_FRAMEWORK.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shutdown_framework: Option<ShutdownFramework>,
    /// For FRAMEWORK_TO_EXECUTOR.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub framework_to_executor: Option<FrameworkMessage>,
    /// For SHUTDOWN_EXECUTOR.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shutdown_executor: Option<ShutdownExecutor>,
    /// For PING.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ping: Option<Ping>,
    /// For SHUTDOWN: why.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

/// `PING` (PingSlaveMessage).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Ping {
    /// Whether the master sees the agent as connected.
    #[serde(default)]
    pub connected: bool,
}

/// `MasterSlaveConnection` (messages.proto): how the agent should judge the master's health.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Connection {
    /// `--agent_ping_timeout` × `--max_agent_ping_timeouts`: with no PING for this long the
    /// agent treats the master as gone and re-detects it.
    pub total_ping_timeout_seconds: f64,
}

/// `REGISTERED`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Registered {
    /// The agent's id (kept across re-registrations).
    pub agent_id: AgentId,
    /// The master.
    pub master_info: MasterInfo,
    /// How often PING (formerly HEARTBEAT) events come.
    pub heartbeat_interval_seconds: f64,
    /// The agent's master-health settings (`SlaveRegisteredMessage.connection`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub connection: Option<Connection>,
}

/// `RUN_TASK` (RunTaskMessage).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RunTask {
    /// The framework, with `id` set.
    pub framework: FrameworkInfo,
    /// The task: `executor` for a custom executor, else `command` for the command executor.
    pub task: TaskInfo,
}

/// `KILL_TASK`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct KillTask {
    /// The framework.
    pub framework_id: FrameworkId,
    /// The task.
    pub task_id: TaskId,
    /// Overrides the task's kill policy.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kill_policy: Option<KillPolicy>,
}

/// `ACKNOWLEDGE` (StatusUpdateAcknowledgementMessage).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Acknowledge {
    /// The framework.
    pub framework_id: FrameworkId,
    /// The task.
    pub task_id: TaskId,
    /// The acknowledged update's uuid.
    pub uuid: Bytes,
}

/// `SHUTDOWN_FRAMEWORK`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ShutdownFramework {
    /// The framework.
    pub framework_id: FrameworkId,
}

/// `SHUTDOWN_EXECUTOR` (ShutdownExecutorMessage).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ShutdownExecutor {
    /// The framework.
    pub framework_id: FrameworkId,
    /// The executor to stop.
    pub executor_id: ExecutorId,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_a_run_task_event() {
        let json = r#"{"type":"RUN_TASK","run_task":{"framework":{"user":"root","name":"fw","id":{"value":"m-0000"}},
            "task":{"name":"t","task_id":{"value":"t1"},"agent_id":{"value":"m-S0"},
            "resources":[{"name":"cpus","type":"SCALAR","scalar":{"value":0.1}}],
            "command":{"value":"echo hi"}}}}"#;
        let e: Event = serde_json::from_str(json).unwrap();
        assert_eq!(e.r#type, EventType::RunTask);
        assert_eq!(e.run_task.as_ref().unwrap().task.task_id.value, "t1");
        let back: Event = serde_json::from_value(serde_json::to_value(&e).unwrap()).unwrap();
        assert_eq!(back, e);
    }

    #[test]
    fn shutdown_executor_event() {
        let json = r#"{"type":"SHUTDOWN_EXECUTOR","shutdown_executor":{
            "framework_id":{"value":"m-0000"},"executor_id":{"value":"ex"}}}"#;
        let e: Event = serde_json::from_str(json).unwrap();
        assert_eq!(e.r#type, EventType::ShutdownExecutor);
        assert_eq!(e.shutdown_executor.unwrap().executor_id.value, "ex");
    }

    #[test]
    fn ping_event_and_pong_call() {
        let e: Event =
            serde_json::from_str(r#"{"type":"PING","ping":{"connected":true}}"#).unwrap();
        assert_eq!(e.r#type, EventType::Ping);
        assert!(e.ping.unwrap().connected);
        let c: Call =
            serde_json::from_str(r#"{"type":"PONG","agent_id":{"value":"a-S0"}}"#).unwrap();
        assert_eq!(c.r#type, CallType::Pong);
        let r: Registered = serde_json::from_str(
            r#"{"agent_id":{"value":"a"},"master_info":{"id":"m","ip":0,"port":5050},
            "heartbeat_interval_seconds":15,"connection":{"total_ping_timeout_seconds":75}}"#,
        )
        .unwrap();
        assert_eq!(r.connection.unwrap().total_ping_timeout_seconds, 75.0);
    }

    #[test]
    fn unknown_call_types_are_rejected() {
        assert!(serde_json::from_str::<Call>(r#"{"type":"NOPE"}"#).is_err());
        let c: Call = serde_json::from_str(
            r#"{"type":"SUBSCRIBE","subscribe":{"agent_info":{"hostname":"h"}}}"#,
        )
        .unwrap();
        assert_eq!(c.subscribe.unwrap().agent_info.hostname, "h");
    }
}
