//! The ZooKeeper store: one znode per document at `<zk path>/state/<category>/<key>`
//! (upstream Marathon keeps `<zk>/state/<category>/...` too). Writes go through the
//! election's [`Fence`], so a deposed leader cannot overwrite its successor's state: each
//! batch is a multi-op that first checks this process's election node. Reads use a plain
//! session. Batches are split into multi-ops of [`BATCH`] writes.

use meseta_zk::{read_children, Fence, Session, Write, ZkError};

use super::{Category, StoreError, StoreOp, CATEGORIES};

/// Most writes in one multi-op (ZooKeeper bounds a request at about 1 MB).
const BATCH: usize = 128;

/// A ZooKeeper-backed store for the current leader.
#[derive(Debug)]
pub struct ZkStore {
    session: Session,
    fence: Fence,
    base: String,
}

fn map(err: ZkError) -> StoreError {
    match err {
        ZkError::Fenced(_) => StoreError::NotLeader,
        other => StoreError::Zk(other.to_string()),
    }
}

impl ZkStore {
    /// A store under `<zk path>/state`, creating the category directories.
    pub async fn open(session: Session, fence: Fence, zk_path: &str) -> Result<Self, StoreError> {
        let base = if zk_path == "/" {
            "/state".to_owned()
        } else {
            format!("{zk_path}/state")
        };
        for c in CATEGORIES {
            session
                .ensure_path(&format!("{base}/{c}"))
                .await
                .map_err(map)?;
        }
        Ok(Self {
            session,
            fence,
            base,
        })
    }

    fn path(&self, c: Category, key: &str) -> String {
        format!("{}/{c}/{key}", self.base)
    }

    /// Applies writes in order, in batches.
    pub async fn apply(&self, ops: Vec<StoreOp>) -> Result<(), StoreError> {
        let writes: Vec<Write> = ops
            .into_iter()
            .map(|op| match op {
                StoreOp::Put(c, k, data) => Write::Put {
                    path: self.path(c, &k),
                    data,
                },
                StoreOp::Delete(c, k) => Write::Delete {
                    path: self.path(c, &k),
                },
            })
            .collect();
        for chunk in writes.chunks(BATCH) {
            self.fence
                .apply(chunk, self.session.acls())
                .await
                .map_err(map)?;
        }
        Ok(())
    }

    /// Every document of a category.
    pub async fn load(&self, c: Category) -> Result<Vec<(String, Vec<u8>)>, StoreError> {
        read_children(self.session.client(), &format!("{}/{c}", self.base))
            .await
            .map_err(map)
    }
}
