//! ZooKeeper for Meseta, shared by every program that needs a leader or must find one (the
//! master; the Marathon and Chronos frameworks; agents and schedulers following a master).
//!
//! Built on the `zookeeper-client` crate (async, tokio): sessions with negotiated timeouts,
//! watches, ephemeral-sequential nodes and multi-ops, which is all Mesos's `zookeeper::Group`
//! needs. Pieces:
//! - [`url`]: `zk://[user:pass@]h1:p1,h2:p2/path` and `file://` URLs;
//! - [`session`]: connecting (retrying with one clear log line), digest auth, Mesos's ACLs,
//!   session events where "lost" (expired/closed) is an event;
//! - [`contender`]: an ephemeral-sequential `<path>/<label>_` member that reports when it
//!   leads, bound to a lease so a paused or cut-off process stops leading on its own;
//! - [`detector`]: the lowest member of a group and its data (Mesos `MasterInfo` JSON);
//! - [`fenced`]: writes that fail once the writer no longer holds its election node;
//! - [`master_info`]: `MasterInfo` JSON byte-compatible with what Mesos writes.

pub mod contender;
pub mod detector;
pub mod error;
pub mod fenced;
pub mod master_info;
pub mod members;
pub mod session;
pub mod url;

pub use contender::{Contender, Role};
pub use detector::{Detector, Leader};
pub use error::{UrlError, ZkError};
pub use fenced::{read_children, Fence, Write};
pub use members::MASTER_LABEL;
pub use session::{Session, SessionEvent, DEFAULT_SESSION_TIMEOUT};
pub use url::ZkUrl;
pub use zookeeper_client;
