//! ZooKeeper for marathon's own election: members under `<--zk path>/leader`, each member's
//! data being its `host:port`, and the leader's address for redirects. (`--master zk://…` is
//! followed by the scheduler driver's detector.)

use std::sync::Arc;
use std::time::Duration;

use meseta_zk::{Detector, ZkUrl};

use crate::leader::Leadership;

/// The label of marathon's election members (`member_0000000001`).
pub const MEMBER_LABEL: &str = "member";

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
