//! Error types of the ZooKeeper crate: one enum for URLs, one for ZooKeeper operations.

/// A `zk://` URL (or the file holding one) that cannot be used. Each renders as one line.
#[derive(Debug, thiserror::Error)]
pub enum UrlError {
    /// The text does not start with `zk://` (or `file://`).
    #[error("invalid ZooKeeper URL '{0}': expecting 'zk://' (or 'file://') at the beginning")]
    Scheme(String),
    /// `zk:///path`: no server named.
    #[error("invalid ZooKeeper URL: no server between 'zk://' and the path")]
    NoServers,
    /// A `host:port` entry that is not one.
    #[error("invalid ZooKeeper URL: server '{0}' is not 'host:port' with a port in 1-65535")]
    Server(String),
    /// Credentials that are not `user:password`.
    #[error("invalid ZooKeeper URL: credentials must be 'user:password@'")]
    Credentials,
    /// A path ZooKeeper would reject.
    #[error("invalid ZooKeeper URL: path '{0}' must be absolute, without empty, '.' or '..' components or spaces")]
    Path(String),
    /// A `file://` URL whose file cannot be read.
    #[error("cannot read ZooKeeper URL from '{path}': {source}")]
    File {
        /// The file.
        path: String,
        /// Why it could not be read.
        source: std::io::Error,
    },
    /// A file whose content is not a valid URL.
    #[error("ZooKeeper URL in '{path}': {source}")]
    InFile {
        /// The file.
        path: String,
        /// What is wrong with its content.
        source: Box<UrlError>,
    },
    /// A file that names another file.
    #[error("ZooKeeper URL in '{0}' is itself a file:// URL; it must be a zk:// URL")]
    NestedFile(String),
}

/// A ZooKeeper operation that failed.
#[derive(Debug, thiserror::Error)]
pub enum ZkError {
    /// The client library reported an error.
    #[error("ZooKeeper {op} '{path}': {source}")]
    Op {
        /// What was attempted (`create`, `get`, ...).
        op: &'static str,
        /// The znode.
        path: String,
        /// The client's error.
        source: zookeeper_client::Error,
    },
    /// No session could be established within the session timeout.
    #[error("cannot connect to ZooKeeper at {servers}: {source}")]
    Connect {
        /// The connect string.
        servers: String,
        /// The client's error.
        source: zookeeper_client::Error,
    },
    /// A fenced write found that this process no longer holds its election node: a newer
    /// leader may exist, so nothing was written.
    #[error("fenced write refused: this process no longer holds its election node '{0}'")]
    Fenced(String),
    /// The session ended (expired, closed, or authentication failed).
    #[error("ZooKeeper session ended")]
    SessionEnded,
    /// Data read from a znode is not what it should be.
    #[error("znode '{path}' holds invalid data: {reason}")]
    BadData {
        /// The znode.
        path: String,
        /// What is wrong.
        reason: String,
    },
}

impl ZkError {
    /// Wraps a client error with the operation and path it happened on.
    pub fn op<'a>(
        op: &'static str,
        path: &'a str,
    ) -> impl Fn(zookeeper_client::Error) -> ZkError + 'a {
        move |source| ZkError::Op {
            op,
            path: path.to_string(),
            source,
        }
    }
}
