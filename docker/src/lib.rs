//! `meseta-docker`: a small Docker Engine API client (API 1.41) spoken over the unix socket
//! with hyper, never through the `docker` CLI, plus the mapping from a Mesos task's
//! `ContainerInfo.DockerInfo` to a container-create request, as Mesos' docker containerizer
//! builds its `docker run` command line.
//!
//! * [`transport`]: one HTTP/1.1 request per connection on the unix socket.
//! * [`client`]: [`Docker`], the typed calls (ping, version, images, containers).
//! * [`types`]: the request and response bodies (Docker's own field names).
//! * [`params`]: `DockerInfo.parameters` (`docker run --key=value`) onto the create request.
//! * [`mesos`]: a whole `TaskInfo` onto the create request.
//! * [`auth`]: registry credentials (`--docker_config`) as the `X-Registry-Auth` header.
//! * [`logs`]: the multiplexed stdout/stderr stream of `GET /containers/{id}/logs`.

pub mod auth;
pub mod client;
pub mod logs;
pub mod mesos;
pub mod params;
pub mod transport;
pub mod types;

pub use auth::RegistryAuth;
pub use client::{Docker, PullProgress};
pub use types::{ContainerConfig, ContainerInspect, ContainerSummary, HostConfig};

/// The Docker socket Mesos uses by default (`--docker_socket`).
pub const DEFAULT_SOCKET: &str = "/var/run/docker.sock";

/// The prefix of every container the agent creates: `mesos-<container id>` (Mesos'
/// `DOCKER_NAME_PREFIX`), how the agent finds its containers again after a restart.
pub const NAME_PREFIX: &str = "mesos-";

/// A failed Docker call.
#[derive(Debug, thiserror::Error)]
pub enum DockerError {
    /// The socket could not be reached (dockerd not running, wrong path, no permission).
    #[error("cannot connect to the Docker daemon at unix://{socket}: {source}")]
    Connect {
        /// The socket path.
        socket: String,
        /// Why.
        source: std::io::Error,
    },
    /// HTTP-level failure on an open connection.
    #[error("HTTP error talking to the Docker daemon: {0}")]
    Http(#[from] hyper::Error),
    /// A request could not be built.
    #[error("cannot build a Docker API request: {0}")]
    Request(#[from] hyper::http::Error),
    /// Docker answered with an error status; `message` is Docker's own.
    #[error("Docker API {method} {path} failed ({status}): {message}")]
    Api {
        /// HTTP method.
        method: String,
        /// Request path.
        path: String,
        /// HTTP status.
        status: u16,
        /// Docker's `message`.
        message: String,
    },
    /// The object does not exist (404).
    #[error("no such {what}: {name}")]
    NotFound {
        /// `container` or `image`.
        what: &'static str,
        /// The name asked for.
        name: String,
    },
    /// A body could not be encoded or decoded.
    #[error("bad JSON from or for the Docker daemon: {0}")]
    Json(#[from] serde_json::Error),
    /// A streamed operation (pull, load) reported an error in its progress stream.
    #[error("{0}")]
    Stream(String),
    /// A Mesos `ContainerInfo` that cannot be turned into a container.
    #[error("{0}")]
    Invalid(String),
}

impl DockerError {
    /// Whether this is a 404 (no such container or image).
    pub fn is_not_found(&self) -> bool {
        matches!(self, Self::NotFound { .. } | Self::Api { status: 404, .. })
    }
}
