//! [`Config`]: what the driver subscribes as, where, and how it retries.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use meseta_api::FrameworkInfo;

use crate::detector::MasterDetector;

/// HTTP basic credentials (`Authorization: Basic`), Mesos' `Credential{principal, secret}`.
#[derive(Clone)]
pub struct Credential {
    /// The principal (also put in `FrameworkInfo.principal` if that is unset).
    pub principal: String,
    /// The secret.
    pub secret: String,
}

impl fmt::Debug for Credential {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credential")
            .field("principal", &self.principal)
            .field("secret", &"<redacted>")
            .finish()
    }
}

/// How to run a driver. [`Config::new`] gives Mesos-like defaults; fields are public so a
/// framework sets what its flags say.
#[derive(Debug, Clone)]
pub struct Config {
    /// `host:port`, `http://host:port`, `zk://...` or `file:///path` (see
    /// [`crate::detector_for`]). Ignored when [`Config::detector`] is set.
    pub master: String,
    /// A detector to use instead of parsing [`Config::master`] (e.g. a ZooKeeper detector the
    /// framework already holds).
    pub detector: Option<Arc<dyn MasterDetector>>,
    /// The framework. Set `id` to re-subscribe as an existing framework (failover); the driver
    /// fills it in after the first SUBSCRIBED and re-subscribes with it after a disconnection,
    /// so the master keeps the tasks for `failover_timeout` seconds.
    pub framework_info: FrameworkInfo,
    /// Roles that start suppressed (`Subscribe.suppressed_roles`).
    pub suppressed_roles: Vec<String>,
    /// HTTP basic credentials for every request.
    pub credential: Option<Credential>,
    /// Acknowledge every status update that carries a `uuid` as soon as it has been handed
    /// to the event channel (Mesos' `implicitAcknowledgements`, default true). With `false`
    /// the framework calls [`crate::Scheduler::acknowledge`] itself.
    pub implicit_acknowledgements: bool,
    /// First reconnection delay (jittered, doubling).
    pub backoff_min: Duration,
    /// Largest reconnection delay.
    pub backoff_max: Duration,
    /// The connection counts as lost after this many `heartbeat_interval_seconds` without
    /// any event (Mesos' docs suggest 5).
    pub missed_heartbeats: u32,
    /// Overrides `missed_heartbeats × heartbeat_interval_seconds` when set.
    pub heartbeat_timeout: Option<Duration>,
    /// Limit for connecting, for a call's answer and for the first event of a subscription.
    pub request_timeout: Duration,
    /// Most 307 redirects followed for one subscription attempt.
    pub max_redirects: u32,
    /// Capacity of the event channel; a slow consumer makes the driver stop reading the
    /// stream (TCP pushes back on the master), it never drops events.
    pub event_buffer: usize,
}

impl Config {
    /// Defaults: implicit acknowledgements, backoff 1 s → 30 s, 5 missed heartbeats, a 10 s
    /// request timeout, 3 redirects.
    pub fn new(master: impl Into<String>, framework_info: FrameworkInfo) -> Self {
        Self {
            master: master.into(),
            detector: None,
            framework_info,
            suppressed_roles: Vec::new(),
            credential: None,
            implicit_acknowledgements: true,
            backoff_min: Duration::from_secs(1),
            backoff_max: Duration::from_secs(30),
            missed_heartbeats: 5,
            heartbeat_timeout: None,
            request_timeout: Duration::from_secs(10),
            max_redirects: 3,
            event_buffer: 1024,
        }
    }

    /// How long the stream may stay silent once SUBSCRIBED said `heartbeat_interval`.
    pub(crate) fn silence_limit(&self, heartbeat_interval: Option<Duration>) -> Duration {
        self.heartbeat_timeout.unwrap_or_else(|| {
            let interval = heartbeat_interval.unwrap_or(Duration::from_secs(15));
            interval.saturating_mul(self.missed_heartbeats.max(1))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn silence_limit_is_missed_heartbeats_times_interval_unless_overridden() {
        let mut c = Config::new("m:5050", FrameworkInfo::default());
        assert_eq!(c.silence_limit(None), Duration::from_secs(75));
        assert_eq!(
            c.silence_limit(Some(Duration::from_millis(200))),
            Duration::from_secs(1)
        );
        c.heartbeat_timeout = Some(Duration::from_secs(3));
        assert_eq!(
            c.silence_limit(Some(Duration::from_secs(15))),
            Duration::from_secs(3)
        );
    }

    #[test]
    fn credential_debug_hides_the_secret() {
        let c = Credential {
            principal: "p".into(),
            secret: "hunter2".into(),
        };
        assert!(!format!("{c:?}").contains("hunter2"));
    }
}
