//! The ZooKeeper store: one znode per document at `<zk path>/state/<category>/<key>`
//! (upstream Marathon keeps `<zk>/state/<category>/...` too). Writes go through the
//! election's [`Fence`], so a deposed leader cannot overwrite its successor's state: each
//! batch is a multi-op that first checks this process's election node. Reads use a plain
//! session. Batches are split into multi-ops of at most [`BATCH`] writes and [`BATCH_BYTES`].
//!
//! The store remembers which of its znodes exist (loaded or written by it), so that a new
//! document is sent as a create at once: a multi with a `set` of a missing node fails and
//! has to be retried, which made every new instance of a deployment cost one more
//! ZooKeeper round trip (and logged transaction) than its launch needed.

use std::collections::HashSet;
use std::sync::Mutex;

use meseta_zk::{read_children, Fence, Session, Write, ZkError};

use super::{Category, StoreError, StoreOp, CATEGORIES};

/// Most writes in one multi-op.
const BATCH: usize = 1024;
/// Most data bytes in one multi-op (ZooKeeper bounds a request at about 1 MB).
const BATCH_BYTES: usize = 512 * 1024;

/// A ZooKeeper-backed store for the current leader.
#[derive(Debug)]
pub struct ZkStore {
    session: Session,
    fence: Fence,
    base: String,
    /// Znodes known to exist (a guess: a wrong one costs one retry, never a wrong write).
    existing: Mutex<HashSet<String>>,
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
            existing: Mutex::default(),
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
        for chunk in chunks(&writes) {
            let new: Vec<bool> = {
                let existing = self.known();
                chunk
                    .iter()
                    .map(|w| match w {
                        Write::Put { path, .. } => !existing.contains(path),
                        Write::Delete { .. } => false,
                    })
                    .collect()
            };
            // A failed multi changed nothing, so the guesses stay as they were.
            self.fence
                .apply_expecting(chunk, |i| new[i], self.session.acls())
                .await
                .map_err(map)?;
            let mut existing = self.known();
            for w in chunk {
                match w {
                    Write::Put { path, .. } => existing.insert(path.clone()),
                    Write::Delete { path } => existing.remove(path),
                };
            }
        }
        Ok(())
    }

    fn known(&self) -> std::sync::MutexGuard<'_, HashSet<String>> {
        // Only hints live here: a panic elsewhere cannot make them unsafe to use.
        self.existing.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Every document of a category.
    pub async fn load(&self, c: Category) -> Result<Vec<(String, Vec<u8>)>, StoreError> {
        let dir = format!("{}/{c}", self.base);
        let docs = read_children(self.session.client(), &dir)
            .await
            .map_err(map)?;
        self.known()
            .extend(docs.iter().map(|(k, _)| format!("{dir}/{k}")));
        Ok(docs)
    }
}

/// Consecutive slices of `writes` within [`BATCH`] and [`BATCH_BYTES`] (a larger single
/// write gets a slice of its own).
fn chunks(writes: &[Write]) -> Vec<&[Write]> {
    let mut out = Vec::new();
    let (mut start, mut bytes) = (0, 0);
    for (i, w) in writes.iter().enumerate() {
        let size = match w {
            Write::Put { path, data } => path.len() + data.len(),
            Write::Delete { path } => path.len(),
        };
        if i > start && (i - start >= BATCH || bytes + size > BATCH_BYTES) {
            out.push(&writes[start..i]);
            (start, bytes) = (i, 0);
        }
        bytes += size;
    }
    if start < writes.len() {
        out.push(&writes[start..]);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::{chunks, Write, BATCH, BATCH_BYTES};

    #[test]
    fn chunks_bound_count_and_bytes() {
        let put = |n: usize| Write::Put {
            path: "/p".into(),
            data: vec![0; n],
        };
        let small: Vec<Write> = (0..BATCH + 1).map(|_| put(1)).collect();
        let sizes: Vec<usize> = chunks(&small).iter().map(|c| c.len()).collect();
        assert_eq!(sizes, vec![BATCH, 1]);
        let big = vec![
            put(BATCH_BYTES / 2),
            put(BATCH_BYTES / 2),
            put(BATCH_BYTES * 2),
        ];
        let sizes: Vec<usize> = chunks(&big).iter().map(|c| c.len()).collect();
        assert_eq!(sizes, vec![1, 1, 1]);
        assert!(chunks(&[]).is_empty());
    }
}
