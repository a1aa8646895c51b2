//! `mesos-executor`: the Mesos command executor. It runs one task's `CommandInfo` in the
//! container the agent created, speaking the v1 executor HTTP API (`POST /api/v1/executor`)
//! to the agent named by `MESOS_AGENT_ENDPOINT`.
//!
//! * [`config`]: the environment the agent sets; [`flags`]: the command line.
//! * [`client`]: the HTTP client and the RecordIO event stream.
//! * [`process`]: starting, signalling and describing the task's process.
//! * [`updates`]: status updates and the unacknowledged-update store.
//! * [`executor`]: the event loop tying them together.
//! * [`link`] and [`docker`]: `mesos-docker-executor`, the same protocol driving a Docker
//!   container through the Engine API.

pub mod client;
pub mod config;
pub mod docker;
pub mod duration;
pub mod executor;
pub mod flags;
pub mod link;
pub mod process;
pub mod updates;

pub use config::{Config, ConfigError};
pub use executor::Executor;
pub use flags::Flags;
