//! Fenced writes: every write is a ZooKeeper multi-op that first checks the writer's own
//! election node (`check(<path>/json.info_N, version 0)`), so once that node is gone (session
//! expired, or the process withdrew) the whole write fails and a deposed leader can never
//! overwrite a newer leader's state. The contender's lease is checked before sending as well,
//! so a leader that cannot prove its session alive does not even try.
//!
//! Reads ([`read_children`]) need no fence.

use zookeeper_client::{Client, CreateMode, Error as ClientError, MultiWriteError};

use crate::contender::LeaseChecker;
use crate::error::ZkError;

/// One write in a fenced batch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Write {
    /// Create or overwrite a persistent node (its parent must exist).
    Put {
        /// The znode.
        path: String,
        /// Its new data (ZooKeeper limits this to about 1 MB).
        data: Vec<u8>,
    },
    /// Delete a node if it exists.
    Delete {
        /// The znode.
        path: String,
    },
}

/// The right to write while leader; see the module docs.
#[derive(Debug, Clone)]
pub struct Fence {
    client: Client,
    node_path: String,
    lease: LeaseChecker,
}

impl Fence {
    pub(crate) fn new(client: Client, node_path: String, lease: LeaseChecker) -> Fence {
        Fence {
            client,
            node_path,
            lease,
        }
    }

    /// The leader's session, for reads that belong with the fenced writes.
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// The election node this fence checks.
    pub fn node_path(&self) -> &str {
        &self.node_path
    }

    /// Whether the fence still holds as far as this process can tell (ZooKeeper has the
    /// final word at each write).
    pub fn holds(&self) -> bool {
        self.lease.valid()
    }

    /// Creates `path` and its ancestors (persistent, open ACL unless the session is
    /// authenticated; not fenced: empty directories carry no state).
    pub async fn ensure_path(
        &self,
        path: &str,
        acls: zookeeper_client::Acls<'_>,
    ) -> Result<(), ZkError> {
        self.client
            .mkdir(path, &CreateMode::Persistent.with_acls(acls))
            .await
            .map_err(ZkError::op("create", path))
    }

    /// Applies `writes` atomically, only while this process holds its election node.
    ///
    /// `Put` of a missing node becomes a create; `Delete` of a missing node is skipped.
    pub async fn apply(
        &self,
        writes: &[Write],
        acls: zookeeper_client::Acls<'_>,
    ) -> Result<(), ZkError> {
        self.apply_expecting(writes, |_| false, acls).await
    }

    /// [`Fence::apply`] for a writer that knows which nodes it has not created yet:
    /// `is_new(i)` says `writes[i]`'s node is expected to be missing, so its `Put` is sent
    /// as a create first. A wrong guess costs one retry of the multi, as in `apply`, where
    /// every `Put` of a new node does (a failed multi is a round trip and, in ZooKeeper,
    /// a logged transaction): a batch of n new nodes needs one multi, not n + 1.
    pub async fn apply_expecting(
        &self,
        writes: &[Write],
        is_new: impl Fn(usize) -> bool,
        acls: zookeeper_client::Acls<'_>,
    ) -> Result<(), ZkError> {
        let options = CreateMode::Persistent.with_acls(acls);
        // Existence can change between tries only through another writer, which the check
        // op excludes; so at most one retry per write is needed to learn each node's state.
        let mut creates: Vec<bool> = writes
            .iter()
            .enumerate()
            .map(|(i, w)| matches!(w, Write::Put { .. }) && is_new(i))
            .collect();
        let mut skips = vec![false; writes.len()];
        for _ in 0..=writes.len() {
            if !self.lease.valid() {
                return Err(ZkError::Fenced(self.node_path.clone()));
            }
            let mut multi = self.client.new_multi_writer();
            let op = ZkError::op("multi", &self.node_path);
            multi.add_check_version(&self.node_path, 0).map_err(&op)?;
            let mut indexes = Vec::new();
            for (i, write) in writes.iter().enumerate() {
                match write {
                    Write::Put { path, data } if creates[i] => multi
                        .add_create(path, data, &options)
                        .map_err(ZkError::op("create", path))?,
                    Write::Put { path, data } => multi
                        .add_set_data(path, data, None)
                        .map_err(ZkError::op("set", path))?,
                    Write::Delete { .. } if skips[i] => continue,
                    Write::Delete { path } => multi
                        .add_delete(path, None)
                        .map_err(ZkError::op("delete", path))?,
                }
                indexes.push(i);
            }
            match multi.commit().await {
                Ok(_) => return Ok(()),
                Err(MultiWriteError::OperationFailed { index: 0, .. }) => {
                    return Err(ZkError::Fenced(self.node_path.clone()))
                }
                Err(MultiWriteError::OperationFailed { index, source }) => {
                    let i = indexes[index - 1];
                    match (&writes[i], source) {
                        (Write::Put { .. }, ClientError::NoNode) if !creates[i] => {
                            creates[i] = true
                        }
                        (Write::Put { .. }, ClientError::NodeExists) if creates[i] => {
                            creates[i] = false
                        }
                        (Write::Delete { .. }, ClientError::NoNode) => skips[i] = true,
                        (write, source) => {
                            let path = match write {
                                Write::Put { path, .. } | Write::Delete { path } => path,
                            };
                            return Err(ZkError::Op {
                                op: "multi",
                                path: path.clone(),
                                source,
                            });
                        }
                    }
                }
                Err(MultiWriteError::RequestFailed { source }) => {
                    return Err(ZkError::Op {
                        op: "multi",
                        path: self.node_path.clone(),
                        source,
                    })
                }
            }
        }
        Err(ZkError::BadData {
            path: self.node_path.clone(),
            reason: "fenced write did not settle".into(),
        })
    }
}

/// Reads every child of `dir` with its data, in name order; an absent `dir` reads as empty.
pub async fn read_children(client: &Client, dir: &str) -> Result<Vec<(String, Vec<u8>)>, ZkError> {
    let mut names = match client.list_children(dir).await {
        Ok(names) => names,
        Err(ClientError::NoNode) => return Ok(Vec::new()),
        Err(err) => return Err(ZkError::op("list", dir)(err)),
    };
    names.sort();
    let paths: Vec<String> = names
        .iter()
        .map(|name| {
            if dir == "/" {
                format!("/{name}")
            } else {
                format!("{dir}/{name}")
            }
        })
        .collect();
    // The client sends each request when it is called, so these reads are pipelined.
    let reads: Vec<_> = paths.iter().map(|path| client.get_data(path)).collect();
    let mut out = Vec::with_capacity(names.len());
    for ((name, path), read) in names.into_iter().zip(&paths).zip(reads) {
        match read.await {
            Ok((data, _)) => out.push((name, data)),
            Err(ClientError::NoNode) => {}
            Err(err) => return Err(ZkError::op("get", path)(err)),
        }
    }
    Ok(out)
}
