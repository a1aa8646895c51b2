//! Parking the executor while its task just runs, and taking over again from the park (see
//! [`crate::park`]).

use super::{Executor, Task};
use crate::config::Config;
use crate::link::Link;
use crate::process::TaskProcess;

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
            info: resumed.state.task,
            process: Some(process),
            kill_deadline: None,
            killing: false,
            acknowledged: true,
            health: None,
            unhealthy: false,
        });
        Ok(executor)
    }

    /// Execs the park (not returning) when the task just runs and nothing is pending.
    pub(super) fn park_if_idle(&mut self) {
        if !self.parking || self.terminal_sent_at.is_some() || self.shutting_down {
            return;
        }
        let Some(task) = self.task.as_ref() else {
            return;
        };
        let Some(process) = task.process.as_ref() else {
            return;
        };
        if task.killing || task.health.is_some() || !task.acknowledged {
            return;
        }
        let Some(socket) = self.link.idle_socket() else {
            return;
        };
        // Back from the park because one of them is ready: handle that first (parking
        // again at once would only wake the park again).
        if crate::park::ready(socket, process.pidfd()) {
            return;
        }
        let state = crate::park::Parked {
            task: task.info.clone(),
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
