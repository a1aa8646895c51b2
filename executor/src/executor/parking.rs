//! Parking the executor while its task just runs, and taking over again from the park (see
//! [`crate::park`]).

use std::time::Duration;

use tokio::time::Instant;

use super::{Executor, Task};
use crate::config::Config;
use crate::link::Link;
use crate::process::TaskProcess;

/// How long the executor stays resident with nothing to do before it parks, as the
/// supervisor does: short tasks end before that and never pay for the exec out and back in
/// (nor their TASK_FINISHED for it).
pub(super) const PARK_AFTER: Duration = Duration::from_secs(2);

impl Executor {
    /// The executor that parked itself, back from the park (`--resume_parked`): connected,
    /// every update acknowledged, its task running. Needs a tokio runtime.
    pub fn resume(config: Config) -> Result<Self, crate::park::ParkError> {
        let resumed = crate::park::resume()?;
        let subscription = crate::client::Subscription::adopt(resumed.socket)?;
        let process = TaskProcess::adopt(resumed.state.pid, resumed.pidfd)?;
        let mut executor = Self::new(config);
        executor.link = Link::resumed(
            executor.link.config.clone(),
            subscription,
            resumed.state.task_killing_capable,
        );
        tracing::debug!(task_id = %resumed.state.task.task_id, "resumed from the park");
        executor.task = Some(Task {
            info: Box::new(resumed.state.task),
            process: Some(process),
            kill_deadline: None,
            killing: false,
            acknowledged: true,
            health: None,
            unhealthy: false,
        });
        Ok(executor)
    }

    /// Whether the task just runs and nothing is pending: the executor may park.
    fn idle(&self) -> bool {
        if !self.parking || self.terminal_sent_at.is_some() || self.shutting_down {
            return false;
        }
        let Some(task) = self.task.as_ref() else {
            return false;
        };
        task.process.is_some()
            && !task.killing
            && task.health.is_none()
            && task.acknowledged
            && self.link.idle_socket().is_some()
    }

    /// Execs the park (not returning) once the executor has been idle for [`PARK_AFTER`].
    pub(super) fn park_if_idle(&mut self) {
        if !self.idle() {
            self.park_at = None;
            return;
        }
        let now = Instant::now();
        if now < *self.park_at.get_or_insert(now + PARK_AFTER) {
            return;
        }
        let Some(task) = self.task.as_ref() else {
            return;
        };
        let Some(process) = task.process.as_ref() else {
            return;
        };
        let Some(socket) = self.link.idle_socket() else {
            return;
        };
        // Back from the park because one of them is ready: handle that first (parking
        // again at once would only wake the park again).
        if crate::park::ready(socket, process.pidfd()) {
            return;
        }
        let state = crate::park::Parked {
            task: meseta_api::TaskInfo::clone(&task.info),
            pid: process.pid(),
            task_killing_capable: self.link.task_killing_capable,
        };
        tracing::debug!(task_id = %task.info.task_id, "parking");
        let err = crate::park::park(socket, process.pidfd(), &state);
        tracing::warn!(%err, "cannot park; the executor stays resident");
        crate::park::after_failure();
        self.link.drop_calls_connection();
        self.parking = false;
    }
}
