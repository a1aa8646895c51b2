//! The HTTP authentication realms of Mesos (`src/master/constants.hpp`,
//! `src/slave/constants.hpp`), and which class of endpoint each serves.

/// Master read-only endpoints (`/state`, `/flags`, `/metrics/snapshot`, `/files/*`, ...).
pub const MASTER_READONLY: &str = "mesos-master-readonly";
/// Master read-write endpoints (`/api/v1`, `/teardown`, `/quota`, `/weights`, ...).
pub const MASTER_READWRITE: &str = "mesos-master-readwrite";
/// `/api/v1/scheduler` (`DEFAULT_HTTP_FRAMEWORK_AUTHENTICATION_REALM`).
pub const MASTER_SCHEDULER: &str = "mesos-master-scheduler";
/// Agent read-only endpoints (`/state`, `/flags`, `/containers`, `/files/*`, ...).
pub const AGENT_READONLY: &str = "mesos-agent-readonly";
/// Agent read-write endpoints (`/api/v1`).
pub const AGENT_READWRITE: &str = "mesos-agent-readwrite";
/// `/api/v1/executor`.
pub const AGENT_EXECUTOR: &str = "mesos-agent-executor";

/// The class of an endpoint, which picks its realm.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EndpointClass {
    /// Never authenticated (`/health`, `/version`, `/redirect`).
    Open,
    /// `--authenticate_http_readonly`.
    ReadOnly,
    /// `--authenticate_http_readwrite`.
    ReadWrite,
    /// `--authenticate_http_frameworks` (master `/api/v1/scheduler`).
    Framework,
}
