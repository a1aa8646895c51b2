//! The executor's configuration: the environment the agent sets when it launches an
//! executor (Mesos `slave.cpp` `executorEnvironment`, reference §2.1).

use std::path::PathBuf;
use std::time::Duration;

use meseta_api::{ExecutorId, FrameworkId};

use meseta_base::{parse_duration, UnitError};

/// Mesos' `--executor_shutdown_grace_period` default.
pub const DEFAULT_SHUTDOWN_GRACE_PERIOD: Duration = Duration::from_secs(5);
/// Mesos' `--executor_reregistration_timeout` default, used as the backoff cap.
pub const DEFAULT_SUBSCRIPTION_BACKOFF_MAX: Duration = Duration::from_secs(2);
/// Mesos' `--recovery_timeout` default.
pub const DEFAULT_RECOVERY_TIMEOUT: Duration = Duration::from_secs(15 * 60);

/// Everything the executor learns from its environment.
#[derive(Debug, Clone)]
pub struct Config {
    /// `MESOS_AGENT_ENDPOINT`: the agent's `host:port`.
    pub agent_endpoint: String,
    /// `MESOS_DOMAIN_SOCKET`: the agent's Unix socket for the executor API, used in place of
    /// `agent_endpoint` when set (Mesos's `--http_executor_domain_sockets`).
    pub domain_socket: Option<PathBuf>,
    /// `MESOS_FRAMEWORK_ID`.
    pub framework_id: FrameworkId,
    /// `MESOS_EXECUTOR_ID`.
    pub executor_id: ExecutorId,
    /// `MESOS_DIRECTORY`: the sandbox on the host.
    pub directory: PathBuf,
    /// `MESOS_SANDBOX`: the sandbox as seen inside the container (the task's cwd);
    /// `MESOS_DIRECTORY` when unset.
    pub sandbox: PathBuf,
    /// `MESOS_CHECKPOINT == "1"`.
    pub checkpoint: bool,
    /// `MESOS_EXECUTOR_SHUTDOWN_GRACE_PERIOD`.
    pub shutdown_grace_period: Duration,
    /// `MESOS_SUBSCRIPTION_BACKOFF_MAX`: cap of the reconnect backoff.
    pub subscription_backoff_max: Duration,
    /// `MESOS_RECOVERY_TIMEOUT`: how long to keep trying to reach a vanished agent.
    pub recovery_timeout: Duration,
    /// `MESOS_EXECUTOR_AUTHENTICATION_TOKEN`: sent as `Authorization: Bearer` on every call
    /// (the agent sets it when it has `--jwt_secret_key`). Never passed on to tasks.
    pub authentication_token: Option<String>,
}

/// The variable holding the executor's token.
pub const AUTHENTICATION_TOKEN_ENV: &str = "MESOS_EXECUTOR_AUTHENTICATION_TOKEN";

/// A missing or malformed variable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    /// A required variable is not set.
    #[error(
        "missing required environment variable {0}; mesos-executor is started by the Mesos agent, \
         which sets it"
    )]
    Missing(&'static str),
    /// A duration variable does not parse.
    #[error("invalid {name}: {source}")]
    Duration {
        /// Variable name.
        name: &'static str,
        /// Its value.
        value: String,
        /// What is wrong with it.
        source: UnitError,
    },
    /// `MESOS_AGENT_ENDPOINT` is not `host:port`.
    #[error("invalid MESOS_AGENT_ENDPOINT={0:?}: expected host:port")]
    Endpoint(String),
}

impl Config {
    /// Reads the process environment.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads variables through `lookup` (tests pass a map).
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let required = |name: &'static str| {
            lookup(name)
                .filter(|v| !v.is_empty())
                .ok_or(ConfigError::Missing(name))
        };
        let duration_or = |name: &'static str, default: Duration| match lookup(name) {
            Some(value) if !value.is_empty() => {
                parse_duration(&value).map_err(|source| ConfigError::Duration {
                    name,
                    value,
                    source,
                })
            }
            _ => Ok(default),
        };
        let agent_endpoint = required("MESOS_AGENT_ENDPOINT")?;
        let valid_endpoint = agent_endpoint
            .rsplit_once(':')
            .is_some_and(|(host, port)| !host.is_empty() && port.parse::<u16>().is_ok());
        if !valid_endpoint {
            return Err(ConfigError::Endpoint(agent_endpoint));
        }
        let framework_id = FrameworkId::new(required("MESOS_FRAMEWORK_ID")?);
        let executor_id = ExecutorId::new(required("MESOS_EXECUTOR_ID")?);
        let directory = PathBuf::from(required("MESOS_DIRECTORY")?);
        let sandbox = lookup("MESOS_SANDBOX")
            .filter(|v| !v.is_empty())
            .map_or_else(|| directory.clone(), PathBuf::from);
        Ok(Self {
            agent_endpoint,
            domain_socket: lookup("MESOS_DOMAIN_SOCKET")
                .filter(|v| !v.is_empty())
                .map(PathBuf::from),
            framework_id,
            executor_id,
            directory,
            sandbox,
            checkpoint: lookup("MESOS_CHECKPOINT").as_deref() == Some("1"),
            shutdown_grace_period: duration_or(
                "MESOS_EXECUTOR_SHUTDOWN_GRACE_PERIOD",
                DEFAULT_SHUTDOWN_GRACE_PERIOD,
            )?,
            subscription_backoff_max: duration_or(
                "MESOS_SUBSCRIPTION_BACKOFF_MAX",
                DEFAULT_SUBSCRIPTION_BACKOFF_MAX,
            )?,
            recovery_timeout: duration_or("MESOS_RECOVERY_TIMEOUT", DEFAULT_RECOVERY_TIMEOUT)?,
            authentication_token: lookup(AUTHENTICATION_TOKEN_ENV).filter(|v| !v.is_empty()),
        })
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        move |name| map.get(name).cloned()
    }

    const BASE: [(&str, &str); 4] = [
        ("MESOS_AGENT_ENDPOINT", "127.0.0.1:5051"),
        ("MESOS_FRAMEWORK_ID", "fw"),
        ("MESOS_EXECUTOR_ID", "ex"),
        ("MESOS_DIRECTORY", "/tmp/sb"),
    ];

    #[test]
    fn defaults_apply() {
        let cfg = Config::from_lookup(env(&BASE)).unwrap();
        assert_eq!(cfg.sandbox, PathBuf::from("/tmp/sb"));
        assert!(!cfg.checkpoint);
        assert_eq!(cfg.shutdown_grace_period, DEFAULT_SHUTDOWN_GRACE_PERIOD);
    }

    #[test]
    fn reads_the_authentication_token() {
        assert_eq!(
            Config::from_lookup(env(&BASE))
                .unwrap()
                .authentication_token,
            None
        );
        let mut with = BASE.to_vec();
        with.push((AUTHENTICATION_TOKEN_ENV, "a.b.c"));
        let cfg = Config::from_lookup(env(&with)).unwrap();
        assert_eq!(cfg.authentication_token.as_deref(), Some("a.b.c"));
    }

    #[test]
    fn reports_missing_and_invalid() {
        let err = Config::from_lookup(env(&BASE[1..])).unwrap_err();
        assert_eq!(err, ConfigError::Missing("MESOS_AGENT_ENDPOINT"));
        let mut bad = BASE.to_vec();
        bad.push(("MESOS_EXECUTOR_SHUTDOWN_GRACE_PERIOD", "5"));
        assert!(matches!(
            Config::from_lookup(env(&bad)),
            Err(ConfigError::Duration { .. })
        ));
    }
}
