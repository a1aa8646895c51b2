//! Which master the agent talks to: the `host:port` it was given, or the leader that
//! `meseta_zk::Detector` finds under a `zk://` path (Mesos's `ZooKeeperMasterDetector`: the
//! lowest `json.info_` member, its MasterInfo JSON giving the address). The master link asks
//! for the current master before each (re-)registration and drops its stream when a different
//! leader is detected, as a Mesos agent re-registers on `detected()`.

use std::sync::Arc;
use std::time::Duration;

use meseta_zk::{Detector, Leader};
use tokio::sync::watch;
use tracing::{info, warn};

use crate::flags::MasterSource;

/// Finds the master; cheap to clone.
#[derive(Debug, Clone)]
pub struct MasterDetector {
    inner: Inner,
}

#[derive(Debug, Clone)]
enum Inner {
    Fixed(String),
    ZooKeeper {
        leader: watch::Receiver<Option<Leader>>,
        /// Keeps the detection task alive while any clone is.
        _detector: Arc<Detector>,
    },
}

impl MasterDetector {
    /// Starts detecting (a ZooKeeper session of `session_timeout` for `zk://`). Must run inside
    /// a tokio runtime; never blocks: an unreachable ZooKeeper is retried in the background
    /// (one warning says so).
    pub fn new(source: &MasterSource, session_timeout: Duration) -> Self {
        let inner = match source {
            MasterSource::Fixed(addr) => Inner::Fixed(addr.clone()),
            MasterSource::ZooKeeper(url) => {
                info!(zk = %url, "detecting the leading master in ZooKeeper");
                let detector = Detector::spawn(url.clone(), session_timeout);
                Inner::ZooKeeper {
                    leader: detector.subscribe(),
                    _detector: Arc::new(detector),
                }
            }
        };
        Self { inner }
    }

    /// The master's `host:port` now; `None` while no leader is known.
    pub fn current(&self) -> Option<String> {
        match &self.inner {
            Inner::Fixed(addr) => Some(addr.clone()),
            Inner::ZooKeeper { leader, .. } => endpoint(leader.borrow().as_ref()),
        }
    }

    /// Waits until a master is known and returns it.
    pub async fn detect(&mut self) -> String {
        let mut said = false;
        loop {
            if let Some(addr) = self.current() {
                if said {
                    info!(master = %addr, "leading master detected");
                }
                return addr;
            }
            if !said {
                info!("no leading master elected yet; waiting for one");
                said = true;
            }
            self.next_change().await;
        }
    }

    /// Resolves once the detected master is no longer `addr` (a new leader, or none).
    pub async fn changed_from(&mut self, addr: &str) {
        loop {
            self.next_change().await;
            let now = self.current();
            if now.as_deref() != Some(addr) {
                match now {
                    Some(new) => {
                        info!(old = %addr, new = %new, "a new leading master was detected")
                    }
                    None => warn!(old = %addr, "the leading master is gone; none elected yet"),
                }
                return;
            }
        }
    }

    async fn next_change(&mut self) {
        match &mut self.inner {
            Inner::Fixed(_) => std::future::pending().await,
            Inner::ZooKeeper { leader, .. } => {
                if leader.changed().await.is_err() {
                    std::future::pending::<()>().await;
                }
            }
        }
    }
}

/// The leader's address, if its znode holds a usable MasterInfo.
fn endpoint(leader: Option<&Leader>) -> Option<String> {
    let leader = leader?;
    match leader.master_endpoint() {
        Ok(addr) => Some(addr),
        Err(err) => {
            warn!(node = %leader.node, %err, "the leading member is not a usable master");
            None
        }
    }
}
