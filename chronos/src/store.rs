//! Durable state: a flat key → bytes store with three key families, `jobs/<name>` (a
//! [`StoredJob`]), `runs/<task id>` (a [`Run`] in flight) and `framework_id`. Backends are
//! blocking (the caller runs them on `spawn_blocking`): [`DirStore`], a local directory with
//! one file per key written atomically (temp file, fsync, rename), and the ZooKeeper store.

use std::io::Write;
use std::path::{Path, PathBuf};

use percent_encoding::{percent_decode_str, utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};

use crate::engine::{Run, StoredJob};

/// Characters kept as they are in file and znode names.
const KEY_SET: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'_').remove(b'.');

/// A store failure.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// File system.
    #[error("state dir {path}: {source}")]
    Io {
        /// Where.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// A record that does not decode.
    #[error("stored record {key}: {source}")]
    Decode {
        /// Key.
        key: String,
        /// Why.
        source: serde_json::Error,
    },
    /// The backend (ZooKeeper).
    #[error("{0}")]
    Backend(String),
}

/// A key family.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Family {
    /// `jobs/`.
    Jobs,
    /// `runs/`.
    Runs,
    /// Single values (`meta/`): the framework id.
    Meta,
}

impl Family {
    /// The folder or znode name.
    pub fn dir(self) -> &'static str {
        match self {
            Self::Jobs => "jobs",
            Self::Runs => "runs",
            Self::Meta => "meta",
        }
    }
}

/// Encodes a name for a file or znode (task ids hold `:` and arguments may hold `/`).
pub fn encode_key(name: &str) -> String {
    utf8_percent_encode(name, KEY_SET).to_string()
}

/// Decodes [`encode_key`].
pub fn decode_key(key: &str) -> String {
    percent_decode_str(key).decode_utf8_lossy().into_owned()
}

/// A blocking key-value backend.
pub trait Store: Send + Sync + std::fmt::Debug {
    /// Every `(name, value)` of a family.
    fn list(&self, family: Family) -> Result<Vec<(String, Vec<u8>)>, StoreError>;
    /// Writes one value.
    fn put(&self, family: Family, name: &str, value: &[u8]) -> Result<(), StoreError>;
    /// Removes one value (absent is fine).
    fn delete(&self, family: Family, name: &str) -> Result<(), StoreError>;
    /// Applies writes in order: `Some(bytes)` puts, `None` deletes. Backends that can batch
    /// (ZooKeeper's multi-op) override it.
    fn apply(&self, writes: Vec<(Family, String, Option<Vec<u8>>)>) -> Result<(), StoreError> {
        for (family, name, value) in writes {
            match value {
                Some(v) => self.put(family, &name, &v)?,
                None => self.delete(family, &name)?,
            }
        }
        Ok(())
    }
}

/// Everything the engine needs at start.
#[derive(Debug, Default)]
pub struct Loaded {
    /// Jobs.
    pub jobs: Vec<StoredJob>,
    /// Runs in flight.
    pub runs: Vec<Run>,
    /// The framework id of the last subscription.
    pub framework_id: Option<String>,
}

/// Reads and decodes all state.
pub fn load(store: &dyn Store) -> Result<Loaded, StoreError> {
    let decode =
        |family: Family| -> Result<Vec<(String, Vec<u8>)>, StoreError> { store.list(family) };
    let mut out = Loaded::default();
    for (key, bytes) in decode(Family::Jobs)? {
        out.jobs.push(
            serde_json::from_slice(&bytes).map_err(|source| StoreError::Decode { key, source })?,
        );
    }
    for (key, bytes) in decode(Family::Runs)? {
        out.runs.push(
            serde_json::from_slice(&bytes).map_err(|source| StoreError::Decode { key, source })?,
        );
    }
    out.framework_id = decode(Family::Meta)?
        .into_iter()
        .find(|(k, _)| k == "framework_id")
        .map(|(_, v)| String::from_utf8_lossy(&v).into_owned());
    Ok(out)
}

/// A local state directory (`--state_dir`), for a single `chronos` without ZooKeeper.
#[derive(Debug)]
pub struct DirStore {
    root: PathBuf,
}

impl DirStore {
    /// Opens (creating) the directory.
    pub fn open(root: &Path) -> Result<Self, StoreError> {
        for f in [Family::Jobs, Family::Runs, Family::Meta] {
            let dir = root.join(f.dir());
            std::fs::create_dir_all(&dir).map_err(|source| StoreError::Io { path: dir, source })?;
        }
        Ok(Self {
            root: root.to_owned(),
        })
    }

    fn path(&self, family: Family, name: &str) -> PathBuf {
        self.root.join(family.dir()).join(encode_key(name))
    }
}

impl Store for DirStore {
    fn list(&self, family: Family) -> Result<Vec<(String, Vec<u8>)>, StoreError> {
        let dir = self.root.join(family.dir());
        let io = |source| StoreError::Io {
            path: dir.clone(),
            source,
        };
        let mut out = Vec::new();
        for entry in std::fs::read_dir(&dir).map_err(io)? {
            let entry = entry.map_err(io)?;
            let file = entry.file_name().to_string_lossy().into_owned();
            if file.starts_with(".tmp") {
                continue;
            }
            let bytes = std::fs::read(entry.path()).map_err(io)?;
            out.push((decode_key(&file), bytes));
        }
        Ok(out)
    }

    fn put(&self, family: Family, name: &str, value: &[u8]) -> Result<(), StoreError> {
        let path = self.path(family, name);
        let io = |source| StoreError::Io {
            path: path.clone(),
            source,
        };
        let dir = self.root.join(family.dir());
        let mut tmp = tempfile::Builder::new()
            .prefix(".tmp")
            .tempfile_in(&dir)
            .map_err(io)?;
        tmp.write_all(value).map_err(io)?;
        tmp.as_file().sync_data().map_err(io)?;
        tmp.persist(&path).map_err(|e| io(e.error))?;
        std::fs::File::open(&dir)
            .and_then(|d| d.sync_all())
            .map_err(io)?;
        Ok(())
    }

    fn delete(&self, family: Family, name: &str) -> Result<(), StoreError> {
        let path = self.path(family, name);
        match std::fs::remove_file(&path) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(source) => Err(StoreError::Io { path, source }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dir_store_round_trips_odd_names() {
        let dir = tempfile::tempdir().unwrap();
        let s = DirStore::open(dir.path()).unwrap();
        s.put(Family::Runs, "ct:1:0:my job:a/b", b"x").unwrap();
        s.put(Family::Jobs, "a", b"1").unwrap();
        s.put(Family::Jobs, "a", b"2").unwrap();
        assert_eq!(
            s.list(Family::Runs).unwrap(),
            vec![("ct:1:0:my job:a/b".into(), b"x".to_vec())]
        );
        assert_eq!(
            s.list(Family::Jobs).unwrap(),
            vec![("a".into(), b"2".to_vec())]
        );
        s.delete(Family::Jobs, "a").unwrap();
        s.delete(Family::Jobs, "a").unwrap();
        assert!(s.list(Family::Jobs).unwrap().is_empty());
    }
}
