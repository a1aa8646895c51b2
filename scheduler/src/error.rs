//! Errors of the driver: what a call or a subscription attempt can fail with.

use std::time::Duration;

/// Why a call (or starting the driver) failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// `--master` could not be understood.
    #[error("invalid master '{master}': {reason}")]
    InvalidMaster {
        /// What was given.
        master: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The master URL needs a detector this build does not have (e.g. `zk://`).
    #[error("no master detector for '{0}'")]
    UnsupportedMaster(String),
    /// A `file://` master could not be read.
    #[error("reading the master from {path}: {source}")]
    ReadMasterFile {
        /// The file.
        path: String,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The driver is not subscribed right now (it is connecting or reconnecting).
    #[error("not subscribed to a master (the driver is connecting)")]
    NotSubscribed,
    /// The driver has stopped (after `stop`, TEARDOWN or an ERROR event).
    #[error("the scheduler driver has stopped")]
    Stopped,
    /// The call could not be serialised.
    #[error("encoding the call: {0}")]
    Encode(#[from] serde_json::Error),
    /// The HTTP request failed (connection refused, reset, ...).
    #[error("HTTP request to {master} failed: {source}")]
    Http {
        /// The master's address.
        master: String,
        /// The transport error.
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// The master did not answer in time.
    #[error("the master at {master} did not answer within {timeout:?}")]
    Timeout {
        /// The master's address.
        master: String,
        /// The limit.
        timeout: Duration,
    },
    /// The master refused the framework for good (an ERROR event, a 4xx on SUBSCRIBE).
    #[error("the master refused the framework: {0}")]
    Refused(String),
    /// No subscription within the time given (the last attempt's failure says why).
    #[error("not subscribed within {timeout:?}: {reason}")]
    NotConnected {
        /// The limit.
        timeout: Duration,
        /// Why the last attempt failed.
        reason: String,
    },
    /// The master answered with a non-2xx status.
    #[error("the master answered {status}: {body}")]
    Status {
        /// HTTP status code.
        status: u16,
        /// The response body (Mesos puts the reason there).
        body: String,
    },
}

impl Error {
    /// The HTTP status of a [`Error::Status`], if that is what this is.
    pub fn status(&self) -> Option<u16> {
        match self {
            Error::Status { status, .. } => Some(*status),
            _ => None,
        }
    }
}

/// A master detector's failure (a ZooKeeper session lost for good, a bad znode, ...).
#[derive(Debug, thiserror::Error)]
#[error("master detection failed: {0}")]
pub struct DetectError(pub Box<dyn std::error::Error + Send + Sync>);

impl DetectError {
    /// Wraps any error.
    pub fn new(err: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> Self {
        Self(err.into())
    }
}
