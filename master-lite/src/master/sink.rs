//! Event sinks: the sending half of a RecordIO event stream.

use bytes::Bytes;
use serde::Serialize;
use tokio::sync::mpsc;

/// The receiving half, turned into a chunked HTTP body by the server.
pub type SinkReceiver = mpsc::UnboundedReceiver<Bytes>;

/// Sends RecordIO-framed JSON events to one open stream. Dropping every
/// clone ends the stream.
#[derive(Debug, Clone)]
pub struct Sink {
    tx: mpsc::UnboundedSender<Bytes>,
}

impl Sink {
    /// A new stream.
    pub fn channel() -> (Sink, SinkReceiver) {
        let (tx, rx) = mpsc::unbounded_channel();
        (Sink { tx }, rx)
    }

    /// Encodes and queues `event`; false if the stream is gone.
    pub fn send<T: Serialize>(&self, event: &T) -> bool {
        match meseta_api::recordio::encode_json(event) {
            Ok(bytes) => self.tx.send(Bytes::from(bytes)).is_ok(),
            Err(err) => {
                tracing::error!(%err, "cannot encode event");
                false
            }
        }
    }

    /// Whether the receiving side (the HTTP connection) is gone.
    pub fn is_closed(&self) -> bool {
        self.tx.is_closed()
    }
}
