//! [`Event`]: what the driver hands the framework, and the [`Events`] receiver.

use std::time::{Duration, Instant};

use meseta_api::scheduler::{self, EventType};
use meseta_api::{
    AgentId, ExecutorId, FrameworkId, InverseOffer, MasterInfo, Offer, OfferId, OperationStatus,
    TaskStatus,
};
use tokio::sync::mpsc;

use crate::detector::MasterAddr;

/// An event of the scheduler API, or of the driver's connection.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Event {
    /// Subscribed (again, after a reconnection): calls may be sent now.
    Subscribed {
        /// The framework's id; the same on every re-subscription.
        framework_id: FrameworkId,
        /// The master's `MasterInfo`, if it sent one.
        master_info: Option<MasterInfo>,
        /// The master that answered.
        master: MasterAddr,
        /// `heartbeat_interval_seconds`.
        heartbeat_interval: Option<Duration>,
    },
    /// New offers.
    Offers(Vec<Offer>),
    /// Maintenance inverse offers.
    InverseOffers(Vec<InverseOffer>),
    /// An offer was withdrawn.
    Rescind(OfferId),
    /// An inverse offer was withdrawn.
    RescindInverseOffer(OfferId),
    /// A task status update. With implicit acknowledgements the driver acknowledges it.
    Update(TaskStatus),
    /// An operation status update.
    UpdateOperationStatus(OperationStatus),
    /// A framework message from an executor.
    Message(scheduler::Message),
    /// An agent (no `executor_id`) or executor failed.
    Failure {
        /// The agent.
        agent_id: Option<AgentId>,
        /// The executor, for executor failures.
        executor_id: Option<ExecutorId>,
        /// The executor's wait status.
        status: Option<i32>,
    },
    /// The master sent ERROR (e.g. the framework was removed) or refused the subscription
    /// for good; the driver stops and the channel ends after this event.
    Error(String),
    /// A HEARTBEAT arrived.
    Heartbeat,
    /// Not (or no longer) subscribed: a subscription attempt failed or the stream ended.
    /// Calls fail with [`crate::Error::NotSubscribed`] until the next
    /// [`Event::Subscribed`]; the driver is already retrying.
    Disconnected {
        /// Why.
        reason: String,
    },
}

impl Event {
    /// Converts a wire event; `None` for SUBSCRIBED (handled by the driver), UNKNOWN and
    /// events missing their body.
    pub(crate) fn from_wire(ev: scheduler::Event) -> Option<Self> {
        Some(match ev.r#type {
            EventType::Offers => Event::Offers(ev.offers?.offers),
            EventType::InverseOffers => Event::InverseOffers(ev.inverse_offers?.inverse_offers),
            EventType::Rescind => Event::Rescind(ev.rescind?.offer_id),
            EventType::RescindInverseOffer => {
                Event::RescindInverseOffer(ev.rescind_inverse_offer?.inverse_offer_id)
            }
            EventType::Update => Event::Update(ev.update?.status),
            EventType::UpdateOperationStatus => {
                Event::UpdateOperationStatus(ev.update_operation_status?.status)
            }
            EventType::Message => Event::Message(ev.message?),
            EventType::Failure => {
                let f = ev.failure?;
                Event::Failure {
                    agent_id: f.agent_id,
                    executor_id: f.executor_id,
                    status: f.status,
                }
            }
            EventType::Error => Event::Error(ev.error.map(|e| e.message).unwrap_or_default()),
            EventType::Heartbeat => Event::Heartbeat,
            EventType::Subscribed | EventType::Unknown => return None,
        })
    }
}

/// The receiving end of a driver's events. Ends (`None`) once the driver has stopped.
#[derive(Debug)]
pub struct Events {
    pub(crate) rx: mpsc::Receiver<(Instant, Event)>,
}

impl Events {
    /// The next event.
    pub async fn recv(&mut self) -> Option<Event> {
        self.rx.recv().await.map(|(_, e)| e)
    }

    /// The next event with the instant the driver read it off the stream (for latency
    /// measurements that should not include the consumer's own delays).
    pub async fn recv_timed(&mut self) -> Option<(Instant, Event)> {
        self.rx.recv().await
    }

    /// The next event if one is queued.
    pub fn try_recv(&mut self) -> Option<Event> {
        self.rx.try_recv().ok().map(|(_, e)| e)
    }
}
