//! Registry group commit for agent registrations (Mesos's registrar batches
//! its operations the same way).
//!
//! A new agent is written into the in-memory registry, added to the
//! allocator deactivated, and parked; a committer task (started by
//! `server::start`) snapshots the registry under the lock, writes and fsyncs
//! it outside the lock, then admits every agent parked up to that snapshot:
//! it is activated and gets REGISTERED. So one fsync covers all registrations
//! queued while the previous one ran, and no agent is acknowledged before its
//! registration is durable. Without a committer (a `Master` used directly),
//! registrations are written synchronously.

use std::sync::Arc;

use meseta_api::internal;
use tokio::sync::Notify;

use super::{Master, Sink};
use crate::registry::{RegistryError, Snapshot};

/// An agent whose registration waits for its registry write.
#[derive(Debug)]
pub(crate) struct PendingAgent {
    /// Registry generation that must be durable first.
    pub generation: u64,
    pub id: String,
    pub info: meseta_api::AgentInfo,
    pub sub: internal::Subscribe,
    pub sink: Sink,
}

/// Group-commit bookkeeping.
#[derive(Debug, Default)]
pub(crate) struct GroupCommit {
    /// Wakes the committer; `None` until one runs.
    notify: Option<Arc<Notify>>,
    /// Generation of the latest in-memory registry change.
    requested: u64,
    /// Latest generation known to be on disk.
    durable: u64,
    pending: Vec<PendingAgent>,
    /// Woken whenever `durable` advances (or the state is reset).
    durable_notify: Arc<Notify>,
    /// Registry writes done by the committer, and how long they took.
    writes: u64,
    write_ms_total: f64,
}

/// What the committer writes: the generation it covers and the registry.
#[derive(Debug)]
pub struct CommitSnapshot {
    /// Registry generation the snapshot includes.
    pub generation: u64,
    /// The registry contents to write.
    pub snapshot: Snapshot,
}

impl GroupCommit {
    /// Takes over another instance's committer notifier (a master being reset).
    pub(crate) fn keep_notify(&mut self, other: &GroupCommit) {
        self.notify.clone_from(&other.notify);
        self.durable_notify = Arc::clone(&other.durable_notify);
        // Whoever waited for a write of the old state learns it is gone.
        self.durable_notify.notify_waiters();
    }
}

impl Master {
    /// Turns on group commit; the caller runs the committer loop that waits
    /// on the returned notifier and calls [`Master::commit_snapshot`] and
    /// [`Master::commit_done`].
    pub fn enable_group_commit(&mut self) -> Arc<Notify> {
        let n = Arc::new(Notify::new());
        self.commit.notify = Some(Arc::clone(&n));
        n
    }

    /// Parks a new agent until its registry entry is durable (or, without a
    /// committer, writes the registry now). The agent is already in the
    /// registry data and, deactivated, in the allocator.
    pub(crate) fn register_when_durable(
        &mut self,
        id: String,
        info: meseta_api::AgentInfo,
        sub: internal::Subscribe,
        sink: Sink,
    ) -> Result<(), RegistryError> {
        self.commit.requested += 1;
        let generation = self.commit.requested;
        let p = PendingAgent {
            generation,
            id,
            info,
            sub,
            sink,
        };
        match self.commit.notify.clone() {
            Some(n) => {
                self.commit.pending.push(p);
                n.notify_one();
                Ok(())
            }
            None => {
                if let Err(err) = self.save_registry() {
                    self.reject_pending(p);
                    return Err(err);
                }
                self.admit(p);
                Ok(())
            }
        }
    }

    /// Queues a write of the whole registry for the committer (replicated registries).
    pub(crate) fn request_commit(&mut self) {
        self.commit.requested += 1;
        if let Some(n) = &self.commit.notify {
            n.notify_one();
        }
    }

    /// For a committer that writes the registry itself (`crate::ha`): the generation to
    /// cover and the contents, if something changed since the last durable write.
    pub fn commit_request(&self) -> Option<(u64, crate::registry::RegistryData)> {
        (self.commit.requested > self.commit.durable)
            .then(|| (self.commit.requested, self.registry.data.clone()))
    }

    /// The registry to write, if something changed since the last durable write.
    pub fn commit_snapshot(&self) -> Option<Result<CommitSnapshot, RegistryError>> {
        if self.commit.requested <= self.commit.durable {
            return None;
        }
        Some(self.registry.snapshot().map(|snapshot| CommitSnapshot {
            generation: self.commit.requested,
            snapshot,
        }))
    }

    /// The committer's write of `generation` finished (in `ms`): admits or
    /// (on failure) rejects the agents it covered.
    pub fn commit_done(&mut self, generation: u64, ms: f64, result: Result<(), RegistryError>) {
        self.commit.writes += 1;
        self.commit.write_ms_total += ms;
        let (covered, rest): (Vec<_>, Vec<_>) = std::mem::take(&mut self.commit.pending)
            .into_iter()
            .partition(|p| p.generation <= generation);
        self.commit.pending = rest;
        match result {
            Ok(()) => {
                self.commit.durable = self.commit.durable.max(generation);
                self.commit.durable_notify.notify_waiters();
                covered.into_iter().for_each(|p| self.admit(p));
            }
            Err(err) => {
                tracing::error!(%err, agents = covered.len(), "cannot persist agent registrations");
                covered.into_iter().for_each(|p| self.reject_pending(p));
            }
        }
    }

    /// Every in-memory change is on disk (a synchronous save succeeded).
    pub(crate) fn registry_saved(&mut self) {
        self.commit.durable = self.commit.requested;
        self.commit.durable_notify.notify_waiters();
        let pending = std::mem::take(&mut self.commit.pending);
        pending.into_iter().for_each(|p| self.admit(p));
    }

    /// The latest registry generation changed in memory, and the latest known durable.
    pub fn commit_generations(&self) -> (u64, u64) {
        (self.commit.requested, self.commit.durable)
    }

    /// Woken whenever a registry write becomes durable (see [`Master::commit_generations`]).
    pub fn durable_notify(&self) -> Arc<Notify> {
        Arc::clone(&self.commit.durable_notify)
    }

    /// Registry writes by the committer and their total duration in ms.
    pub fn commit_stats(&self) -> (u64, f64) {
        (self.commit.writes, self.commit.write_ms_total)
    }

    /// Registrations still waiting for their write.
    pub fn pending_registrations(&self) -> usize {
        self.commit.pending.len()
    }

    fn admit(&mut self, p: PendingAgent) {
        let _ = self.allocator.activate_agent(&p.id);
        self.insert_agent(&p.id, p.info, &p.sub, p.sink.clone(), false);
        self.operator_agent_added(&p.id);
        tracing::info!(agent_id = %p.id, "agent registered");
        self.send_registered(&p.sink, &p.id);
        self.trigger_allocation();
    }

    /// Forgets a registration that could not be persisted; dropping its sink
    /// ends the agent's stream, so it subscribes again.
    fn reject_pending(&mut self, p: PendingAgent) {
        let _ = self.allocator.remove_agent(&p.id);
        self.registry.data.agents.remove(&p.id);
    }
}
