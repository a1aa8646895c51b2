//! ZooKeeper for marathon: finding the leading Mesos master for `--master zk://...` (a
//! [`MasterDetector`] over [`meseta_zk::Detector`]) and electing the leading marathon under
//! `<--zk path>/leader`, each member's data being its `host:port`.

use std::sync::Arc;
use std::time::Duration;

use meseta_scheduler::{DetectError, DetectFuture, MasterAddr, MasterDetector};
use meseta_zk::{Detector, Leader, ZkUrl};
use tokio::sync::watch;

use crate::leader::Leadership;

/// The label of marathon's election members (`member_0000000001`).
pub const MEMBER_LABEL: &str = "member";

/// Detects the leading Mesos master from its `json.info_` znodes.
#[derive(Debug)]
pub struct ZkMasterDetector {
    rx: watch::Receiver<Option<Leader>>,
    _detector: Detector,
}

impl ZkMasterDetector {
    /// Watches the masters' group at `url`.
    pub fn spawn(url: ZkUrl, timeout: Duration) -> Arc<Self> {
        let detector = Detector::spawn(url, timeout);
        Arc::new(Self {
            rx: detector.subscribe(),
            _detector: detector,
        })
    }
}

impl MasterDetector for ZkMasterDetector {
    fn detect(&self, previous: Option<MasterAddr>) -> DetectFuture<'_> {
        let mut rx = self.rx.clone();
        Box::pin(async move {
            loop {
                let current = rx
                    .borrow_and_update()
                    .as_ref()
                    .and_then(|l| l.master_endpoint().ok())
                    .and_then(|e| e.parse::<MasterAddr>().ok());
                let settled = previous.is_none() && current.is_none();
                if current != previous && !settled {
                    return Ok(current);
                }
                if rx.changed().await.is_err() {
                    return Err(DetectError::new("the ZooKeeper detector stopped"));
                }
            }
        })
    }
}

/// The URL of the election group under `--zk`.
pub fn election_url(zk: &ZkUrl) -> ZkUrl {
    let mut u = zk.clone();
    u.path = zk.child("leader");
    u
}

/// Keeps `leadership`'s leader address up to date from the election group.
pub fn follow_leader(url: ZkUrl, timeout: Duration, leadership: Arc<Leadership>) -> Detector {
    let detector = Detector::spawn(url, timeout);
    let mut rx = detector.subscribe();
    tokio::spawn(async move {
        loop {
            let addr = rx
                .borrow_and_update()
                .as_ref()
                .and_then(|l| String::from_utf8(l.data.clone()).ok());
            if !leadership.is_leader() {
                leadership.set_leader(addr);
            }
            if rx.changed().await.is_err() {
                return;
            }
        }
    });
    detector
}
