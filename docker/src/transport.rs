//! HTTP/1.1 over the Docker unix socket: one connection per request (dockerd keeps no state
//! between calls, and a long `wait` or `logs` call must not hold up the others).
//!
//! Hand-written connector (a few lines over `tokio::net::UnixStream`) rather than the
//! `hyperlocal` crate, which is not among the vendored dependencies.

use std::path::{Path, PathBuf};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::header::{CONTENT_TYPE, HOST};
use hyper::{Method, Request, Response};
use hyper_util::rt::TokioIo;
use serde::de::DeserializeOwned;
use tokio::net::UnixStream;

use crate::DockerError;

/// The Engine API version this client speaks (Docker 20.10); every path is prefixed with it.
pub const API_VERSION: &str = "v1.41";

/// A request body and its content type.
#[derive(Debug, Clone)]
pub enum Body {
    /// No body.
    Empty,
    /// `application/json`.
    Json(Vec<u8>),
    /// `application/x-tar` (image load).
    Tar(Bytes),
}

/// Sends requests to one Docker socket.
#[derive(Debug, Clone)]
pub struct Transport {
    socket: PathBuf,
}

impl Transport {
    /// A transport for the socket at `socket`.
    pub fn new(socket: impl Into<PathBuf>) -> Self {
        Self {
            socket: socket.into(),
        }
    }

    /// The socket path.
    pub fn socket(&self) -> &Path {
        &self.socket
    }

    /// Sends `method path` (path without the version prefix, query included) and returns
    /// the response if its status is 2xx; otherwise Docker's error message as
    /// [`DockerError::Api`].
    pub async fn send(
        &self,
        method: Method,
        path: &str,
        body: Body,
    ) -> Result<Response<Incoming>, DockerError> {
        self.send_with(method, path, body, &[]).await
    }

    /// [`Transport::send`] with extra request headers (e.g. `X-Registry-Auth`).
    pub async fn send_with(
        &self,
        method: Method,
        path: &str,
        body: Body,
        headers: &[(&str, String)],
    ) -> Result<Response<Incoming>, DockerError> {
        let stream =
            UnixStream::connect(&self.socket)
                .await
                .map_err(|source| DockerError::Connect {
                    socket: self.socket.display().to_string(),
                    source,
                })?;
        let (mut sender, connection) =
            hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
        tokio::spawn(async move {
            if let Err(err) = connection.await {
                tracing::debug!(%err, "docker connection ended with an error");
            }
        });
        let uri = format!("/{API_VERSION}{path}");
        let mut builder = Request::builder()
            .method(method.clone())
            .uri(&uri)
            .header(HOST, "docker");
        for (name, value) in headers {
            builder = builder.header(*name, value);
        }
        let request = match body {
            Body::Empty => builder.body(Full::new(Bytes::new()))?,
            Body::Json(json) => builder
                .header(CONTENT_TYPE, "application/json")
                .body(Full::new(Bytes::from(json)))?,
            Body::Tar(tar) => builder
                .header(CONTENT_TYPE, "application/x-tar")
                .body(Full::new(tar))?,
        };
        let response = sender.send_request(request).await?;
        if response.status().is_success() {
            return Ok(response);
        }
        let status = response.status().as_u16();
        let text = read_text(response).await?;
        Err(DockerError::Api {
            method: method.to_string(),
            path: path.to_owned(),
            status,
            message: error_message(&text),
        })
    }

    /// Sends a request and decodes the JSON answer.
    pub async fn json<T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        body: Body,
    ) -> Result<T, DockerError> {
        let response = self.send(method, path, body).await?;
        let bytes = response.into_body().collect().await?.to_bytes();
        Ok(serde_json::from_slice(&bytes)?)
    }

    /// Sends a request whose answer carries nothing of interest (204 and friends).
    pub async fn call(&self, method: Method, path: &str, body: Body) -> Result<(), DockerError> {
        let response = self.send(method, path, body).await?;
        response.into_body().collect().await?;
        Ok(())
    }
}

/// The whole body as text.
pub async fn read_text(response: Response<Incoming>) -> Result<String, DockerError> {
    let bytes = response.into_body().collect().await?.to_bytes();
    Ok(String::from_utf8_lossy(&bytes).trim().to_owned())
}

/// Docker's `{"message": "..."}`, or the raw text when the body is something else.
pub fn error_message(text: &str) -> String {
    #[derive(serde::Deserialize)]
    struct ErrorBody {
        message: String,
    }
    match serde_json::from_str::<ErrorBody>(text) {
        Ok(body) => body.message,
        Err(_) if text.is_empty() => "no message".to_owned(),
        Err(_) => text.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_messages_come_from_docker_json() {
        assert_eq!(
            error_message(r#"{"message":"No such container: x"}"#),
            "No such container: x"
        );
        assert_eq!(error_message("plain"), "plain");
    }
}
