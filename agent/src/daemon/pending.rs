//! The status updates sent to the master and not yet acknowledged, oldest first.
//!
//! Every update, acknowledgement and settled-run check looks an update up by its UUID or counts
//! those of one executor. A node running a thousand short tasks has a few thousand of them in
//! flight, so these are indexed: a plain list made each of those steps scan (and each removal
//! shift) the whole queue, quadratic in the tasks in flight.

use std::collections::{BTreeMap, HashMap};
use std::time::Instant;

use meseta_api::internal::StatusUpdate;
use meseta_api::Bytes;

/// An update awaiting the master's acknowledgement.
#[derive(Debug, Clone)]
pub struct PendingUpdate {
    /// The update as sent.
    pub update: StatusUpdate,
    /// When it was last sent.
    pub sent_at: Instant,
}

/// The unacknowledged updates, in the order they were queued.
#[derive(Debug, Default)]
pub struct PendingUpdates {
    /// By queueing order (a counter).
    queue: BTreeMap<u64, PendingUpdate>,
    /// The queue position of each update's UUID.
    by_uuid: HashMap<Bytes, u64>,
    /// How many updates each `(framework, executor)` has queued.
    per_executor: HashMap<(String, String), usize>,
    next: u64,
}

fn executor_key(update: &StatusUpdate) -> (String, String) {
    (
        update.framework_id.value.clone(),
        update
            .executor_id
            .as_ref()
            .map(|e| e.value.clone())
            .unwrap_or_default(),
    )
}

impl PendingUpdates {
    /// Queues `update` (last sent at `sent_at`) unless one with its UUID is queued already;
    /// returns whether it was queued.
    pub fn push(&mut self, update: StatusUpdate, sent_at: Instant) -> bool {
        if self.by_uuid.contains_key(&update.uuid) {
            return false;
        }
        let seq = self.next;
        self.next += 1;
        self.by_uuid.insert(update.uuid.clone(), seq);
        *self.per_executor.entry(executor_key(&update)).or_default() += 1;
        self.queue.insert(seq, PendingUpdate { update, sent_at });
        true
    }

    /// Whether the update with `uuid` is queued.
    pub fn contains(&self, uuid: &Bytes) -> bool {
        self.by_uuid.contains_key(uuid)
    }

    /// Takes the update with `uuid` out of the queue.
    pub fn remove(&mut self, uuid: &Bytes) -> Option<PendingUpdate> {
        let seq = self.by_uuid.remove(uuid)?;
        let pending = self.queue.remove(&seq)?;
        self.forget_executor(&pending.update);
        Some(pending)
    }

    fn forget_executor(&mut self, update: &StatusUpdate) {
        let key = executor_key(update);
        if let Some(n) = self.per_executor.get_mut(&key) {
            *n -= 1;
            if *n == 0 {
                self.per_executor.remove(&key);
            }
        }
    }

    /// Whether executor `ex` of framework `fw` has an update queued.
    pub fn has_executor(&self, fw: &str, ex: &str) -> bool {
        self.per_executor
            .contains_key(&(fw.to_owned(), ex.to_owned()))
    }

    /// Keeps only the updates for which `keep` holds.
    pub fn retain(&mut self, mut keep: impl FnMut(&PendingUpdate) -> bool) {
        let dropped: Vec<Bytes> = self
            .queue
            .values()
            .filter(|p| !keep(p))
            .map(|p| p.update.uuid.clone())
            .collect();
        for uuid in dropped {
            self.remove(&uuid);
        }
    }

    /// Drops every update.
    pub fn clear(&mut self) {
        self.queue.clear();
        self.by_uuid.clear();
        self.per_executor.clear();
    }

    /// The updates, oldest first.
    pub fn iter(&self) -> impl Iterator<Item = &PendingUpdate> {
        self.queue.values()
    }

    /// The updates, oldest first, to refresh their `sent_at`.
    pub fn iter_mut(&mut self) -> impl Iterator<Item = &mut PendingUpdate> {
        self.queue.values_mut()
    }

    /// How many updates are queued.
    pub fn len(&self) -> usize {
        self.queue.len()
    }

    /// Whether none is.
    pub fn is_empty(&self) -> bool {
        self.queue.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use meseta_api::{ExecutorId, FrameworkId, TaskId, TaskState, TaskStatus};

    fn update(fw: &str, ex: &str, task: &str, uuid: u8) -> StatusUpdate {
        StatusUpdate {
            framework_id: FrameworkId::new(fw),
            executor_id: Some(ExecutorId::new(ex)),
            timestamp: 0.0,
            latest_state: None,
            status: TaskStatus::new(TaskId::new(task), TaskState::Running),
            uuid: Bytes(vec![uuid; 16]),
        }
    }

    #[test]
    fn keeps_the_order_and_finds_updates_by_uuid_and_executor() {
        let mut p = PendingUpdates::default();
        let now = Instant::now();
        assert!(p.push(update("f", "e1", "t1", 1), now));
        assert!(p.push(update("f", "e2", "t2", 2), now));
        assert!(p.push(update("f", "e1", "t1", 3), now));
        // The same UUID again (a resend) is not queued twice.
        assert!(!p.push(update("f", "e1", "t1", 1), now));
        assert_eq!(p.len(), 3);
        let order: Vec<u8> = p.iter().map(|u| u.update.uuid.0[0]).collect();
        assert_eq!(order, [1, 2, 3]);
        assert!(p.contains(&Bytes(vec![2; 16])));
        assert!(p.has_executor("f", "e1") && p.has_executor("f", "e2"));
        assert!(!p.has_executor("g", "e1"));

        let taken = p.remove(&Bytes(vec![1; 16])).expect("queued");
        assert_eq!(taken.update.status.task_id.value, "t1");
        assert!(p.remove(&Bytes(vec![1; 16])).is_none());
        // e1 still has uuid 3 queued.
        assert!(p.has_executor("f", "e1"));
        p.remove(&Bytes(vec![3; 16]));
        assert!(!p.has_executor("f", "e1"));

        assert!(p.push(update("g", "e9", "t9", 9), now));
        p.retain(|u| u.update.framework_id.value != "f");
        let order: Vec<u8> = p.iter().map(|u| u.update.uuid.0[0]).collect();
        assert_eq!(order, [9]);
        assert!(!p.has_executor("f", "e2") && !p.contains(&Bytes(vec![2; 16])));
        p.clear();
        assert!(p.is_empty() && !p.has_executor("g", "e9"));
    }
}
