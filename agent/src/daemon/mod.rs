//! The agent daemon: [`Agent`] holds the configuration, the containerizer, the state and the
//! outbox to the master; [`Started::run`] starts the HTTP server, the master link and the status
//! update retry loop.
//!
//! Files: `state` (data model), `launch` (RUN_TASK → sandbox → container), `lifecycle`
//! (container ends, registration timeout, kill, framework shutdown), `updates` (status updates,
//! at-least-once), `env` (the executor environment), `checkpoint` (`<work_dir>/meta/` for
//! frameworks with `checkpoint: true`), `writer` (the checkpoint writer thread), `recovery`
//! (restart: same agent id, resent updates), `reattach` (re-attached containers,
//! re-subscribing executors, orphans destroyed), `reconfig` (`--reconfiguration_policy`), `gc`
//! (old sandboxes removed after `--gc_delay`, sooner as the disk fills), `disk` (the
//! `disk/du` isolator).

pub mod checkpoint;
pub mod containerizers;
pub mod disk;
pub mod env;
pub mod gc;
pub mod image;
pub mod launch;
pub mod lifecycle;
pub mod pending;
pub mod reattach;
pub mod reconfig;
pub mod recovery;
pub mod state;
pub mod updates;
pub mod writer;

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use meseta_api::internal::Call;
use tokio::sync::mpsc::{self, UnboundedReceiver, UnboundedSender};

use crate::containerizer::{ContainerConfig, ContainerizerError, MesosContainerizer};
use crate::flags::Config;

pub use state::State;

/// Why the daemon could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The containerizer could not be set up.
    #[error("containerizer: {0}")]
    Containerizer(#[from] ContainerizerError),
    /// A checkpoint is unreadable and `--strict` is on.
    #[error("{0} (restart with --strict=false to skip it, or --recover=cleanup)")]
    Recovery(#[from] checkpoint::CheckpointError),
    /// The checkpointed agent info is incompatible with the flags (`--reconfiguration_policy`).
    #[error(
        "Failed to perform recovery: {detail}. To keep the agent id, use a more permissive \
         --reconfiguration_policy; to restart this agent with a new agent id instead: \
         rm -f {} (this ensures that the agent does not recover old live executors)",
        latest.display()
    )]
    Incompatible {
        /// What changed.
        detail: String,
        /// `<work_dir>/meta/slaves/latest`.
        latest: std::path::PathBuf,
    },
    /// The HTTP server's limits or TLS settings (`MESETA_HTTP_*`, `LIBPROCESS_SSL_*`).
    #[error(transparent)]
    Http(#[from] meseta_httpd::ConfigError),
    /// The executor socket asked for (`--http_executor_domain_sockets`) could not be created.
    #[error("creating the executor socket {}: {source}", .path.display())]
    Socket {
        /// `--domain_socket_location`.
        path: std::path::PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The HTTP port could not be bound.
    #[error("binding {addr}: {source}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// Why.
        source: std::io::Error,
    },
}

/// The running agent, shared by every task of the daemon.
#[derive(Debug)]
pub struct Agent {
    /// Validated flags.
    pub config: Config,
    /// The `mesos` containerizer.
    pub containerizer: MesosContainerizer,
    /// Writes `<work_dir>/meta/` for checkpointing frameworks.
    pub checkpointer: checkpoint::Checkpointer,
    /// Sandboxes and meta of finished executors waiting for removal.
    pub gc: gc::GarbageCollector,
    /// Sandbox disk usage per container (`disk/du`).
    pub disk: disk::DiskWatch,
    state: Mutex<State>,
    outbox: UnboundedSender<Call>,
    /// The address executors and operators reach the agent at.
    pub advertised: SocketAddr,
    /// When the agent started.
    pub started: Instant,
    /// Seconds since the epoch at start.
    pub start_time: f64,
    /// The `docker` containerizer, when `--containerizers` lists it.
    pub docker: Option<crate::containerizer::docker::DockerContainerizer>,
    /// Executor sockets the peer check already found in their containers.
    pub peers: crate::executor_auth::PeerCache,
}

impl Agent {
    /// Locks the state (poisoning is ignored: the state stays usable).
    pub fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Queues a call for the master (sent in order by the master link).
    pub fn send(&self, call: Call) {
        let _ = self.outbox.send(call);
    }

    /// What the agent is: hostname, port, resources, attributes, id once registered.
    pub fn agent_info(&self) -> meseta_api::AgentInfo {
        meseta_api::AgentInfo {
            hostname: self.config.hostname.clone(),
            port: Some(i32::from(self.advertised.port())),
            resources: self.config.resources.clone(),
            attributes: self.config.attributes.clone(),
            id: self.state().agent_id.clone(),
            domain: None,
        }
    }

    /// `slave(1)@ip:port`.
    pub fn pid(&self) -> String {
        format!("slave(1)@{}", self.advertised)
    }
}

/// A bound, not yet serving agent: tests read [`Started::addr`] before the agent runs.
#[derive(Debug)]
pub struct Started {
    /// The agent.
    pub agent: Arc<Agent>,
    /// The HTTP listener's address.
    pub addr: SocketAddr,
    listener: tokio::net::TcpListener,
    /// The executor socket (`Config::domain_socket`), bound.
    socket: Option<tokio::net::UnixListener>,
    http: meseta_httpd::ServerConfig,
    outbox: UnboundedReceiver<Call>,
    /// Checkpoints were recovered: `Some(rebooted)`.
    recovered: Option<bool>,
}

/// Sets up the containerizer and binds the HTTP port.
pub async fn start(mut config: Config) -> Result<Started, StartError> {
    let mut cc = ContainerConfig::new(
        config.runtime_dir.clone(),
        config.per_task_dir.clone(),
        config.isolation.clone(),
    );
    cc.cgroups_hierarchy = config.cgroups_hierarchy.clone();
    cc.cgroups_root = config.cgroups_root.clone();
    cc.cgroups_enable_cfs = config.cgroups_enable_cfs;
    cc.sandbox_directory = config.sandbox_directory.clone();
    cc.default_kill_grace = config.executor_shutdown_grace_period;
    // Container images.
    cc.provisioner_dir = Some(config.work_dir.join("provisioner"));
    let containerizer = MesosContainerizer::new(cc)?;
    let meta = checkpoint::Meta::new(&config.work_dir);
    let boot_id = checkpoint::current_boot_id();
    let mut state = State::default();
    let checkpoints = if config.recover_cleanup {
        None
    } else {
        recovery::read(&meta, &boot_id, config.strict)?
    };
    let http = meseta_httpd::ServerConfig::from_process_env()?;
    let bind = SocketAddr::from((config.ip.unwrap_or(Ipv4Addr::UNSPECIFIED), config.port));
    let listener = listen(bind).map_err(|source| StartError::Bind { addr: bind, source })?;
    let addr = listener
        .local_addr()
        .map_err(|source| StartError::Bind { addr: bind, source })?;
    let ip = match config.ip {
        Some(ip) if !ip.is_unspecified() => ip,
        _ => route_ip(&config.master.route_target()),
    };
    let advertised = SocketAddr::from((ip, addr.port()));
    if let Some(previous) = checkpoints.as_ref().and_then(|r| r.agent_info.as_ref()) {
        compatible(&config, advertised.port(), previous).map_err(|detail| {
            StartError::Incompatible {
                detail,
                latest: meta.slaves().join("latest"),
            }
        })?;
    }
    let socket = match config.domain_socket.clone() {
        None => None,
        Some(path) => match meseta_httpd::bind_unix(&path) {
            Ok(listener) => {
                tracing::info!(socket = %path.display(), "serving the executor API on a Unix socket");
                Some(listener)
            }
            // Mesos exits when the socket it was asked for cannot be made; Meseta's own
            // executors fall back to TCP without one.
            Err(source) if config.http_executor_domain_sockets => {
                return Err(StartError::Socket { path, source })
            }
            Err(err) => {
                tracing::warn!(socket = %path.display(), %err,
                    "cannot create the executor socket; executors use TCP");
                config.domain_socket = None;
                None
            }
        },
    };
    let recovered = if config.recover_cleanup {
        tracing::info!("--recover=cleanup: forgetting checkpoints, destroying old containers");
        let _ = std::fs::remove_dir_all(meta.slaves());
        None
    } else {
        checkpoints.map(|r| {
            recovery::apply(&mut state, &config.work_dir, &r);
            r.rebooted
        })
    };
    let checkpointer = checkpoint::Checkpointer::new(meta);
    checkpointer.boot_id(&boot_id);
    let (tx, rx) = mpsc::unbounded_channel();
    let docker = containerizers::docker_containerizer(&config);
    let agent = Arc::new(Agent {
        docker,
        peers: crate::executor_auth::PeerCache::default(),
        advertised,
        config,
        containerizer,
        checkpointer,
        gc: gc::GarbageCollector::default(),
        disk: disk::DiskWatch::default(),
        state: Mutex::new(state),
        outbox: tx,
        started: Instant::now(),
        start_time: SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs_f64())
            .unwrap_or_default(),
    });
    Ok(Started {
        agent,
        addr,
        listener,
        socket,
        http,
        outbox: rx,
        recovered,
    })
}

impl Started {
    /// Serves HTTP, talks to the master and retries updates until the process ends.
    pub async fn run(self) {
        let agent = self.agent;
        if agent.config.recover_cleanup {
            // Mesos: `cleanup` kills the old live executors and exits; the next start (with
            // `reconnect`) registers as a new agent.
            destroy_orphans(agent).await;
            tracing::info!("--recover=cleanup: old executors killed; exiting");
            return;
        }
        let live: Vec<String> = {
            let state = agent.state();
            state
                .frameworks
                .values()
                .flat_map(|f| f.executors.values())
                .map(|e| e.container_id.clone())
                .collect()
        };
        gc::schedule_leftovers(&agent, &live);
        tokio::spawn(gc::run(agent.clone()));
        if agent.config.isolation.disk_du {
            tokio::spawn(disk::run(agent.clone()));
        }
        match self.recovered {
            Some(rebooted) => {
                tokio::spawn(reattach::reattach(agent.clone(), rebooted));
            }
            None => {
                tokio::spawn(destroy_orphans(agent.clone()));
            }
        }
        tokio::spawn(containerizers::recover(agent.clone()));
        tokio::spawn(updates::retry_loop(agent.clone()));
        tokio::spawn(crate::master_link::run(agent.clone(), self.outbox));
        let mut http = self.http;
        if let Some(socket) = self.socket {
            let (port, executors) = crate::http::split_connection_budget(http.limits);
            http.limits = port;
            tokio::spawn(crate::http::serve_executor_socket(
                agent.clone(),
                socket,
                executors,
            ));
        }
        crate::http::serve(agent, self.listener, http).await;
    }
}

/// Containers left in `--runtime_dir` by an earlier agent run with nothing checkpointed (or
/// `--recover=cleanup`): nobody would ever reap them, so they are destroyed.
async fn destroy_orphans(agent: Arc<Agent>) {
    let ids = match agent.containerizer.recover().await {
        Ok(ids) => ids,
        Err(err) => {
            tracing::warn!(%err, "recovering containers failed");
            return;
        }
    };
    for id in ids {
        tracing::warn!(
            container_id = id,
            "destroying a container of an earlier agent run"
        );
        if let Err(err) = agent.containerizer.destroy(&id).await {
            agent.state().counters.container_destroy_errors += 1;
            tracing::warn!(container_id = id, %err, "destroying an orphan failed");
        }
    }
}

/// The local address that routes to the master (what Mesos advertises without `--ip`).
fn route_ip(master: &str) -> Ipv4Addr {
    let probe = || -> std::io::Result<Ipv4Addr> {
        let sock = std::net::UdpSocket::bind("0.0.0.0:0")?;
        sock.connect(master)?;
        match sock.local_addr()?.ip() {
            std::net::IpAddr::V4(ip) => Ok(ip),
            std::net::IpAddr::V6(_) => Ok(Ipv4Addr::LOCALHOST),
        }
    };
    probe().unwrap_or(Ipv4Addr::LOCALHOST)
}

/// Seconds since the epoch.
pub fn now_secs() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or_default()
}

/// `--reconfiguration_policy`: the checkpointed agent info against the flags of this run.
fn compatible(config: &Config, port: u16, previous: &meseta_api::AgentInfo) -> Result<(), String> {
    let current = meseta_api::AgentInfo {
        hostname: config.hostname.clone(),
        port: Some(i32::from(port)),
        resources: config.resources.clone(),
        attributes: config.attributes.clone(),
        id: None,
        domain: None,
    };
    let mut previous = previous.clone();
    previous.id = None;
    if config.reconfiguration_additive {
        reconfig::additive(&previous, &current)
    } else {
        reconfig::equal(&previous, &current)
    }
}

/// Binds the HTTP port with a deep accept queue: after a restart every recovered executor
/// re-subscribes at once, and connections beyond a short queue (std's 128) wait for a SYN
/// retransmission (1 s).
fn listen(addr: SocketAddr) -> std::io::Result<tokio::net::TcpListener> {
    meseta_httpd::bind(addr)
}
