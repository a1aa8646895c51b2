//! The master's registry in `--work_dir/registry.json`: the master id, the
//! id counters, the registered agents and frameworks (id + info), the
//! operator's role weights and quotas, and dynamic reservations per agent.
//!
//! Written atomically (temp file, fsync, rename, fsync of the directory) on
//! every registry change — agent or framework added or removed — and never on
//! the task hot path. New agents go through group commit
//! (`master::commit`): one write covers every registration queued meanwhile. A registry that cannot be parsed stops the master: it
//! must not silently hand out a new master id and orphan every agent.

use std::collections::BTreeMap;
use std::fs::{self, File};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use meseta_api::{AgentInfo, FrameworkInfo};
use serde::{Deserialize, Serialize};

/// File name inside `--work_dir`.
pub const FILE_NAME: &str = "registry.json";

/// Reading or writing the registry failed.
#[derive(Debug, thiserror::Error)]
pub enum RegistryError {
    /// The work dir or file could not be read or written.
    #[error("registry {path}: {source}")]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The replicated registry in ZooKeeper could not be read or written.
    #[error("replicated registry: {0}")]
    Replicated(#[from] meseta_zk::ZkError),
    /// A registry write was attempted by a master that is not (or no longer) the leader.
    #[error("not the leading master; registry not written")]
    NotLeader,
    /// The file exists but is not a valid registry.
    #[error("registry {path} is corrupt: {source}")]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// The parse error.
        source: serde_json::Error,
    },
}

/// Persistent master state.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct RegistryData {
    /// The master id (a UUID), kept across restarts.
    pub master_id: String,
    /// Next agent number (`<master_id>-S<n>`).
    pub next_agent: u64,
    /// Next framework number (`<master_id>-<%04d>`).
    pub next_framework: u64,
    /// Registered (admitted) agents by id.
    #[serde(default)]
    pub agents: BTreeMap<String, AgentInfo>,
    /// Agents marked unreachable (ping timeouts) by id; they may re-register with their id
    /// (Mesos's `Registry.unreachable`).
    #[serde(default)]
    pub unreachable: BTreeMap<String, UnreachableAgent>,
    /// Registered frameworks by id.
    #[serde(default)]
    pub frameworks: BTreeMap<String, FrameworkInfo>,
    /// Role weights set by the operator.
    #[serde(default)]
    pub weights: BTreeMap<String, f64>,
    /// Role quotas set by the operator.
    #[serde(default)]
    pub quotas: BTreeMap<String, StoredQuota>,
    /// Dynamic reservations made on each agent (RESERVE / UNRESERVE, in
    /// order), replayed over what the agent reports when it re-registers.
    #[serde(default)]
    pub reservations: BTreeMap<String, Vec<StoredOperation>>,
}

/// An agent in the unreachable list.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct UnreachableAgent {
    /// Its info when it was marked unreachable.
    pub info: AgentInfo,
    /// When, in seconds since the epoch.
    pub timestamp: f64,
}

/// One RESERVE or UNRESERVE applied to an agent.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct StoredOperation {
    /// `RESERVE` or `UNRESERVE`.
    #[serde(rename = "type")]
    pub kind: OperationKind,
    /// The reserved resources (with their reservation).
    pub resources: Vec<meseta_api::Resource>,
}

/// The kind of a [`StoredOperation`].
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum OperationKind {
    /// Dynamic reservation.
    Reserve,
    /// Its removal.
    Unreserve,
}

/// A role's quota as persisted: scalar guarantees and limits by name.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct StoredQuota {
    /// Guaranteed amounts.
    #[serde(default)]
    pub guarantees: BTreeMap<String, f64>,
    /// Upper bounds.
    #[serde(default)]
    pub limits: BTreeMap<String, f64>,
}

/// The registry and where it lives.
#[derive(Debug)]
pub struct Registry {
    /// The file in `--work_dir`; `None` when the registry is not written here
    /// (`--registry=in_memory`, or kept in ZooKeeper by `crate::ha`).
    path: Option<PathBuf>,
    /// Kept in ZooKeeper: every change goes through the group committer.
    replicated: bool,
    /// Current contents.
    pub data: RegistryData,
    /// Version of the latest snapshot taken (snapshots are taken under the
    /// master's lock, so versions follow the order of changes).
    version: AtomicU64,
    /// Version on disk; held while writing, so writers never interleave and
    /// an older snapshot never replaces a newer one.
    written: Arc<Mutex<u64>>,
}

impl Registry {
    /// Opens (or creates, with a fresh master id) the registry in `work_dir`.
    pub fn open(work_dir: &Path) -> Result<Self, RegistryError> {
        fs::create_dir_all(work_dir).map_err(|source| RegistryError::Io {
            path: work_dir.to_path_buf(),
            source,
        })?;
        let path = work_dir.join(FILE_NAME);
        match fs::read(&path) {
            Ok(bytes) => {
                let data: RegistryData =
                    serde_json::from_slice(&bytes).map_err(|source| RegistryError::Corrupt {
                        path: path.clone(),
                        source,
                    })?;
                if data.master_id.is_empty() {
                    return Err(RegistryError::Corrupt {
                        path,
                        source: serde::de::Error::custom("empty master_id"),
                    });
                }
                Ok(Registry::with(Some(path), data))
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let reg = Registry::with(
                    Some(path),
                    RegistryData {
                        master_id: uuid::Uuid::new_v4().to_string(),
                        ..RegistryData::default()
                    },
                );
                reg.save()?;
                Ok(reg)
            }
            Err(source) => Err(RegistryError::Io { path, source }),
        }
    }

    /// A registry that lives only in memory (nothing is written by [`Registry::save`]).
    pub fn in_memory(data: RegistryData) -> Self {
        Registry::with(None, data)
    }

    /// A registry replicated elsewhere (ZooKeeper): [`Registry::save`] writes nothing; the
    /// master queues every change for its committer instead.
    pub fn replicated(data: RegistryData) -> Self {
        Registry {
            replicated: true,
            ..Registry::with(None, data)
        }
    }

    /// Whether changes go to a replicated store through the committer.
    pub fn is_replicated(&self) -> bool {
        self.replicated
    }

    /// Whether [`Registry::save`] writes a file.
    pub fn is_file(&self) -> bool {
        self.path.is_some()
    }

    fn with(path: Option<PathBuf>, data: RegistryData) -> Self {
        Registry {
            path,
            replicated: false,
            data,
            version: AtomicU64::new(0),
            written: Arc::new(Mutex::new(0)),
        }
    }

    /// Writes the registry atomically (temp + fsync + rename + dir fsync).
    pub fn save(&self) -> Result<(), RegistryError> {
        self.snapshot()?.write()
    }

    /// The current contents, to write later (outside the master's lock)
    /// with [`Snapshot::write`].
    pub fn snapshot(&self) -> Result<Snapshot, RegistryError> {
        Ok(Snapshot {
            version: self.version.fetch_add(1, Ordering::Relaxed) + 1,
            bytes: self.to_bytes()?,
            path: self.path.clone(),
            written: Arc::clone(&self.written),
        })
    }

    /// The registry file, if it has one.
    pub fn path(&self) -> Option<&Path> {
        self.path.as_deref()
    }

    /// The current contents as the file holds them (for a write outside
    /// the master's lock: [`write_atomic`]).
    pub fn to_bytes(&self) -> Result<Vec<u8>, RegistryError> {
        serde_json::to_vec_pretty(&self.data).map_err(|source| RegistryError::Corrupt {
            path: self.path.clone().unwrap_or_default(),
            source,
        })
    }

    /// Allocates the next agent id.
    pub fn new_agent_id(&mut self) -> String {
        let id = format!("{}-S{}", self.data.master_id, self.data.next_agent);
        self.data.next_agent += 1;
        id
    }

    /// Allocates the next framework id.
    pub fn new_framework_id(&mut self) -> String {
        let id = format!("{}-{:04}", self.data.master_id, self.data.next_framework);
        self.data.next_framework += 1;
        id
    }
}

/// The registry's contents at one moment, ready to be written.
#[derive(Debug)]
pub struct Snapshot {
    version: u64,
    bytes: Vec<u8>,
    path: Option<PathBuf>,
    written: Arc<Mutex<u64>>,
}

impl Snapshot {
    /// Writes the snapshot durably, unless a newer one is already on disk
    /// (which holds everything this one does).
    pub fn write(self) -> Result<(), RegistryError> {
        let mut on_disk = crate::master::guard::lock_or_abort(&self.written, "registry version");
        if *on_disk >= self.version {
            return Ok(());
        }
        if let Some(path) = &self.path {
            write_atomic(path, &self.bytes)?;
        }
        *on_disk = self.version;
        Ok(())
    }
}

/// Replaces `path` with `bytes` atomically and durably: temp file, fsync,
/// rename, fsync of the directory.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), RegistryError> {
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| RegistryError::Io { path, source }
    };
    let tmp = path.with_extension("json.tmp");
    let mut f = File::create(&tmp).map_err(io(&tmp))?;
    f.write_all(bytes).map_err(io(&tmp))?;
    f.sync_all().map_err(io(&tmp))?;
    drop(f);
    fs::rename(&tmp, path).map_err(io(path))?;
    if let Some(dir) = path.parent() {
        if let Ok(d) = File::open(dir) {
            let _ = d.sync_all();
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_the_master_id_and_rejects_corruption() {
        let d = tempfile::tempdir().unwrap();
        let mut r = Registry::open(d.path()).unwrap();
        let id = r.data.master_id.clone();
        let a = r.new_agent_id();
        assert_eq!(a, format!("{id}-S0"));
        assert_eq!(r.new_framework_id(), format!("{id}-0000"));
        r.save().unwrap();
        let r2 = Registry::open(d.path()).unwrap();
        assert_eq!(r2.data, r.data);
        std::fs::write(d.path().join(FILE_NAME), b"{not json").unwrap();
        let err = Registry::open(d.path()).unwrap_err();
        assert!(err.to_string().contains("corrupt"), "{err}");
    }

    #[test]
    fn an_older_snapshot_never_replaces_a_newer_one() {
        let d = tempfile::tempdir().unwrap();
        let mut r = Registry::open(d.path()).unwrap();
        r.data.next_agent = 1;
        let older = r.snapshot().unwrap();
        r.data.next_agent = 2;
        r.save().unwrap();
        // The group committer finishing late with its older snapshot.
        older.write().unwrap();
        assert_eq!(Registry::open(d.path()).unwrap().data.next_agent, 2);
    }
}
