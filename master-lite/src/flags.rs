//! `mesos-master` flags with their Mesos names and defaults (durations and byte sizes in
//! Mesos syntax come from `meseta_base`), and the
//! [`MasterConfig`] the rest of the crate runs from.
//!
//! Flags also come from `MESOS_<FLAG>` environment variables and
//! `/etc/mesos-master/<flag>` files; [`parse_args`] merges them with
//! [`meseta_api::flags::effective_args`] (files < environment < command line).

use std::ffi::OsString;
use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use clap::Parser;

use crate::allocator::SorterKind;

/// Mesos' default `--min_allocatable_resources`.
pub const DEFAULT_MIN_ALLOCATABLE: &str = "cpus:0.01|mem:32";

/// Mesos' default scheduler heartbeat (`DEFAULT_HEARTBEAT_INTERVAL`, 15 s).
pub const DEFAULT_HEARTBEAT_INTERVAL: Duration = Duration::from_secs(15);

/// Every flag this master knows, by its Mesos name (for env and /etc files).
pub const KNOWN_FLAGS: &[&str] = &[
    "ip",
    "port",
    "work_dir",
    "hostname",
    "cluster",
    "allocation_interval",
    "agent_ping_timeout",
    "max_agent_ping_timeouts",
    "offer_timeout",
    "max_request_body_bytes",
    "logging_level",
    "registry",
    "quorum",
    "zk",
    "zk_session_timeout",
    "agent_reregister_timeout",
    "registry_zk_path",
    "log_dir",
    "role_sorter",
    "framework_sorter",
    "min_allocatable_resources",
    "fair_sharing_excluded_resource_names",
];

/// The master's flags (Mesos 1.11 names and defaults).
#[derive(Debug, Clone, Parser)]
#[command(
    name = "mesos-master",
    about = "Meseta mesos-master: registry, DRF allocator, v1 scheduler API",
    version = "1.11.0",
    args_override_self = true
)]
pub struct Flags {
    /// IP address to listen on (default: all addresses). Also advertised to
    /// schedulers and agents; without it the master advertises 127.0.0.1 or
    /// the address --hostname resolves to.
    #[arg(long = "ip")]
    pub ip: Option<Ipv4Addr>,

    /// Port to listen on.
    #[arg(long = "port", default_value_t = 5050)]
    pub port: u16,

    /// Directory for the registry (master id, agents, frameworks). Required;
    /// created if missing.
    #[arg(long = "work_dir")]
    pub work_dir: Option<PathBuf>,

    /// Hostname to advertise (default: this machine's hostname).
    #[arg(long = "hostname")]
    pub hostname: Option<String>,

    /// Human-readable cluster name, shown in /state.
    #[arg(long = "cluster")]
    pub cluster: Option<String>,

    /// Time between batch allocations (offers are also made on events: new
    /// agents or frameworks, recovered resources).
    #[arg(long = "allocation_interval", default_value = "1secs", value_parser = parse_duration)]
    pub allocation_interval: Duration,

    /// Heartbeat interval on the agent channel; an agent whose stream is gone
    /// for agent_ping_timeout x max_agent_ping_timeouts is removed.
    #[arg(long = "agent_ping_timeout", default_value = "15secs", value_parser = parse_duration)]
    pub agent_ping_timeout: Duration,

    /// Missed heartbeat periods before an agent is removed (its tasks become
    /// TASK_LOST with REASON_AGENT_REMOVED).
    #[arg(long = "max_agent_ping_timeouts", default_value_t = 5)]
    pub max_agent_ping_timeouts: u32,

    /// Rescind offers not used within this long (default: never).
    #[arg(long = "offer_timeout", value_parser = parse_duration)]
    pub offer_timeout: Option<Duration>,

    /// Meseta extension: largest accepted HTTP request body (bytes, or Mesos
    /// byte syntax like 8MB); larger requests get 413.
    #[arg(long = "max_request_body_bytes", default_value = "8MB", value_parser = parse_bytes)]
    pub max_request_body_bytes: u64,

    /// Log level: INFO, WARNING or ERROR (also DEBUG/TRACE).
    #[arg(long = "logging_level", default_value = "INFO")]
    pub logging_level: String,

    /// Registry backend: `replicated_log` (default) or `in_memory` (nothing
    /// persisted: for testing, as in Mesos). With --zk the replicated registry
    /// lives in ZooKeeper (see --registry_zk_path), so it survives the leader;
    /// without --zk it is this master's file in --work_dir.
    #[arg(long = "registry", default_value = "replicated_log", value_parser = ["replicated_log", "in_memory"])]
    pub registry: String,

    /// Mesos's replicated-log quorum. Accepted and validated (at least 1);
    /// ZooKeeper itself replicates Meseta's registry, so no log quorum is formed.
    #[arg(long = "quorum")]
    pub quorum: Option<u32>,

    /// ZooKeeper URL for leader election among masters:
    /// `zk://[user:pass@]host1:port1,host2:port2/path`, or
    /// `file:///path/to/file` holding one. Each master writes an
    /// ephemeral-sequential `<path>/json.info_` znode with its MasterInfo JSON;
    /// the lowest sequence leads, the others redirect (307) to it. Without
    /// --zk, the master reads /etc/mesos/zk if that file exists (as the Mesos
    /// packages do; MESETA_MESOS_ZK_FILE names another file, and an empty value
    /// or MESETA_MASTER_CONF_DIR turns this off). With neither, the master runs
    /// alone.
    #[arg(long = "zk")]
    pub zk: Option<String>,

    /// ZooKeeper session timeout. ZooKeeper clamps it to 2-20 x its tickTime.
    /// A leader that cannot prove its session alive for 2/3 of it stops
    /// acting as leader.
    #[arg(long = "zk_session_timeout", default_value = "10secs", value_parser = parse_duration)]
    pub zk_session_timeout: Duration,

    /// How long a newly elected leader waits for the agents in the registry to
    /// re-register; agents that do not come back are then marked unreachable
    /// (re-admitted with their tasks if they return).
    #[arg(long = "agent_reregister_timeout", default_value = "10mins", value_parser = parse_duration)]
    pub agent_reregister_timeout: Duration,

    /// Meseta extension: znode under which the replicated registry is kept
    /// (default `<zk path>-meseta/registry`; never under the election path,
    /// where clients expect only masters).
    #[arg(long = "registry_zk_path")]
    pub registry_zk_path: Option<String>,

    /// Accepted for compatibility; logs go to stderr.
    #[arg(long = "log_dir")]
    pub log_dir: Option<PathBuf>,

    // --- allocator ---
    /// Order in which roles are offered resources: `drf` (weighted dominant
    /// resource fairness) or `random` (weighted random, reshuffled every cycle).
    #[arg(long = "role_sorter", default_value = "drf", value_parser = ["drf", "random"])]
    pub role_sorter: String,

    /// Order of the frameworks within a role: `drf` or `random`.
    #[arg(long = "framework_sorter", default_value = "drf", value_parser = ["drf", "random"])]
    pub framework_sorter: String,

    /// Smallest offer worth making: `|`-separated alternatives of
    /// `name:amount;...`; an agent's resources are offered only when at least
    /// one alternative is fully there.
    #[arg(long = "min_allocatable_resources", default_value = "cpus:0.01|mem:32")]
    pub min_allocatable_resources: String,

    /// Comma-separated resource names left out of the DRF share
    /// computation (e.g. `gpus`).
    #[arg(long = "fair_sharing_excluded_resource_names")]
    pub fair_sharing_excluded_resource_names: Option<String>,

    /// HTTP authentication and authorization (`meseta_auth::flags`).
    #[command(flatten)]
    pub auth: meseta_auth::flags::MasterAuthFlags,
}

/// Durations and byte sizes in Mesos syntax, shared with the agent and executors.
pub use meseta_base::{format_duration, parse_bytes, parse_duration, UnitError};

/// What went wrong reading flags; the binary prints it on one line.
#[derive(Debug, thiserror::Error)]
pub enum FlagsError {
    /// `--help` / `--version`: print and exit 0.
    #[error("{0}")]
    Display(String),
    /// Invalid flags.
    #[error("{0}")]
    Invalid(String),
    /// A flag file could not be read.
    #[error(transparent)]
    Source(#[from] meseta_api::flags::FlagsError),
}

/// Builds [`Flags`] from `/etc/mesos-master` (`conf_dir`), the environment and
/// the command line.
pub fn parse_args(
    conf_dir: &Path,
    env: impl IntoIterator<Item = (String, String)>,
    cli: impl IntoIterator<Item = OsString>,
) -> Result<Flags, FlagsError> {
    let known: Vec<&str> = [KNOWN_FLAGS, meseta_auth::flags::MASTER_FLAGS].concat();
    let sources = meseta_api::flags::FlagSources {
        conf_dir,
        known: &known,
        booleans: meseta_auth::flags::MASTER_BOOLEANS,
    };
    let env: Vec<(String, String)> = env.into_iter().collect();
    let mut args = meseta_api::flags::effective_args(&sources, env.iter().cloned(), cli)?;
    // libprocess's LIBPROCESS_IP / LIBPROCESS_PORT, overridden by every flag source.
    for (var, flag) in [("LIBPROCESS_IP", "ip"), ("LIBPROCESS_PORT", "port")] {
        if let Some((_, v)) = env.iter().find(|(k, _)| k == var) {
            args.insert(1.min(args.len()), format!("--{flag}={v}").into());
        }
    }
    Flags::try_parse_from(args).map_err(|e| match e.kind() {
        clap::error::ErrorKind::DisplayHelp | clap::error::ErrorKind::DisplayVersion => {
            FlagsError::Display(e.to_string())
        }
        _ => {
            let text = e.to_string();
            let first = text
                .lines()
                .find(|l| !l.trim().is_empty())
                .unwrap_or("invalid flags")
                .trim_start_matches("error: ")
                .to_string();
            FlagsError::Invalid(first)
        }
    })
}

/// Runtime configuration derived from [`Flags`] (tests build it directly).
#[derive(Debug, Clone)]
pub struct MasterConfig {
    /// Address to bind.
    pub bind_ip: Ipv4Addr,
    /// Address advertised in `MasterInfo` and `pid`.
    pub advertise_ip: Ipv4Addr,
    /// Port (0 picks a free one).
    pub port: u16,
    /// Registry directory.
    pub work_dir: PathBuf,
    /// Advertised hostname.
    pub hostname: String,
    /// Cluster name.
    pub cluster: Option<String>,
    /// `--allocation_interval`.
    pub allocation_interval: Duration,
    /// `--agent_ping_timeout`.
    pub agent_ping_timeout: Duration,
    /// `--max_agent_ping_timeouts`.
    pub max_agent_ping_timeouts: u32,
    /// `--offer_timeout`.
    pub offer_timeout: Option<Duration>,
    /// `--max_request_body_bytes`.
    pub max_body_bytes: u64,
    /// Scheduler HEARTBEAT period (15 s in Mesos; shorter in tests).
    pub heartbeat_interval: Duration,
    /// `--role_sorter`.
    pub role_sorter: SorterKind,
    /// `--framework_sorter`.
    pub framework_sorter: SorterKind,
    /// `--min_allocatable_resources` as given (validated).
    pub min_allocatable_resources: String,
    /// `--fair_sharing_excluded_resource_names`.
    pub fair_sharing_excluded_resource_names: Vec<String>,
    /// Leader election and the replicated registry (`--zk`), if configured.
    pub ha: Option<HaConfig>,
    /// `--registry=in_memory`: nothing is persisted.
    pub registry_in_memory: bool,
    /// HTTP authentication and `--acls` (disabled in [`MasterConfig::for_tests`]).
    pub auth: meseta_auth::HttpAuth,
    /// The authentication flags as `/flags` shows them (credentials as their path).
    pub auth_flags: Vec<(&'static str, String)>,
}

/// `--zk` and the flags that go with it.
#[derive(Debug, Clone)]
pub struct HaConfig {
    /// The parsed `--zk` URL.
    pub zk: meseta_zk::ZkUrl,
    /// `--zk_session_timeout`.
    pub session_timeout: Duration,
    /// `--agent_reregister_timeout`.
    pub agent_reregister_timeout: Duration,
    /// Where the replicated registry lives (`--registry_zk_path`).
    pub registry_path: String,
}

impl HaConfig {
    /// Defaults for `zk` (tests): Mesos's timeouts, the registry beside the election path.
    pub fn new(zk: meseta_zk::ZkUrl) -> Self {
        let registry_path = default_registry_path(&zk);
        HaConfig {
            zk,
            session_timeout: meseta_zk::DEFAULT_SESSION_TIMEOUT,
            agent_reregister_timeout: Duration::from_secs(600),
            registry_path,
        }
    }
}

/// `<zk path>-meseta/registry` (`/meseta/registry` for the root path).
fn default_registry_path(zk: &meseta_zk::ZkUrl) -> String {
    if zk.path == "/" {
        "/meseta/registry".into()
    } else {
        format!("{}-meseta/registry", zk.path)
    }
}

impl MasterConfig {
    /// Defaults for `work_dir` (tests): loopback, a free port, Mesos timings.
    pub fn for_tests(work_dir: impl Into<PathBuf>) -> Self {
        MasterConfig {
            bind_ip: Ipv4Addr::LOCALHOST,
            advertise_ip: Ipv4Addr::LOCALHOST,
            port: 0,
            work_dir: work_dir.into(),
            hostname: "localhost".into(),
            cluster: None,
            allocation_interval: Duration::from_secs(1),
            agent_ping_timeout: Duration::from_secs(15),
            max_agent_ping_timeouts: 5,
            offer_timeout: None,
            max_body_bytes: 8 * 1024 * 1024,
            heartbeat_interval: DEFAULT_HEARTBEAT_INTERVAL,
            role_sorter: SorterKind::Drf,
            framework_sorter: SorterKind::Drf,
            min_allocatable_resources: DEFAULT_MIN_ALLOCATABLE.into(),
            fair_sharing_excluded_resource_names: Vec::new(),
            ha: None,
            registry_in_memory: false,
            auth: meseta_auth::HttpAuth::disabled(),
            auth_flags: Vec::new(),
        }
    }

    /// From parsed flags; `--work_dir` is required.
    pub fn from_flags(flags: &Flags) -> Result<Self, FlagsError> {
        let work_dir = flags.work_dir.clone().ok_or_else(|| {
            FlagsError::Invalid(
                "--work_dir is required (the master keeps its registry there)".into(),
            )
        })?;
        if flags.max_agent_ping_timeouts == 0 {
            return Err(FlagsError::Invalid(
                "--max_agent_ping_timeouts must be at least 1".into(),
            ));
        }
        if flags.allocation_interval.is_zero() || flags.agent_ping_timeout.is_zero() {
            return Err(FlagsError::Invalid(
                "--allocation_interval and --agent_ping_timeout must be positive".into(),
            ));
        }
        crate::allocator::parse_min_allocatable(&flags.min_allocatable_resources).map_err(|e| {
            FlagsError::Invalid(format!(
                "--min_allocatable_resources '{}': {e}",
                flags.min_allocatable_resources
            ))
        })?;
        let auth = flags
            .auth
            .to_http_auth()
            .map_err(|e| FlagsError::Invalid(e.to_string()))?;
        let sorter = |s: &str| s.parse::<SorterKind>().map_err(FlagsError::Invalid);
        let ha = ha_config(flags)?;
        let hostname = flags.hostname.clone().unwrap_or_else(local_hostname);
        let bind_ip = flags.ip.unwrap_or(Ipv4Addr::UNSPECIFIED);
        let advertise_ip = match flags.ip {
            Some(ip) if !ip.is_unspecified() => ip,
            _ => resolve(&hostname).unwrap_or(Ipv4Addr::LOCALHOST),
        };
        Ok(MasterConfig {
            bind_ip,
            advertise_ip,
            port: flags.port,
            work_dir,
            hostname,
            cluster: flags.cluster.clone(),
            allocation_interval: flags.allocation_interval,
            agent_ping_timeout: flags.agent_ping_timeout,
            max_agent_ping_timeouts: flags.max_agent_ping_timeouts,
            offer_timeout: flags.offer_timeout,
            max_body_bytes: flags.max_request_body_bytes,
            heartbeat_interval: DEFAULT_HEARTBEAT_INTERVAL,
            role_sorter: sorter(&flags.role_sorter)?,
            framework_sorter: sorter(&flags.framework_sorter)?,
            min_allocatable_resources: flags.min_allocatable_resources.clone(),
            fair_sharing_excluded_resource_names: flags
                .fair_sharing_excluded_resource_names
                .iter()
                .flat_map(|s| s.split(','))
                .map(|s| s.trim().to_string())
                .filter(|s| !s.is_empty())
                .collect(),
            ha,
            registry_in_memory: flags.registry == "in_memory",
            auth,
            auth_flags: flags.auth.as_pairs(),
        })
    }

    /// How long an agent may stay disconnected before it is removed.
    pub fn agent_removal_timeout(&self) -> Duration {
        self.agent_ping_timeout
            .saturating_mul(self.max_agent_ping_timeouts)
    }
}

/// `--zk` and its companions, validated (reads a `file://` URL's file).
fn ha_config(flags: &Flags) -> Result<Option<HaConfig>, FlagsError> {
    if flags.quorum == Some(0) {
        return Err(FlagsError::Invalid("--quorum must be at least 1".into()));
    }
    let Some(text) = &flags.zk else {
        return Ok(None);
    };
    let zk = meseta_zk::ZkUrl::parse_or_read(text)
        .map_err(|e| FlagsError::Invalid(format!("--zk: {e}")))?;
    if flags.zk_session_timeout < Duration::from_millis(100) {
        return Err(FlagsError::Invalid(
            "--zk_session_timeout must be at least 100ms (ZooKeeper clamps it to 2-20 x tickTime)"
                .into(),
        ));
    }
    let registry_path = match &flags.registry_zk_path {
        None => default_registry_path(&zk),
        Some(p) => {
            let probe: meseta_zk::ZkUrl = format!("zk://h{p}")
                .parse()
                .map_err(|e| FlagsError::Invalid(format!("--registry_zk_path '{p}': {e}")))?;
            probe.path
        }
    };
    let election = format!("{}/", zk.path.trim_end_matches('/'));
    if zk.path != "/" && (registry_path == zk.path || registry_path.starts_with(&election)) {
        return Err(FlagsError::Invalid(format!(
            "--registry_zk_path '{registry_path}' must not be inside the election path '{}' (clients read every child there as a master)",
            zk.path
        )));
    }
    Ok(Some(HaConfig {
        zk,
        session_timeout: flags.zk_session_timeout,
        agent_reregister_timeout: flags.agent_reregister_timeout,
        registry_path,
    }))
}

fn local_hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|s| s.trim().to_string())
        .ok()
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "localhost".into())
}

fn resolve(hostname: &str) -> Option<Ipv4Addr> {
    use std::net::ToSocketAddrs;
    (hostname, 0).to_socket_addrs().ok()?.find_map(|a| match a {
        std::net::SocketAddr::V4(v4) => Some(*v4.ip()),
        std::net::SocketAddr::V6(_) => None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_use_mesos_units() {
        assert_eq!(parse_duration("5secs").unwrap(), Duration::from_secs(5));
        assert_eq!(parse_duration("100ms").unwrap(), Duration::from_millis(100));
        assert_eq!(parse_duration("1mins").unwrap(), Duration::from_secs(60));
        assert_eq!(
            parse_duration("1.5secs").unwrap(),
            Duration::from_millis(1500)
        );
        assert!(parse_duration("5").is_err());
        assert!(parse_duration("5s").is_err());
        assert_eq!(format_duration(Duration::from_secs(15)), "15secs");
    }

    #[test]
    fn allocator_flags_reach_the_config() {
        let d = std::path::Path::new("/nonexistent-conf");
        let f = parse_args(
            d,
            [("MESOS_ROLE_SORTER".to_string(), "random".to_string())],
            [
                "mesos-master",
                "--work_dir=/tmp/w",
                "--min_allocatable_resources=cpus:1;mem:64|disk:10",
                "--fair_sharing_excluded_resource_names=gpus, fpgas",
            ]
            .map(OsString::from),
        )
        .unwrap();
        let c = MasterConfig::from_flags(&f).unwrap();
        assert_eq!(c.role_sorter, SorterKind::Random);
        assert_eq!(c.framework_sorter, SorterKind::Drf);
        assert_eq!(c.min_allocatable_resources, "cpus:1;mem:64|disk:10");
        assert_eq!(c.fair_sharing_excluded_resource_names, ["gpus", "fpgas"]);
        let f = parse_args(
            d,
            [],
            [
                "mesos-master",
                "--work_dir=/tmp/w",
                "--min_allocatable_resources=cpus",
            ]
            .map(OsString::from),
        )
        .unwrap();
        let err = MasterConfig::from_flags(&f).unwrap_err().to_string();
        assert!(err.contains("--min_allocatable_resources"), "{err}");
    }

    fn config(args: &[&str]) -> Result<MasterConfig, FlagsError> {
        let d = std::path::Path::new("/nonexistent-conf");
        let mut argv = vec!["mesos-master", "--work_dir=/tmp/w"];
        argv.extend_from_slice(args);
        let f = parse_args(
            d,
            Vec::<(String, String)>::new(),
            argv.iter().map(OsString::from),
        )?;
        MasterConfig::from_flags(&f)
    }

    #[test]
    fn zk_flags_reach_the_config_and_bad_ones_are_refused() {
        let c = config(&[
            "--zk=zk://u:p@h1:2181,h2/mesos",
            "--zk_session_timeout=2secs",
        ])
        .unwrap();
        let ha = c.ha.unwrap();
        assert_eq!(ha.zk.path, "/mesos");
        assert_eq!(ha.zk.servers.len(), 2);
        assert_eq!(ha.session_timeout, Duration::from_secs(2));
        assert_eq!(ha.agent_reregister_timeout, Duration::from_secs(600));
        assert_eq!(ha.registry_path, "/mesos-meseta/registry");
        assert!(!c.registry_in_memory);
        let c = config(&[
            "--zk=zk://h/m",
            "--registry_zk_path=/elsewhere/r/",
            "--registry=in_memory",
        ])
        .unwrap();
        assert_eq!(c.ha.unwrap().registry_path, "/elsewhere/r");
        assert!(c.registry_in_memory);
        assert!(config(&[]).unwrap().ha.is_none());
        for (args, needle) in [
            (&["--zk=zk://h:x/m"][..], "--zk: invalid ZooKeeper URL"),
            (&["--zk=h:2181/m"][..], "--zk: invalid ZooKeeper URL"),
            (
                &["--zk=zk://h/mesos", "--registry_zk_path=/mesos/registry"][..],
                "election path",
            ),
            (&["--quorum=0"][..], "--quorum"),
            (
                &["--zk=zk://h/m", "--zk_session_timeout=1ms"][..],
                "--zk_session_timeout",
            ),
        ] {
            let err = config(args).unwrap_err().to_string();
            assert!(err.contains(needle), "{args:?}: {err}");
        }
    }

    #[test]
    fn credentials_stay_a_path_and_auth_flags_come_from_the_environment() {
        let d = tempfile::tempdir().unwrap();
        let creds = d.path().join("creds");
        std::fs::write(&creds, "ops topsecret\n").unwrap();
        let url = format!("file://{}", creds.display());
        let f = parse_args(
            Path::new("/nonexistent-conf"),
            [
                ("MESOS_CREDENTIALS".to_string(), url.clone()),
                (
                    "MESOS_AUTHENTICATE_HTTP_READWRITE".to_string(),
                    "true".to_string(),
                ),
            ],
            ["mesos-master", "--work_dir=/tmp/w"].map(OsString::from),
        )
        .unwrap();
        assert_eq!(f.auth.credentials.as_deref(), Some(url.as_str()));
        let c = MasterConfig::from_flags(&f).unwrap();
        assert!(c
            .auth
            .is_authenticated(meseta_auth::EndpointClass::ReadWrite));
        let shown: Vec<String> = c
            .auth_flags
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        assert!(shown.contains(&format!("credentials={url}")), "{shown:?}");
        assert!(!shown.iter().any(|s| s.contains("topsecret")));
    }

    #[test]
    fn bytes() {
        assert_eq!(parse_bytes("8MB").unwrap(), 8 << 20);
        assert_eq!(parse_bytes("1024").unwrap(), 1024);
        assert!(parse_bytes("x").is_err());
    }

    #[test]
    fn env_and_cli() {
        let d = std::path::Path::new("/nonexistent-conf");
        let f = parse_args(
            d,
            vec![("MESOS_WORK_DIR".to_string(), "/tmp/w".to_string())],
            ["mesos-master", "--port=5055", "--offer_timeout=30secs"].map(OsString::from),
        )
        .unwrap();
        assert_eq!(f.port, 5055);
        assert_eq!(f.work_dir.as_deref(), Some(Path::new("/tmp/w")));
        assert_eq!(f.offer_timeout, Some(Duration::from_secs(30)));
        let f = parse_args(
            d,
            vec![
                ("LIBPROCESS_PORT".to_string(), "6060".to_string()),
                ("LIBPROCESS_IP".to_string(), "127.0.0.2".to_string()),
            ],
            ["mesos-master", "--ip=127.0.0.3"].map(OsString::from),
        )
        .unwrap();
        assert_eq!((f.port, f.ip), (6060, Some(Ipv4Addr::new(127, 0, 0, 3))));
        let err = parse_args(
            d,
            vec![],
            ["m", "--allocation_interval=5"].map(OsString::from),
        )
        .unwrap_err();
        assert!(!err.to_string().contains('\n'), "{err}");
    }
}
