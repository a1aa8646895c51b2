//! [`Docker`]: the Engine API calls Meseta needs, each a typed request and response.

use std::time::Duration;

use bytes::Bytes;
use http_body_util::BodyExt;
use hyper::body::Incoming;
use hyper::Method;

use meseta_api::encoding::percent_encode as encode;

use crate::transport::{Body, Transport};
use crate::types::{
    ContainerConfig, ContainerInspect, ContainerSummary, Created, ImageInspect, ProgressLine,
    Version, WaitResponse,
};
use crate::{DockerError, RegistryAuth};

/// What a pull reports per progress line (layer id, status, bytes done and in all).
pub type PullProgress<'a> = &'a mut (dyn FnMut(&ProgressLine) + Send);

/// A Docker Engine API client for one socket. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Docker {
    transport: Transport,
}

impl Docker {
    /// A client for the daemon listening on `socket` (e.g. `/var/run/docker.sock`).
    pub fn new(socket: impl Into<std::path::PathBuf>) -> Self {
        Self {
            transport: Transport::new(socket),
        }
    }

    /// The socket path.
    pub fn socket(&self) -> &std::path::Path {
        self.transport.socket()
    }

    /// `GET /_ping`: succeeds when the daemon answers.
    pub async fn ping(&self) -> Result<(), DockerError> {
        self.transport
            .call(Method::GET, "/_ping", Body::Empty)
            .await
    }

    /// [`Docker::ping`] bounded by `timeout`, for callers that must answer quickly.
    pub async fn ping_within(&self, timeout: Duration) -> Result<(), DockerError> {
        match tokio::time::timeout(timeout, self.ping()).await {
            Ok(result) => result,
            Err(_) => Err(DockerError::Connect {
                socket: self.socket().display().to_string(),
                source: std::io::Error::new(
                    std::io::ErrorKind::TimedOut,
                    format!("no answer to /_ping within {timeout:?}"),
                ),
            }),
        }
    }

    /// `GET /version`.
    pub async fn version(&self) -> Result<Version, DockerError> {
        self.transport
            .json(Method::GET, "/version", Body::Empty)
            .await
    }

    /// `GET /images/{name}/json`; `Ok(None)` when the image is not present.
    pub async fn image_inspect(&self, image: &str) -> Result<Option<ImageInspect>, DockerError> {
        let path = format!("/images/{}/json", encode(image));
        match self.transport.json(Method::GET, &path, Body::Empty).await {
            Ok(found) => Ok(Some(found)),
            Err(err) if err.is_not_found() => Ok(None),
            Err(err) => Err(err),
        }
    }

    /// `POST /images/create?fromImage=...`: pulls `image` (tag `latest` when it names none),
    /// calling `progress` for every progress line. An `error` line fails the pull with
    /// Docker's message.
    pub async fn pull(&self, image: &str, progress: PullProgress<'_>) -> Result<(), DockerError> {
        self.pull_with_auth(image, None, progress).await
    }

    /// [`Docker::pull`] with credentials for the image's registry, sent to dockerd as the
    /// `X-Registry-Auth` header.
    pub async fn pull_with_auth(
        &self,
        image: &str,
        auth: Option<&RegistryAuth>,
        progress: PullProgress<'_>,
    ) -> Result<(), DockerError> {
        let last = image.rsplit('/').next().unwrap_or(image);
        let path = if last.contains(':') || last.contains('@') {
            format!("/images/create?fromImage={}", encode(image))
        } else {
            format!("/images/create?fromImage={}&tag=latest", encode(image))
        };
        let headers: Vec<(&str, String)> = auth
            .map(|a| ("X-Registry-Auth", a.header()))
            .into_iter()
            .collect();
        let response = self
            .transport
            .send_with(Method::POST, &path, Body::Empty, &headers)
            .await?;
        progress_stream(response.into_body(), progress).await
    }

    /// `DELETE /images/{name}?force=1`: removes an image (tag).
    pub async fn remove_image(&self, image: &str) -> Result<(), DockerError> {
        let path = format!("/images/{}?force=1", encode(image));
        self.transport
            .call(Method::DELETE, &path, Body::Empty)
            .await
    }

    /// `POST /images/load`: loads a `docker save` tarball.
    pub async fn load(&self, tarball: Bytes) -> Result<(), DockerError> {
        let response = self
            .transport
            .send(Method::POST, "/images/load?quiet=1", Body::Tar(tarball))
            .await?;
        progress_stream(response.into_body(), &mut |_| {}).await
    }

    /// `POST /containers/create?name=...`; returns the new container's id.
    pub async fn create(
        &self,
        name: &str,
        config: &ContainerConfig,
    ) -> Result<String, DockerError> {
        let path = format!("/containers/create?name={}", encode(name));
        let body = Body::Json(serde_json::to_vec(config)?);
        let created: Created = self.transport.json(Method::POST, &path, body).await?;
        for warning in &created.warnings {
            tracing::warn!(container = name, %warning, "docker create warning");
        }
        Ok(created.id)
    }

    /// `POST /containers/{id}/start`.
    pub async fn start(&self, container: &str) -> Result<(), DockerError> {
        let path = format!("/containers/{}/start", encode(container));
        self.transport.call(Method::POST, &path, Body::Empty).await
    }

    /// `POST /containers/{id}/wait`: blocks until the container exits; its exit code.
    pub async fn wait(&self, container: &str) -> Result<i64, DockerError> {
        let path = format!("/containers/{}/wait", encode(container));
        let answer: WaitResponse = self
            .transport
            .json(Method::POST, &path, Body::Empty)
            .await?;
        Ok(answer.status_code)
    }

    /// `POST /containers/{id}/stop?t=N`: the stop signal, then SIGKILL after `grace`.
    /// A container that is already stopped is not an error.
    pub async fn stop(&self, container: &str, grace: Duration) -> Result<(), DockerError> {
        let path = format!(
            "/containers/{}/stop?t={}",
            encode(container),
            grace.as_secs()
        );
        self.transport.call(Method::POST, &path, Body::Empty).await
    }

    /// `POST /containers/{id}/kill?signal=...`.
    pub async fn kill(&self, container: &str, signal: &str) -> Result<(), DockerError> {
        let path = format!(
            "/containers/{}/kill?signal={}",
            encode(container),
            encode(signal)
        );
        self.transport.call(Method::POST, &path, Body::Empty).await
    }

    /// `DELETE /containers/{id}?force=1&v=1`: removes the container (killing it if it runs)
    /// and its anonymous volumes.
    pub async fn remove(&self, container: &str) -> Result<(), DockerError> {
        let path = format!("/containers/{}?force=1&v=1", encode(container));
        self.transport
            .call(Method::DELETE, &path, Body::Empty)
            .await
    }

    /// `GET /containers/{id}/json`; `Ok(None)` when there is no such container.
    pub async fn inspect(&self, container: &str) -> Result<Option<ContainerInspect>, DockerError> {
        let path = format!("/containers/{}/json", encode(container));
        match self.transport.json(Method::GET, &path, Body::Empty).await {
            Ok(found) => Ok(Some(found)),
            Err(err) if err.is_not_found() => Ok(None),
            Err(err) => Err(err),
        }
    }

    /// `GET /containers/json?all=1&filters={"name":[prefix]}`: every container (running or
    /// not) whose name starts with `prefix`. Docker's name filter matches substrings, so the
    /// prefix is checked again here.
    pub async fn list(&self, prefix: &str) -> Result<Vec<ContainerSummary>, DockerError> {
        let filters = serde_json::json!({ "name": [prefix] }).to_string();
        let path = format!("/containers/json?all=1&filters={}", encode(&filters));
        let all: Vec<ContainerSummary> =
            self.transport.json(Method::GET, &path, Body::Empty).await?;
        Ok(all
            .into_iter()
            .filter(|c| c.name().starts_with(prefix))
            .collect())
    }

    /// `GET /containers/{id}/logs?follow=1&stdout=1&stderr=1`: the raw multiplexed stream
    /// (see [`crate::logs`]).
    pub async fn logs(&self, container: &str) -> Result<Incoming, DockerError> {
        let path = format!(
            "/containers/{}/logs?follow=1&stdout=1&stderr=1",
            encode(container)
        );
        let response = self.transport.send(Method::GET, &path, Body::Empty).await?;
        Ok(response.into_body())
    }
}

/// Reads a newline-separated JSON progress stream to its end; the first `error` fails it.
async fn progress_stream(
    mut body: Incoming,
    progress: PullProgress<'_>,
) -> Result<(), DockerError> {
    let mut pending = Vec::new();
    while let Some(frame) = body.frame().await {
        let Ok(data) = frame?.into_data() else {
            continue;
        };
        pending.extend_from_slice(&data);
        while let Some(end) = pending.iter().position(|b| *b == b'\n') {
            let line: Vec<u8> = pending.drain(..=end).collect();
            handle_line(&line, progress)?;
        }
    }
    handle_line(&pending, progress)
}

fn handle_line(line: &[u8], progress: PullProgress<'_>) -> Result<(), DockerError> {
    if line.iter().all(u8::is_ascii_whitespace) {
        return Ok(());
    }
    let parsed: ProgressLine = serde_json::from_slice(line)?;
    if !parsed.error.is_empty() {
        return Err(DockerError::Stream(parsed.error));
    }
    progress(&parsed);
    Ok(())
}
