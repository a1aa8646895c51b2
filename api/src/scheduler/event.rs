//! `mesos.v1.scheduler.Event`: what the master streams to a subscribed scheduler, and the
//! deprecated `Response` message.

use serde::{Deserialize, Serialize};

use super::call::Message;
use crate::cluster::MasterInfo;
use crate::encoding::null_as_default;
use crate::ids::{AgentId, ExecutorId, FrameworkId, OfferId};
use crate::offer::{InverseOffer, Offer};
use crate::status::{OperationStatus, TaskStatus};

proto_enum! {
    /// `Event.Type`.
    #[derive(Default)]
    pub enum EventType {
        /// Invalid / unset.
        #[default]
        Unknown = "UNKNOWN",
        /// First event on the stream.
        Subscribed = "SUBSCRIBED",
        /// New offers.
        Offers = "OFFERS",
        /// Maintenance inverse offers.
        InverseOffers = "INVERSE_OFFERS",
        /// An offer was withdrawn.
        Rescind = "RESCIND",
        /// An inverse offer was withdrawn.
        RescindInverseOffer = "RESCIND_INVERSE_OFFER",
        /// A task status update.
        Update = "UPDATE",
        /// An operation status update.
        UpdateOperationStatus = "UPDATE_OPERATION_STATUS",
        /// Message from an executor.
        Message = "MESSAGE",
        /// Agent or executor failure.
        Failure = "FAILURE",
        /// Error; the stream is closed afterwards.
        Error = "ERROR",
        /// Keep-alive.
        Heartbeat = "HEARTBEAT",
    }
}

/// A scheduler event (`mesos.v1.scheduler.Event`): `type` plus the matching body.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Event {
    /// Event type.
    pub r#type: EventType,
    /// For SUBSCRIBED.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subscribed: Option<Subscribed>,
    /// For OFFERS.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub offers: Option<Offers>,
    /// For INVERSE_OFFERS.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inverse_offers: Option<InverseOffers>,
    /// For RESCIND.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rescind: Option<Rescind>,
    /// For RESCIND_INVERSE_OFFER.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rescind_inverse_offer: Option<RescindInverseOffer>,
    /// For UPDATE.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub update: Option<Update>,
    /// For UPDATE_OPERATION_STATUS.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub update_operation_status: Option<UpdateOperationStatus>,
    /// For MESSAGE.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<Message>,
    /// For FAILURE.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failure: Option<Failure>,
    /// For ERROR.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<Error>,
}

impl Event {
    /// `SUBSCRIBED` with the framework ID, heartbeat interval and master.
    pub fn subscribed(
        framework_id: FrameworkId,
        heartbeat_interval_seconds: f64,
        master_info: Option<MasterInfo>,
    ) -> Self {
        Self {
            r#type: EventType::Subscribed,
            subscribed: Some(Subscribed {
                framework_id,
                heartbeat_interval_seconds: Some(heartbeat_interval_seconds),
                master_info,
            }),
            ..Self::default()
        }
    }

    /// `OFFERS`.
    pub fn offers(offers: Vec<Offer>) -> Self {
        Self {
            r#type: EventType::Offers,
            offers: Some(Offers { offers }),
            ..Self::default()
        }
    }

    /// `RESCIND` of one offer.
    pub fn rescind(offer_id: OfferId) -> Self {
        Self {
            r#type: EventType::Rescind,
            rescind: Some(Rescind { offer_id }),
            ..Self::default()
        }
    }

    /// `UPDATE` carrying a task status.
    pub fn update(status: TaskStatus) -> Self {
        Self {
            r#type: EventType::Update,
            update: Some(Update { status }),
            ..Self::default()
        }
    }

    /// `ERROR` with a message (nested under `error`, as the proto and pymesos expect).
    pub fn error(message: impl Into<String>) -> Self {
        Self {
            r#type: EventType::Error,
            error: Some(Error {
                message: message.into(),
            }),
            ..Self::default()
        }
    }

    /// `HEARTBEAT`.
    pub fn heartbeat() -> Self {
        Self {
            r#type: EventType::Heartbeat,
            ..Self::default()
        }
    }
}

/// `Event.Subscribed`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Subscribed {
    /// Assigned (or confirmed) framework ID (required).
    pub framework_id: FrameworkId,
    /// Seconds between HEARTBEAT events (Mesos default 15).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub heartbeat_interval_seconds: Option<f64>,
    /// The leading master.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub master_info: Option<MasterInfo>,
}

/// `Event.Offers`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Offers {
    /// The offers.
    #[serde(default, deserialize_with = "null_as_default")]
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub offers: Vec<Offer>,
}

/// `Event.InverseOffers`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct InverseOffers {
    /// The inverse offers.
    #[serde(default, deserialize_with = "null_as_default")]
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub inverse_offers: Vec<InverseOffer>,
}

/// `Event.Rescind`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rescind {
    /// The withdrawn offer (required).
    pub offer_id: OfferId,
}

/// `Event.RescindInverseOffer`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RescindInverseOffer {
    /// The withdrawn inverse offer (required).
    pub inverse_offer_id: OfferId,
}

/// `Event.Update`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Update {
    /// The status (required).
    pub status: TaskStatus,
}

/// `Event.UpdateOperationStatus`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct UpdateOperationStatus {
    /// The status (required).
    pub status: OperationStatus,
}

/// `Event.Failure`: an agent (no executor) or an executor (with exit status) failed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Failure {
    /// Agent (pymesos requires it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent_id: Option<AgentId>,
    /// Executor, for executor failures.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub executor_id: Option<ExecutorId>,
    /// Executor exit status (wait status).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<i32>,
}

/// `Event.Error`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Error {
    /// Explanation (required).
    pub message: String,
}

/// `Response.Type` (deprecated).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ResponseType {
    /// Unset.
    #[default]
    Unknown,
    /// Answer to RECONCILE_OPERATIONS (deprecated; Mesos now answers 202).
    ReconcileOperations,
}

/// `scheduler.Response` (deprecated; kept for completeness).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Response {
    /// Response type.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub r#type: Option<ResponseType>,
    /// Operation statuses.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reconcile_operations: Option<ReconcileOperationsResponse>,
}

/// `Response.ReconcileOperations`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ReconcileOperationsResponse {
    /// Statuses.
    #[serde(default, deserialize_with = "null_as_default")]
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub operation_statuses: Vec<OperationStatus>,
}
