//! Starting the task (TASK_STARTING written before it forks, TASK_RUNNING after), reporting its health
//! changes, and its terminal update once it ended.

use std::process::ExitStatus;

use meseta_api::{Reason, TaskId, TaskInfo, TaskState};
use tokio::time::Instant;

use super::{localhost, Executor, Task};
use crate::health::{self, HealthUpdate};
use crate::process::{describe_exit, kill_group_remnants, task_environment, TaskProcess};

impl Executor {
    pub(super) async fn launch(&mut self, info: Box<TaskInfo>) {
        if self.task.is_some() || self.shutting_down {
            tracing::warn!(task_id = %info.task_id, "refusing a second task");
            let message = "Attempted to run multiple tasks using a \"command\" executor";
            self.send(
                &info.task_id,
                TaskState::Failed,
                Some(message.into()),
                Some(Reason::CommandExecutorFailed),
            )
            .await;
            return;
        }
        let task_id = info.task_id.clone();
        let mut command = info.command.clone().unwrap_or_default();
        if let Some((helper, launch_info)) = &self.image_task {
            command = meseta_api::CommandInfo {
                shell: Some(false),
                value: Some(helper.display().to_string()),
                arguments: vec![
                    "mesos-containerizer".into(),
                    "run-task".into(),
                    format!("--task_launch_info={}", launch_info.display()),
                ],
                ..meseta_api::CommandInfo::default()
            };
        }
        let environment = task_environment(&info, self.flag_environment.as_ref());
        self.task = Some(Task {
            info,
            process: None,
            kill_deadline: None,
            killing: false,
            acknowledged: false,
            health: None,
            unhealthy: false,
        });
        // TASK_STARTING is written before the task is started, and its answer read only with
        // TASK_RUNNING's: the agent handles (and forwards) it while the task forks, and the
        // two are not one agent round trip apart.
        let starting = self.status(&task_id, TaskState::Starting, None, None);
        self.link.send_status_early(starting).await;
        let spawned = TaskProcess::spawn(&command, &environment, &self.link.config.sandbox);
        match spawned {
            Ok(process) => {
                tracing::info!(task_id = %task_id, pid = process.pid(), "task started");
                let place = health::CommandPlace {
                    wrapper: Vec::new(),
                    // A task inside an image: COMMAND checks enter its mount namespace.
                    namespace_of: self.image_task.is_some().then(|| process.pid()),
                };
                if let Some(task) = self.task.as_mut() {
                    task.process = Some(process);
                    // The task shares the host network: HTTP and TCP checks go to 127.0.0.1.
                    task.health = health::start(&task.info, localhost(), place);
                }
                let running = self.status(&task_id, TaskState::Running, None, None);
                self.link.send_statuses(vec![running]).await;
            }
            Err(err) => {
                tracing::error!(task_id = %task_id, %err, "cannot start task");
                self.send_terminal(&task_id, TaskState::Failed, err.to_string(), true)
                    .await;
            }
        }
    }

    pub(super) async fn task_exited(&mut self, status: std::io::Result<ExitStatus>) {
        let Some(task) = self.task.as_mut() else {
            return;
        };
        let pid = task.process.take().map(|p| p.pid());
        task.kill_deadline = None;
        task.health = None;
        let killed = task.killing;
        let unhealthy = task.unhealthy;
        let task_id = task.info.task_id.clone();
        if let Some(pid) = pid {
            kill_group_remnants(pid);
        }
        let (state, message) = match status {
            Ok(status) if killed => (TaskState::Killed, describe_exit(status)),
            Ok(status) if status.success() => (TaskState::Finished, describe_exit(status)),
            Ok(status) => (TaskState::Failed, describe_exit(status)),
            Err(err) => (
                TaskState::Failed,
                format!("Failed to wait for the command: {err}"),
            ),
        };
        tracing::info!(task_id = %task_id, ?state, %message, "task ended");
        if unhealthy {
            // Mesos: the terminal update of a task killed by its health check says so.
            let mut status = crate::updates::new_status(
                &self.link.config.executor_id,
                &task_id,
                state,
                Some(message),
                Some(Reason::TaskHealthCheckStatusUpdated),
            );
            status.healthy = Some(false);
            self.link.send_status(status).await;
            self.terminal_sent_at = Some(Instant::now());
            return;
        }
        let failed = state == TaskState::Failed;
        self.send_terminal(&task_id, state, message, failed).await;
    }

    /// A health change: a TASK_RUNNING update with `healthy`; the task is killed (with its
    /// kill policy's grace period) once the failures ran out.
    pub(super) async fn health_changed(&mut self, update: HealthUpdate) {
        let Some(task) = self
            .task
            .as_mut()
            .filter(|t| !t.killing && t.process.is_some())
        else {
            return;
        };
        let task_id = task.info.task_id.clone();
        tracing::info!(task_id = %task_id, healthy = update.healthy, failures = update.consecutive_failures, "task health changed");
        let base = crate::updates::new_status(
            &self.link.config.executor_id,
            &task_id,
            TaskState::Running,
            None,
            None,
        );
        self.link
            .send_status(health::health_status(base, update.healthy))
            .await;
        if update.kill_task {
            if let Some(task) = self.task.as_mut() {
                task.unhealthy = true;
            }
            let grace = self.kill_grace_period(None);
            self.kill(&task_id, grace).await;
        }
    }

    pub(super) async fn send_terminal(
        &mut self,
        task_id: &TaskId,
        state: TaskState,
        message: String,
        failed: bool,
    ) {
        let reason = failed.then_some(Reason::CommandExecutorFailed);
        self.send(task_id, state, Some(message), reason).await;
        self.terminal_sent_at = Some(Instant::now());
    }

    /// A fresh update of this executor (see [`crate::updates::new_status`]).
    pub(super) fn status(
        &self,
        task_id: &TaskId,
        state: TaskState,
        message: Option<String>,
        reason: Option<Reason>,
    ) -> meseta_api::TaskStatus {
        let executor_id = &self.link.config.executor_id;
        crate::updates::new_status(executor_id, task_id, state, message, reason)
    }

    /// Sends an update and keeps it until acknowledged (see [`Link::send`]).
    pub(super) async fn send(
        &mut self,
        task_id: &TaskId,
        state: TaskState,
        message: Option<String>,
        reason: Option<Reason>,
    ) {
        self.link.send(task_id, state, message, reason).await;
    }
}
