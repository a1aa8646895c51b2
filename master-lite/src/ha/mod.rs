//! Master high availability on ZooKeeper (`--zk`), as Mesos does it: every master contends
//! with an ephemeral-sequential `<path>/json.info_` znode holding its `MasterInfo` JSON, the
//! lowest sequence leads, the others redirect to it (`crate::http::ha_gate`).
//!
//! ```text
//!   Follower ──elected──► Recovering ──registry loaded──► Leading
//!      ▲                      │                              │
//!      └──── lease lapsed / session lost (at once) ──────────┘
//! ```
//! - **Recovering**: the registry is read from ZooKeeper ([`store`]); requests get 503
//!   "Master has not finished recovery". Then the master's state is rebuilt from it
//!   ([`crate::master::Master::reset`]); agents re-register with their ids and frameworks
//!   re-subscribe with theirs; agents that do not come back within
//!   `--agent_reregister_timeout` are marked unreachable (re-admitted if they return).
//! - **Leading** holds only while the contender's lease holds (checked on every request),
//!   so a leader paused or cut off past its session stops serving before ZooKeeper can let
//!   another master lead; its registry writes are fenced on its election node as well.
//! - **Stepping down** drops all state (closing every stream, so clients follow the new
//!   leader) and contends again.

pub mod store;

use std::sync::atomic::{AtomicU64, AtomicU8, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use meseta_api::MasterInfo;
use meseta_zk::{Contender, Detector, Leader, Role};
use tokio::sync::Notify;
use tracing::{error, info, warn};

use crate::flags::HaConfig;
use crate::master::{lock, Shared};
use crate::registry::{Registry, RegistryData, RegistryError};

/// Where this master stands in the election.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// Not the leader: redirect to the leader.
    Follower,
    /// Elected, loading the registry: 503.
    Recovering,
    /// Elected and recovered.
    Leading,
}

/// Election state shared by the server's tasks and request handlers.
#[derive(Debug)]
pub struct Ha {
    config: HaConfig,
    contender: Contender,
    detector: Detector,
    /// This process's `MasterInfo` (its id is per process, as in Mesos).
    info: MasterInfo,
    /// `--registry=in_memory`: each new leader starts from an empty registry.
    in_memory: bool,
    phase: AtomicU8,
    /// Bumped at every reset of the master's state; writes and timers of an older epoch
    /// are dropped.
    epoch: AtomicU64,
    /// What the committer last wrote (the diff base), per epoch.
    written: Mutex<store::Nodes>,
}

impl Ha {
    /// Starts contending and detecting for the master described by `info`.
    pub fn start(config: HaConfig, info: MasterInfo, in_memory: bool) -> Arc<Ha> {
        let data = meseta_zk::master_info::encode(&info);
        let timeout = config.session_timeout;
        let contender = Contender::spawn(config.zk.clone(), timeout, meseta_zk::MASTER_LABEL, data);
        let detector = Detector::spawn(config.zk.clone(), timeout);
        info!(zk = %config.zk, registry = %config.registry_path, "contending for leadership in ZooKeeper");
        Arc::new(Ha {
            config,
            contender,
            detector,
            info,
            in_memory,
            phase: AtomicU8::new(0),
            epoch: AtomicU64::new(0),
            written: Mutex::new(store::Nodes::new()),
        })
    }

    /// The current phase; `Leading` only while the contender's lease holds.
    pub fn phase(&self) -> Phase {
        match self.phase.load(Ordering::SeqCst) {
            2 if self.contender.is_leader() => Phase::Leading,
            1 if self.contender.is_leader() => Phase::Recovering,
            _ => Phase::Follower,
        }
    }

    fn set_phase(&self, phase: Phase) {
        let n = match phase {
            Phase::Follower => 0,
            Phase::Recovering => 1,
            Phase::Leading => 2,
        };
        self.phase.store(n, Ordering::SeqCst);
    }

    /// Whether this master may act as leader right now.
    pub fn leading(&self) -> bool {
        self.phase() == Phase::Leading
    }

    /// The leader ZooKeeper names (possibly this master).
    pub fn leader(&self) -> Option<MasterInfo> {
        self.detector
            .leader()
            .as_ref()
            .and_then(|l: &Leader| l.master_info().ok())
    }

    /// This master's own `MasterInfo`.
    pub fn info(&self) -> &MasterInfo {
        &self.info
    }

    /// Leaves the election (deletes this master's znode) so the next master leads at once.
    pub async fn withdraw(&self) {
        self.set_phase(Phase::Follower);
        self.contender.withdraw().await;
    }

    fn empty_registry(&self) -> RegistryData {
        RegistryData {
            master_id: self.info.id.clone(),
            ..RegistryData::default()
        }
    }
}

/// Follows the contender: recovers on election, steps down on loss. Runs for the process's
/// life.
pub async fn run(ha: Arc<Ha>, master: Shared) {
    let mut roles = ha.contender.subscribe();
    loop {
        let role = roles.borrow_and_update().clone();
        let elected = matches!(role, Role::Leader { .. }) && ha.contender.is_leader();
        let raw = ha.phase.load(Ordering::SeqCst);
        if elected && raw == 0 {
            recover(&ha, &master).await;
        } else if !elected && raw != 0 {
            step_down(&ha, &master);
        }
        tokio::select! {
            changed = roles.changed() => if changed.is_err() { return },
            // The lease can lapse without a role change being published yet.
            () = tokio::time::sleep(Duration::from_millis(100)) => {}
        }
    }
}

fn step_down(ha: &Ha, master: &Shared) {
    let mut m = lock(master);
    ha.set_phase(Phase::Follower);
    ha.epoch.fetch_add(1, Ordering::SeqCst);
    m.reset(Registry::in_memory(ha.empty_registry()));
    warn!(
        "no longer the leading master (ZooKeeper session or lease lost); following the new leader"
    );
}

async fn recover(ha: &Arc<Ha>, master: &Shared) {
    ha.set_phase(Phase::Recovering);
    info!("elected leading master; recovering the registry from ZooKeeper");
    let root = ha.config.registry_path.clone();
    let loaded = loop {
        let Some(fence) = ha.contender.fence() else {
            ha.set_phase(Phase::Follower);
            return;
        };
        let acls = meseta_zk::acls_for(&ha.config.zk);
        let result = async {
            for dir in ["agents", "frameworks", "unreachable"] {
                fence.ensure_path(&format!("{root}/{dir}"), acls).await?;
            }
            store::load(fence.client(), &root).await
        }
        .await;
        match result {
            Ok(loaded) => break loaded,
            Err(err) => {
                warn!(%err, "cannot read the registry from ZooKeeper; retrying");
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
        }
    };
    let mut m = lock(master);
    if !ha.contender.is_leader() {
        ha.set_phase(Phase::Follower);
        return;
    }
    let epoch = ha.epoch.fetch_add(1, Ordering::SeqCst) + 1;
    let (registry, written, fresh) = match loaded {
        _ if ha.in_memory => (
            Registry::in_memory(ha.empty_registry()),
            store::Nodes::new(),
            false,
        ),
        Some((data, nodes)) => (Registry::replicated(data), nodes, false),
        None => (
            Registry::replicated(ha.empty_registry()),
            store::Nodes::new(),
            true,
        ),
    };
    let (agents, frameworks) = (registry.data.agents.len(), registry.data.frameworks.len());
    *crate::master::guard::lock_or_abort(&ha.written, "registry cache") = written;
    m.reset(registry);
    if fresh {
        m.request_commit(); // the first leader writes the registry's meta node
    }
    ha.set_phase(Phase::Leading);
    drop(m);
    info!(
        agents,
        frameworks, "recovered the registry; serving as the leading master"
    );
    let (ha, master) = (Arc::clone(ha), Arc::clone(master));
    tokio::spawn(async move {
        tokio::time::sleep(ha.config.agent_reregister_timeout).await;
        let mut m = lock(&master);
        if ha.epoch.load(Ordering::SeqCst) == epoch && ha.leading() {
            m.mark_unreregistered_agents_unreachable();
        }
    });
}

/// Registry group commit into ZooKeeper: writes what changed since the last write, fenced
/// on this master's election node, then admits the agents that waited for it.
pub async fn run_committer(ha: Arc<Ha>, master: Shared, notify: Arc<Notify>) {
    loop {
        notify.notified().await;
        loop {
            let epoch = ha.epoch.load(Ordering::SeqCst);
            let Some((generation, data)) = lock(&master).commit_request() else {
                break;
            };
            let started = std::time::Instant::now();
            let result = write(&ha, &data).await;
            let ms = started.elapsed().as_secs_f64() * 1000.0;
            let mut m = lock(&master);
            if ha.epoch.load(Ordering::SeqCst) != epoch {
                break; // The state this write covered is gone (stepped down or re-elected).
            }
            let result = result.map(|nodes| {
                if let Some(nodes) = nodes {
                    *crate::master::guard::lock_or_abort(&ha.written, "registry cache") = nodes;
                }
            });
            let failed = result.is_err();
            if let Err(err) = &result {
                error!(%err, "cannot write the registry to ZooKeeper");
            }
            m.commit_done(generation, ms, result);
            if failed {
                break;
            }
        }
    }
}

/// Writes `data`'s changes; returns the nodes now written (`None`: nothing is persisted).
async fn write(ha: &Ha, data: &RegistryData) -> Result<Option<store::Nodes>, RegistryError> {
    if ha.in_memory {
        return Ok(None);
    }
    let fence = ha.contender.fence().ok_or(RegistryError::NotLeader)?;
    let new = store::to_nodes(data);
    let old = crate::master::guard::lock_or_abort(&ha.written, "registry cache").clone();
    let acls = meseta_zk::acls_for(&ha.config.zk);
    for batch in store::diff(&ha.config.registry_path, &old, &new) {
        fence.apply(&batch, acls).await?;
    }
    Ok(Some(new))
}
