//! Checkpoints under `<work_dir>/meta/` (reference §3.4, Mesos `src/slave/paths.hpp`), for
//! frameworks with `checkpoint: true`:
//!
//! ```text
//! meta/boot_id
//! meta/slaves/latest -> <agent_id>
//! meta/slaves/<agent_id>/slave.info
//!   frameworks/<fw>/framework.info
//!     executors/<ex>/executor.info
//!       runs/latest -> <container>
//!       runs/<container>/container.id
//!         tasks/<task>/task.info
//!         tasks/<task>/task.updates
//! ```
//!
//! Files are JSON. Whole files are written atomically (temp file, fsync, rename, fsync of the
//! directory); `task.updates` is append-only, one JSON record per line, each append fsync'd.
//! Status update records are written before the update is forwarded; acknowledgement records,
//! `slave.info` and the removal of settled runs go through the [`Writer`] thread, in order.
//! Reading never panics: a torn or corrupt file is a [`CheckpointError`] naming the file.

use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

use meseta_api::internal::StatusUpdate;
use meseta_api::{AgentInfo, Bytes, ExecutorInfo, FrameworkInfo, TaskInfo};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use super::writer::Writer;

/// A checkpoint that cannot be written or read.
#[derive(Debug, thiserror::Error)]
pub enum CheckpointError {
    /// Disk I/O failed.
    #[error("checkpoint {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The content does not parse (torn write, truncation, garbage).
    #[error("corrupt checkpoint {path}: {message}")]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> CheckpointError + '_ {
    move |source| CheckpointError::Io {
        path: path.to_owned(),
        source,
    }
}

/// One record of `task.updates`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UpdateRecord {
    /// An update handed to the master.
    Update(Box<StatusUpdate>),
    /// The master acknowledged the update with this uuid.
    Ack(Bytes),
}

/// Paths of the checkpoint tree of one work dir.
#[derive(Debug, Clone)]
pub struct Meta {
    /// `<work_dir>/meta`.
    pub root: PathBuf,
}

impl Meta {
    /// The tree of `work_dir`.
    pub fn new(work_dir: &Path) -> Self {
        Self {
            root: work_dir.join("meta"),
        }
    }
    /// `meta/boot_id`.
    pub fn boot_id(&self) -> PathBuf {
        self.root.join("boot_id")
    }
    /// `meta/slaves`.
    pub fn slaves(&self) -> PathBuf {
        self.root.join("slaves")
    }
    /// `meta/slaves/<agent>`.
    pub fn agent(&self, agent: &str) -> PathBuf {
        self.slaves().join(agent)
    }
    /// `.../frameworks/<fw>`.
    pub fn framework(&self, agent: &str, fw: &str) -> PathBuf {
        self.agent(agent).join("frameworks").join(fw)
    }
    /// `.../executors/<ex>`.
    pub fn executor(&self, agent: &str, fw: &str, ex: &str) -> PathBuf {
        self.framework(agent, fw).join("executors").join(ex)
    }
    /// `.../runs/<container>`.
    pub fn run(&self, agent: &str, fw: &str, ex: &str, container: &str) -> PathBuf {
        self.executor(agent, fw, ex).join("runs").join(container)
    }
    /// `.../tasks/<task>`.
    pub fn task(&self, agent: &str, fw: &str, ex: &str, container: &str, task: &str) -> PathBuf {
        self.run(agent, fw, ex, container).join("tasks").join(task)
    }
}

/// Writes `bytes` to `path` atomically and durably, creating parent directories.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), CheckpointError> {
    let dir = path.parent().unwrap_or(Path::new("."));
    fs::create_dir_all(dir).map_err(io(dir))?;
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = dir.join(format!(".{name}.tmp"));
    let mut f = File::create(&tmp).map_err(io(&tmp))?;
    f.write_all(bytes).map_err(io(&tmp))?;
    f.sync_all().map_err(io(&tmp))?;
    drop(f);
    fs::rename(&tmp, path).map_err(io(path))?;
    sync_dir(dir)
}

fn sync_dir(dir: &Path) -> Result<(), CheckpointError> {
    File::open(dir).and_then(|d| d.sync_all()).map_err(io(dir))
}

/// Serializes `value` as JSON into `path` atomically.
pub fn write_json<T: Serialize>(path: &Path, value: &T) -> Result<(), CheckpointError> {
    let bytes = serde_json::to_vec(value).map_err(|e| CheckpointError::Corrupt {
        path: path.to_owned(),
        message: e.to_string(),
    })?;
    write_atomic(path, &bytes)
}

/// Reads a JSON checkpoint.
pub fn read_json<T: DeserializeOwned>(path: &Path) -> Result<T, CheckpointError> {
    let bytes = fs::read(path).map_err(io(path))?;
    serde_json::from_slice(&bytes).map_err(|e| CheckpointError::Corrupt {
        path: path.to_owned(),
        message: e.to_string(),
    })
}

/// Points the symlink `link` at `target` atomically.
pub fn symlink_atomic(target: &str, link: &Path) -> Result<(), CheckpointError> {
    let dir = link.parent().unwrap_or(Path::new("."));
    fs::create_dir_all(dir).map_err(io(dir))?;
    let tmp = dir.join(".latest.tmp");
    let _ = fs::remove_file(&tmp);
    std::os::unix::fs::symlink(target, &tmp).map_err(io(&tmp))?;
    fs::rename(&tmp, link).map_err(io(link))?;
    sync_dir(dir)
}

/// Appends one record to `task.updates` (one JSON line) and fsyncs it.
pub fn append_record(path: &Path, record: &UpdateRecord) -> Result<(), CheckpointError> {
    let mut line = serde_json::to_vec(record).map_err(|e| CheckpointError::Corrupt {
        path: path.to_owned(),
        message: e.to_string(),
    })?;
    line.push(b'\n');
    if let Some(dir) = path.parent() {
        fs::create_dir_all(dir).map_err(io(dir))?;
    }
    let mut f = OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .map_err(io(path))?;
    f.write_all(&line).map_err(io(path))?;
    f.sync_data().map_err(io(path))
}

/// Reads every record of a `task.updates` file; a torn (unterminated) or unparsable line is
/// corruption.
pub fn read_records(path: &Path) -> Result<Vec<UpdateRecord>, CheckpointError> {
    let text = match fs::read(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(io(path)(e)),
    };
    if !text.is_empty() && !text.ends_with(b"\n") {
        return Err(CheckpointError::Corrupt {
            path: path.to_owned(),
            message: "the last record is truncated".into(),
        });
    }
    text.split(|b| *b == b'\n')
        .filter(|l| !l.is_empty())
        .enumerate()
        .map(|(n, line)| {
            serde_json::from_slice(line).map_err(|e| CheckpointError::Corrupt {
                path: path.to_owned(),
                message: format!("record {}: {e}", n + 1),
            })
        })
        .collect()
}

/// The writer the daemon uses: every method logs and swallows errors (a failed checkpoint
/// must not stop the agent from running tasks), returning whether it worked.
#[derive(Debug, Clone)]
pub struct Checkpointer {
    /// The tree.
    pub meta: Meta,
    writer: Writer,
}

impl Checkpointer {
    /// A checkpointer of `meta` with its own writer thread.
    pub fn new(meta: Meta) -> Self {
        Self {
            meta,
            writer: Writer::start(),
        }
    }

    /// Waits until the writer thread has written everything submitted so far.
    pub fn flush(&self) {
        self.writer.flush();
    }

    fn log(result: Result<(), CheckpointError>) {
        if let Err(err) = result {
            tracing::error!(%err, "checkpointing failed");
        }
    }

    /// `boot_id`.
    pub fn boot_id(&self, boot_id: &str) {
        Self::log(write_atomic(&self.meta.boot_id(), boot_id.as_bytes()));
    }

    /// `slave.info` and `slaves/latest` (on the writer thread).
    pub fn agent(&self, info: &AgentInfo, agent_id: &str) {
        let info_path = self.meta.agent(agent_id).join("slave.info");
        let latest = self.meta.slaves().join("latest");
        let (info, agent_id) = (info.clone(), agent_id.to_owned());
        self.writer.submit(move || {
            Self::log(write_json(&info_path, &info));
            Self::log(symlink_atomic(&agent_id, &latest));
        });
    }

    /// A new executor run: `framework.info`, `executor.info`, `runs/<container>`.
    pub fn executor(&self, agent: &str, fw: &FrameworkInfo, ex: &ExecutorInfo, container: &str) {
        let fw_id = fw.id.as_ref().map(|i| i.value.as_str()).unwrap_or_default();
        let ex_id = &ex.executor_id.value;
        let fw_dir = self.meta.framework(agent, fw_id);
        Self::log(write_json(&fw_dir.join("framework.info"), fw));
        let ex_dir = self.meta.executor(agent, fw_id, ex_id);
        Self::log(write_json(&ex_dir.join("executor.info"), ex));
        let run = self.meta.run(agent, fw_id, ex_id, container);
        Self::log(write_atomic(
            &run.join("container.id"),
            container.as_bytes(),
        ));
        Self::log(symlink_atomic(
            container,
            &ex_dir.join("runs").join("latest"),
        ));
    }

    /// `task.info`.
    pub fn task(&self, agent: &str, fw: &str, ex: &str, container: &str, task: &TaskInfo) {
        let dir = self
            .meta
            .task(agent, fw, ex, container, &task.task_id.value);
        Self::log(write_json(&dir.join("task.info"), task));
    }

    /// Appends to `task.updates`.
    pub fn record(&self, agent: &str, container: &str, update: &StatusUpdate, rec: &UpdateRecord) {
        let ex = update
            .executor_id
            .as_ref()
            .map(|e| e.value.as_str())
            .unwrap_or_default();
        let dir = self.meta.task(
            agent,
            &update.framework_id.value,
            ex,
            container,
            &update.status.task_id.value,
        );
        let path = dir.join("task.updates");
        match rec {
            UpdateRecord::Update(_) => Self::log(append_record(&path, rec)),
            UpdateRecord::Ack(_) => {
                let rec = rec.clone();
                self.writer
                    .submit(move || Self::log(append_record(&path, &rec)));
            }
        }
    }

    /// Marks a run as ended (`executor.sentinel`): recovery does not wait for it. Written
    /// (and synced) on the writer thread, after the records queued before.
    pub fn run_ended(&self, agent: &str, fw: &str, ex: &str, container: &str) {
        let path = self
            .meta
            .run(agent, fw, ex, container)
            .join("executor.sentinel");
        self.writer
            .submit(move || Self::log(write_atomic(&path, b"")));
    }
}

impl Checkpointer {
    /// Forgets a settled run (ended, every update acknowledged), after the records queued
    /// before (on the writer thread).
    pub fn remove_run(&self, agent: &str, fw: &str, ex: &str, container: &str) {
        let run = self.meta.run(agent, fw, ex, container);
        self.writer.submit(move || {
            if let Err(err) = fs::remove_dir_all(&run) {
                if err.kind() != std::io::ErrorKind::NotFound {
                    tracing::warn!(%err, path = %run.display(), "removing a checkpointed run");
                }
            }
        });
    }
}

/// This boot's id (`/proc/sys/kernel/random/boot_id`).
pub fn current_boot_id() -> String {
    fs::read_to_string("/proc/sys/kernel/random/boot_id")
        .map(|s| s.trim().to_owned())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn torn_update_streams_are_reported_with_the_file() {
        let d = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let path = d.path().join("task.updates");
        append_record(&path, &UpdateRecord::Ack(Bytes(vec![1, 2])))
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(read_records(&path).map(|r| r.len()).ok(), Some(1));
        let mut bytes = fs::read(&path).unwrap_or_default();
        bytes.truncate(bytes.len() - 3);
        fs::write(&path, bytes).unwrap_or_else(|e| panic!("{e}"));
        let err = read_records(&path)
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(err.contains("task.updates"), "{err}");
    }
}
