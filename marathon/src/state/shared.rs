//! [`Shared`]: the state as the HTTP API, the scheduler loop and the health checkers share
//! it, and the group commit of its store writes.
//!
//! A change runs on [`Core`] under its lock and leaves a queue entry: its store writes and
//! its Mesos calls, in change order. Whoever needs a change durable commits everything
//! queued so far in one go (one ZooKeeper multi for the usual few hundred writes), then
//! sends the queued calls in order. So a call never leaves before the writes made with or
//! before it: an instance is in ZooKeeper before its ACCEPT, a deployment before the API
//! answers, and a `kill -9` loses no launched task.
//!
//! Status updates are the exception that makes a deployment fast: the state they refresh
//! (`TASK_RUNNING`, `healthy`) is what Mesos reconciles after a restart anyway, so they are
//! queued without a commit of their own ([`Shared::change_lazily`]) and ride along with the
//! next launch, API change or periodic pass (every 250 ms). Writes of one document queued
//! several times are stored once, in its last form.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Instant;

use tokio::sync::{mpsc, oneshot};

use super::{Command, Core};
use crate::store::{Store, StoreError, StoreOp};

/// One change's writes and calls, waiting for a commit.
#[derive(Debug)]
struct Entry {
    ops: Vec<StoreOp>,
    cmds: Vec<Command>,
    /// Told the commit's outcome.
    done: Option<oneshot::Sender<Result<(), StoreError>>>,
}

/// The state shared by the HTTP API, the scheduler loop and the health checkers.
#[derive(Debug)]
pub struct Shared {
    core: Mutex<Core>,
    /// Entries in change order; pushed while the core lock is held.
    queue: Mutex<Vec<Entry>>,
    /// One commit at a time, so that commits (and their calls) keep the queue's order.
    writer: tokio::sync::Mutex<()>,
    store: std::sync::RwLock<Store>,
    commands: mpsc::UnboundedSender<Command>,
    kicked: tokio::sync::Notify,
}

impl Shared {
    /// Wraps a state; Mesos calls go to `commands`.
    pub fn new(core: Core, store: Store, commands: mpsc::UnboundedSender<Command>) -> Arc<Self> {
        Arc::new(Self {
            core: Mutex::new(core),
            queue: Mutex::default(),
            writer: tokio::sync::Mutex::new(()),
            store: std::sync::RwLock::new(store),
            commands,
            kicked: tokio::sync::Notify::new(),
        })
    }

    /// Resolves once a change asked for the periodic pass ([`Core::kick`]).
    pub async fn kicked(&self) {
        self.kicked.notified().await;
    }

    fn lock(&self) -> MutexGuard<'_, Core> {
        // A panic while holding the lock leaves the state suspect: stop rather than serve it.
        self.core
            .lock()
            .unwrap_or_else(|_| panic!("marathon state lock poisoned by an earlier panic"))
    }

    fn queue(&self) -> MutexGuard<'_, Vec<Entry>> {
        // Entries are pushed and taken whole; a panic cannot leave one half-written.
        self.queue.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Reads the state.
    pub fn read<T>(&self, f: impl FnOnce(&Core) -> T) -> T {
        f(&self.lock())
    }

    /// Runs a change and queues what it wrote and called; the receiver (when it wants a
    /// commit) learns the commit's outcome.
    fn change<T>(
        &self,
        f: impl FnOnce(&mut Core) -> T,
        wait: bool,
    ) -> (T, Option<oneshot::Receiver<Result<(), StoreError>>>) {
        let mut core = self.lock();
        let out = f(&mut core);
        if std::mem::take(&mut core.kick) {
            self.kicked.notify_one();
        }
        let ops = std::mem::take(&mut core.pending);
        let cmds = std::mem::take(&mut core.outbox);
        if ops.is_empty() && cmds.is_empty() {
            return (out, None);
        }
        let (done, rx) = if wait {
            let (tx, rx) = oneshot::channel();
            (Some(tx), Some(rx))
        } else {
            (None, None)
        };
        // Pushed under the core lock: the queue's order is the order of the changes.
        self.queue().push(Entry { ops, cmds, done });
        (out, rx)
    }

    /// Changes the state, persists what changed (with everything queued before), then
    /// sends the Mesos calls it queued.
    pub async fn mutate<T>(&self, f: impl FnOnce(&mut Core) -> T) -> Result<T, StoreError> {
        let (out, rx) = self.change(f, true);
        if let Some(mut rx) = rx {
            if let Ok(result) = rx.try_recv() {
                return result.map(|()| out);
            }
            self.commit().await;
            // The commit above, or one before it, took this entry and answered.
            rx.await
                .unwrap_or(Err(StoreError::Zk("the commit was dropped".into())))?;
        }
        Ok(out)
    }

    /// Changes the state; its writes wait for the next commit. A change that queued a
    /// Mesos call is committed at once, as with [`Shared::mutate`], so the call is not
    /// held back.
    pub async fn change_lazily(&self, f: impl FnOnce(&mut Core)) -> Result<(), StoreError> {
        let mut called = false;
        let (_, rx) = self.change(
            |c| {
                f(c);
                called = !c.outbox.is_empty();
            },
            false,
        );
        debug_assert!(rx.is_none());
        if called {
            self.flush().await?;
        }
        Ok(())
    }

    /// Commits everything queued.
    pub async fn flush(&self) -> Result<(), StoreError> {
        match self.commit().await {
            Some(Err(err)) => Err(err),
            _ => Ok(()),
        }
    }

    /// Commits the queue as it is once this caller's turn comes; `None` if it was empty.
    async fn commit(&self) -> Option<Result<(), StoreError>> {
        let _turn = self.writer.lock().await;
        let entries = std::mem::take(&mut *self.queue());
        if entries.is_empty() {
            return None;
        }
        let mut ops = Vec::new();
        let mut cmds = Vec::new();
        let mut done = Vec::new();
        for e in entries {
            ops.extend(e.ops);
            cmds.extend(e.cmds);
            done.extend(e.done);
        }
        let ops = coalesce(ops);
        let result = if ops.is_empty() {
            Ok(())
        } else {
            let n = ops.len();
            let started = Instant::now();
            tracing::trace!(writes = n, calls = cmds.len(), "storing");
            let r = self.store().apply(ops).await;
            tracing::trace!(
                writes = n,
                ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
                "stored"
            );
            r
        };
        match &result {
            Ok(()) => {
                for c in cmds {
                    // The driver loop outlives every request; a closed channel means shutdown.
                    let _ = self.commands.send(c);
                }
            }
            Err(err) => tracing::warn!(%err, dropped_calls = cmds.len(), "cannot store state"),
        }
        for tx in done {
            let _ = tx.send(result.clone());
        }
        Some(result)
    }

    /// Replaces the whole state and its store (after winning the election and loading).
    pub fn replace(&self, core: Core, store: Store) {
        *self.store.write().unwrap_or_else(|e| e.into_inner()) = store;
        *self.lock() = core;
    }

    /// The store.
    pub fn store(&self) -> Store {
        self.store.read().unwrap_or_else(|e| e.into_inner()).clone()
    }
}

/// Keeps only the last write of each document, where it was: one commit applies all of
/// them before any of its calls leaves, so the earlier forms are never needed.
fn coalesce(ops: Vec<StoreOp>) -> Vec<StoreOp> {
    let keep: Vec<bool> = {
        let mut last: HashMap<(&str, &str), usize> = HashMap::with_capacity(ops.len());
        for (i, op) in ops.iter().enumerate() {
            last.insert(op.key(), i);
        }
        ops.iter()
            .enumerate()
            .map(|(i, op)| last.get(&op.key()) == Some(&i))
            .collect()
    };
    ops.into_iter()
        .zip(keep)
        .filter_map(|(op, k)| k.then_some(op))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::coalesce;
    use crate::store::{StoreOp, APPS, INSTANCES};

    #[test]
    fn coalesce_keeps_the_last_write_of_each_document_in_place() {
        let put = |c, k: &str, v: &str| StoreOp::Put(c, k.into(), v.as_bytes().to_vec());
        let ops = vec![
            put(INSTANCES, "a", "staging"),
            put(APPS, "a", "app"),
            put(INSTANCES, "b", "staging"),
            put(INSTANCES, "a", "running"),
            StoreOp::Delete(INSTANCES, "b".into()),
        ];
        assert_eq!(
            coalesce(ops),
            vec![
                put(APPS, "a", "app"),
                put(INSTANCES, "a", "running"),
                StoreOp::Delete(INSTANCES, "b".into()),
            ]
        );
    }
}
