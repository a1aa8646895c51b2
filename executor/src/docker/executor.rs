//! The docker executor's event loop.
//!
//! ```text
//!  SUBSCRIBE ─▶ LAUNCH ─▶ STARTING ─(pull, create, start)─▶ RUNNING ─exit─▶ FINISHED/FAILED
//!                              │                               │
//!                              └──────── KILL/SHUTDOWN ────────┴─▶ docker stop ─▶ KILLED
//! ```
//!
//! The container is not a child of the executor: if the executor dies, the agent finds the
//! container by its name and stops it. The executor exits 0 once the terminal update is
//! acknowledged (or [`TERMINAL_ACK_TIMEOUT`] after it was sent while connected), and 1 after
//! SIGKILLing the container when the agent stays away for `MESOS_RECOVERY_TIMEOUT`.

use std::time::Duration;

use meseta_api::executor::{Event, EventType};
use meseta_api::{
    ContainerStatus, FrameworkCapabilityType, IpAddress, KillPolicy, NetworkInfo, Reason, TaskId,
    TaskInfo, TaskState,
};
use meseta_docker::mesos::RunOptions;
use meseta_docker::Docker;
use tokio::sync::mpsc::{unbounded_channel, UnboundedReceiver, UnboundedSender};
use tokio::task::JoinHandle;
use tokio::time::{sleep_until, Instant};

use super::flags::DockerFlags;
use super::runner::{self, RunEvent};
use crate::config::Config;
use crate::executor::{SHUTDOWN_GRACE_MARGIN, TERMINAL_ACK_TIMEOUT};
use crate::health::{self, HealthChecker, HealthUpdate};
use crate::link::Link;
use crate::process::task_environment;
use crate::updates::new_status;

/// The one task and where its container is.
#[derive(Debug)]
struct Task {
    info: TaskInfo,
    runner: Option<JoinHandle<()>>,
    running: bool,
    killing: bool,
    acknowledged: bool,
    /// Health checks, from TASK_RUNNING until a kill starts.
    health: Option<HealthChecker>,
    /// The TASK_RUNNING update, which health updates repeat (with the container's address).
    running_status: Option<meseta_api::TaskStatus>,
    /// Killed because its health checks failed.
    unhealthy: bool,
}

/// The docker executor.
#[derive(Debug)]
pub struct DockerExecutor {
    link: Link,
    docker: Docker,
    flags: DockerFlags,
    task: Option<Task>,
    events_tx: UnboundedSender<RunEvent>,
    events_rx: UnboundedReceiver<RunEvent>,
    terminal_sent_at: Option<Instant>,
    shutting_down: bool,
}

impl DockerExecutor {
    /// An executor for the agent in `config`, with its flags.
    pub fn new(config: Config, flags: DockerFlags) -> Self {
        let (events_tx, events_rx) = unbounded_channel();
        Self {
            link: Link::new(config),
            docker: Docker::new(flags.docker_socket.clone()),
            flags,
            task: None,
            events_tx,
            events_rx,
            terminal_sent_at: None,
            shutting_down: false,
        }
    }

    /// Runs until done; returns the process exit code.
    pub async fn run(mut self) -> i32 {
        loop {
            if self.terminal_sent_at.is_some() && self.link.all_acknowledged() {
                return 0;
            }
            if self.shutting_down && self.task.is_none() {
                return 0;
            }
            let far = Instant::now() + Duration::from_secs(86_400);
            let ack_deadline = self
                .terminal_sent_at
                .filter(|_| self.link.connected())
                .map(|t| t + TERMINAL_ACK_TIMEOUT);
            let recovery_deadline = self.link.recovery_deadline();
            let connected = self.link.connected();
            let next_attempt = self.link.next_attempt();
            tokio::select! {
                event = self.link.next_event(), if connected => match event {
                    Ok(Some(event)) => self.handle_event(event).await,
                    Ok(None) => self.link.disconnected("agent closed the event stream"),
                    Err(err) => self.link.disconnected(&err.to_string()),
                },
                () = crate::link::attempt_at(next_attempt), if !connected => {
                    let unacknowledged = self
                        .task
                        .iter()
                        .filter(|t| !t.acknowledged)
                        .map(|t| t.info.clone())
                        .collect();
                    if self.link.connect(unacknowledged).await && self.terminal_sent_at.is_some() {
                        self.terminal_sent_at = Some(Instant::now());
                    }
                }
                Some(event) = self.events_rx.recv() => self.container_event(event).await,
                update = next_health(&mut self.task) => self.health_changed(update).await,
                () = sleep_until(ack_deadline.unwrap_or(far)), if ack_deadline.is_some() => {
                    tracing::warn!("terminal update not acknowledged in time; exiting");
                    return 0;
                }
                () = sleep_until(recovery_deadline.unwrap_or(far)), if recovery_deadline.is_some() => {
                    tracing::error!("agent unreachable for the recovery timeout; killing the container");
                    if self.task.as_ref().is_some_and(|t| t.running) {
                        let _ = self.docker.kill(&self.flags.container, "KILL").await;
                        return 1;
                    }
                    return 0;
                }
            }
        }
    }

    async fn handle_event(&mut self, event: Event) {
        match event.r#type {
            EventType::Subscribed => {
                tracing::info!("SUBSCRIBED");
                if let Some(s) = event.subscribed {
                    self.link.framework_info = Some(s.framework_info);
                }
            }
            EventType::Launch => match event.launch {
                Some(launch) => self.launch(launch.task).await,
                None => tracing::warn!("LAUNCH event without `launch`"),
            },
            EventType::LaunchGroup => {
                tracing::warn!(
                    "the docker executor does not run task groups; ignoring LAUNCH_GROUP"
                );
            }
            EventType::Kill => {
                if let Some(kill) = event.kill {
                    let grace = self.kill_grace_period(kill.kill_policy);
                    self.kill(&kill.task_id, grace).await;
                }
            }
            EventType::Acknowledged => {
                if let Some(ack) = event.acknowledged {
                    if self.link.acknowledge(&ack.uuid).is_some() {
                        if let Some(t) =
                            self.task.as_mut().filter(|t| t.info.task_id == ack.task_id)
                        {
                            t.acknowledged = true;
                        }
                    }
                }
            }
            EventType::Shutdown => {
                tracing::info!("SHUTDOWN received");
                self.shutting_down = true;
                let grace = self
                    .link
                    .config
                    .shutdown_grace_period
                    .saturating_sub(SHUTDOWN_GRACE_MARGIN);
                if let Some(id) = self.task.as_ref().map(|t| t.info.task_id.clone()) {
                    self.kill(&id, grace).await;
                }
            }
            EventType::Error => tracing::error!(
                message = event.error.map(|e| e.message).unwrap_or_default(),
                "agent sent ERROR"
            ),
            EventType::Message | EventType::Heartbeat | EventType::Unknown => {}
        }
    }

    async fn launch(&mut self, info: TaskInfo) {
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

    /// The KILL event's policy, else the task's, else `--stop_timeout`.
    fn kill_grace_period(&self, override_policy: Option<KillPolicy>) -> Duration {
        let task_policy = self.task.as_ref().and_then(|t| t.info.kill_policy);
        crate::executor::kill_grace_period(override_policy, task_policy, self.flags.stop_timeout)
    }

    async fn kill(&mut self, task_id: &TaskId, grace: Duration) {
        let Some(task) = self.task.as_mut().filter(|t| &t.info.task_id == task_id) else {
            tracing::warn!(task_id = %task_id, "KILL for an unknown task");
            return;
        };
        if task.killing || self.terminal_sent_at.is_some() {
            return;
        }
        task.killing = true;
        task.health = None;
        tracing::info!(task_id = %task_id, ?grace, "killing task");
        let capable = self
            .link
            .framework_info
            .as_ref()
            .is_some_and(|f| f.has_capability(FrameworkCapabilityType::TaskKillingState));
        if capable {
            self.link
                .send(task_id, TaskState::Killing, None, None)
                .await;
        }
        let Some(task) = self.task.as_mut() else {
            return;
        };
        if !task.running {
            // Still pulling or creating: stop that, remove whatever was created.
            if let Some(runner) = task.runner.take() {
                runner.abort();
            }
            let _ = self.docker.remove(&self.flags.container).await;
            let message = "Killed before the container started".to_owned();
            self.send_terminal(task_id, TaskState::Killed, message, None)
                .await;
            return;
        }
        // `docker stop` waits for the container; the exit arrives through the runner.
        let docker = self.docker.clone();
        let name = self.flags.container.clone();
        tokio::spawn(async move {
            if let Err(err) = docker.stop(&name, round_up_secs(grace)).await {
                tracing::warn!(container = name, %err, "docker stop failed; killing");
                let _ = docker.kill(&name, "KILL").await;
            }
        });
    }

    async fn container_event(&mut self, event: RunEvent) {
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
    async fn health_changed(&mut self, update: HealthUpdate) {
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

    async fn send_terminal(
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

    async fn send_terminal_status(&mut self, status: meseta_api::TaskStatus) {
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

async fn next_health(task: &mut Option<Task>) -> HealthUpdate {
    match task.as_mut().and_then(|t| t.health.as_mut()) {
        Some(checker) => checker.next().await,
        None => std::future::pending().await,
    }
}

/// `docker stop` takes whole seconds; never shorten a grace period.
fn round_up_secs(d: Duration) -> Duration {
    let secs = d.as_secs() + u64::from(d.subsec_nanos() > 0);
    Duration::from_secs(secs)
}

#[cfg(test)]
mod tests {
    use clap::Parser;
    use meseta_api::DurationInfo;

    use super::*;

    fn executor(stop_timeout: &str) -> DockerExecutor {
        let env = |name: &str| {
            let value = match name {
                "MESOS_AGENT_ENDPOINT" => "127.0.0.1:5051",
                "MESOS_FRAMEWORK_ID" => "fw",
                "MESOS_EXECUTOR_ID" => "ex",
                "MESOS_DIRECTORY" => "/tmp",
                _ => return None,
            };
            Some(value.to_owned())
        };
        let config = Config::from_lookup(env).unwrap();
        let flags = DockerFlags::try_parse_from([
            "mesos-docker-executor",
            "--container=mesos-c1",
            &format!("--stop_timeout={stop_timeout}"),
        ])
        .unwrap();
        DockerExecutor::new(config, flags)
    }

    fn policy(secs: i64) -> KillPolicy {
        KillPolicy {
            grace_period: Some(DurationInfo {
                nanoseconds: secs * 1_000_000_000,
            }),
        }
    }

    #[test]
    fn kill_grace_is_the_kills_then_the_tasks_policy_then_stop_timeout() {
        let mut ex = executor("7secs");
        assert_eq!(ex.kill_grace_period(None), Duration::from_secs(7));
        ex.task = Some(Task {
            info: TaskInfo {
                kill_policy: Some(policy(3)),
                ..TaskInfo::default()
            },
            runner: None,
            running: true,
            killing: false,
            acknowledged: false,
            health: None,
            running_status: None,
            unhealthy: false,
        });
        assert_eq!(ex.kill_grace_period(None), Duration::from_secs(3));
        assert_eq!(
            ex.kill_grace_period(Some(policy(9))),
            Duration::from_secs(9)
        );
    }

    #[test]
    fn docker_stop_never_shortens_a_grace_period() {
        assert_eq!(round_up_secs(Duration::ZERO), Duration::ZERO);
        assert_eq!(
            round_up_secs(Duration::from_millis(1500)),
            Duration::from_secs(2)
        );
        assert_eq!(
            round_up_secs(Duration::from_secs(3)),
            Duration::from_secs(3)
        );
    }
}
