//! A minimal HTTP/1.1 client: one connection per `GET`, as the agent's endpoints are small
//! JSON documents.

use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Empty};
use hyper::header::{ACCEPT, HOST};
use hyper::{Request, StatusCode};
use hyper_util::rt::TokioIo;
use serde::de::DeserializeOwned;
use tokio::net::TcpStream;

use super::CtlError;

/// Limit on one request, connect to last byte.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

/// Talks to one agent at `host:port`.
#[derive(Debug, Clone)]
pub struct AgentHttp {
    agent: String,
}

impl AgentHttp {
    /// A client for `agent` (`host:port`; an `http://` prefix and trailing `/` are ignored).
    pub fn new(agent: impl Into<String>) -> Self {
        let agent: String = agent.into();
        let bare = agent.strip_prefix("http://").unwrap_or(&agent);
        Self {
            agent: bare.trim_end_matches('/').to_owned(),
        }
    }

    /// `host:port` of the agent.
    pub fn agent(&self) -> &str {
        &self.agent
    }

    /// `GET path_and_query`, returning status and body.
    pub async fn get(&self, path_and_query: &str) -> Result<(StatusCode, Bytes), CtlError> {
        tokio::time::timeout(REQUEST_TIMEOUT, self.get_inner(path_and_query))
            .await
            .map_err(|_| CtlError::Timeout {
                agent: self.agent.clone(),
                secs: REQUEST_TIMEOUT.as_secs(),
            })?
    }

    /// `GET` expecting `200` and a JSON body of type `T`.
    pub async fn get_json<T: DeserializeOwned>(&self, path_and_query: &str) -> Result<T, CtlError> {
        let (status, body) = self.get(path_and_query).await?;
        let path = path_and_query.to_owned();
        if status != StatusCode::OK {
            let text = String::from_utf8_lossy(&body);
            let body = text.lines().next().unwrap_or_default().trim().to_owned();
            return Err(CtlError::Status { path, status, body });
        }
        serde_json::from_slice(&body).map_err(|source| CtlError::Json { path, source })
    }

    async fn get_inner(&self, path_and_query: &str) -> Result<(StatusCode, Bytes), CtlError> {
        let http_err = |source| CtlError::Http {
            agent: self.agent.clone(),
            source,
        };
        let stream =
            TcpStream::connect(&self.agent)
                .await
                .map_err(|source| CtlError::Unreachable {
                    agent: self.agent.clone(),
                    source,
                })?;
        let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
            .await
            .map_err(http_err)?;
        tokio::spawn(connection);
        let request = Request::get(path_and_query)
            .header(HOST, &self.agent)
            .header(ACCEPT, "application/json")
            .body(Empty::<Bytes>::new())
            .map_err(|source| CtlError::Request {
                agent: self.agent.clone(),
                source,
            })?;
        let response = sender.send_request(request).await.map_err(http_err)?;
        let status = response.status();
        let body = response
            .into_body()
            .collect()
            .await
            .map_err(http_err)?
            .to_bytes();
        Ok((status, body))
    }
}

/// Percent-encodes a query value (everything but unreserved characters and `/`).
pub fn encode_query_value(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for byte in value.bytes() {
        if byte.is_ascii_alphanumeric() || b"-_.~/".contains(&byte) {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_paths_for_queries() {
        assert_eq!(encode_query_value("/a b/c&d=e"), "/a%20b/c%26d%3De");
        assert_eq!(encode_query_value("/var/lib/x_y-z.1~"), "/var/lib/x_y-z.1~");
    }
}
