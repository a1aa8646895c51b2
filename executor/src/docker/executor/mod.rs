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

//!
//! [`container`] launches the container and follows it to its end; [`kill`] stops it.

mod container;
mod kill;

use std::time::Duration;

use meseta_api::executor::{Event, EventType};
use meseta_api::TaskInfo;
use meseta_docker::Docker;
use tokio::sync::mpsc::{unbounded_channel, UnboundedReceiver, UnboundedSender};
use tokio::task::JoinHandle;
use tokio::time::{sleep_until, Instant};

use super::flags::DockerFlags;
use super::runner::RunEvent;
use crate::config::Config;
use crate::executor::{SHUTDOWN_GRACE_MARGIN, TERMINAL_ACK_TIMEOUT};
use crate::health::{HealthChecker, HealthUpdate};
use crate::link::Link;

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

    async fn handle_event(&mut self, event: Box<Event>) {
        match event.r#type {
            EventType::Subscribed => {
                tracing::info!("SUBSCRIBED");
                if let Some(s) = event.subscribed {
                    self.link.subscribed(&s.framework_info);
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
}

async fn next_health(task: &mut Option<Task>) -> HealthUpdate {
    match task.as_mut().and_then(|t| t.health.as_mut()) {
        Some(checker) => checker.next().await,
        None => std::future::pending().await,
    }
}
