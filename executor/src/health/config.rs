//! [`HealthConfig`]: a `HealthCheck` validated, with Mesos' defaults applied.

use std::time::Duration;

use meseta_api::{CheckType, HealthCheck};

use super::probe::Probe;

/// Mesos' defaults (`mesos.proto` `HealthCheck`).
pub const DEFAULT_DELAY: Duration = Duration::from_secs(15);
/// Default `interval_seconds`.
pub const DEFAULT_INTERVAL: Duration = Duration::from_secs(10);
/// Default `timeout_seconds`.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(20);
/// Default `consecutive_failures`.
pub const DEFAULT_CONSECUTIVE_FAILURES: u32 = 3;
/// Default `grace_period_seconds`.
pub const DEFAULT_GRACE_PERIOD: Duration = Duration::from_secs(10);

/// Why a `HealthCheck` cannot be run (Mesos' `validation::checks::healthCheck` texts).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvalidHealthCheck {
    /// `type` is missing or UNKNOWN.
    #[error("HealthCheck must specify 'type'")]
    NoType,
    /// The body for the type is missing.
    #[error("Expecting '{0}' to be set for {1} health check")]
    MissingBody(&'static str, &'static str),
    /// A duration is negative or not a number.
    #[error("Expecting '{0}' to be non-negative")]
    Negative(&'static str),
    /// An HTTP scheme other than http/https.
    #[error("Unsupported HTTP health check scheme: '{0}'")]
    Scheme(String),
    /// A port outside 1-65535.
    #[error("Invalid port {0} in the health check")]
    Port(u32),
}

/// A validated health check: timings plus what to probe.
#[derive(Debug, Clone)]
pub struct HealthConfig {
    /// Before the first check.
    pub delay: Duration,
    /// Between checks.
    pub interval: Duration,
    /// Per check; `None` when `timeout_seconds` is 0 (no limit, as Mesos).
    pub timeout: Option<Duration>,
    /// Failures that kill the task.
    pub consecutive_failures: u32,
    /// Failures ignored this long after the start, until the first success.
    pub grace_period: Duration,
    /// The check itself.
    pub probe: Probe,
}

fn seconds(
    value: Option<f64>,
    default: Duration,
    name: &'static str,
) -> Result<Duration, InvalidHealthCheck> {
    match value {
        None => Ok(default),
        Some(s) if s.is_finite() && s >= 0.0 => Ok(Duration::from_secs_f64(s)),
        Some(_) => Err(InvalidHealthCheck::Negative(name)),
    }
}

impl HealthConfig {
    /// Validates `check` and applies Mesos' defaults. HTTP and TCP checks probe `host`
    /// (127.0.0.1 on the host network, the container's address under docker BRIDGE).
    pub fn from_check(
        check: &HealthCheck,
        host: std::net::IpAddr,
    ) -> Result<Self, InvalidHealthCheck> {
        let probe = match check.r#type {
            None | Some(CheckType::Unknown) => return Err(InvalidHealthCheck::NoType),
            Some(CheckType::Command) => {
                let command = check
                    .command
                    .clone()
                    .ok_or(InvalidHealthCheck::MissingBody("command", "COMMAND"))?;
                Probe::Command {
                    command,
                    wrapper: Vec::new(),
                    namespace_of: None,
                }
            }
            Some(CheckType::Http) => {
                let http = check
                    .http
                    .as_ref()
                    .ok_or(InvalidHealthCheck::MissingBody("http", "HTTP"))?;
                let scheme = http.scheme.clone().unwrap_or_else(|| "http".into());
                if scheme != "http" && scheme != "https" {
                    return Err(InvalidHealthCheck::Scheme(scheme));
                }
                Probe::Http {
                    https: scheme == "https",
                    host,
                    port: port(http.port)?,
                    path: http.path.clone().unwrap_or_default(),
                }
            }
            Some(CheckType::Tcp) => {
                let tcp = check
                    .tcp
                    .as_ref()
                    .ok_or(InvalidHealthCheck::MissingBody("tcp", "TCP"))?;
                Probe::Tcp {
                    host,
                    port: port(tcp.port)?,
                }
            }
        };
        let timeout = seconds(check.timeout_seconds, DEFAULT_TIMEOUT, "timeout_seconds")?;
        Ok(Self {
            delay: seconds(check.delay_seconds, DEFAULT_DELAY, "delay_seconds")?,
            interval: seconds(check.interval_seconds, DEFAULT_INTERVAL, "interval_seconds")?,
            timeout: (!timeout.is_zero()).then_some(timeout),
            consecutive_failures: check
                .consecutive_failures
                .unwrap_or(DEFAULT_CONSECUTIVE_FAILURES),
            grace_period: seconds(
                check.grace_period_seconds,
                DEFAULT_GRACE_PERIOD,
                "grace_period_seconds",
            )?,
            probe,
        })
    }
}

fn port(p: u32) -> Result<u16, InvalidHealthCheck> {
    u16::try_from(p)
        .ok()
        .filter(|p| *p != 0)
        .ok_or(InvalidHealthCheck::Port(p))
}

#[cfg(test)]
mod tests {
    use std::net::{IpAddr, Ipv4Addr};

    use meseta_api::{HttpCheckInfo, TcpCheckInfo};

    use super::*;

    const LOCAL: IpAddr = IpAddr::V4(Ipv4Addr::LOCALHOST);

    #[test]
    fn mesos_defaults_apply() {
        let check = HealthCheck {
            r#type: Some(CheckType::Tcp),
            tcp: Some(TcpCheckInfo {
                port: 80,
                ..TcpCheckInfo::default()
            }),
            ..HealthCheck::default()
        };
        let c = HealthConfig::from_check(&check, LOCAL).unwrap();
        assert_eq!(c.delay, Duration::from_secs(15));
        assert_eq!(c.interval, Duration::from_secs(10));
        assert_eq!(c.timeout, Some(Duration::from_secs(20)));
        assert_eq!(c.consecutive_failures, 3);
        assert_eq!(c.grace_period, Duration::from_secs(10));
    }

    #[test]
    fn invalid_checks_are_refused() {
        let none = HealthCheck::default();
        assert_eq!(
            HealthConfig::from_check(&none, LOCAL).unwrap_err(),
            InvalidHealthCheck::NoType
        );
        let http = HealthCheck {
            r#type: Some(CheckType::Http),
            ..HealthCheck::default()
        };
        assert!(matches!(
            HealthConfig::from_check(&http, LOCAL),
            Err(InvalidHealthCheck::MissingBody("http", _))
        ));
        let bad = |info: HttpCheckInfo, interval: Option<f64>| HealthCheck {
            r#type: Some(CheckType::Http),
            http: Some(info),
            interval_seconds: interval,
            ..HealthCheck::default()
        };
        let ok_port = HttpCheckInfo {
            port: 8080,
            ..HttpCheckInfo::default()
        };
        assert!(HealthConfig::from_check(&bad(ok_port.clone(), None), LOCAL).is_ok());
        assert!(HealthConfig::from_check(&bad(ok_port.clone(), Some(-1.0)), LOCAL).is_err());
        assert!(HealthConfig::from_check(&bad(ok_port.clone(), Some(f64::NAN)), LOCAL).is_err());
        let scheme = HttpCheckInfo {
            scheme: Some("ftp".into()),
            ..ok_port
        };
        assert!(HealthConfig::from_check(&bad(scheme, None), LOCAL).is_err());
        let port = HttpCheckInfo {
            port: 70_000,
            ..HttpCheckInfo::default()
        };
        assert!(HealthConfig::from_check(&bad(port, None), LOCAL).is_err());
    }

    #[test]
    fn zero_timeout_means_no_limit() {
        let check = HealthCheck {
            r#type: Some(CheckType::Tcp),
            tcp: Some(TcpCheckInfo {
                port: 80,
                ..TcpCheckInfo::default()
            }),
            timeout_seconds: Some(0.0),
            ..HealthCheck::default()
        };
        assert_eq!(
            HealthConfig::from_check(&check, LOCAL).unwrap().timeout,
            None
        );
    }
}
