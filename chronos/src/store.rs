//! Durable state: a flat key → bytes store with three key families, `jobs/<name>` (a
//! [`StoredJob`]), `runs/<task id>` (a [`Run`] in flight) and `framework_id`. Backends are
//! blocking (the caller runs them on `spawn_blocking`): [`DirStore`], a local directory with
//! one file per key written atomically (temp file, fsync, rename), and the ZooKeeper store.
//!
//! [`Store::apply`] is all or nothing in both: a status update's writes (the job's counters,
//! the run's deletion, a child's new run) must not be torn by a crash. ZooKeeper applies them
//! in one multi-op (split only beyond 200 writes or 512 KB, which takes thousands of changes
//! at once; counters stay exact even then, see `StoredJob::ended`); the directory first
//! stores them in a journal that [`DirStore::open`] replays.

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

/// One write of [`Store::apply`]: `(family, name, Some(bytes) | None = delete)`.
pub type Change = (Family, String, Option<Vec<u8>>);

/// A blocking key-value backend.
pub trait Store: Send + Sync + std::fmt::Debug {
    /// Every `(name, value)` of a family.
    fn list(&self, family: Family) -> Result<Vec<(String, Vec<u8>)>, StoreError>;
    /// Writes one value.
    fn put(&self, family: Family, name: &str, value: &[u8]) -> Result<(), StoreError>;
    /// Removes one value (absent is fine).
    fn delete(&self, family: Family, name: &str) -> Result<(), StoreError>;
    /// Applies writes in order, all or (after a crash) none: `Some(bytes)` puts, `None`
    /// deletes. This default is not atomic; backends override it.
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
    /// Opens (creating) the directory; completes the writes of a journal left by a crash.
    pub fn open(root: &Path) -> Result<Self, StoreError> {
        for f in [Family::Jobs, Family::Runs, Family::Meta] {
            let dir = root.join(f.dir());
            std::fs::create_dir_all(&dir).map_err(|source| StoreError::Io { path: dir, source })?;
        }
        let store = Self {
            root: root.to_owned(),
        };
        let path = store.journal_path();
        match std::fs::read(&path) {
            Ok(bytes) => {
                let writes = journal::decode(&bytes).map_err(|source| StoreError::Decode {
                    key: path.display().to_string(),
                    source,
                })?;
                tracing::info!(
                    writes = writes.len(),
                    "completing the writes of the state journal"
                );
                store.apply_each(writes)?;
                store.end_journal()?;
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(source) => return Err(StoreError::Io { path, source }),
        }
        Ok(store)
    }

    fn journal_path(&self) -> PathBuf {
        self.root.join("journal")
    }

    fn apply_each(&self, writes: Vec<(Family, String, Option<Vec<u8>>)>) -> Result<(), StoreError> {
        for (family, name, value) in writes {
            match value {
                Some(v) => self.put(family, &name, &v)?,
                None => self.delete(family, &name)?,
            }
        }
        Ok(())
    }

    fn end_journal(&self) -> Result<(), StoreError> {
        let path = self.journal_path();
        let io = |source| StoreError::Io {
            path: path.clone(),
            source,
        };
        std::fs::remove_file(&path).map_err(io)?;
        std::fs::File::open(&self.root)
            .and_then(|d| d.sync_all())
            .map_err(io)
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

    /// One write goes straight to its file; several go to the journal first (written
    /// atomically), then to their files, then the journal is removed.
    fn apply(&self, writes: Vec<(Family, String, Option<Vec<u8>>)>) -> Result<(), StoreError> {
        if writes.len() <= 1 {
            return self.apply_each(writes);
        }
        let path = self.journal_path();
        let io = |source| StoreError::Io {
            path: path.clone(),
            source,
        };
        let mut tmp = tempfile::Builder::new()
            .prefix(".tmp")
            .tempfile_in(&self.root)
            .map_err(io)?;
        tmp.write_all(&journal::encode(&writes)).map_err(io)?;
        tmp.as_file().sync_data().map_err(io)?;
        tmp.persist(&path).map_err(|e| io(e.error))?;
        std::fs::File::open(&self.root)
            .and_then(|d| d.sync_all())
            .map_err(io)?;
        self.apply_each(writes)?;
        self.end_journal()
    }
}

/// The journal's format: a JSON array of `[family, name, value or null]`, a value as a string
/// when it is UTF-8 (every record chronos writes is JSON) and as an array of bytes otherwise.
mod journal {
    use serde::{Deserialize, Serialize};

    use super::Family;

    #[derive(Serialize, Deserialize)]
    #[serde(untagged)]
    enum Value {
        Text(String),
        Bytes(Vec<u8>),
    }

    type Entry = (String, String, Option<Value>);

    pub(super) fn encode(writes: &[(Family, String, Option<Vec<u8>>)]) -> Vec<u8> {
        let entries: Vec<Entry> = writes
            .iter()
            .map(|(f, name, value)| {
                let value = value.as_ref().map(|v| match std::str::from_utf8(v) {
                    Ok(s) => Value::Text(s.to_owned()),
                    Err(_) => Value::Bytes(v.clone()),
                });
                (f.dir().to_owned(), name.clone(), value)
            })
            .collect();
        serde_json::to_vec(&entries).unwrap_or_default()
    }

    pub(super) fn decode(bytes: &[u8]) -> Result<Vec<super::Change>, serde_json::Error> {
        let entries: Vec<Entry> = serde_json::from_slice(bytes)?;
        let mut out = Vec::with_capacity(entries.len());
        for (dir, name, value) in entries {
            let family = match dir.as_str() {
                "jobs" => Family::Jobs,
                "runs" => Family::Runs,
                "meta" => Family::Meta,
                other => {
                    return Err(serde::de::Error::custom(format!("unknown family {other}")));
                }
            };
            let value = value.map(|v| match v {
                Value::Text(s) => s.into_bytes(),
                Value::Bytes(b) => b,
            });
            out.push((family, name, value));
        }
        Ok(out)
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

    #[test]
    fn dir_store_applies_several_writes_through_a_journal_replayed_after_a_crash() {
        let dir = tempfile::tempdir().unwrap();
        let s = DirStore::open(dir.path()).unwrap();
        s.put(Family::Runs, "ct:1:0:a:", b"run").unwrap();
        let writes = vec![
            (
                Family::Jobs,
                "a".to_owned(),
                Some(b"{\"count\":1}".to_vec()),
            ),
            (Family::Runs, "ct:1:0:a:".to_owned(), None),
            (Family::Meta, "bin".to_owned(), Some(vec![0xff, 0])),
        ];
        s.apply(writes.clone()).unwrap();
        assert!(!dir.path().join("journal").exists());
        assert!(s.list(Family::Runs).unwrap().is_empty());
        // A crash right after the journal was stored, before any file was written.
        s.put(Family::Runs, "ct:1:0:a:", b"run").unwrap();
        s.delete(Family::Jobs, "a").unwrap();
        std::fs::write(dir.path().join("journal"), journal::encode(&writes)).unwrap();
        let again = DirStore::open(dir.path()).unwrap();
        assert!(!dir.path().join("journal").exists());
        assert_eq!(
            again.list(Family::Jobs).unwrap(),
            vec![("a".into(), b"{\"count\":1}".to_vec())]
        );
        assert!(again.list(Family::Runs).unwrap().is_empty());
        assert_eq!(
            again.list(Family::Meta).unwrap(),
            vec![("bin".into(), vec![0xff, 0])]
        );
    }
}
