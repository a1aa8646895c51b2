//! The framework's leader detector: [`meseta_zk::Detector`] behind meseta-scheduler's
//! [`MasterDetector`] (the lowest `json.info_` member, as Mesos and pymesos pick it).

use std::time::Duration;

use meseta_scheduler::{DetectError, DetectFuture, MasterAddr, MasterDetector};

/// Follows the leading master in ZooKeeper.
#[derive(Debug)]
pub struct ZkLeader(meseta_zk::Detector);

impl ZkLeader {
    /// Starts detecting on the current tokio runtime.
    pub fn spawn(url: meseta_zk::ZkUrl, session_timeout: Duration) -> ZkLeader {
        ZkLeader(meseta_zk::Detector::spawn(url, session_timeout))
    }
}

fn addr(leader: &meseta_zk::Leader) -> Option<MasterAddr> {
    let endpoint = leader.master_endpoint().ok()?;
    let (host, port) = endpoint.rsplit_once(':')?;
    Some(MasterAddr::new(host, port.parse().ok()?))
}

impl MasterDetector for ZkLeader {
    fn detect(&self, previous: Option<MasterAddr>) -> DetectFuture<'_> {
        let mut leader = self.0.subscribe();
        Box::pin(async move {
            loop {
                let current = leader.borrow_and_update().as_ref().and_then(addr);
                let changed = match &previous {
                    None => current.is_some(),
                    Some(_) => current != previous,
                };
                if changed {
                    return Ok(current);
                }
                leader
                    .changed()
                    .await
                    .map_err(|e| DetectError::new(e.to_string()))?;
            }
        })
    }
}
