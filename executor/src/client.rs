//! HTTP/1.1 client for the agent's v1 executor API (`POST /api/v1/executor`, JSON).
//!
//! SUBSCRIBE answers `200` with a chunked RecordIO stream of [`Event`]s read through a
//! [`Subscription`]; every other call answers `202 Accepted`. Like the Mesos executor
//! library, the client keeps two connections: the subscription's, and one kept alive for
//! every other call (re-opened when the agent closed it), so an update costs no TCP
//! handshake. The connections are [`crate::http1`]'s.

use std::collections::VecDeque;

use meseta_api::executor::{Call, Event};
use meseta_api::recordio::{Decoder, RecordIoError};

use crate::http1::{Connection, HttpError};

/// The executor API path on the agent.
pub const EXECUTOR_API_PATH: &str = "/api/v1/executor";

/// A failed call or a broken event stream.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The agent could not be reached.
    #[error("cannot connect to agent at {endpoint}: {source}")]
    Connect {
        /// `host:port`.
        endpoint: String,
        /// The socket error.
        source: std::io::Error,
    },
    /// HTTP-level failure.
    #[error("HTTP error talking to the agent: {0}")]
    Http(#[from] HttpError),
    /// The agent refused the call.
    #[error("agent answered {status}: {body}")]
    Status {
        /// HTTP status code.
        status: u16,
        /// Response body text.
        body: String,
    },
    /// The event stream is not valid RecordIO.
    #[error("bad RecordIO event stream: {0}")]
    RecordIo(#[from] RecordIoError),
    /// A call could not be serialized.
    #[error("cannot encode call as JSON: {0}")]
    Json(#[from] serde_json::Error),
}

impl From<std::io::Error> for ClientError {
    fn from(err: std::io::Error) -> Self {
        Self::Http(HttpError::Io(err))
    }
}

/// Talks to one agent.
#[derive(Debug)]
pub struct AgentClient {
    endpoint: String,
    token: Option<String>,
    /// The kept-alive connection for calls other than SUBSCRIBE.
    calls: Option<Connection>,
}

impl AgentClient {
    /// A client for the agent at `endpoint` (`host:port`).
    pub fn new(endpoint: impl Into<String>) -> Self {
        Self {
            endpoint: endpoint.into(),
            token: None,
            calls: None,
        }
    }

    /// Sends `Authorization: Bearer <token>` on every call (Mesos executor authentication).
    pub fn with_token(mut self, token: Option<String>) -> Self {
        self.token = token;
        self
    }

    /// Sends SUBSCRIBE on a connection of its own and returns the open event stream.
    pub async fn subscribe(&self, call: &Call) -> Result<Subscription, ClientError> {
        let request = self.request(call)?;
        let mut conn = self.connect().await?;
        conn.send(&request).await?;
        let head = conn.read_head().await?;
        if head.status != 200 {
            return Err(error_from(&mut conn, head).await);
        }
        if head.body != crate::http1::BodyKind::Chunked {
            return Err(ClientError::Http(HttpError::Malformed(
                "the SUBSCRIBE response is not chunked".into(),
            )));
        }
        Ok(Subscription {
            conn,
            decoder: Decoder::new(),
            pending: VecDeque::new(),
        })
    }

    /// Sends a non-streaming call (UPDATE, MESSAGE) on the kept-alive connection; succeeds
    /// on any 2xx. A connection the agent closed meanwhile is replaced once.
    pub async fn post(&mut self, call: &Call) -> Result<(), ClientError> {
        let request = self.request(call)?;
        let head = match self.calls.take() {
            Some(mut conn) => match exchange(&mut conn, &request).await {
                Ok(head) => Some((conn, head)),
                // The agent closed the idle connection: try a fresh one. Should the agent
                // have handled the call after all, an update carries its uuid and the
                // agent drops the duplicate.
                Err(err) => {
                    tracing::debug!(%err, "kept-alive connection to the agent closed");
                    None
                }
            },
            None => None,
        };
        let (mut conn, head) = match head {
            Some(reused) => reused,
            None => {
                let mut conn = self.connect().await?;
                let head = exchange(&mut conn, &request).await?;
                (conn, head)
            }
        };
        if !(200..300).contains(&head.status) {
            return Err(error_from(&mut conn, head).await);
        }
        // Read the (empty) body so the connection can carry the next call.
        conn.read_body(head.body).await?;
        if !head.close && head.body != crate::http1::BodyKind::UntilClose {
            self.calls = Some(conn);
        }
        Ok(())
    }

    /// A new HTTP/1.1 connection to the agent.
    async fn connect(&self) -> Result<Connection, ClientError> {
        Connection::connect(&self.endpoint)
            .await
            .map_err(|source| ClientError::Connect {
                endpoint: self.endpoint.clone(),
                source,
            })
    }

    /// The whole request for `call`: head and JSON body.
    fn request(&self, call: &Call) -> Result<Vec<u8>, ClientError> {
        let body = serde_json::to_vec(call)?;
        let mut request = format!(
            "POST {EXECUTOR_API_PATH} HTTP/1.1\r\nHost: {}\r\nContent-Type: application/json\r\n\
             Accept: application/json\r\nContent-Length: {}\r\n",
            self.endpoint,
            body.len()
        );
        if let Some(token) = &self.token {
            request.push_str(&format!("Authorization: Bearer {token}\r\n"));
        }
        request.push_str("\r\n");
        let mut bytes = request.into_bytes();
        bytes.extend_from_slice(&body);
        Ok(bytes)
    }
}

/// Sends `request` and reads the response head.
async fn exchange(
    conn: &mut Connection,
    request: &[u8],
) -> Result<crate::http1::Head, ClientError> {
    conn.send(request).await?;
    Ok(conn.read_head().await?)
}

async fn error_from(conn: &mut Connection, head: crate::http1::Head) -> ClientError {
    let body = match conn.read_body(head.body).await {
        Ok(body) => String::from_utf8_lossy(&body).trim().to_owned(),
        Err(err) => format!("<unreadable body: {err}>"),
    };
    ClientError::Status {
        status: head.status,
        body,
    }
}

/// An open SUBSCRIBE event stream.
#[derive(Debug)]
pub struct Subscription {
    conn: Connection,
    decoder: Decoder,
    pending: VecDeque<Event>,
}

impl Subscription {
    /// The next event; `Ok(None)` when the agent closed the stream.
    ///
    /// Cancel-safe: the only await point is reading the next body frame, and decoded
    /// events are queued inside `self` before anything is returned.
    pub async fn next_event(&mut self) -> Result<Option<Event>, ClientError> {
        loop {
            if let Some(event) = self.pending.pop_front() {
                return Ok(Some(event));
            }
            let data = match self.conn.next_chunk().await {
                Ok(Some(data)) => data,
                Ok(None) | Err(HttpError::Closed) => {
                    self.decoder.finish()?;
                    return Ok(None);
                }
                Err(err) => return Err(err.into()),
            };
            for record in self.decoder.decode(&data)? {
                // One event this executor cannot read (e.g. a newer event type) should not
                // cost the whole stream.
                match serde_json::from_slice(&record) {
                    Ok(event) => self.pending.push_back(event),
                    Err(err) => tracing::warn!(
                        %err,
                        record = %String::from_utf8_lossy(&record),
                        "skipping an undecodable event"
                    ),
                }
            }
        }
    }
}
