//! Stopping the task: KILL (SIGTERM to its process group, SIGKILL once the grace period is
//! over, TASK_KILLING to frameworks that understand it) and SHUTDOWN.

use std::time::Duration;

use meseta_api::{KillPolicy, TaskId, TaskState};
use nix::sys::signal::Signal;
use tokio::time::Instant;

use super::{Executor, DEFAULT_KILL_GRACE_PERIOD, SHUTDOWN_GRACE_MARGIN};

impl Executor {
    /// A KILL's grace period (Mesos `launcher/executor.cpp` `killTask`): the KILL event's
    /// policy, else the task's, else [`DEFAULT_KILL_GRACE_PERIOD`].
    pub(super) fn kill_grace_period(&self, override_policy: Option<KillPolicy>) -> Duration {
        let task_policy = self.task.as_ref().and_then(|t| t.info.kill_policy);
        kill_grace_period(override_policy, task_policy, DEFAULT_KILL_GRACE_PERIOD)
    }

    pub(super) async fn kill(&mut self, task_id: &TaskId, grace: Duration) {
        let Some(task) = self.task.as_mut().filter(|t| &t.info.task_id == task_id) else {
            tracing::warn!(task_id = %task_id, "KILL for an unknown task");
            return;
        };
        let Some(process) = task.process.as_ref() else {
            return; // already finished; its terminal update is on its way
        };
        if task.killing {
            return;
        }
        task.killing = true;
        // As Mesos: no health updates once the kill started.
        task.health = None;
        tracing::info!(task_id = %task_id, ?grace, "killing task");
        process.signal_group(Signal::SIGTERM);
        task.kill_deadline = Some(Instant::now() + grace);
        // Like Mesos, TASK_KILLING only goes to frameworks that declared they understand it.
        let killing_capable = self.link.task_killing_capable;
        if killing_capable {
            self.send(task_id, TaskState::Killing, None, None).await;
        }
    }

    pub(super) fn escalate(&mut self) {
        if let Some(task) = self.task.as_mut() {
            task.kill_deadline = None;
            if let Some(process) = task.process.as_ref() {
                tracing::info!(task_id = %task.info.task_id, "grace period over; sending SIGKILL");
                process.signal_group(Signal::SIGKILL);
            }
        }
    }

    pub(super) async fn shutdown(&mut self) {
        tracing::info!("SHUTDOWN received");
        self.shutting_down = true;
        // Mesos leaves a margin of the agent's shutdown grace period for sending the
        // terminal update before the agent destroys the container.
        let grace = self
            .link
            .config
            .shutdown_grace_period
            .saturating_sub(SHUTDOWN_GRACE_MARGIN);
        if let Some(task_id) = self.task.as_ref().map(|t| t.info.task_id.clone()) {
            self.kill(&task_id, grace).await;
        }
    }
}

/// Mesos's rule for a kill's grace period: the KILL's own policy, else the task's, else
/// `default`. Shared by the command and the docker executor.
pub(crate) fn kill_grace_period(
    kill: Option<KillPolicy>,
    task: Option<KillPolicy>,
    default: Duration,
) -> Duration {
    kill.and_then(|p| p.grace_period)
        .or_else(|| task.and_then(|p| p.grace_period))
        .map_or(default, |g| g.to_duration())
}
