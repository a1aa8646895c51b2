//! The container's life as the docker executor sees it: launch (pull, create, start in the
//! runner task), the runner's events (running, exited, failed), health changes, and the
//! terminal update.

use meseta_api::{ContainerStatus, IpAddress, NetworkInfo, Reason, TaskId, TaskInfo, TaskState};
use meseta_docker::mesos::RunOptions;
use tokio::time::Instant;

use super::{DockerExecutor, Task};
use crate::docker::runner::{self, RunEvent};
use crate::health::{self, HealthUpdate};
use crate::process::task_environment;
use crate::updates::new_status;

impl DockerExecutor {
    pub(super) async fn launch(&mut self, info: TaskInfo) {
        let task_id = info.task_id.clone();
        if self.task.is_some() || self.shutting_down {
            let message = "Attempted to run multiple tasks using a \"docker\" executor";
            self.link
                .send(
                    &task_id,
                    TaskState::Failed,
                    Some(message.into()),
                    Some(Reason::CommandExecutorFailed),
                )
                .await;
            return;
        }
        let sandbox = self
            .flags
            .sandbox_directory
            .clone()
            .unwrap_or_else(|| self.link.config.directory.clone());
        let opts = RunOptions {
            sandbox,
            mapped_directory: self.flags.mapped_directory.clone(),
            name: self.flags.container.clone(),
            environment: task_environment(&info, self.flags.task_environment.as_ref()),
            cgroups_enable_cfs: self.flags.cgroups_enable_cfs,
        };
        let runner = tokio::spawn(runner::run(
            self.docker.clone(),
            info.clone(),
            opts,
            self.flags.docker_config.clone(),
            self.events_tx.clone(),
        ));
        self.task = Some(Task {
            info,
            runner: Some(runner),
            running: false,
            killing: false,
            acknowledged: false,
            health: None,
            running_status: None,
            unhealthy: false,
        });
        self.link
            .send(&task_id, TaskState::Starting, None, None)
            .await;
    }

    pub(super) async fn container_event(&mut self, event: RunEvent) {
        let Some(task) = self.task.as_mut() else {
            return;
        };
        let task_id = task.info.task_id.clone();
        match event {
            RunEvent::Started { pid, ip } => {
                task.running = true;
                tracing::info!(task_id = %task_id, pid, ?ip, "TASK_RUNNING");
                let mut status = new_status(
                    &self.link.config.executor_id,
                    &task_id,
                    TaskState::Running,
                    None,
                    None,
                );
                // As Mesos' docker executor: the container's address for service discovery.
                // HTTP and TCP checks go where Mesos' run them (the container's network
                // namespace): the container's address under BRIDGE, else the host's loopback.
                let host = ip
                    .as_deref()
                    .and_then(|ip| ip.parse().ok())
                    .unwrap_or(std::net::IpAddr::V4(std::net::Ipv4Addr::LOCALHOST));
                // COMMAND checks run inside the container, as Mesos' `docker exec`.
                let wrapper = vec![
                    self.flags.docker.clone(),
                    "-H".into(),
                    format!("unix://{}", self.flags.docker_socket.display()),
                    "exec".into(),
                    self.flags.container.clone(),
                ];
                let place = health::CommandPlace {
                    wrapper,
                    namespace_of: None,
                };
                task.health = health::start(&task.info, host, place);
                if let Some(ip) = ip {
                    status.container_status = Some(ContainerStatus {
                        network_infos: vec![NetworkInfo {
                            ip_addresses: vec![IpAddress {
                                ip_address: Some(ip),
                                ..IpAddress::default()
                            }],
                            ..NetworkInfo::default()
                        }],
                        ..ContainerStatus::default()
                    });
                }
                task.running_status = Some(status.clone());
                self.link.send_status(status).await;
            }
            RunEvent::Failed(message) => {
                task.runner = None;
                tracing::error!(task_id = %task_id, %message, "container failed");
                let state = if task.killing {
                    TaskState::Killed
                } else {
                    TaskState::Failed
                };
                self.send_terminal(
                    &task_id,
                    state,
                    message,
                    Some(Reason::CommandExecutorFailed),
                )
                .await;
            }
            RunEvent::Exited { code, oom_killed } => {
                task.runner = None;
                task.running = false;
                task.health = None;
                let unhealthy = task.unhealthy;
                let message = format!("Container exited with status {code}");
                let (state, reason) = if task.killing {
                    (TaskState::Killed, None)
                } else if code == 0 {
                    (TaskState::Finished, None)
                } else if oom_killed {
                    (TaskState::Failed, Some(Reason::ContainerLimitationMemory))
                } else {
                    (TaskState::Failed, Some(Reason::CommandExecutorFailed))
                };
                let message = if oom_killed {
                    format!("Memory limit exceeded: {message}")
                } else {
                    message
                };
                tracing::info!(task_id = %task_id, ?state, %message, "task ended");
                if unhealthy && state == TaskState::Killed {
                    // As Mesos' docker executor: a task killed by its health check ends
                    // with `healthy: false`.
                    let mut status = new_status(
                        &self.link.config.executor_id,
                        &task_id,
                        state,
                        Some(message),
                        Some(Reason::TaskHealthCheckStatusUpdated),
                    );
                    status.healthy = Some(false);
                    self.send_terminal_status(status).await;
                    return;
                }
                self.send_terminal(&task_id, state, message, reason).await;
            }
        }
    }

    /// A health change: TASK_RUNNING (as the first one, with the container's address) with
    /// `healthy`; the container is stopped once the failures ran out.
    pub(super) async fn health_changed(&mut self, update: HealthUpdate) {
        let Some(task) = self.task.as_mut().filter(|t| t.running && !t.killing) else {
            return;
        };
        let task_id = task.info.task_id.clone();
        tracing::info!(task_id = %task_id, healthy = update.healthy, failures = update.consecutive_failures, "task health changed");
        let fresh = new_status(
            &self.link.config.executor_id,
            &task_id,
            TaskState::Running,
            None,
            None,
        );
        let base = match task.running_status.clone() {
            Some(running) => meseta_api::TaskStatus {
                uuid: fresh.uuid,
                timestamp: fresh.timestamp,
                ..running
            },
            None => fresh,
        };
        self.link
            .send_status(health::health_status(base, update.healthy))
            .await;
        if update.kill_task {
            task.unhealthy = true;
            let grace = self.kill_grace_period(None);
            self.kill(&task_id, grace).await;
        }
    }

    pub(super) async fn send_terminal(
        &mut self,
        task_id: &TaskId,
        state: TaskState,
        message: String,
        reason: Option<Reason>,
    ) {
        let status = new_status(
            &self.link.config.executor_id,
            task_id,
            state,
            Some(message),
            reason,
        );
        self.send_terminal_status(status).await;
    }

    pub(super) async fn send_terminal_status(&mut self, status: meseta_api::TaskStatus) {
        if self.terminal_sent_at.is_some() {
            return;
        }
        self.link.send_status(status).await;
        self.terminal_sent_at = Some(Instant::now());
        if self.shutting_down {
            self.task = None;
        }
    }
}
