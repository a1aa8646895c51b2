//! Where marathon's state lives: apps and their versions, instances, deployments and the
//! framework id, each a small JSON document named by category and key. With `--zk` the
//! documents are znodes under `<zk path>/state/<category>/<key>` ([`zk`]); the in-memory
//! store is for unit tests and `--internal_store_backend=mem` trials.
//!
//! Writes are applied in the order the state machine made them ([`crate::state::Shared`]
//! serialises them) and before any answer or Mesos call that depends on them.

pub mod zk;

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

/// A state category (a znode directory).
pub type Category = &'static str;

/// App definitions, by app key.
pub const APPS: Category = "apps";
/// Past app versions, `<app key>@<version>`.
pub const VERSIONS: Category = "versions";
/// Instances, by task id.
pub const INSTANCES: Category = "instances";
/// Deployments, by id.
pub const DEPLOYMENTS: Category = "deployments";
/// The framework id (`id`).
pub const FRAMEWORK: Category = "framework-id";

/// Every category, for loading.
pub const CATEGORIES: [Category; 5] = [APPS, VERSIONS, INSTANCES, DEPLOYMENTS, FRAMEWORK];

/// One write.
#[derive(Debug, Clone, PartialEq)]
pub enum StoreOp {
    /// Create or replace.
    Put(Category, String, Vec<u8>),
    /// Remove (absent is fine).
    Delete(Category, String),
}

impl StoreOp {
    /// The document written: category and key.
    pub fn key(&self) -> (Category, &str) {
        match self {
            Self::Put(c, k, _) | Self::Delete(c, k) => (c, k),
        }
    }
}

/// Why the store failed.
#[derive(Debug, Clone, thiserror::Error)]
pub enum StoreError {
    /// ZooKeeper failed or is unreachable.
    #[error("ZooKeeper: {0}")]
    Zk(String),
    /// This process lost its leadership while writing.
    #[error("not the leader any more")]
    NotLeader,
}

/// The in-memory store's documents.
pub type MemoryMap = BTreeMap<(Category, String), Vec<u8>>;

/// The store in use.
#[derive(Debug, Clone)]
pub enum Store {
    /// In memory (tests).
    Memory(Arc<Mutex<MemoryMap>>),
    /// ZooKeeper, written through the leader's fence.
    Zk(Arc<zk::ZkStore>),
}

impl Store {
    /// An empty in-memory store.
    pub fn memory() -> Self {
        Self::Memory(Arc::default())
    }

    /// Applies writes in order.
    pub async fn apply(&self, ops: Vec<StoreOp>) -> Result<(), StoreError> {
        match self {
            Self::Memory(m) => {
                let mut m = m.lock().unwrap_or_else(|e| e.into_inner());
                for op in ops {
                    match op {
                        StoreOp::Put(c, k, v) => {
                            m.insert((c, k), v);
                        }
                        StoreOp::Delete(c, k) => {
                            m.remove(&(c, k));
                        }
                    }
                }
                Ok(())
            }
            Self::Zk(z) => z.apply(ops).await,
        }
    }

    /// Every document of `category`.
    pub async fn load(&self, category: Category) -> Result<Vec<(String, Vec<u8>)>, StoreError> {
        match self {
            Self::Memory(m) => Ok(m
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .iter()
                .filter(|((c, _), _)| *c == category)
                .map(|((_, k), v)| (k.clone(), v.clone()))
                .collect()),
            Self::Zk(z) => z.load(category).await,
        }
    }
}
