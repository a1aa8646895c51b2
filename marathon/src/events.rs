//! The event bus behind `/v2/events` (upstream `docs/docs/event-bus.md`): every event is a
//! JSON object with `eventType` and `timestamp`, broadcast to the SSE streams, each of which
//! filters by `event_type`. A slow reader loses events (it is told with a `lagged` comment)
//! rather than holding marathon up.

use std::sync::Arc;

use serde_json::{json, Value};
use tokio::sync::broadcast;

use crate::model::timestamp;

/// One event: its type and its JSON (with `eventType` and `timestamp`).
#[derive(Debug, Clone)]
pub struct BusEvent {
    /// `eventType`.
    pub kind: String,
    /// The payload.
    pub data: Value,
}

/// The broadcast side of the bus.
#[derive(Debug, Clone)]
pub struct EventBus {
    tx: broadcast::Sender<Arc<BusEvent>>,
}

impl Default for EventBus {
    fn default() -> Self {
        Self::new()
    }
}

impl EventBus {
    /// A bus buffering 4096 events per slow reader.
    pub fn new() -> Self {
        Self {
            tx: broadcast::channel(4096).0,
        }
    }

    /// Publishes `kind` with the fields of `fields` (an object) plus `eventType`/`timestamp`.
    pub fn publish(&self, kind: &str, fields: Value) {
        let mut data = match fields {
            Value::Object(o) => Value::Object(o),
            _ => json!({}),
        };
        data["eventType"] = json!(kind);
        data["timestamp"] = json!(timestamp());
        // No receiver is not an error: nobody listens.
        let _ = self.tx.send(Arc::new(BusEvent {
            kind: kind.to_owned(),
            data,
        }));
    }

    /// A new subscription.
    pub fn subscribe(&self) -> broadcast::Receiver<Arc<BusEvent>> {
        self.tx.subscribe()
    }

    /// Whether any stream is attached (an event nobody reads need not be built).
    pub fn listened(&self) -> bool {
        self.tx.receiver_count() > 0
    }

    /// How many streams are attached.
    pub fn subscribers(&self) -> usize {
        self.tx.receiver_count()
    }
}
