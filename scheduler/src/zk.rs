//! [`ZkDetector`]: the leading master from ZooKeeper (`zk://host:port,.../mesos`), on
//! `meseta-zk`'s detector (the lowest `json.info_` member of the path, its `MasterInfo`).

use std::sync::OnceLock;

use meseta_zk::{Detector, Leader, ZkUrl, DEFAULT_SESSION_TIMEOUT};
use tracing::warn;

use crate::detector::{DetectFuture, MasterAddr, MasterDetector};
use crate::error::{DetectError, Error};

/// Follows the masters' election under a `zk://` URL.
#[derive(Debug)]
pub struct ZkDetector {
    url: ZkUrl,
    /// Started on the first `detect`, which runs inside the driver's runtime.
    detector: OnceLock<Detector>,
}

impl ZkDetector {
    /// A detector for `url` (`zk://[user:pass@]h1:p1,.../path`); connects on first use.
    pub fn new(url: &str) -> Result<Self, Error> {
        let url = ZkUrl::parse_or_read(url).map_err(|e| Error::InvalidMaster {
            master: url.to_string(),
            reason: e.to_string(),
        })?;
        Ok(Self {
            url,
            detector: OnceLock::new(),
        })
    }
}

/// The leader's address, `None` (with a warning) when its data is not a `MasterInfo`.
fn address(leader: &Leader) -> Option<MasterAddr> {
    match leader.master_endpoint() {
        Ok(endpoint) => match endpoint.parse() {
            Ok(addr) => Some(addr),
            Err(reason) => {
                warn!(node = %leader.node, %endpoint, %reason, "leading master has no usable address");
                None
            }
        },
        Err(err) => {
            warn!(node = %leader.node, %err, "leading member is not a master");
            None
        }
    }
}

impl MasterDetector for ZkDetector {
    fn detect(&self, previous: Option<MasterAddr>) -> DetectFuture<'_> {
        Box::pin(async move {
            let detector = self
                .detector
                .get_or_init(|| Detector::spawn(self.url.clone(), DEFAULT_SESSION_TIMEOUT));
            let mut leaders = detector.subscribe();
            loop {
                let current = leaders.borrow_and_update().as_ref().and_then(address);
                match (&previous, current) {
                    // Asked for any leader: wait until there is one.
                    (None, Some(now)) => return Ok(Some(now)),
                    (None, None) => {}
                    (Some(before), now) if now.as_ref() != Some(before) => return Ok(now),
                    (Some(_), _) => {}
                }
                leaders
                    .changed()
                    .await
                    .map_err(|_| DetectError::new("the ZooKeeper detector stopped"))?;
            }
        })
    }
}
