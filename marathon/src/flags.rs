//! `marathon` flags with Marathon 1.10's names, units and defaults
//! (docs/docs/command-line-flags.md): durations of the `*_timeout`, `*_interval` and
//! `*_delay` flags are milliseconds except `--failover_timeout` (seconds), as upstream.
//!
//! Every flag can also come from a `MARATHON_<FLAG>` environment variable, as
//! `/etc/default/marathon` sets them for the packaged init scripts; the command line wins.
//! A boolean set by environment accepts `true`/`false`/`1`/`0`/`yes`/`no`.

use std::net::IpAddr;

use clap::{ArgAction, Parser};

/// The flags of `marathon`.
#[derive(Debug, Clone, Parser)]
#[command(
    name = "marathon",
    about = "Meseta marathon: a Marathon-compatible scheduler for long-running services",
    version = "1.10.0",
    args_override_self = true,
    rename_all = "snake_case"
)]
pub struct Flags {
    /// The Mesos master: `host:port`, `zk://host1:port1,host2:port2/mesos` or
    /// `http://host:port`. Required.
    #[arg(long, env = "MARATHON_MASTER")]
    pub master: Option<String>,

    /// ZooKeeper URL for Marathon's state and leader election,
    /// `zk://[user:pass@]host1:port1,host2:port2/path`. State lives under `<path>/state`,
    /// the election under `<path>/leader`.
    #[arg(
        long,
        env = "MARATHON_ZK",
        default_value = "zk://localhost:2181/marathon"
    )]
    pub zk: String,

    /// Keep state in memory only, not in ZooKeeper. State is lost on restart: for tests and
    /// trials only (not a Marathon flag).
    #[arg(long, env = "MARATHON_INTERNAL_STORE_BACKEND", default_value = "zk", value_parser = ["zk", "mem"])]
    pub internal_store_backend: String,

    /// Port of the REST API and the event stream.
    #[arg(long, env = "MARATHON_HTTP_PORT", default_value_t = 8080)]
    pub http_port: u16,

    /// Address the REST API listens on (default: all addresses).
    #[arg(long, env = "MARATHON_HTTP_ADDRESS")]
    pub http_address: Option<IpAddr>,

    /// Hostname advertised to Mesos and to other Marathon instances (the leader address is
    /// `<hostname>:<http_port>`). Default: this machine's hostname.
    #[arg(long, env = "MARATHON_HOSTNAME")]
    pub hostname: Option<String>,

    /// The framework name registered with Mesos.
    #[arg(long, env = "MARATHON_FRAMEWORK_NAME", default_value = "marathon")]
    pub framework_name: String,

    /// The Mesos role Marathon registers with and launches tasks under.
    #[arg(long, env = "MARATHON_MESOS_ROLE")]
    pub mesos_role: Option<String>,

    /// The user tasks run as when an app sets no `user` (default: the user running marathon).
    #[arg(long, env = "MARATHON_MESOS_USER")]
    pub mesos_user: Option<String>,

    /// Seconds Mesos keeps Marathon's tasks running after it disconnects.
    #[arg(long, env = "MARATHON_FAILOVER_TIMEOUT", default_value_t = 604_800)]
    pub failover_timeout: u64,

    /// Milliseconds a task may stay staging before it is killed and replaced.
    #[arg(long, env = "MARATHON_TASK_LAUNCH_TIMEOUT", default_value_t = 300_000)]
    pub task_launch_timeout: u64,

    /// Run without leader election (a single Marathon).
    #[arg(long, env = "MARATHON_DISABLE_HA", action = ArgAction::SetTrue)]
    pub disable_ha: bool,

    /// Register as a checkpointing framework, so tasks survive agent restarts.
    #[arg(long, env = "MARATHON_CHECKPOINT", default_value_t = true, action = ArgAction::Set, num_args = 0..=1, default_missing_value = "true")]
    pub checkpoint: bool,

    /// Do not register as a checkpointing framework.
    #[arg(long, env = "MARATHON_DISABLE_CHECKPOINT", action = ArgAction::SetTrue)]
    pub disable_checkpoint: bool,

    /// ZooKeeper session timeout in milliseconds.
    #[arg(long, env = "MARATHON_ZK_SESSION_TIMEOUT", default_value_t = 10_000)]
    pub zk_session_timeout: u64,

    /// Milliseconds to wait for a ZooKeeper operation.
    #[arg(long, env = "MARATHON_ZK_TIMEOUT", default_value_t = 10_000)]
    pub zk_timeout: u64,

    /// How many versions of each app are kept.
    #[arg(long, env = "MARATHON_ZK_MAX_VERSIONS", default_value_t = 50)]
    pub zk_max_versions: usize,

    /// Milliseconds after start-up before the first reconciliation with Mesos.
    #[arg(
        long,
        env = "MARATHON_RECONCILIATION_INITIAL_DELAY",
        default_value_t = 15_000
    )]
    pub reconciliation_initial_delay: u64,

    /// Milliseconds between reconciliations with Mesos.
    #[arg(
        long,
        env = "MARATHON_RECONCILIATION_INTERVAL",
        default_value_t = 600_000
    )]
    pub reconciliation_interval: u64,

    /// Tasks Marathon may launch per `--launch_token_refresh_interval`.
    #[arg(long, env = "MARATHON_LAUNCH_TOKENS", default_value_t = 100)]
    pub launch_tokens: u32,

    /// Milliseconds between refills of the launch tokens.
    #[arg(
        long,
        env = "MARATHON_LAUNCH_TOKEN_REFRESH_INTERVAL",
        default_value_t = 30_000
    )]
    pub launch_token_refresh_interval: u64,

    /// Most instances launched from a single offer.
    #[arg(long, env = "MARATHON_MAX_INSTANCES_PER_OFFER", default_value_t = 5)]
    pub max_instances_per_offer: u32,

    /// Milliseconds Mesos should not re-offer declined resources.
    #[arg(
        long,
        env = "MARATHON_DECLINE_OFFER_DURATION",
        default_value_t = 120_000
    )]
    pub decline_offer_duration: u64,

    /// Lowest service port assigned to apps that ask for port 0.
    #[arg(long, env = "MARATHON_LOCAL_PORT_MIN", default_value_t = 10_000)]
    pub local_port_min: u16,

    /// Highest (exclusive) service port assigned to apps.
    #[arg(long, env = "MARATHON_LOCAL_PORT_MAX", default_value_t = 20_000)]
    pub local_port_max: u16,

    /// URL of Marathon's web UI, registered with Mesos.
    #[arg(long, env = "MARATHON_WEBUI_URL")]
    pub webui_url: Option<String>,

    /// URL of the Mesos master UI, shown in /v2/info.
    #[arg(long, env = "MARATHON_MESOS_LEADER_UI_URL")]
    pub mesos_leader_ui_url: Option<String>,

    /// Milliseconds a non-leader waits to connect to the leader when proxying.
    #[arg(
        long,
        env = "MARATHON_LEADER_PROXY_CONNECTION_TIMEOUT",
        default_value_t = 5_000
    )]
    pub leader_proxy_connection_timeout: u64,

    /// Milliseconds a non-leader waits for the leader's answer when proxying.
    #[arg(
        long,
        env = "MARATHON_LEADER_PROXY_READ_TIMEOUT",
        default_value_t = 10_000
    )]
    pub leader_proxy_read_timeout: u64,

    /// Most concurrent HTTP connections; at the cap an idle one is closed to make room, or the
    /// newcomer gets 503. Timeouts come from `MESETA_HTTP_HEADER_READ_TIMEOUT_SECS` and
    /// `MESETA_HTTP_BODY_READ_TIMEOUT_SECS` (30 s and 60 s).
    #[arg(
        long,
        env = "MARATHON_HTTP_MAX_CONCURRENT_REQUESTS",
        default_value_t = 512
    )]
    pub http_max_concurrent_requests: usize,

    /// Largest accepted request body, in bytes.
    #[arg(long, env = "MARATHON_HTTP_MAX_BODY_BYTES", default_value_t = 2 * 1024 * 1024)]
    pub http_max_body_bytes: usize,

    /// Credentials for the REST API and the web UI, `user:password` (HTTP Basic; the user
    /// must not contain `:`). Empty: anyone may use them. `/ping` stays open.
    #[arg(long, env = "MARATHON_HTTP_CREDENTIALS", hide_env_values = true)]
    pub http_credentials: Option<String>,

    /// The HTTP Basic realm of `--http_credentials`.
    #[arg(long, env = "MARATHON_HTTP_REALM", default_value = "Mesosphere")]
    pub http_realm: String,

    /// Mesos principal to register with.
    #[arg(long, env = "MARATHON_MESOS_AUTHENTICATION_PRINCIPAL")]
    pub mesos_authentication_principal: Option<String>,

    /// Log level (`error`, `warn`, `info`, `debug`, `trace`).
    #[arg(long, env = "MARATHON_LOGGING_LEVEL", default_value = "info")]
    pub logging_level: String,
}

impl Flags {
    /// Whether tasks should survive agent restarts.
    pub fn checkpoint(&self) -> bool {
        self.checkpoint && !self.disable_checkpoint
    }

    /// The advertised hostname.
    pub fn advertised_hostname(&self) -> String {
        self.hostname.clone().unwrap_or_else(|| {
            std::fs::read_to_string("/proc/sys/kernel/hostname")
                .map(|h| h.trim().to_owned())
                .ok()
                .filter(|h| !h.is_empty())
                .unwrap_or_else(|| "localhost".into())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_marathons() {
        let f = Flags::try_parse_from(["marathon", "--master", "127.0.0.1:5050"]).unwrap();
        assert_eq!(f.http_port, 8080);
        assert_eq!(f.framework_name, "marathon");
        assert_eq!(f.failover_timeout, 604_800);
        assert_eq!(f.task_launch_timeout, 300_000);
        assert!(!f.disable_ha);
        assert!(f.checkpoint());
        assert_eq!(f.zk, "zk://localhost:2181/marathon");
    }

    #[test]
    fn booleans_take_bare_or_valued_forms() {
        let f = Flags::try_parse_from(["marathon", "--disable_ha", "--checkpoint=false"]).unwrap();
        assert!(f.disable_ha);
        assert!(!f.checkpoint());
    }
}
