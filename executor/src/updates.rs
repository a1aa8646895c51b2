//! Status updates: building a [`TaskStatus`] the way the command executor sends it, and
//! keeping every update until the agent ACKNOWLEDGEs it (they are re-listed in
//! `Subscribe.unacknowledged_updates` when the executor re-subscribes).

use std::time::{SystemTime, UNIX_EPOCH};

use meseta_api::executor::Update;
use meseta_api::{Bytes, ExecutorId, Reason, Source, TaskId, TaskState, TaskStatus};

/// A fresh update for `task_id`: new 16-byte uuid, current timestamp, `SOURCE_EXECUTOR`.
pub fn new_status(
    executor_id: &ExecutorId,
    task_id: &TaskId,
    state: TaskState,
    message: Option<String>,
    reason: Option<Reason>,
) -> TaskStatus {
    let timestamp = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64());
    TaskStatus {
        message,
        reason,
        source: Some(Source::Executor),
        executor_id: Some(executor_id.clone()),
        timestamp: Some(timestamp),
        uuid: Some(Bytes::random_uuid()),
        ..TaskStatus::new(task_id.clone(), state)
    }
}

/// Updates sent but not yet acknowledged, oldest first.
#[derive(Debug, Default)]
pub struct Unacknowledged {
    updates: Vec<Update>,
}

impl Unacknowledged {
    /// Remembers `update` until it is acknowledged.
    pub fn push(&mut self, update: Update) {
        self.updates.push(update);
    }

    /// Drops the update with `uuid`; returns it if it was pending.
    pub fn acknowledge(&mut self, uuid: &Bytes) -> Option<Update> {
        let index = self
            .updates
            .iter()
            .position(|u| u.status.uuid.as_ref() == Some(uuid))?;
        Some(self.updates.remove(index))
    }

    /// Whether nothing is pending.
    pub fn is_empty(&self) -> bool {
        self.updates.is_empty()
    }

    /// The pending updates, oldest first.
    pub fn to_vec(&self) -> Vec<Update> {
        self.updates.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn acknowledge_removes_by_uuid() {
        let ex = ExecutorId::new("e");
        let task = TaskId::new("t");
        let a = new_status(&ex, &task, TaskState::Starting, None, None);
        let b = new_status(&ex, &task, TaskState::Running, None, None);
        assert_eq!(a.uuid.as_ref().map(|u| u.0.len()), Some(16));
        let mut pending = Unacknowledged::default();
        pending.push(Update { status: a.clone() });
        pending.push(Update { status: b.clone() });
        assert!(pending.acknowledge(a.uuid.as_ref().unwrap()).is_some());
        assert!(pending.acknowledge(a.uuid.as_ref().unwrap()).is_none());
        assert_eq!(pending.to_vec()[0].status.state, TaskState::Running);
    }
}
