//! Pending removals of exited docker containers (`--docker_remove_delay`), one small file per
//! container under the agent's meta directory, so that an agent restart neither forgets a
//! removal nor takes the container for an orphan and removes it before its delay is up.

use std::collections::HashMap;
use std::path::PathBuf;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// The removal records of one agent.
#[derive(Debug, Clone)]
pub struct Removals {
    dir: PathBuf,
}

impl Removals {
    /// Records kept in `dir` (created when the first is written).
    pub fn new(dir: PathBuf) -> Self {
        Self { dir }
    }

    /// `name` is removed at `due`. Written to a temporary file and renamed into place.
    pub fn record(&self, name: &str, due: SystemTime) -> std::io::Result<()> {
        let path = self.path(name)?;
        std::fs::create_dir_all(&self.dir)?;
        let millis = due
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default()
            .as_millis();
        let tmp = self.dir.join(format!(".{name}.tmp"));
        std::fs::write(&tmp, millis.to_string())?;
        std::fs::rename(&tmp, path)
    }

    /// `name` needs no removal any more.
    pub fn forget(&self, name: &str) {
        if let Ok(path) = self.path(name) {
            let _ = std::fs::remove_file(path);
        }
    }

    /// Every recorded removal: container name → when it is due. Unreadable records are
    /// dropped (the container is then treated like any other after a restart).
    pub fn pending(&self) -> HashMap<String, SystemTime> {
        let Ok(entries) = std::fs::read_dir(&self.dir) else {
            return HashMap::new();
        };
        let mut out = HashMap::new();
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if name.starts_with('.') {
                continue;
            }
            let due = std::fs::read_to_string(entry.path())
                .ok()
                .and_then(|t| t.trim().parse::<u64>().ok());
            match due {
                Some(ms) => {
                    out.insert(name, UNIX_EPOCH + Duration::from_millis(ms));
                }
                None => {
                    tracing::warn!(record = %entry.path().display(), "dropping a bad removal record");
                    let _ = std::fs::remove_file(entry.path());
                }
            }
        }
        out
    }

    fn path(&self, name: &str) -> std::io::Result<PathBuf> {
        if name.is_empty() || name.starts_with('.') || name.contains('/') {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                format!("not a container name: {name:?}"),
            ));
        }
        Ok(self.dir.join(name))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_survive_a_new_instance_and_can_be_forgotten() {
        let d = tempfile::tempdir().unwrap();
        let r = Removals::new(d.path().join("removals"));
        assert!(r.pending().is_empty());
        let due = UNIX_EPOCH + Duration::from_millis(1_700_000_000_123);
        r.record("mesos-abc", due).unwrap();
        assert!(r.record("../etc", due).is_err());
        let again = Removals::new(d.path().join("removals"));
        assert_eq!(again.pending().get("mesos-abc"), Some(&due));
        std::fs::write(d.path().join("removals/mesos-bad"), "soon").unwrap();
        assert_eq!(again.pending().len(), 1);
        again.forget("mesos-abc");
        assert!(r.pending().is_empty());
    }
}
