//! Mesos-native health checks (`TaskInfo.health_check`), as Mesos' `HealthChecker`
//! (src/checks/health_checker.cpp) runs them for the command and docker executors:
//!
//! * the first check `delay_seconds` after the task started, then every `interval_seconds`;
//!   a check that does not answer within `timeout_seconds` (0: no limit) fails;
//! * failures within `grace_period_seconds` of the start are ignored until the first success;
//! * the first success, and the first success after failures, report `healthy: true`;
//!   every counted failure reports `healthy: false`, and the `consecutive_failures`-th asks the
//!   executor to kill the task.
//!
//! The executor turns each [`HealthUpdate`] into a TASK_RUNNING update with `healthy` and
//! reason `REASON_TASK_HEALTH_CHECK_STATUS_UPDATED`. [`probe`] holds the HTTP, TCP and COMMAND
//! checks; [`tracker`] the counting above, free of I/O; `config` the validation and defaults.

mod config;
mod namespace;
pub mod probe;
pub mod tracker;

use meseta_api::{TaskId, TaskState, TaskStatus};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio::time::Instant;

pub use config::{
    HealthConfig, InvalidHealthCheck, DEFAULT_CONSECUTIVE_FAILURES, DEFAULT_DELAY,
    DEFAULT_GRACE_PERIOD, DEFAULT_INTERVAL, DEFAULT_TIMEOUT,
};
pub use probe::Probe;
pub use tracker::{HealthUpdate, Tracker};

/// A running health checker; stops when dropped.
#[derive(Debug)]
pub struct HealthChecker {
    updates: mpsc::UnboundedReceiver<HealthUpdate>,
    task: JoinHandle<()>,
}

impl HealthChecker {
    /// Starts checking now (the first check after `config.delay`).
    pub fn spawn(config: HealthConfig, task_id: TaskId) -> Self {
        let (tx, updates) = mpsc::unbounded_channel();
        let task = tokio::spawn(run(config, task_id, tx));
        Self { updates, task }
    }

    /// The next health change; pends forever once the checker has stopped.
    pub async fn next(&mut self) -> HealthUpdate {
        match self.updates.recv().await {
            Some(update) => update,
            None => std::future::pending().await,
        }
    }
}

impl Drop for HealthChecker {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn run(config: HealthConfig, task_id: TaskId, tx: mpsc::UnboundedSender<HealthUpdate>) {
    let mut tracker = Tracker::new(
        Instant::now(),
        config.grace_period,
        config.consecutive_failures,
    );
    tokio::time::sleep(config.delay).await;
    loop {
        let result = config.probe.run(config.timeout).await;
        if let Err(message) = &result {
            tracing::warn!(task_id = %task_id, %message, "health check failed");
        }
        if let Some(update) = tracker.record(result.is_ok(), Instant::now()) {
            if tx.send(update).is_err() {
                return;
            }
        }
        tokio::time::sleep(config.interval).await;
    }
}

/// Where COMMAND checks run: wrapped (`docker exec`), in the mount namespace of the task
/// under a process (a task inside an image), or plainly next to the executor.
#[derive(Debug, Clone, Default)]
pub struct CommandPlace {
    /// Put before the check's command.
    pub wrapper: Vec<String>,
    /// The task's process (or an ancestor of it) whose mount namespace to enter.
    pub namespace_of: Option<i32>,
}

/// Starts `task`'s health checker, if it has a valid health check (an invalid one is logged
/// and not run, as Mesos' executors do).
pub fn start(
    task: &meseta_api::TaskInfo,
    host: std::net::IpAddr,
    place: CommandPlace,
) -> Option<HealthChecker> {
    let check = task.health_check.as_ref()?;
    match HealthConfig::from_check(check, host) {
        Ok(mut config) => {
            if let Probe::Command {
                wrapper,
                namespace_of,
                ..
            } = &mut config.probe
            {
                *wrapper = place.wrapper;
                *namespace_of = place.namespace_of;
            }
            tracing::info!(task_id = %task.task_id, ?config, "starting health checks");
            Some(HealthChecker::spawn(config, task.task_id.clone()))
        }
        Err(err) => {
            tracing::error!(task_id = %task.task_id, %err, "failed to create the health checker");
            None
        }
    }
}

/// The TASK_RUNNING update carrying a health change (Mesos' executors copy the last
/// RUNNING status; `base` is it, e.g. with the container's network info).
pub fn health_status(base: TaskStatus, healthy: bool) -> TaskStatus {
    TaskStatus {
        healthy: Some(healthy),
        reason: Some(meseta_api::Reason::TaskHealthCheckStatusUpdated),
        ..TaskStatus {
            state: TaskState::Running,
            ..base
        }
    }
}
