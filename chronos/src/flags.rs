//! `chronos` flags: Chronos 3's names and defaults (mesos/chronos
//! `config/SchedulerConfiguration.scala`), each also read from `CHRONOS_<FLAG>` (upper case),
//! the command line winning.

use std::path::PathBuf;

use clap::Parser;

/// The flags.
#[derive(Debug, Clone, Parser)]
#[command(
    name = "chronos",
    about = "Meseta chronos: a Chronos-compatible periodic job scheduler for Mesos \
             (REST API under /v1/scheduler and /scheduler; ISO 8601 schedules; dependent jobs)",
    version = "3.0.2",
    args_override_self = true
)]
pub struct Flags {
    /// The Mesos master: `host:port`, or `zk://host:port[,host:port]/path` to follow the
    /// leading master through ZooKeeper.
    #[arg(
        long = "master",
        env = "CHRONOS_MASTER",
        default_value = "127.0.0.1:5050"
    )]
    pub master: String,

    /// ZooKeeper servers (`host:port,host:port`) for the state and for leader election among
    /// several chronos processes. Not used when --state_dir is given.
    #[arg(
        long = "zk_hosts",
        env = "CHRONOS_ZK_HOSTS",
        default_value = "localhost:2181"
    )]
    pub zk_hosts: String,

    /// ZooKeeper path of the state (jobs, dependency edges, counters, runs in flight).
    #[arg(
        long = "zk_path",
        env = "CHRONOS_ZK_PATH",
        default_value = "/chronos/state"
    )]
    pub zk_path: String,

    /// ZooKeeper session timeout in milliseconds.
    #[arg(
        long = "zk_timeout",
        env = "CHRONOS_ZK_TIMEOUT",
        default_value_t = 10_000
    )]
    pub zk_timeout: u64,

    /// Keep the state in this local directory instead of ZooKeeper (a single chronos, no
    /// leader election).
    #[arg(long = "state_dir", env = "CHRONOS_STATE_DIR")]
    pub state_dir: Option<PathBuf>,

    /// Port of the REST API.
    #[arg(long = "http_port", env = "CHRONOS_HTTP_PORT", default_value_t = 4400)]
    pub http_port: u16,

    /// Address the REST API listens on.
    #[arg(
        long = "http_address",
        env = "CHRONOS_HTTP_ADDRESS",
        default_value = "0.0.0.0"
    )]
    pub http_address: String,

    /// Credentials for the REST API and the web UI, `user:password` (HTTP Basic; the user
    /// must not contain `:`). Empty: anyone may use them. `/ping` stays open.
    #[arg(
        long = "http_credentials",
        env = "CHRONOS_HTTP_CREDENTIALS",
        hide_env_values = true
    )]
    pub http_credentials: Option<String>,

    /// The HTTP Basic realm of `--http_credentials`.
    #[arg(
        long = "http_realm",
        env = "CHRONOS_HTTP_REALM",
        default_value = "Mesosphere"
    )]
    pub http_realm: String,

    /// Hostname advertised to other chronos processes (as the leader) and to Mesos.
    #[arg(long = "hostname", env = "CHRONOS_HOSTNAME")]
    pub hostname: Option<String>,

    /// The Mesos role the framework registers with and runs tasks under.
    #[arg(long = "mesos_role", env = "CHRONOS_MESOS_ROLE", default_value = "*")]
    pub mesos_role: String,

    /// The framework name shown by Mesos.
    #[arg(
        long = "mesos_framework_name",
        env = "CHRONOS_MESOS_FRAMEWORK_NAME",
        default_value = "chronos"
    )]
    pub mesos_framework_name: String,

    /// User the tasks run as unless a job sets runAsUser; also the framework's user.
    #[arg(long = "user", env = "CHRONOS_USER", default_value = "root")]
    pub user: String,

    /// Seconds Mesos keeps the framework's tasks while no chronos is connected.
    #[arg(
        long = "failover_timeout",
        env = "CHRONOS_FAILOVER_TIMEOUT",
        default_value_t = 604_800
    )]
    pub failover_timeout: u64,

    /// Milliseconds between a failed run and its retry (a job retries `retries` times).
    #[arg(
        long = "failure_retry",
        env = "CHRONOS_FAILURE_RETRY",
        default_value_t = 60_000
    )]
    pub failure_retry: u64,

    /// Disable a job after this many errors in a row (0: never).
    #[arg(
        long = "disable_after_failures",
        env = "CHRONOS_DISABLE_AFTER_FAILURES",
        default_value_t = 0
    )]
    pub disable_after_failures: u64,

    /// Accepted for compatibility with Chronos 2 and ignored: Chronos 3 removed the horizon,
    /// and here timers fire at their instant.
    #[arg(
        long = "schedule_horizon",
        env = "CHRONOS_SCHEDULE_HORIZON",
        default_value_t = 60
    )]
    pub schedule_horizon: u64,

    /// CPUs of a task whose job sets none.
    #[arg(
        long = "mesos_task_cpu",
        env = "CHRONOS_MESOS_TASK_CPU",
        default_value_t = 0.1
    )]
    pub mesos_task_cpu: f64,

    /// Memory (MB) of a task whose job sets none.
    #[arg(
        long = "mesos_task_mem",
        env = "CHRONOS_MESOS_TASK_MEM",
        default_value_t = 128.0
    )]
    pub mesos_task_mem: f64,

    /// Disk (MB) of a task whose job sets none.
    #[arg(
        long = "mesos_task_disk",
        env = "CHRONOS_MESOS_TASK_DISK",
        default_value_t = 256.0
    )]
    pub mesos_task_disk: f64,

    /// Name of the cluster, shown in the framework's name and the API.
    #[arg(long = "cluster_name", env = "CHRONOS_CLUSTER_NAME")]
    pub cluster_name: Option<String>,

    /// Seconds between reconciliations of the runs in flight with the master.
    #[arg(
        long = "reconciliation_interval",
        env = "CHRONOS_RECONCILIATION_INTERVAL",
        default_value_t = 600
    )]
    pub reconciliation_interval: u64,

    /// Milliseconds offers are declined for when nothing waits to run (Mesos's default 5 s,
    /// as Chronos); REVIVE ends the refusal as soon as a run is queued.
    #[arg(
        long = "decline_offer_duration",
        env = "CHRONOS_DECLINE_OFFER_DURATION",
        default_value_t = 5_000
    )]
    pub decline_offer_duration: u64,
}

impl Flags {
    /// The advertised hostname: `--hostname`, else this machine's name.
    pub fn advertised_host(&self) -> String {
        self.hostname.clone().unwrap_or_else(|| {
            std::fs::read_to_string("/proc/sys/kernel/hostname")
                .map(|h| h.trim().to_owned())
                .unwrap_or_else(|_| "localhost".into())
        })
    }

    /// The framework name Mesos shows (`<name>-<cluster>` with a cluster name, as Chronos).
    pub fn framework_name(&self) -> String {
        match &self.cluster_name {
            Some(c) if !c.is_empty() => format!("{}-{c}", self.mesos_framework_name),
            _ => self.mesos_framework_name.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_chronos_defaults() {
        let f = Flags::try_parse_from(["chronos"]).unwrap();
        assert_eq!(f.http_port, 4400);
        assert_eq!(f.zk_path, "/chronos/state");
        assert_eq!(f.failure_retry, 60_000);
        assert_eq!(f.mesos_framework_name, "chronos");
        assert_eq!(f.mesos_role, "*");
        assert!((f.mesos_task_mem - 128.0).abs() < f64::EPSILON);
        let f = Flags::try_parse_from(["chronos", "--cluster_name=prod", "--http_port=1"]).unwrap();
        assert_eq!(f.framework_name(), "chronos-prod");
        assert_eq!(f.http_port, 1);
        assert!(Flags::try_parse_from(["chronos", "--http_port=x"]).is_err());
    }
}
