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
    /// The agent's Unix socket (`MESOS_DOMAIN_SOCKET`), tried before `endpoint`.
    socket: Option<std::path::PathBuf>,
    token: Option<String>,
    /// The kept-alive connection for calls other than SUBSCRIBE.
    calls: Option<Connection>,
    /// Requests sent by [`AgentClient::post_early`] whose answers the next
    /// [`AgentClient::post_all`] reads, and how many.
    early: Vec<u8>,
    early_count: usize,
}

impl AgentClient {
    /// A client for the agent at `endpoint` (`host:port`).
    pub fn new(endpoint: impl Into<String>) -> Self {
        Self {
            endpoint: endpoint.into(),
            socket: None,
            token: None,
            calls: None,
            early: Vec::new(),
            early_count: 0,
        }
    }

    /// Sends `Authorization: Bearer <token>` on every call (Mesos executor authentication).
    pub fn with_token(mut self, token: Option<String>) -> Self {
        self.token = token;
        self
    }

    /// Connects through the agent's Unix socket at `path` when it can (Mesos's
    /// `MESOS_DOMAIN_SOCKET`), through `endpoint` otherwise.
    pub fn with_domain_socket(mut self, path: Option<std::path::PathBuf>) -> Self {
        self.socket = path;
        self
    }

    /// Closes the kept-alive connection (the next call opens a new one).
    pub fn drop_connection(&mut self) {
        self.calls = None;
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

    /// Opens the kept-alive connection ahead of the first call (the agent accepts it while
    /// the task starts), so the first UPDATE does not wait for a connect. A failure is left
    /// for that call to find.
    pub async fn preconnect(&mut self) {
        if self.calls.is_none() {
            self.calls = self.connect().await.ok();
        }
    }

    /// Sends a non-streaming call (UPDATE, MESSAGE) on the kept-alive connection; succeeds
    /// on any 2xx. A connection the agent closed meanwhile is replaced once.
    pub async fn post(&mut self, call: &Call) -> Result<(), ClientError> {
        self.post_all(std::slice::from_ref(call)).await
    }

    /// Writes `call` on the kept-alive connection now, without waiting for its answer: the
    /// agent handles it while the caller goes on. The next [`AgentClient::post_all`] reads
    /// the answer, and sends the call again (before its own) should the connection have
    /// failed meanwhile.
    pub async fn post_early(&mut self, call: &Call) -> Result<(), ClientError> {
        let request = self.request(call)?;
        if let Some(conn) = self.calls.as_mut() {
            if conn.send(&request).await.is_err() {
                self.calls = None;
            }
        }
        self.early.extend(request);
        self.early_count += 1;
        Ok(())
    }

    /// Sends `calls` pipelined on the kept-alive connection (written at once, answered in
    /// order, after the answers to earlier [`AgentClient::post_early`] calls); succeeds when
    /// every answer is a 2xx. A connection the agent closed meanwhile is replaced once, and
    /// the calls are sent again on the new one: should the agent have handled some after
    /// all, an update carries its uuid and the agent drops the duplicate.
    pub async fn post_all(&mut self, calls: &[Call]) -> Result<(), ClientError> {
        let mut requests = Vec::new();
        for call in calls {
            requests.extend(self.request(call)?);
        }
        let mut early = std::mem::take(&mut self.early);
        let count = std::mem::take(&mut self.early_count) + calls.len();
        if let Some(mut conn) = self.calls.take() {
            // The early requests are already on this connection.
            match exchange_all(&mut conn, &requests, count).await {
                Ok(Answer::Done { keep }) => {
                    self.calls = keep.then_some(conn);
                    return Ok(());
                }
                Ok(Answer::Refused(err)) => return Err(err),
                Err(err) => tracing::debug!(%err, "kept-alive connection to the agent closed"),
            }
        }
        early.extend(requests);
        let mut conn = self.connect().await?;
        match exchange_all(&mut conn, &early, count).await? {
            Answer::Done { keep } => {
                self.calls = keep.then_some(conn);
                Ok(())
            }
            Answer::Refused(err) => Err(err),
        }
    }

    /// A new HTTP/1.1 connection to the agent.
    ///
    /// Through the Unix socket when there is one; its failure (the path too long for a socket
    /// address, an agent restarting, one that serves no socket) falls back to TCP, which
    /// every agent serves.
    async fn connect(&self) -> Result<Connection, ClientError> {
        if let Some(path) = &self.socket {
            match Connection::connect_unix(path).await {
                Ok(conn) => return Ok(conn),
                Err(err) => tracing::debug!(socket = %path.display(), %err,
                    "cannot connect to the agent's Unix socket; using TCP"),
            }
        }
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

/// How a pipelined exchange ended, when the connection worked.
enum Answer {
    /// Every call was accepted; `keep`: the connection can carry the next calls.
    Done { keep: bool },
    /// The agent refused a call.
    Refused(ClientError),
}

/// Writes `requests` (`count` of them) and reads as many answers.
async fn exchange_all(
    conn: &mut Connection,
    requests: &[u8],
    count: usize,
) -> Result<Answer, ClientError> {
    conn.send(requests).await?;
    let mut keep = true;
    for _ in 0..count {
        let head = conn.read_head().await?;
        if !(200..300).contains(&head.status) {
            return Ok(Answer::Refused(error_from(conn, head).await));
        }
        // Read the (empty) body so the connection can carry the next answer.
        conn.read_body(head.body).await?;
        if head.close || head.body == crate::http1::BodyKind::UntilClose {
            keep = false;
            break;
        }
    }
    Ok(Answer::Done { keep })
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
    pending: VecDeque<Box<Event>>,
}

impl Subscription {
    /// Takes over a SUBSCRIBE connection handed back by the park, read up to a chunk
    /// boundary (see [`Subscription::is_idle`]). Needs a tokio runtime.
    pub fn adopt(socket: std::os::fd::OwnedFd) -> std::io::Result<Self> {
        let unix = nix::sys::socket::getsockname::<nix::sys::socket::SockaddrStorage>(
            std::os::fd::AsRawFd::as_raw_fd(&socket),
        )
        .is_ok_and(|addr| {
            nix::sys::socket::SockaddrLike::family(&addr)
                == Some(nix::sys::socket::AddressFamily::Unix)
        });
        let stream: crate::http1::Stream = if unix {
            let stream = std::os::unix::net::UnixStream::from(socket);
            stream.set_nonblocking(true)?;
            tokio::net::UnixStream::from_std(stream)?.into()
        } else {
            let stream = std::net::TcpStream::from(socket);
            stream.set_nonblocking(true)?;
            tokio::net::TcpStream::from_std(stream)?.into()
        };
        Ok(Self {
            conn: Connection::new(stream),
            decoder: Decoder::new(),
            pending: VecDeque::new(),
        })
    }

    /// Whether every byte received so far was turned into events that were all taken: the
    /// stream is between two chunks and two records.
    pub fn is_idle(&self) -> bool {
        self.pending.is_empty() && self.decoder.is_idle() && self.conn.is_idle()
    }

    /// The connection's socket.
    pub fn as_fd(&self) -> std::os::fd::BorrowedFd<'_> {
        self.conn.as_fd()
    }

    /// The next event; `Ok(None)` when the agent closed the stream.
    ///
    /// Cancel-safe: the only await point is reading the next body frame, and decoded
    /// events are queued inside `self` before anything is returned.
    pub async fn next_event(&mut self) -> Result<Option<Box<Event>>, ClientError> {
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
