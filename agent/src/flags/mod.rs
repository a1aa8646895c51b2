//! `mesos-agent` flags: every flag has its Mesos name and default, and comes from
//! `/etc/mesos-slave/<flag>` files, `MESOS_<FLAG>` variables or the command line
//! ([`meseta_api::flags::effective_args`]). [`AgentFlags::into_config`] validates them into the
//! daemon's [`Config`]: one readable error per bad value.

use std::ffi::OsString;
use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use clap::Parser;
use meseta_api::{Attribute, Resource};

pub mod executor_auth;
pub mod gc;
pub mod master;

pub use master::MasterSource;
pub use meseta_base::{format_duration, parse_duration};

/// Where `/etc/mesos-slave` files are read from; `MESETA_AGENT_CONF_DIR` overrides it (tests).
pub const DEFAULT_CONF_DIR: &str = "/etc/mesos-slave";

/// A flag value the agent cannot use.
#[derive(Debug, thiserror::Error)]
pub enum FlagError {
    /// A flag source could not be read.
    #[error(transparent)]
    Source(#[from] meseta_api::flags::FlagsError),
    /// Authentication or `--acls` flags.
    #[error(transparent)]
    Auth(#[from] meseta_auth::flags::AuthFlagsError),
    /// Clap rejected the command line (includes `--help`).
    #[error("{0}")]
    Clap(#[from] clap::Error),
    /// A value is out of range or malformed.
    #[error("--{flag}: {message}")]
    Invalid {
        /// The flag.
        flag: &'static str,
        /// Why.
        message: String,
    },
}

fn invalid(flag: &'static str, message: impl Into<String>) -> FlagError {
    FlagError::Invalid {
        flag,
        message: message.into(),
    }
}

/// The agent's command line, with Mesos names and defaults.
#[derive(Debug, Clone, Parser)]
#[command(
    name = "mesos-agent",
    version,
    about = "Meseta agent: a drop-in replacement for mesos-agent / mesos-slave",
    args_override_self = true
)]
pub struct AgentFlags {
    /// The master: `host:port`, `zk://[user:pass@]host1:port1,host2:port2/path` (the leader
    /// elected in ZooKeeper is followed across failovers), or `file:///path` holding one of
    /// those. Without it, `/etc/mesos/zk` is used if present (`MESETA_MESOS_ZK_FILE` names
    /// another file; empty: none).
    #[arg(long = "master")]
    pub master: Option<String>,
    /// ZooKeeper session timeout when `--master` is a `zk://` URL.
    #[arg(long = "zk_session_timeout", default_value = "10secs")]
    pub zk_session_timeout: String,
    /// IP address to listen on and to advertise (default: 0.0.0.0, advertised as the
    /// address that reaches the master).
    #[arg(long = "ip")]
    pub ip: Option<Ipv4Addr>,
    /// Port to listen on.
    #[arg(long = "port", default_value_t = 5051)]
    pub port: u16,
    /// Directory for sandboxes and agent state (required).
    #[arg(long = "work_dir")]
    pub work_dir: Option<PathBuf>,
    /// Directory for runtime state that does not survive a reboot.
    #[arg(long = "runtime_dir", default_value = "/var/run/mesos")]
    pub runtime_dir: PathBuf,
    /// Give every executor the agent's Unix socket for the executor API
    /// (`MESOS_DOMAIN_SOCKET`), as Mesos does. Meseta's own executors (the command and docker
    /// executors) use it even without this flag: the agent serves the socket whenever its
    /// path fits in a socket address.
    #[arg(long = "http_executor_domain_sockets", default_value = "false", num_args = 0..=1,
          default_missing_value = "true", action = clap::ArgAction::Set)]
    pub http_executor_domain_sockets: bool,
    /// Where the agent's Unix socket for executors is (under 108 bytes; a socket left there
    /// by an earlier run is replaced). Default: `<runtime_dir>/agent.sock`. Put it in a
    /// directory only root can write: executors trust whatever answers there. Mesos's
    /// `systemd:<name>` socket passing is not supported.
    #[arg(long = "domain_socket_location")]
    pub domain_socket_location: Option<PathBuf>,
    /// Containerizers to use, in the order they are tried: `mesos`, `docker` (e.g.
    /// `docker,mesos`). Tasks with `ContainerInfo.type=DOCKER` go to `docker`, all others to
    /// `mesos`.
    #[arg(long = "containerizers", default_value = "mesos")]
    pub containerizers: String,
    /// Isolators, e.g. `cgroups/cpu,cgroups/mem,namespaces/pid`.
    #[arg(long = "isolation", default_value = "posix/cpu,posix/mem")]
    pub isolation: String,
    /// Total resources: `cpus:2;mem:1024;ports:[31000-32000]` or a JSON array of Resource;
    /// anything not given is discovered (cpus, mem − 1 GB, disk − 5 GB, ports 31000-32000).
    #[arg(long = "resources")]
    pub resources: Option<String>,
    /// Attributes, `rack:r1;zone:a`.
    #[arg(long = "attributes")]
    pub attributes: Option<String>,
    /// Hostname to advertise (default: the system hostname).
    #[arg(long = "hostname")]
    pub hostname: Option<String>,
    /// How long an executor may take to subscribe before it is destroyed.
    #[arg(long = "executor_registration_timeout", default_value = "1mins")]
    pub executor_registration_timeout: String,
    /// Time an executor gets after SHUTDOWN before it is killed.
    #[arg(long = "executor_shutdown_grace_period", default_value = "5secs")]
    pub executor_shutdown_grace_period: String,
    /// Cgroup under which containers are created.
    #[arg(long = "cgroups_root", default_value = "mesos")]
    pub cgroups_root: String,
    /// Where the cgroup hierarchies are mounted.
    #[arg(long = "cgroups_hierarchy", default_value = "/sys/fs/cgroup")]
    pub cgroups_hierarchy: PathBuf,
    /// Enforce CPU limits with CFS quota (hard limits), not only shares.
    #[arg(long = "cgroups_enable_cfs", default_value = "false", num_args = 0..=1,
          default_missing_value = "true", action = clap::ArgAction::Set)]
    pub cgroups_enable_cfs: bool,
    /// Run tasks as the framework's (or command's) user when the agent is root.
    #[arg(long = "switch_user", default_value = "true", num_args = 0..=1,
          default_missing_value = "true", action = clap::ArgAction::Set)]
    pub switch_user: bool,
    /// Directory holding `mesos-containerizer`, `mesos-executor` and
    /// `mesos-docker-executor` (default: the agent binary's directory). Without this flag, an
    /// agent built with the musl target starts its own built-in copies of the first two
    /// (written once to `<work_dir>/launchers/`): they start faster than glibc programs.
    #[arg(long = "launcher_dir")]
    pub launcher_dir: Option<PathBuf>,
    /// Where the sandbox appears inside containers with their own root filesystem.
    #[arg(long = "sandbox_directory", default_value = "/mnt/mesos/sandbox")]
    pub sandbox_directory: PathBuf,
    /// Interval of HEARTBEAT events to subscribed executors.
    #[arg(long = "http_heartbeat_interval", default_value = "30secs")]
    pub http_heartbeat_interval: String,
    /// Base of the randomized exponential backoff when (re-)registering (max 1 min).
    #[arg(long = "registration_backoff_factor", default_value = "1secs")]
    pub registration_backoff_factor: String,
    /// After a restart: `reconnect` to checkpointed executors, or `cleanup` (kill the old
    /// live executors and exit; the next start registers as a new agent).
    #[arg(long = "recover", default_value = "reconnect")]
    pub recover: String,
    /// A corrupt checkpoint is fatal (true) or skipped, recovering the rest (false).
    #[arg(long = "strict", default_value = "true", num_args = 0..=1,
          default_missing_value = "true", action = clap::ArgAction::Set)]
    pub strict: bool,
    /// How long recovered executors get to re-subscribe after a restart.
    #[arg(long = "executor_reregistration_timeout", default_value = "2secs")]
    pub executor_reregistration_timeout: String,
    // Garbage collection and disk (flags/gc.rs).
    /// Garbage collection and disk usage flags.
    #[command(flatten)]
    pub gc: gc::GcFlags,
    // Recovery after an agent restart.
    /// Which changes of --resources/--attributes/--hostname a restart may recover across:
    /// `equal` (none) or `additive` (more resources, new attributes).
    #[arg(long = "reconfiguration_policy", default_value = "equal")]
    pub reconfiguration_policy: String,
    /// How long executors of checkpointing frameworks wait for a restarting agent before
    /// they end themselves (given to them as MESOS_RECOVERY_TIMEOUT).
    #[arg(long = "recovery_timeout", default_value = "15mins")]
    pub recovery_timeout: String,
    // Container images.
    /// Container image providers, comma-separated; only `docker` is supported. Without it a
    /// task whose ContainerInfo has an `image` fails.
    #[arg(long = "image_providers")]
    pub image_providers: Option<String>,
    /// Where docker images come from: a registry URL (`https://host[:port]`, `http://host:port`)
    /// or a local directory of `docker save` tarballs named `<name>:<tag>.tar`.
    #[arg(
        long = "docker_registry",
        default_value = "https://registry-1.docker.io"
    )]
    pub docker_registry: String,
    /// Directory of the content-addressed image store (layers are unpacked here once).
    #[arg(long = "docker_store_dir", default_value = "/tmp/mesos/store/docker")]
    pub docker_store_dir: PathBuf,
    /// How container root filesystems are assembled from layers: `overlay` or `copy`
    /// (default: overlay when the kernel supports it, else copy).
    #[arg(long = "image_provisioner_backend")]
    pub image_provisioner_backend: Option<String>,
    /// Docker registry credentials: a `config.json` document (JSON text) or a path to one.
    #[arg(long = "docker_config")]
    pub docker_config: Option<String>,
    // The docker containerizer.
    /// Path of the docker CLI (passed to mesos-docker-executor for compatibility; Meseta
    /// talks to dockerd through the Engine API on --docker_socket).
    #[arg(long = "docker", default_value = "docker")]
    pub docker: String,
    /// The Docker daemon's unix socket.
    #[arg(long = "docker_socket", default_value = "/var/run/docker.sock")]
    pub docker_socket: PathBuf,
    /// How long an exited docker container is kept before it is removed.
    #[arg(long = "docker_remove_delay", default_value = "6hrs")]
    pub docker_remove_delay: String,
    /// After a restart, kill and remove `mesos-*` docker containers that no checkpointed
    /// executor owns.
    #[arg(long = "docker_kill_orphans", default_value = "true", num_args = 0..=1,
          default_missing_value = "true", action = clap::ArgAction::Set)]
    pub docker_kill_orphans: bool,
    /// Grace period of `docker stop` when a task names none (and when the agent stops a
    /// container whose executor is gone).
    #[arg(long = "docker_stop_timeout", default_value = "0ns")]
    pub docker_stop_timeout: String,
    /// HTTP authentication and authorization (`meseta_auth::flags`).
    #[command(flatten)]
    pub http_auth: meseta_auth::flags::AgentAuthFlags,
    /// Executor authentication flags (flags/executor_auth.rs).
    #[command(flatten)]
    pub executor_auth: executor_auth::ExecutorAuthFlags,
}

/// Every flag [`AgentFlags`] declares (flattened groups and aliases included) and which of
/// them are booleans: what `/etc/mesos-slave` files and `MESOS_` variables may set.
pub fn known_flags() -> meseta_api::flags::DeclaredFlags {
    meseta_api::flags::DeclaredFlags::of(&<AgentFlags as clap::CommandFactory>::command())
}

/// The validated configuration the daemon runs with.
#[derive(Debug, Clone)]
pub struct Config {
    /// How to find the master.
    pub master: MasterSource,
    /// `--zk_session_timeout`.
    pub zk_session_timeout: Duration,
    /// Listen address.
    pub ip: Option<Ipv4Addr>,
    /// Listen port (0: any, for tests).
    pub port: u16,
    /// `--work_dir`.
    pub work_dir: PathBuf,
    /// `--runtime_dir`.
    pub runtime_dir: PathBuf,
    /// `--http_executor_domain_sockets`: every executor gets `MESOS_DOMAIN_SOCKET`.
    pub http_executor_domain_sockets: bool,
    /// The executor socket (`--domain_socket_location` or `<runtime_dir>/agent.sock`); `None`
    /// when the default path is too long for a socket address (executors then use TCP only).
    pub domain_socket: Option<PathBuf>,
    /// `--isolation`, parsed.
    pub isolation: isolators::Isolation,
    /// Total resources.
    pub resources: Vec<Resource>,
    /// Attributes.
    pub attributes: Vec<Attribute>,
    /// Advertised hostname.
    pub hostname: String,
    /// `--executor_registration_timeout`.
    pub executor_registration_timeout: Duration,
    /// `--executor_shutdown_grace_period`.
    pub executor_shutdown_grace_period: Duration,
    /// `--cgroups_root`.
    pub cgroups_root: String,
    /// `--cgroups_hierarchy`.
    pub cgroups_hierarchy: PathBuf,
    /// `--cgroups_enable_cfs`.
    pub cgroups_enable_cfs: bool,
    /// `--switch_user`.
    pub switch_user: bool,
    /// `--launcher_dir`.
    pub launcher_dir: PathBuf,
    /// Where `mesos-containerizer` and `mesos-executor` are started from: `launcher_dir`, or
    /// the agent's built-in copies (see [`crate::per_task`]).
    pub per_task_dir: PathBuf,
    /// `--sandbox_directory`.
    pub sandbox_directory: PathBuf,
    /// `--http_heartbeat_interval`.
    pub http_heartbeat_interval: Duration,
    /// `--registration_backoff_factor`.
    pub registration_backoff_factor: Duration,
    /// How often unacknowledged status updates are resent to the master.
    pub status_update_retry_interval: Duration,
    /// `--recover=cleanup` (else `reconnect`).
    pub recover_cleanup: bool,
    /// `--strict`.
    pub strict: bool,
    /// `--executor_reregistration_timeout`.
    pub executor_reregistration_timeout: Duration,
    /// Garbage collection and disk usage (flags/gc.rs).
    pub gc: gc::GcConfig,
    // Recovery after an agent restart.
    /// `--reconfiguration_policy=additive` (else `equal`).
    pub reconfiguration_additive: bool,
    /// `--recovery_timeout`, as given (passed on to executors).
    pub recovery_timeout: String,
    // Container images.
    /// Container images, when `--image_providers=docker`.
    pub images: Option<ImageConfig>,
    /// Every flag as text, for `/flags` and GET_FLAGS.
    pub flags: Vec<(String, String)>,
    // The docker containerizer.
    /// `--containerizers`, in try order (`mesos`, `docker`).
    pub containerizers: Vec<String>,
    /// `--docker`.
    pub docker: String,
    /// `--docker_socket`.
    pub docker_socket: PathBuf,
    /// `--docker_remove_delay`.
    pub docker_remove_delay: Duration,
    /// `--docker_kill_orphans`.
    pub docker_kill_orphans: bool,
    /// `--docker_stop_timeout`.
    pub docker_stop_timeout: Duration,
    // Authentication.
    /// `--docker_config` as JSON text (read from its file), for the docker containerizer's
    /// pulls.
    pub docker_config: Option<String>,
    /// HTTP authentication realms and `--acls` (disabled unless flags turn them on).
    pub http_auth: meseta_auth::HttpAuth,
    /// Executor authentication (flags/executor_auth.rs).
    pub executor_auth: executor_auth::ExecutorAuthConfig,
}

// Container images.
/// Where images come from and how root filesystems are built.
#[derive(Debug, Clone)]
pub struct ImageConfig {
    /// `--docker_registry`.
    pub registry: String,
    /// `--docker_store_dir`.
    pub store_dir: PathBuf,
    /// `--image_provisioner_backend`, resolved.
    pub backend: oci_bundles::provision::Backend,
    /// `--docker_config`, as JSON text.
    pub docker_config: Option<String>,
}

/// Parses the flags from all sources; `conf_dir` is normally [`DEFAULT_CONF_DIR`].
pub fn parse(
    conf_dir: &Path,
    env: impl IntoIterator<Item = (String, String)>,
    cli: impl IntoIterator<Item = OsString>,
) -> Result<AgentFlags, FlagError> {
    let declared = known_flags();
    let known: Vec<&str> = declared.known.iter().map(String::as_str).collect();
    let booleans: Vec<&str> = declared.booleans.iter().map(String::as_str).collect();
    let sources = meseta_api::flags::FlagSources {
        conf_dir,
        known: &known,
        booleans: &booleans,
    };
    let args = meseta_api::flags::effective_args(&sources, env, cli)?;
    Ok(AgentFlags::try_parse_from(args)?)
}

impl AgentFlags {
    /// Validates every value into a [`Config`]; discovers resources not given.
    pub fn into_config(self) -> Result<Config, FlagError> {
        let master = self.master.as_deref().ok_or_else(|| {
            invalid(
                "master",
                "required (host:port, zk://host:port[,host:port...]/path or file:///path)",
            )
        })?;
        let master = MasterSource::parse(master).map_err(|e| invalid("master", e))?;
        let work_dir = self
            .work_dir
            .clone()
            .ok_or_else(|| invalid("work_dir", "required"))?;
        let containerizers = containerizers(&self.containerizers)?;
        // Authentication.
        let docker_config = self.docker_config_text()?;
        let http_auth = self.http_auth.to_http_auth()?;
        let isolation = isolators::Isolation::parse(&self.isolation)
            .map_err(|e| invalid("isolation", e.to_string()))?;
        let attributes = match &self.attributes {
            Some(a) if !a.trim().is_empty() => meseta_api::resource_parse::parse_attributes(a)
                .map_err(|e| invalid("attributes", e.to_string()))?,
            _ => Vec::new(),
        };
        let launcher_dir = match &self.launcher_dir {
            Some(d) => d.clone(),
            None => std::env::current_exe()
                .ok()
                .and_then(|p| p.parent().map(Path::to_path_buf))
                .unwrap_or_else(|| PathBuf::from(".")),
        };
        let hostname = match &self.hostname {
            Some(h) => h.clone(),
            None => nix::unistd::gethostname()
                .ok()
                .and_then(|h| h.into_string().ok())
                .unwrap_or_else(|| "localhost".into()),
        };
        std::fs::create_dir_all(&work_dir)
            .map_err(|e| invalid("work_dir", format!("{}: {e}", work_dir.display())))?;
        // Sandbox paths go to executors (MESOS_DIRECTORY): make them absolute.
        let work_dir = work_dir
            .canonicalize()
            .map_err(|e| invalid("work_dir", format!("{}: {e}", work_dir.display())))?;
        let resources = resources(self.resources.as_deref(), &work_dir)?;
        let recover_cleanup = match self.recover.as_str() {
            "reconnect" => false,
            "cleanup" => true,
            other => {
                return Err(invalid(
                    "recover",
                    format!("'{other}': expected 'reconnect' or 'cleanup'"),
                ))
            }
        };
        // Recovery after an agent restart.
        let reconfiguration_additive = match self.reconfiguration_policy.as_str() {
            "equal" => false,
            "additive" => true,
            other => {
                return Err(invalid(
                    "reconfiguration_policy",
                    format!("'{other}': expected 'equal' or 'additive'"),
                ))
            }
        };
        duration("recovery_timeout", &self.recovery_timeout)?;
        let images = self.image_config()?;
        let flags = self.as_pairs(&launcher_dir);
        let gc = self.gc.to_config()?;
        let executor_auth = self.executor_auth.to_config()?;
        let domain_socket = self.domain_socket()?;
        Ok(Config {
            images,
            master,
            zk_session_timeout: duration("zk_session_timeout", &self.zk_session_timeout)?,
            ip: self.ip,
            port: self.port,
            work_dir,
            runtime_dir: self.runtime_dir,
            http_executor_domain_sockets: self.http_executor_domain_sockets,
            domain_socket,
            isolation,
            resources,
            attributes,
            hostname,
            executor_registration_timeout: duration(
                "executor_registration_timeout",
                &self.executor_registration_timeout,
            )?,
            executor_shutdown_grace_period: duration(
                "executor_shutdown_grace_period",
                &self.executor_shutdown_grace_period,
            )?,
            cgroups_root: self.cgroups_root,
            cgroups_hierarchy: self.cgroups_hierarchy,
            cgroups_enable_cfs: self.cgroups_enable_cfs,
            switch_user: self.switch_user,
            per_task_dir: launcher_dir.clone(),
            launcher_dir,
            sandbox_directory: self.sandbox_directory,
            http_heartbeat_interval: duration(
                "http_heartbeat_interval",
                &self.http_heartbeat_interval,
            )?,
            registration_backoff_factor: duration(
                "registration_backoff_factor",
                &self.registration_backoff_factor,
            )?,
            status_update_retry_interval: Duration::from_secs(2),
            recover_cleanup,
            strict: self.strict,
            executor_reregistration_timeout: duration(
                "executor_reregistration_timeout",
                &self.executor_reregistration_timeout,
            )?,
            gc,
            reconfiguration_additive,
            recovery_timeout: self.recovery_timeout.clone(),
            flags,
            // The docker containerizer.
            containerizers,
            docker: self.docker,
            docker_socket: self.docker_socket,
            docker_remove_delay: duration("docker_remove_delay", &self.docker_remove_delay)?,
            docker_kill_orphans: self.docker_kill_orphans,
            docker_stop_timeout: duration("docker_stop_timeout", &self.docker_stop_timeout)?,
            // Authentication.
            docker_config,
            http_auth,
            executor_auth,
        })
    }

    /// The executor socket's path. One given with `--domain_socket_location` (or the default
    /// one when `--http_executor_domain_sockets` asks for it) must fit in a socket address, as
    /// Mesos requires; a default path that does not fit leaves the agent without a socket.
    fn domain_socket(&self) -> Result<Option<PathBuf>, FlagError> {
        /// `sizeof(sun_path)`, less the terminating NUL.
        const MAX: usize = 107;
        let (path, asked) = match &self.domain_socket_location {
            Some(p) => (p.clone(), true),
            None => (
                self.runtime_dir.join("agent.sock"),
                self.http_executor_domain_sockets,
            ),
        };
        let text = path.to_string_lossy();
        if text.starts_with("systemd:") {
            return Err(invalid(
                "domain_socket_location",
                format!("'{text}': systemd socket passing is not supported; give a path"),
            ));
        }
        if path.as_os_str().len() > MAX {
            if asked {
                return Err(invalid(
                    "domain_socket_location",
                    format!("'{text}' must have less than 108 characters"),
                ));
            }
            return Ok(None);
        }
        Ok(Some(path))
    }

    fn as_pairs(&self, launcher_dir: &Path) -> Vec<(String, String)> {
        let opt = |o: &Option<String>| o.clone().unwrap_or_default();
        let mut v = vec![
            ("master", opt(&self.master)),
            ("zk_session_timeout", self.zk_session_timeout.clone()),
            ("ip", self.ip.map(|i| i.to_string()).unwrap_or_default()),
            ("port", self.port.to_string()),
            (
                "work_dir",
                self.work_dir
                    .as_ref()
                    .map(|p| p.display().to_string())
                    .unwrap_or_default(),
            ),
            ("runtime_dir", self.runtime_dir.display().to_string()),
            (
                "http_executor_domain_sockets",
                self.http_executor_domain_sockets.to_string(),
            ),
            (
                "domain_socket_location",
                self.domain_socket_location
                    .as_ref()
                    .map(|p| p.display().to_string())
                    .unwrap_or_default(),
            ),
            ("containerizers", self.containerizers.clone()),
            ("isolation", self.isolation.clone()),
            ("resources", opt(&self.resources)),
            ("attributes", opt(&self.attributes)),
            ("hostname", opt(&self.hostname)),
            (
                "executor_registration_timeout",
                self.executor_registration_timeout.clone(),
            ),
            (
                "executor_shutdown_grace_period",
                self.executor_shutdown_grace_period.clone(),
            ),
            ("cgroups_root", self.cgroups_root.clone()),
            (
                "cgroups_hierarchy",
                self.cgroups_hierarchy.display().to_string(),
            ),
            ("cgroups_enable_cfs", self.cgroups_enable_cfs.to_string()),
            ("switch_user", self.switch_user.to_string()),
            ("launcher_dir", launcher_dir.display().to_string()),
            (
                "sandbox_directory",
                self.sandbox_directory.display().to_string(),
            ),
            (
                "http_heartbeat_interval",
                self.http_heartbeat_interval.clone(),
            ),
            (
                "registration_backoff_factor",
                self.registration_backoff_factor.clone(),
            ),
            ("recover", self.recover.clone()),
            ("strict", self.strict.to_string()),
            (
                "executor_reregistration_timeout",
                self.executor_reregistration_timeout.clone(),
            ),
            (
                "reconfiguration_policy",
                self.reconfiguration_policy.clone(),
            ),
            ("recovery_timeout", self.recovery_timeout.clone()),
            // The docker containerizer.
            ("docker", self.docker.clone()),
            ("docker_socket", self.docker_socket.display().to_string()),
            ("docker_remove_delay", self.docker_remove_delay.clone()),
            ("docker_kill_orphans", self.docker_kill_orphans.to_string()),
            ("docker_stop_timeout", self.docker_stop_timeout.clone()),
        ];
        v.extend(self.gc.as_pairs());
        v.extend(self.http_auth.as_pairs());
        v.extend(self.executor_auth.as_pairs());
        // Container images.
        v.extend([
            ("image_providers", opt(&self.image_providers)),
            ("docker_registry", self.docker_registry.clone()),
            (
                "docker_store_dir",
                self.docker_store_dir.display().to_string(),
            ),
            (
                "image_provisioner_backend",
                opt(&self.image_provisioner_backend),
            ),
            // Credentials are not shown.
            (
                "docker_config",
                self.docker_config
                    .as_ref()
                    .map(|_| "(set)".to_owned())
                    .unwrap_or_default(),
            ),
        ]);
        v.retain(|(_, value)| !value.is_empty());
        v.into_iter().map(|(k, v)| (k.to_owned(), v)).collect()
    }
}

/// `--resources` plus discovered defaults for `cpus`, `mem`, `disk` and `ports`.
fn resources(text: Option<&str>, work_dir: &Path) -> Result<Vec<Resource>, FlagError> {
    let mut list = match text {
        Some(t) if !t.trim().is_empty() => meseta_api::resource_parse::parse_resources(t, "*")
            .map_err(|e| invalid("resources", e.to_string()))?,
        _ => Vec::new(),
    };
    let has = |list: &[Resource], name: &str| list.iter().any(|r| r.name == name);
    let found = isolators::discovery::discover(work_dir)
        .map_err(|e| invalid("resources", format!("discovering resources: {e}")))?;
    let mut missing = Vec::new();
    if !has(&list, "cpus") {
        missing.push(format!("cpus:{}", found.cpus));
    }
    if !has(&list, "mem") {
        missing.push(format!("mem:{}", found.mem_mb));
    }
    if !has(&list, "disk") {
        missing.push(format!("disk:{}", found.disk_mb));
    }
    if !has(&list, "ports") {
        missing.push(format!("ports:[{}-{}]", found.ports.0, found.ports.1));
    }
    if !missing.is_empty() {
        let extra = meseta_api::resource_parse::parse_resources(&missing.join(";"), "*")
            .map_err(|e| invalid("resources", e.to_string()))?;
        list.extend(extra);
    }
    Ok(list)
}

// The docker containerizer.
/// `--containerizers`: a non-empty list of `mesos` and `docker`, each at most once.
fn containerizers(text: &str) -> Result<Vec<String>, FlagError> {
    let mut list: Vec<String> = Vec::new();
    for name in text.split(',').map(str::trim) {
        if name != "mesos" && name != "docker" {
            return Err(invalid(
                "containerizers",
                format!("'{text}': unknown containerizer '{name}' (expected mesos and/or docker)"),
            ));
        }
        if list.iter().any(|n| n == name) {
            return Err(invalid(
                "containerizers",
                format!("'{text}': '{name}' is listed twice"),
            ));
        }
        list.push(name.to_owned());
    }
    Ok(list)
}

fn duration(flag: &'static str, text: &str) -> Result<Duration, FlagError> {
    parse_duration(text).map_err(|_| {
        invalid(
            flag,
            format!(
                "'{text}' is not a duration (a number with ns, us, ms, secs, mins, hrs, days \
                 or weeks, e.g. 5secs)"
            ),
        )
    })
}

// Container images.
impl AgentFlags {
    /// Validates the image flags; `None` when `--image_providers` is not set.
    fn image_config(&self) -> Result<Option<ImageConfig>, FlagError> {
        let providers: Vec<String> = self
            .image_providers
            .iter()
            .flat_map(|p| p.split(','))
            .map(|p| p.trim().to_ascii_lowercase())
            .filter(|p| !p.is_empty())
            .collect();
        if providers.is_empty() {
            return Ok(None);
        }
        if let Some(bad) = providers.iter().find(|p| *p != "docker") {
            return Err(invalid(
                "image_providers",
                format!("'{bad}' is not supported (only 'docker')"),
            ));
        }
        let backend = match &self.image_provisioner_backend {
            Some(b) => b
                .parse()
                .map_err(|e: String| invalid("image_provisioner_backend", e))?,
            None if overlay_supported() => oci_bundles::provision::Backend::Overlay,
            None => oci_bundles::provision::Backend::Copy,
        };
        let docker_config = self.docker_config_text()?;
        let registry = self.docker_registry.trim_end_matches('/').to_owned();
        if registry.is_empty() {
            return Err(invalid("docker_registry", "empty"));
        }
        Ok(Some(ImageConfig {
            registry,
            store_dir: self.docker_store_dir.clone(),
            backend,
            docker_config,
        }))
    }
}

// Authentication.
impl AgentFlags {
    /// `--docker_config`: JSON text, or the path of a file holding it (Mesos takes both);
    /// it must be a JSON object (a Docker `config.json` or `.dockercfg`).
    fn docker_config_text(&self) -> Result<Option<String>, FlagError> {
        let text = match self.docker_config.as_deref().map(str::trim) {
            None | Some("") => return Ok(None),
            Some(json) if json.starts_with('{') => json.to_owned(),
            Some(path) => {
                let path = path.trim_start_matches("file://");
                std::fs::read_to_string(path)
                    .map_err(|e| invalid("docker_config", format!("{path}: {e}")))?
            }
        };
        match serde_json::from_str::<serde_json::Value>(&text) {
            Ok(v) if v.is_object() => Ok(Some(text)),
            Ok(_) => Err(invalid("docker_config", "not a JSON object")),
            // The error names a line and column, never the (secret) text.
            Err(e) => Err(invalid("docker_config", format!("not valid JSON: {e}"))),
        }
    }
}

/// Whether the kernel lists overlayfs in `/proc/filesystems`.
fn overlay_supported() -> bool {
    std::fs::read_to_string("/proc/filesystems")
        .is_ok_and(|f| f.lines().any(|l| l.trim_end().ends_with("overlay")))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The configuration of `mesos-agent --work_dir=<dir> <extra>` (no environment, no
    /// `/etc/mesos-slave`).
    fn config_from_cli(dir: &Path, extra: &[&str]) -> Result<Config, FlagError> {
        let wd = format!("--work_dir={}", dir.display());
        let mut cli = vec!["mesos-agent", wd.as_str()];
        cli.extend_from_slice(extra);
        parse(
            &dir.join("none"),
            vec![],
            cli.into_iter().map(OsString::from),
        )
        .unwrap()
        .into_config()
    }

    #[test]
    fn the_executor_socket_follows_mesos_rules() {
        let d = tempfile::tempdir().unwrap();
        let parse_cli = |extra: &[&str]| {
            let mut args = vec!["--master=h:5050", "--runtime_dir=/run/m"];
            args.extend_from_slice(extra);
            config_from_cli(d.path(), &args)
        };
        let c = parse_cli(&[]).unwrap();
        assert!(!c.http_executor_domain_sockets);
        assert_eq!(c.domain_socket, Some(PathBuf::from("/run/m/agent.sock")));
        let c = parse_cli(&[
            "--http_executor_domain_sockets",
            "--domain_socket_location=/s",
        ]);
        let c = c.unwrap();
        assert!(c.http_executor_domain_sockets);
        assert_eq!(c.domain_socket, Some(PathBuf::from("/s")));
        let long = format!("--domain_socket_location=/{}", "x".repeat(107));
        let e = parse_cli(&[&long]).unwrap_err().to_string();
        assert!(e.contains("less than 108 characters"), "{e}");
        let e = parse_cli(&["--domain_socket_location=systemd:agent"])
            .unwrap_err()
            .to_string();
        assert!(e.contains("not supported"), "{e}");
        // A default path too long for a socket address: no socket, unless one was asked for.
        let deep = format!("--runtime_dir=/{}", "r".repeat(100));
        assert_eq!(parse_cli(&[&deep]).unwrap().domain_socket, None);
        let e = parse_cli(&[&deep, "--http_executor_domain_sockets"]).unwrap_err();
        assert!(e.to_string().contains("less than 108"), "{e}");
    }

    #[test]
    fn zk_masters_and_bad_containerizers() {
        let d = tempfile::tempdir().unwrap();
        let parse_cli = |extra: &[&str]| config_from_cli(d.path(), extra);
        let c = parse_cli(&["--master=zk://h:2181/mesos"]).unwrap();
        assert!(matches!(c.master, MasterSource::ZooKeeper(_)));
        assert_eq!(c.zk_session_timeout, Duration::from_secs(10));
        let e = parse_cli(&["--master=zk://h:port/mesos"]).unwrap_err();
        assert!(
            e.to_string().starts_with("--master: invalid ZooKeeper URL"),
            "{e}"
        );
        let e = parse_cli(&["--master=h:5050", "--containerizers=docker,lxc"]).unwrap_err();
        assert!(e.to_string().contains("--containerizers"), "{e}");
        let c = parse_cli(&["--master=h:5050", "--containerizers=docker,mesos"]).unwrap();
        assert_eq!(c.containerizers, ["docker", "mesos"]);
        assert_eq!(c.docker_remove_delay, Duration::from_secs(6 * 3600));
        assert!(c.docker_kill_orphans && c.docker_stop_timeout.is_zero());
        let e = parse_cli(&["--master=h:5050", "--http_heartbeat_interval=3"]).unwrap_err();
        assert!(e.to_string().contains("--http_heartbeat_interval"), "{e}");
        let c = parse_cli(&["--master=h:5050", "--resources=cpus:3;mem:100"]).unwrap();
        assert!(c.resources.iter().any(|r| r.name == "disk"));
        assert!(c.switch_user);
        let json = r#"--resources=[{"name":"cpus","type":"SCALAR","scalar":{"value":3}}]"#;
        let c = parse_cli(&["--master=h:5050", json]).unwrap();
        let cpus = meseta_api::resource_format::scalar_total(&c.resources, "cpus");
        assert_eq!(cpus, 3.0);
        assert!(meseta_api::resource_format::scalar_total(&c.resources, "mem") > 0.0);
        assert!(c.strict && !c.recover_cleanup);
        assert_eq!(c.executor_reregistration_timeout, Duration::from_secs(2));
        let c = parse_cli(&["--master=h:5050", "--recover=cleanup", "--strict=false"]).unwrap();
        assert!(!c.strict && c.recover_cleanup);
        let e = parse_cli(&["--master=h:5050", "--recover=maybe"]).unwrap_err();
        assert!(e.to_string().contains("--recover"), "{e}");
        // Recovery after an agent restart.
        assert!(!c.reconfiguration_additive);
        assert_eq!(c.recovery_timeout, "15mins");
        let c = parse_cli(&[
            "--master=h:5050",
            "--reconfiguration_policy=additive",
            "--recovery_timeout=1mins",
        ])
        .unwrap();
        assert!(c.reconfiguration_additive);
        assert_eq!(c.recovery_timeout, "1mins");
        let e = parse_cli(&["--master=h:5050", "--reconfiguration_policy=any"]).unwrap_err();
        assert!(e.to_string().contains("--reconfiguration_policy"), "{e}");
        let e = parse_cli(&["--master=h:5050", "--recovery_timeout=soon"]).unwrap_err();
        assert!(e.to_string().contains("--recovery_timeout"), "{e}");
    }
}
