//! Command-line flags, named as upstream marathon-lb's (`marathon_lb.py get_arg_parser`,
//! `common.py`), so existing units and scripts work; a few of Meseta's own are marked so.

use std::path::PathBuf;

use clap::Parser;

/// marathon-lb: watches Marathon and keeps HAProxy's configuration in step with the apps'
/// service ports and live tasks.
#[derive(Debug, Clone, Parser)]
#[command(name = "marathon-lb", version, about, long_about = None)]
pub struct Flags {
    /// Marathon endpoint(s), e.g. `-m http://marathon1:8080 http://marathon2:8080` (several
    /// for HA; tried in order; also comma-separated).
    #[arg(long, short = 'm', num_args = 1.., value_delimiter = ',', default_value = "http://master.mesos:8080")]
    pub marathon: Vec<String>,

    /// Location of the HAProxy configuration to write.
    #[arg(long = "haproxy-config", default_value = "/etc/haproxy/haproxy.cfg")]
    pub haproxy_config: PathBuf,

    /// Only generate config for apps whose HAPROXY_GROUP (or HAPROXY_{n}_GROUP) is one of
    /// these; `*` matches all groups, including apps without one. Repeatable; required.
    #[arg(long)]
    pub group: Vec<String>,

    /// If set, run this shell command to reload HAProxy instead of marathon-lb managing it
    /// (by default marathon-lb starts HAProxy in master-worker mode and reloads it with
    /// SIGUSR2, passing listening sockets so no connection is refused).
    #[arg(long, short = 'c')]
    pub command: Option<String>,

    /// Only advertise backends of service ports with HAPROXY_{n}_ENABLED=true.
    #[arg(long = "strict-mode")]
    pub strict_mode: bool,

    /// Use Marathon's Server-Sent Events stream (/v2/events); otherwise poll every
    /// --poll-interval seconds.
    #[arg(long, short = 's')]
    pub sse: bool,

    /// Only add app instances whose Marathon health checks pass to the backend pool.
    #[arg(long = "health-check", short = 'H')]
    pub health_check: bool,

    /// Don't bind the HTTP (:80) and HTTPS (:443) vhost frontends.
    #[arg(long = "dont-bind-http-https")]
    pub dont_bind_http_https: bool,

    /// Use HAProxy map files (domain2backend.map, app2backend.map beside the config) for
    /// vhost and app-id routing.
    #[arg(long = "haproxy-map")]
    pub haproxy_map: bool,

    /// SSL certificates for the marathon_https_in frontend, comma-separated.
    #[arg(long = "ssl-certs", default_value = "/etc/ssl/cert.pem")]
    pub ssl_certs: String,

    /// Lowest port auto-assigned as service port of IP-per-task apps without one.
    #[arg(long = "min-serv-port-ip-per-task", default_value_t = 10050)]
    pub min_serv_port_ip_per_task: u16,

    /// Highest port auto-assigned as service port of IP-per-task apps without one.
    #[arg(long = "max-serv-port-ip-per-task", default_value_t = 10100)]
    pub max_serv_port_ip_per_task: u16,

    /// Marathon credentials as user:password (HTTP basic).
    #[arg(long = "auth-credentials")]
    pub auth_credentials: Option<String>,

    /// A file whose first line is the Marathon credentials as user:password.
    #[arg(long = "marathon-auth-credential-file")]
    pub marathon_auth_credential_file: Option<PathBuf>,

    /// Syslog socket to log to (e.g. /dev/log); logs go to standard error when it cannot be
    /// used or is /dev/null.
    #[arg(long = "syslog-socket", default_value = "/dev/null")]
    pub syslog_socket: PathBuf,

    /// Log line format, Python logging style: %(asctime)s, %(name)s, %(levelname)s and
    /// %(message)s are replaced (width modifiers such as %(asctime)-15s are accepted).
    #[arg(
        long = "log-format",
        default_value = "%(asctime)-15s %(name)s: %(message)s"
    )]
    pub log_format: String,

    /// Log level: DEBUG, INFO, WARNING, ERROR.
    #[arg(long = "log-level", default_value = "INFO")]
    pub log_level: String,

    /// Number of previous configurations kept as <config>.1 … <config>.N.
    #[arg(long = "archive-versions", default_value_t = 5)]
    pub archive_versions: usize,

    /// Skip `haproxy -c` validation of new configurations.
    #[arg(long = "skip-validation")]
    pub skip_validation: bool,

    /// Only print the configuration to standard output, once, and exit.
    #[arg(long, short = 'd')]
    pub dry: bool,

    /// Directory of template overrides (files named HAPROXY_HEAD, …); the environment
    /// variables of the same names take precedence.
    #[arg(long = "templates-dir", default_value = "templates")]
    pub templates_dir: PathBuf,

    /// Meseta: seconds between polls of Marathon without --sse.
    #[arg(long = "poll-interval", default_value_t = 5)]
    pub poll_interval: u64,

    /// Meseta: seconds between full resyncs with --sse (upstream resyncs every 300 s).
    #[arg(long = "resync-interval", default_value_t = 300)]
    pub resync_interval: u64,

    /// Meseta: milliseconds over which Marathon events are gathered into one
    /// reconfiguration.
    #[arg(long = "coalesce-ms", default_value_t = 20)]
    pub coalesce_ms: u64,

    /// Meseta: where marathon-lb's control endpoints listen (/_mlb_signal/reload,
    /// /_mlb_signal/hup, /_mlb_signal/usr1, /metrics, /_haproxy_health_check); HAPROXY_HEAD
    /// routes /_mlb_signal/* and /_mlb_metrics on the stats port (9090) here.
    #[arg(long = "control-address", default_value = "127.0.0.1:9089")]
    pub control_address: String,

    /// Meseta: pid file of the HAProxy master marathon-lb starts (not used with --command).
    #[arg(
        long = "haproxy-pid-file",
        default_value = "/run/marathon-lb/haproxy.pid"
    )]
    pub haproxy_pid_file: PathBuf,

    /// Meseta: the haproxy binary.
    #[arg(long = "haproxy-binary", default_value = "haproxy")]
    pub haproxy_binary: String,
}

impl Flags {
    /// Marathon credentials from --auth-credentials or --marathon-auth-credential-file.
    pub fn credentials(&self) -> anyhow::Result<Option<String>> {
        if let Some(c) = &self.auth_credentials {
            return Ok(Some(c.clone()));
        }
        match &self.marathon_auth_credential_file {
            None => Ok(None),
            Some(p) => {
                let text = std::fs::read_to_string(p)
                    .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", p.display()))?;
                let line = text.lines().next().unwrap_or("").trim().to_owned();
                if !line.contains(':') {
                    anyhow::bail!("{} must hold user:password", p.display());
                }
                Ok(Some(line))
            }
        }
    }
}
