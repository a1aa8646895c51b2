//! `mesos.v1.scheduler.Call`: what a scheduler POSTs to `/api/v1/scheduler`.

use serde::{Deserialize, Serialize};

use super::constraints::OfferConstraints;
use crate::common::Filters;
use crate::encoding::{null_as_default, Bytes};
use crate::error::{check_uuid, ValidationError};
use crate::framework::FrameworkInfo;
use crate::ids::{
    AgentId, ExecutorId, FrameworkId, OfferId, OperationId, ResourceProviderId, TaskId,
};
use crate::offer::{OfferOperation, Request};
use crate::task::KillPolicy;

proto_enum! {
    /// `Call.Type`. Parsing is strict: an unknown name is a deserialization error.
    #[derive(Default)]
    pub enum CallType {
        /// Invalid / unset.
        #[default]
        Unknown = "UNKNOWN",
        /// Register or re-register; opens the event stream.
        Subscribe = "SUBSCRIBE",
        /// Remove the framework and kill its tasks.
        Teardown = "TEARDOWN",
        /// Use offers.
        Accept = "ACCEPT",
        /// Decline offers.
        Decline = "DECLINE",
        /// Accept inverse offers.
        AcceptInverseOffers = "ACCEPT_INVERSE_OFFERS",
        /// Decline inverse offers.
        DeclineInverseOffers = "DECLINE_INVERSE_OFFERS",
        /// Clear filters, resume offers.
        Revive = "REVIVE",
        /// Kill a task.
        Kill = "KILL",
        /// Shut down an executor.
        Shutdown = "SHUTDOWN",
        /// Acknowledge a status update.
        Acknowledge = "ACKNOWLEDGE",
        /// Acknowledge an operation status update.
        AcknowledgeOperationStatus = "ACKNOWLEDGE_OPERATION_STATUS",
        /// Ask for task state.
        Reconcile = "RECONCILE",
        /// Ask for operation state.
        ReconcileOperations = "RECONCILE_OPERATIONS",
        /// Send data to an executor.
        Message = "MESSAGE",
        /// Request resources.
        Request = "REQUEST",
        /// Stop offers.
        Suppress = "SUPPRESS",
        /// Change `FrameworkInfo`.
        UpdateFramework = "UPDATE_FRAMEWORK",
    }
}

/// A scheduler call (`mesos.v1.scheduler.Call`): `type` plus the matching body.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Call {
    /// Absent on the first SUBSCRIBE, required otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub framework_id: Option<FrameworkId>,
    /// Call type (required here; an unknown name fails to parse).
    pub r#type: CallType,
    /// For SUBSCRIBE.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subscribe: Option<Subscribe>,
    /// For ACCEPT.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub accept: Option<Accept>,
    /// For DECLINE.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decline: Option<Decline>,
    /// For ACCEPT_INVERSE_OFFERS.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub accept_inverse_offers: Option<InverseOffersReply>,
    /// For DECLINE_INVERSE_OFFERS.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decline_inverse_offers: Option<InverseOffersReply>,
    /// For REVIVE (optional: no body means all roles).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revive: Option<Roles>,
    /// For KILL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kill: Option<Kill>,
    /// For SHUTDOWN.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shutdown: Option<Shutdown>,
    /// For ACKNOWLEDGE.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub acknowledge: Option<Acknowledge>,
    /// For ACKNOWLEDGE_OPERATION_STATUS.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub acknowledge_operation_status: Option<AcknowledgeOperationStatus>,
    /// For RECONCILE.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reconcile: Option<Reconcile>,
    /// For RECONCILE_OPERATIONS.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reconcile_operations: Option<ReconcileOperations>,
    /// For MESSAGE.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<Message>,
    /// For REQUEST.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request: Option<Requests>,
    /// For SUPPRESS (optional: no body means all roles).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub suppress: Option<Roles>,
    /// For UPDATE_FRAMEWORK.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub update_framework: Option<Subscribe>,
}

impl Call {
    /// Parses a JSON request body; the error text is suitable for a `400` response.
    pub fn from_json(body: &[u8]) -> Result<Self, crate::DecodeError> {
        crate::from_json("scheduler::Call", body)
    }

    /// Mesos' `validation::scheduler::call::validate` (without the principal check).
    pub fn validate(&self) -> Result<(), ValidationError> {
        fn need<T>(v: &Option<T>, name: &str) -> Result<(), ValidationError> {
            v.as_ref()
                .map(|_| ())
                .ok_or_else(|| ValidationError::missing(name))
        }
        if let Some(id) = &self.framework_id {
            crate::validate_id(&id.value).map_err(|e| {
                ValidationError(format!(
                    "Framework ID '{}' is invalid: {e}",
                    id.value.escape_default()
                ))
            })?;
        }
        if self.r#type == CallType::Subscribe {
            let subscribe = self
                .subscribe
                .as_ref()
                .ok_or_else(|| ValidationError::missing("subscribe"))?;
            if subscribe.framework_info.id != self.framework_id {
                return Err(ValidationError(
                    "'framework_id' differs from 'subscribe.framework_info.id'".into(),
                ));
            }
            return Ok(());
        }
        need(&self.framework_id, "framework_id")?;
        match self.r#type {
            CallType::Subscribe
            | CallType::Unknown
            | CallType::Teardown
            | CallType::Revive
            | CallType::Suppress => Ok(()),
            CallType::Accept => need(&self.accept, "accept"),
            CallType::Decline => need(&self.decline, "decline"),
            CallType::AcceptInverseOffers => {
                need(&self.accept_inverse_offers, "accept_inverse_offers")
            }
            CallType::DeclineInverseOffers => {
                need(&self.decline_inverse_offers, "decline_inverse_offers")
            }
            CallType::Kill => need(&self.kill, "kill"),
            CallType::Shutdown => need(&self.shutdown, "shutdown"),
            CallType::Acknowledge => match &self.acknowledge {
                Some(ack) => check_uuid(&ack.uuid),
                None => Err(ValidationError::missing("acknowledge")),
            },
            CallType::AcknowledgeOperationStatus => match &self.acknowledge_operation_status {
                Some(ack) => {
                    check_uuid(&ack.uuid)?;
                    need(&ack.agent_id, "agent_id")
                }
                None => Err(ValidationError::missing("acknowledge_operation_status")),
            },
            CallType::Reconcile => need(&self.reconcile, "reconcile"),
            CallType::ReconcileOperations => {
                need(&self.reconcile_operations, "reconcile_operations")
            }
            CallType::Message => need(&self.message, "message"),
            CallType::Request => need(&self.request, "request"),
            CallType::UpdateFramework => match &self.update_framework {
                Some(u) if u.framework_info.id != self.framework_id => Err(ValidationError(
                    "'framework_id' differs from 'update_framework.framework_info.id'".into(),
                )),
                Some(_) => Ok(()),
                None => Err(ValidationError::missing("update_framework")),
            },
        }
    }
}

/// `Call.Subscribe` (also the shape of `Call.UpdateFramework`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Subscribe {
    /// The framework (required).
    pub framework_info: FrameworkInfo,
    /// Roles to start suppressed.
    #[serde(default, deserialize_with = "null_as_default")]
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub suppressed_roles: Vec<String>,
    /// Attribute-based offer constraints.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub offer_constraints: Option<OfferConstraints>,
}

/// `Call.Accept`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Accept {
    /// Offers being used (all on one agent).
    #[serde(default, deserialize_with = "null_as_default")]
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub offer_ids: Vec<OfferId>,
    /// What to do with them.
    #[serde(default, deserialize_with = "null_as_default")]
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub operations: Vec<OfferOperation>,
    /// Filters for the unused remainder.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filters: Option<Filters>,
}

/// `Call.Decline`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Decline {
    /// Offers declined.
    #[serde(default, deserialize_with = "null_as_default")]
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub offer_ids: Vec<OfferId>,
    /// Filters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filters: Option<Filters>,
}

/// `Call.AcceptInverseOffers` / `Call.DeclineInverseOffers`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct InverseOffersReply {
    /// Inverse offers answered.
    #[serde(default, deserialize_with = "null_as_default")]
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub inverse_offer_ids: Vec<OfferId>,
    /// Filters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filters: Option<Filters>,
}

/// `Call.Revive` / `Call.Suppress`: roles affected; empty means all.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Roles {
    /// Roles.
    #[serde(default, deserialize_with = "null_as_default")]
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub roles: Vec<String>,
}

/// `Call.Kill`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Kill {
    /// Task (required).
    pub task_id: TaskId,
    /// Agent, if known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent_id: Option<AgentId>,
    /// Overrides the task's kill policy.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kill_policy: Option<KillPolicy>,
}

/// `Call.Shutdown`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Shutdown {
    /// Executor (required).
    pub executor_id: ExecutorId,
    /// Agent (required).
    pub agent_id: AgentId,
}

/// `Call.Acknowledge`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Acknowledge {
    /// Agent (required).
    pub agent_id: AgentId,
    /// Task (required).
    pub task_id: TaskId,
    /// The update's UUID (required, 16 bytes, base64).
    pub uuid: Bytes,
}

/// `Call.AcknowledgeOperationStatus`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AcknowledgeOperationStatus {
    /// Agent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent_id: Option<AgentId>,
    /// Resource provider.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource_provider_id: Option<ResourceProviderId>,
    /// The update's UUID (required).
    pub uuid: Bytes,
    /// Operation (required).
    pub operation_id: OperationId,
}

/// `Call.Reconcile`: empty `tasks` asks for all tasks (implicit reconciliation).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reconcile {
    /// Tasks to reconcile.
    #[serde(default, deserialize_with = "null_as_default")]
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub tasks: Vec<ReconcileTask>,
}

/// `Call.Reconcile.Task`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReconcileTask {
    /// Task (required).
    pub task_id: TaskId,
    /// Agent, if known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent_id: Option<AgentId>,
}

/// `Call.ReconcileOperations`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReconcileOperations {
    /// Operations; empty asks for all.
    #[serde(default, deserialize_with = "null_as_default")]
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub operations: Vec<ReconcileOperation>,
}

/// `Call.ReconcileOperations.Operation`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReconcileOperation {
    /// Operation (required).
    pub operation_id: OperationId,
    /// Agent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent_id: Option<AgentId>,
    /// Resource provider.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource_provider_id: Option<ResourceProviderId>,
}

/// `Call.Message` / `Event.Message`: framework message to or from an executor.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Message {
    /// Agent (required).
    pub agent_id: AgentId,
    /// Executor (required).
    pub executor_id: ExecutorId,
    /// Payload (required, base64).
    pub data: Bytes,
}

/// `Call.Request`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Requests {
    /// The requests.
    #[serde(default, deserialize_with = "null_as_default")]
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub requests: Vec<Request>,
}
