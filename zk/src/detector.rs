//! Leader detector, as Mesos's `ZooKeeperMasterDetector` (src/master/detector/zookeeper.cpp)
//! and pymesos's `MasterDetector`: watches the children of the group path; the member with the
//! lowest sequence leads; its data (for masters, `MasterInfo` JSON) is published.
//!
//! The detector only reads: it never creates the group path (it waits for it to appear). It
//! keeps reporting the last leader while merely disconnected, and reports "no leader" when its
//! session is lost (as Mesos does on expiry), then reconnects.

use std::time::Duration;

use meseta_api::MasterInfo;
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tracing::{info, warn};
use zookeeper_client::Error as ClientError;

use crate::error::ZkError;
use crate::members::{lowest_member, MASTER_LABEL};
use crate::session::{Session, SessionEvent};
use crate::url::ZkUrl;

/// The current leader as found in ZooKeeper.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Leader {
    /// Its znode name, e.g. `json.info_0000000003`.
    pub node: String,
    /// Its label, e.g. `json.info`.
    pub label: String,
    /// Its sequence number.
    pub sequence: i64,
    /// The znode's data.
    pub data: Vec<u8>,
}

impl Leader {
    /// Parses the data as a Mesos master's `MasterInfo` JSON.
    pub fn master_info(&self) -> Result<MasterInfo, ZkError> {
        if self.label != MASTER_LABEL {
            return Err(ZkError::BadData {
                path: self.node.clone(),
                reason: format!(
                    "leading member has label '{}', expected '{MASTER_LABEL}'",
                    self.label
                ),
            });
        }
        serde_json::from_slice(&self.data).map_err(|err| ZkError::BadData {
            path: self.node.clone(),
            reason: format!("not MasterInfo JSON: {err}"),
        })
    }

    /// `host:port` to reach a leading Mesos master at (address, else hostname, else ip).
    pub fn master_endpoint(&self) -> Result<String, ZkError> {
        let info = self.master_info()?;
        Ok(endpoint_of(&info))
    }
}

/// `host:port` of a master: `address.ip` (or hostname), else the `ip` field decoded.
pub fn endpoint_of(info: &MasterInfo) -> String {
    if let Some(address) = &info.address {
        if let Some(host) = address.ip.as_ref().or(address.hostname.as_ref()) {
            return format!("{host}:{}", address.port);
        }
    }
    format!("{}:{}", MasterInfo::decode_ip(info.ip), info.port)
}

/// A running detector.
#[derive(Debug)]
pub struct Detector {
    leader: watch::Receiver<Option<Leader>>,
    task: JoinHandle<()>,
}

impl Detector {
    /// Starts watching `url.path` on sessions of `timeout`. Must be called inside a tokio
    /// runtime.
    pub fn spawn(url: ZkUrl, timeout: Duration) -> Detector {
        let (tx, leader) = watch::channel(None);
        let task = tokio::spawn(run(url, timeout, tx));
        Detector { leader, task }
    }

    /// The leader last seen (`None`: no leader, or not known yet).
    pub fn leader(&self) -> Option<Leader> {
        self.leader.borrow().clone()
    }

    /// A receiver of leader changes.
    pub fn subscribe(&self) -> watch::Receiver<Option<Leader>> {
        self.leader.clone()
    }
}

impl Drop for Detector {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn run(url: ZkUrl, timeout: Duration, tx: watch::Sender<Option<Leader>>) {
    loop {
        let session = Session::connect_retrying(&url, timeout).await;
        match watch_session(&session, &url, &tx).await {
            Ok(()) => warn!(zk = %url, "ZooKeeper session lost; no leader known until reconnected"),
            Err(err) => warn!(zk = %url, "leader detection failed: {err}; retrying"),
        }
        publish(&url, &tx, None);
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

fn publish(url: &ZkUrl, tx: &watch::Sender<Option<Leader>>, leader: Option<Leader>) {
    tx.send_if_modified(|current| {
        if *current == leader {
            return false;
        }
        match &leader {
            Some(l) => info!(zk = %url, node = %l.node, "detected a new leader"),
            None => info!(zk = %url, "no leader detected"),
        }
        *current = leader;
        true
    });
}

/// Follows the group on one session; returns when the session is lost.
async fn watch_session(
    session: &Session,
    url: &ZkUrl,
    tx: &watch::Sender<Option<Leader>>,
) -> Result<(), ZkError> {
    let client = session.client();
    let mut events = session.events();
    loop {
        let children = match client.list_and_watch_children(&url.path).await {
            Ok((children, watcher)) => Some((children, watcher)),
            Err(ClientError::NoNode) => None,
            Err(ClientError::ConnectionLoss) => {
                tokio::time::sleep(Duration::from_millis(200)).await;
                continue;
            }
            Err(err) => return Err(ZkError::op("list", &url.path)(err)),
        };
        let (leader, watcher) = match children {
            Some((children, watcher)) => (read_leader(session, url, &children).await?, watcher),
            None => {
                // No group yet: watch for its creation.
                let (stat, watcher) = client
                    .check_and_watch_stat(&url.path)
                    .await
                    .map_err(ZkError::op("stat", &url.path))?;
                if stat.is_some() {
                    continue; // created since the listing
                }
                (None, watcher)
            }
        };
        publish(url, tx, leader);
        let changed = watcher.changed();
        tokio::pin!(changed);
        loop {
            tokio::select! {
                _ = &mut changed => break,
                event = events.next() => match event {
                    SessionEvent::Lost => return Ok(()),
                    SessionEvent::Connected => break,
                    SessionEvent::Disconnected => {}
                },
            }
        }
    }
}

/// The lowest member and its data; a member that vanished between list and read makes the
/// caller list again (its watch has fired), so `None` then is only transient.
async fn read_leader(
    session: &Session,
    url: &ZkUrl,
    children: &[String],
) -> Result<Option<Leader>, ZkError> {
    let Some(member) = lowest_member(children) else {
        return Ok(None);
    };
    let path = url.child(&member.name);
    match session.client().get_data(&path).await {
        Ok((data, _)) => Ok(Some(Leader {
            node: member.name,
            label: member.label,
            sequence: member.sequence,
            data,
        })),
        Err(ClientError::NoNode) => Ok(None),
        Err(err) => Err(ZkError::op("get", &path)(err)),
    }
}
