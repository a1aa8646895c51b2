//! Starting the master: bind, open the registry, and run the accept loop, the
//! allocation loop (every `--allocation_interval` and on events) and the
//! housekeeping tick.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tokio::task::{JoinHandle, JoinSet};

use crate::flags::MasterConfig;
use crate::ha::Ha;
use crate::http::{handle, Ctx};
use crate::master::{lock, Master, Shared};
use crate::registry::{Registry, RegistryData, RegistryError};

/// Shortest time between two event-triggered allocation runs.
const MIN_ALLOCATION_GAP: std::time::Duration = std::time::Duration::from_millis(5);

/// Why the master could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The listening socket.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// Address.
        addr: SocketAddr,
        /// Why.
        source: std::io::Error,
    },
    /// The registry.
    #[error(transparent)]
    Registry(#[from] RegistryError),
}

/// A running master.
#[derive(Debug)]
pub struct Running {
    /// Where it listens.
    pub addr: SocketAddr,
    /// Its state.
    pub master: Shared,
    /// Leader election, with `--zk`.
    pub ha: Option<Arc<Ha>>,
    tasks: Vec<JoinHandle<()>>,
}

impl Running {
    /// Leaves the leader election first (so the next master leads at once), then stops
    /// accepting, closes every connection and stops the timers.
    pub async fn shutdown_gracefully(self) {
        if let Some(ha) = &self.ha {
            ha.withdraw().await;
        }
        self.shutdown();
    }

    /// Stops accepting, closes every connection and stops the timers.
    pub fn shutdown(self) {
        for t in &self.tasks {
            t.abort();
        }
    }
}

/// TCP keepalive probing after `--agent_ping_timeout` of silence, every
/// `--agent_ping_timeout`, `--max_agent_ping_timeouts` probes (at least 1 s).
fn keepalive_params(config: &MasterConfig) -> socket2::TcpKeepalive {
    let period = config
        .agent_ping_timeout
        .max(std::time::Duration::from_secs(1));
    socket2::TcpKeepalive::new()
        .with_time(period)
        .with_interval(period)
        .with_retries(config.max_agent_ping_timeouts.max(1))
}

/// Binds and starts the master on the current tokio runtime.
pub async fn start(config: MasterConfig) -> Result<Running, StartError> {
    let addr = SocketAddr::from((config.bind_ip, config.port));
    let listener = TcpListener::bind(addr)
        .await
        .map_err(|source| StartError::Bind { addr, source })?;
    let addr = listener
        .local_addr()
        .map_err(|source| StartError::Bind { addr, source })?;
    let max_body_bytes = config.max_body_bytes;
    let keepalive = keepalive_params(&config);
    let ha_config = config.ha.clone();
    let in_memory = config.registry_in_memory;
    let port = addr.port();
    let master = match (&ha_config, in_memory) {
        // With --zk this master starts as a follower with nothing in it; the registry is
        // recovered from ZooKeeper when it is elected (`crate::ha`).
        (Some(_), _) | (None, true) => {
            let fresh = RegistryData {
                master_id: uuid::Uuid::new_v4().to_string(),
                ..RegistryData::default()
            };
            Master::with_registry(config, port, Registry::in_memory(fresh))
        }
        (None, false) => Master::new(config, port)?,
    };
    tracing::info!(master_id = %master.id(), %addr, "master started");
    let ha = ha_config.map(|c| Ha::start(c, master.info.clone(), in_memory));
    let mut master = master;
    let commit_notify = master.enable_group_commit();
    let notify = master.alloc_notify();
    let interval = master.config.allocation_interval;
    let tick = master.tick_interval();
    let shared: Shared = Arc::new(Mutex::new(master));
    let ctx = Arc::new(Ctx {
        master: Arc::clone(&shared),
        max_body_bytes,
        ha: ha.clone(),
    });

    let accept = tokio::spawn(async move {
        let mut conns = JoinSet::new();
        loop {
            let (stream, peer) = match listener.accept().await {
                Ok(x) => x,
                Err(err) => {
                    tracing::warn!(%err, "accept failed");
                    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                    continue;
                }
            };
            let _ = stream.set_nodelay(true);
            // A peer that vanishes without closing (host down) must still
            // break its event stream, so the agent can be removed.
            if let Err(err) = socket2::SockRef::from(&stream).set_tcp_keepalive(&keepalive) {
                tracing::debug!(%peer, %err, "cannot enable TCP keepalive");
            }
            let ctx = Arc::clone(&ctx);
            while conns.try_join_next().is_some() {}
            conns.spawn(async move {
                let svc = service_fn(move |req| handle(req, Arc::clone(&ctx)));
                if let Err(err) = http1::Builder::new()
                    .keep_alive(true)
                    .serve_connection(TokioIo::new(stream), svc)
                    .await
                {
                    tracing::debug!(%peer, %err, "connection ended");
                }
            });
        }
    });

    let m = Arc::clone(&shared);
    let leading = {
        let ha = ha.clone();
        move || ha.as_ref().is_none_or(|ha| ha.leading())
    };
    let may_allocate = leading.clone();
    let allocation = tokio::spawn(async move {
        let mut last = tokio::time::Instant::now();
        let mut next_regular = tokio::time::Instant::now() + interval;
        loop {
            let triggered = tokio::select! {
                () = tokio::time::sleep_until(next_regular) => false,
                () = notify.notified() => {
                    // Event-triggered runs: the first one right away, then at
                    // most one per MIN_GAP so bursts of recovered resources
                    // become a few larger offers instead of many tiny ones.
                    tokio::time::sleep_until(last + MIN_ALLOCATION_GAP).await;
                    true
                }
            };
            last = tokio::time::Instant::now();
            if !may_allocate() {
                next_regular = last + interval;
                continue; // A follower makes no offers.
            }
            if triggered {
                lock(&m).allocate_triggered();
            } else {
                // Regular cycles keep their period however many events come.
                next_regular = last + interval;
                lock(&m).allocate();
            }
        }
    });

    let committer = match &ha {
        Some(ha) => tokio::spawn(crate::ha::run_committer(
            Arc::clone(ha),
            Arc::clone(&shared),
            commit_notify,
        )),
        None => tokio::spawn(run_committer(Arc::clone(&shared), commit_notify)),
    };
    let mut tasks = Vec::new();
    if let Some(ha) = &ha {
        tasks.push(tokio::spawn(crate::ha::run(
            Arc::clone(ha),
            Arc::clone(&shared),
        )));
    }

    let m = Arc::clone(&shared);
    let housekeeping = tokio::spawn(async move {
        let mut t = tokio::time::interval(tick);
        t.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            t.tick().await;
            if leading() {
                lock(&m).tick();
            }
        }
    });

    tasks.extend([accept, allocation, housekeeping, committer]);
    Ok(Running {
        addr,
        master: shared,
        ha,
        tasks,
    })
}

/// Registry group commit: each pass writes everything queued since the last
/// one with a single fsync, off the master's lock (`master::commit`).
async fn run_committer(m: Shared, notify: Arc<tokio::sync::Notify>) {
    loop {
        notify.notified().await;
        loop {
            let snap = match lock(&m).commit_snapshot() {
                None => break,
                Some(Ok(s)) => s,
                Some(Err(err)) => {
                    tracing::error!(%err, "cannot serialize the registry");
                    break;
                }
            };
            let started = std::time::Instant::now();
            let (generation, snapshot) = (snap.generation, snap.snapshot);
            let result = tokio::task::spawn_blocking(move || snapshot.write())
                .await
                .unwrap_or_else(|e| {
                    Err(RegistryError::Io {
                        path: "registry".into(),
                        source: std::io::Error::other(e.to_string()),
                    })
                });
            let ms = started.elapsed().as_secs_f64() * 1000.0;
            let failed = result.is_err();
            lock(&m).commit_done(generation, ms, result);
            if failed {
                break; // Retried with the next registration.
            }
        }
    }
}
