//! `agentctl`: the operator's view of one agent, read over the agent's HTTP API.
//!
//! * [`http`]: a minimal HTTP/1.1 GET client.
//! * [`model`]: the `/containers` (with the `meseta` extension) and `/state` JSON shapes,
//!   and [`model::ContainerView`], one container joined with its framework, executor and tasks.
//! * [`render`]: `ps` lines and `inspect` sections.
//! * [`logs`]: reading (and following) sandbox files through `/files/read`.
//! * [`recover`]: `recover --dry-run`, what an agent restart would recover, kill and report.
//! * [`cli`]: the command line and [`cli::run`].

pub mod cli;
pub mod http;
pub mod logs;
pub mod model;
pub mod pull;
pub mod recover;
pub mod render;

use hyper::StatusCode;

/// Everything that can make an `agentctl` command fail; each prints as one line.
#[derive(Debug, thiserror::Error)]
pub enum CtlError {
    /// `agentctl pull` failed: the message says why.
    #[error("pull: {0}")]
    Pull(String),
    /// The TCP connection failed.
    #[error("cannot reach the agent at {agent}: {source}")]
    Unreachable {
        /// `host:port`.
        agent: String,
        /// The socket error.
        source: std::io::Error,
    },
    /// HTTP protocol failure.
    #[error("HTTP error talking to the agent at {agent}: {source}")]
    Http {
        /// `host:port`.
        agent: String,
        /// The hyper error.
        source: hyper::Error,
    },
    /// The request could not be built (e.g. a malformed `--agent`).
    #[error("invalid request to {agent}: {source}")]
    Request {
        /// `host:port`.
        agent: String,
        /// Why.
        source: hyper::http::Error,
    },
    /// No answer in time.
    #[error("the agent at {agent} did not answer within {secs} s")]
    Timeout {
        /// `host:port`.
        agent: String,
        /// The limit.
        secs: u64,
    },
    /// A non-200 answer.
    #[error("GET {path} answered {status}{}", if body.is_empty() { String::new() } else { format!(": {body}") })]
    Status {
        /// Request path.
        path: String,
        /// HTTP status.
        status: StatusCode,
        /// First line of the body.
        body: String,
    },
    /// The answer is not the JSON we expect.
    #[error("unexpected JSON from GET {path}: {source}")]
    Json {
        /// Request path.
        path: String,
        /// Parse error.
        source: serde_json::Error,
    },
    /// No container matches.
    #[error("no container {0:?} on this agent (see `agentctl ps`)")]
    UnknownContainer(String),
    /// More than one container starts with the given prefix.
    #[error("container prefix {0:?} is ambiguous; give more of the id")]
    AmbiguousContainer(String),
    /// Neither `/containers` nor `/state` names the container's sandbox.
    #[error("the agent reports no sandbox directory for container {0}")]
    NoSandbox(String),
    /// `agentctl recover` failed.
    #[error("recover: {0}")]
    Recover(#[from] recover::DryRunError),
    /// Writing to stdout failed.
    #[error("cannot write output: {0}")]
    Output(#[from] std::io::Error),
}
