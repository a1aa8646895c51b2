//! HTTP/1.1 client for the agent's v1 executor API (`POST /api/v1/executor`, JSON).
//!
//! SUBSCRIBE answers `200` with a chunked RecordIO stream of [`Event`]s read through a
//! [`Subscription`]; every other call answers `202 Accepted`. Like the Mesos executor
//! library, the client keeps two connections: the subscription's, and one kept alive for
//! every other call (re-opened when the agent closed it), so an update costs no TCP
//! handshake.

use std::collections::VecDeque;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::client::conn::http1::SendRequest;
use hyper::header::{ACCEPT, AUTHORIZATION, CONTENT_TYPE, HOST};
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use meseta_api::executor::{Call, Event};
use meseta_api::recordio::{Decoder, RecordIoError};
use tokio::net::TcpStream;

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
    Http(#[from] hyper::Error),
    /// The request could not be built (bad endpoint text).
    #[error("cannot build request: {0}")]
    Request(#[from] hyper::http::Error),
    /// The agent refused the call.
    #[error("agent answered {status}: {body}")]
    Status {
        /// HTTP status.
        status: StatusCode,
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

/// Talks to one agent.
#[derive(Debug)]
pub struct AgentClient {
    endpoint: String,
    token: Option<String>,
    /// The kept-alive connection for calls other than SUBSCRIBE.
    calls: Option<SendRequest<Full<Bytes>>>,
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
        let mut sender = self.connect().await?;
        let response = sender.send_request(self.request(call)?).await?;
        if response.status() != StatusCode::OK {
            return Err(error_from(response).await);
        }
        Ok(Subscription {
            body: response.into_body(),
            decoder: Decoder::new(),
            pending: VecDeque::new(),
        })
    }

    /// Sends a non-streaming call (UPDATE, MESSAGE) on the kept-alive connection; succeeds
    /// on any 2xx. A connection the agent closed meanwhile is replaced once.
    pub async fn post(&mut self, call: &Call) -> Result<(), ClientError> {
        let mut kept = self.calls.take();
        if let Some(sender) = kept.as_mut() {
            if sender.ready().await.is_err() {
                kept = None;
            }
        }
        let reused = match kept {
            Some(mut sender) => {
                match sender.send_request(self.request(call)?).await {
                    Ok(response) => {
                        self.calls = Some(sender);
                        Some(response)
                    }
                    // The agent closed the idle connection: try a fresh one. Should the agent
                    // have handled the call after all, an update carries its uuid and the
                    // agent drops the duplicate.
                    Err(err)
                        if err.is_canceled() || err.is_closed() || err.is_incomplete_message() =>
                    {
                        tracing::debug!(%err, "kept-alive connection to the agent closed");
                        None
                    }
                    Err(err) => return Err(err.into()),
                }
            }
            _ => None,
        };
        let response = match reused {
            Some(response) => response,
            None => {
                let mut sender = self.connect().await?;
                let response = sender.send_request(self.request(call)?).await?;
                self.calls = Some(sender);
                response
            }
        };
        if !response.status().is_success() {
            return Err(error_from(response).await);
        }
        // Read the (empty) body so the connection can carry the next call.
        response.into_body().collect().await?;
        Ok(())
    }

    /// A new HTTP/1.1 connection to the agent, driven by a task of its own.
    async fn connect(&self) -> Result<SendRequest<Full<Bytes>>, ClientError> {
        let stream =
            TcpStream::connect(&self.endpoint)
                .await
                .map_err(|source| ClientError::Connect {
                    endpoint: self.endpoint.clone(),
                    source,
                })?;
        let _ = stream.set_nodelay(true);
        let (sender, connection) =
            hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
        tokio::spawn(async move {
            if let Err(err) = connection.await {
                tracing::debug!(%err, "agent connection ended with an error");
            }
        });
        Ok(sender)
    }

    fn request(&self, call: &Call) -> Result<Request<Full<Bytes>>, ClientError> {
        let body = serde_json::to_vec(call)?;
        let mut request = Request::post(EXECUTOR_API_PATH)
            .header(HOST, &self.endpoint)
            .header(CONTENT_TYPE, "application/json")
            .header(ACCEPT, "application/json");
        if let Some(token) = &self.token {
            request = request.header(AUTHORIZATION, format!("Bearer {token}"));
        }
        Ok(request.body(Full::new(Bytes::from(body)))?)
    }
}

async fn error_from(response: Response<Incoming>) -> ClientError {
    let status = response.status();
    let body = match response.into_body().collect().await {
        Ok(collected) => String::from_utf8_lossy(&collected.to_bytes())
            .trim()
            .to_owned(),
        Err(err) => format!("<unreadable body: {err}>"),
    };
    ClientError::Status { status, body }
}

/// An open SUBSCRIBE event stream.
#[derive(Debug)]
pub struct Subscription {
    body: Incoming,
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
            let Some(frame) = self.body.frame().await else {
                self.decoder.finish()?;
                return Ok(None);
            };
            let Ok(data) = frame?.into_data() else {
                continue; // trailers
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
