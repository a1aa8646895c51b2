//! The ZooKeeper store: `<zk_path>/{jobs,runs,meta}/<encoded name>` znodes, written only
//! through the leader's [`Fence`] (a multi-op that first checks the leader's election node),
//! so a deposed leader cannot overwrite its successor's state. The blocking [`Store`] calls
//! run on `spawn_blocking` threads and drive the async client with the runtime's handle.

use meseta_zk::{read_children, Fence, Session, Write};
use tokio::runtime::Handle;

use crate::store::{decode_key, encode_key, Family, Store, StoreError};

/// Largest number of writes in one multi-op (ZooKeeper bounds a request at about 1 MB).
const BATCH_OPS: usize = 200;
/// Largest data in one multi-op.
const BATCH_BYTES: usize = 512 * 1024;

/// State in ZooKeeper under `base`.
#[derive(Debug)]
pub struct ZkStore {
    handle: Handle,
    session: Session,
    fence: Fence,
    base: String,
}

fn backend(e: impl std::fmt::Display) -> StoreError {
    StoreError::Backend(e.to_string())
}

impl ZkStore {
    /// Creates the folders under `base` and returns the store.
    pub async fn open(session: Session, fence: Fence, base: &str) -> Result<Self, StoreError> {
        for f in [Family::Jobs, Family::Runs, Family::Meta] {
            session
                .ensure_path(&format!("{base}/{}", f.dir()))
                .await
                .map_err(backend)?;
        }
        Ok(Self {
            handle: Handle::current(),
            session,
            fence,
            base: base.to_owned(),
        })
    }

    fn path(&self, family: Family, name: &str) -> String {
        format!("{}/{}/{}", self.base, family.dir(), encode_key(name))
    }
}

impl Store for ZkStore {
    fn list(&self, family: Family) -> Result<Vec<(String, Vec<u8>)>, StoreError> {
        let dir = format!("{}/{}", self.base, family.dir());
        let children = self
            .handle
            .block_on(read_children(self.session.client(), &dir))
            .map_err(backend)?;
        Ok(children
            .into_iter()
            .map(|(name, data)| (decode_key(&name), data))
            .collect())
    }

    fn put(&self, family: Family, name: &str, value: &[u8]) -> Result<(), StoreError> {
        self.apply(vec![(family, name.to_owned(), Some(value.to_vec()))])
    }

    fn delete(&self, family: Family, name: &str) -> Result<(), StoreError> {
        self.apply(vec![(family, name.to_owned(), None)])
    }

    fn apply(&self, writes: Vec<(Family, String, Option<Vec<u8>>)>) -> Result<(), StoreError> {
        let mut batch: Vec<Write> = Vec::new();
        let mut bytes = 0;
        let acls = self.session.acls();
        let flush = |batch: &mut Vec<Write>| -> Result<(), StoreError> {
            if batch.is_empty() {
                return Ok(());
            }
            self.handle
                .block_on(self.fence.apply(batch, acls))
                .map_err(backend)?;
            batch.clear();
            Ok(())
        };
        for (family, name, value) in writes {
            let path = self.path(family, &name);
            match value {
                Some(data) => {
                    bytes += data.len() + path.len();
                    batch.push(Write::Put { path, data });
                }
                None => batch.push(Write::Delete { path }),
            }
            if batch.len() >= BATCH_OPS || bytes >= BATCH_BYTES {
                flush(&mut batch)?;
                bytes = 0;
            }
        }
        flush(&mut batch)
    }
}
