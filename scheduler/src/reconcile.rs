//! [`Reconciler`]: explicit reconciliation as Mesos' reconciliation guide recommends —
//! ask for every task whose state is in doubt, re-ask (with a doubling delay) for those the
//! master has not answered yet, until each has had an update. Implicit reconciliation (ask
//! for everything the master knows) is [`Scheduler::reconcile_all`].

use std::collections::BTreeMap;
use std::time::Duration;

use meseta_api::{AgentId, TaskId, TaskStatus};
use tokio::time::Instant;

use crate::error::Error;
use crate::handle::Scheduler;

/// First delay before asking again.
const FIRST_RETRY: Duration = Duration::from_secs(1);
/// Longest delay between two rounds.
const MAX_RETRY: Duration = Duration::from_secs(30);

/// One explicit reconciliation in progress. Feed it every status update
/// ([`Reconciler::observe`]) and call [`Reconciler::poll`] when it asks to.
///
/// ```no_run
/// # async fn f(sched: meseta_scheduler::Scheduler, mut events: meseta_scheduler::Events,
/// #            known: Vec<(meseta_api::TaskId, Option<meseta_api::AgentId>)>)
/// #            -> Result<(), meseta_scheduler::Error> {
/// use meseta_scheduler::{Event, Reconciler};
/// let mut reconciler = Reconciler::new(known);
/// while let Some(at) = reconciler.poll(&sched).await? {
///     tokio::select! {
///         Some(event) = events.recv() => {
///             if let Event::Update(status) = &event { reconciler.observe(status); }
///             // ... handle the event ...
///         }
///         _ = tokio::time::sleep_until(at) => {}
///     }
/// }
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct Reconciler {
    pending: BTreeMap<String, (TaskId, Option<AgentId>)>,
    next_round: Instant,
    delay: Duration,
}

impl Reconciler {
    /// Reconciles `tasks` (with their agents when known); the first round goes out at the
    /// first [`Reconciler::poll`].
    pub fn new(tasks: impl IntoIterator<Item = (TaskId, Option<AgentId>)>) -> Self {
        Self {
            pending: tasks
                .into_iter()
                .map(|(t, a)| (t.value.clone(), (t, a)))
                .collect(),
            next_round: Instant::now(),
            delay: FIRST_RETRY,
        }
    }

    /// Any update of a task answers for it.
    pub fn observe(&mut self, status: &TaskStatus) {
        self.pending.remove(&status.task_id.value);
    }

    /// Tasks not answered yet.
    pub fn pending(&self) -> impl Iterator<Item = &TaskId> {
        self.pending.values().map(|(t, _)| t)
    }

    /// Whether every task was answered.
    pub fn is_done(&self) -> bool {
        self.pending.is_empty()
    }

    /// Sends a round if one is due; returns when to poll again, `None` once done. A round
    /// that fails because the driver is reconnecting is retried at the next poll.
    pub async fn poll(&mut self, sched: &Scheduler) -> Result<Option<Instant>, Error> {
        if self.is_done() {
            return Ok(None);
        }
        let now = Instant::now();
        if now >= self.next_round {
            let tasks: Vec<_> = self.pending.values().cloned().collect();
            match sched.reconcile(tasks).await {
                Ok(()) | Err(Error::NotSubscribed) => {}
                Err(e) => return Err(e),
            }
            self.next_round = now + self.delay;
            self.delay = (self.delay * 2).min(MAX_RETRY);
        }
        Ok(Some(self.next_round))
    }
}

#[cfg(test)]
mod tests {
    use meseta_api::TaskState;

    use super::*;

    #[test]
    fn any_update_answers_for_its_task() {
        let mut r = Reconciler::new([(TaskId::new("a"), None), (TaskId::new("b"), None)]);
        r.observe(&TaskStatus::new(TaskId::new("a"), TaskState::Lost));
        assert_eq!(
            r.pending().map(|t| t.value.as_str()).collect::<Vec<_>>(),
            ["b"]
        );
        r.observe(&TaskStatus::new(TaskId::new("b"), TaskState::Running));
        assert!(r.is_done());
    }
}
