//! The command executor's event loop.
//!
//! ```text
//!  connect ──SUBSCRIBE──▶ subscribed ──LAUNCH──▶ STARTING ─spawn─▶ RUNNING ──exit──▶ FINISHED/FAILED
//!     ▲                        │                                     │
//!     └── backoff ◀── stream dropped                           KILL/SHUTDOWN
//!         (re-SUBSCRIBE with unacknowledged                          ▼
//!          tasks and updates)                        KILLING ─SIGTERM, grace, SIGKILL─▶ KILLED
//! ```
//!
//! The executor exits 0 once the terminal update is acknowledged (or after
//! [`TERMINAL_ACK_TIMEOUT`] connected without the acknowledgement). If the agent stays
//! unreachable for `MESOS_RECOVERY_TIMEOUT` it gives up: SIGKILL to a still-running task and
//! exit 1, or exit 0 when the task had already ended. Only one task is run, as Mesos'
//! command executor does.
//!
//! While its task runs with nothing pending (every update acknowledged, no health check, no
//! kill under way), the executor parks: it execs a tiny program that waits on the agent
//! connection and the task (see [`crate::park`]), and comes back through
//! [`Executor::resume`] when either needs it.

use std::process::ExitStatus;
use std::time::Duration;

use meseta_api::executor::{Event, EventType};
use meseta_api::{
    Environment, FrameworkCapabilityType, KillPolicy, Reason, TaskId, TaskInfo, TaskState,
};
use nix::sys::signal::Signal;
use tokio::time::{sleep_until, Instant};

use crate::config::Config;
use crate::health::{self, HealthChecker, HealthUpdate};
use crate::link::Link;
use crate::process::{describe_exit, kill_group_remnants, task_environment, TaskProcess};

/// How long to wait for the terminal update's acknowledgement before exiting anyway.
pub const TERMINAL_ACK_TIMEOUT: Duration = Duration::from_secs(10);
/// Taken off the shutdown grace period so the executor can still send the terminal update
/// before the agent destroys the container (Mesos: `MAX_REAP_INTERVAL` + 1 s).
pub const SHUTDOWN_GRACE_MARGIN: Duration = Duration::from_secs(2);
/// Grace period of a KILL when neither the KILL nor the task has a kill policy (Mesos' 3 s).
pub const DEFAULT_KILL_GRACE_PERIOD: Duration = Duration::from_secs(3);

/// The launched task and its process.
#[derive(Debug)]
struct Task {
    info: TaskInfo,
    process: Option<TaskProcess>,
    /// Some once a kill started: when to escalate to SIGKILL (None once escalated).
    kill_deadline: Option<Instant>,
    killing: bool,
    /// Whether any update of this task was acknowledged (else it is re-listed in
    /// `Subscribe.unacknowledged_tasks`).
    acknowledged: bool,
    /// Its health checker, while the task runs and is not being killed.
    health: Option<HealthChecker>,
    /// Killed because its health checks failed.
    unhealthy: bool,
}

/// The executor's whole state.
#[derive(Debug)]
pub struct Executor {
    /// SUBSCRIBE with backoff, the event stream, updates kept until acknowledged; its
    /// `framework_info` (from SUBSCRIBED) decides whether TASK_KILLING may be sent.
    link: Link,
    /// `--task_environment`.
    flag_environment: Option<Environment>,
    task: Option<Task>,
    terminal_sent_at: Option<Instant>,
    shutting_down: bool,
    /// `(mesos-containerizer, task_launch_info)` for a task inside an image.
    image_task: Option<(std::path::PathBuf, std::path::PathBuf)>,
    /// Whether to park when idle (false once parking failed: it would fail again).
    parking: bool,
}

impl Executor {
    /// A not-yet-connected executor.
    pub fn new(config: Config) -> Self {
        Self {
            link: Link::new(config),
            flag_environment: None,
            task: None,
            terminal_sent_at: None,
            shutting_down: false,
            image_task: None,
            parking: crate::park::available(),
        }
    }

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
            resumed.state.framework_info,
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

    /// Runs the task inside an image through `mesos-containerizer run-task`.
    #[must_use]
    pub fn with_image_task(
        mut self,
        image_task: Option<(std::path::PathBuf, std::path::PathBuf)>,
    ) -> Self {
        self.image_task = image_task;
        self
    }

    /// Adds `--task_environment` to what the task gets.
    #[must_use]
    pub fn with_task_environment(mut self, environment: Option<Environment>) -> Self {
        self.flag_environment = environment;
        self
    }

    /// Runs until done; returns the process exit code.
    pub async fn run(mut self) -> i32 {
        loop {
            if let Some(code) = self.finished() {
                return code;
            }
            self.park_if_idle();
            let far = Instant::now() + Duration::from_secs(86_400);
            let kill_deadline = self.task.as_ref().and_then(|t| t.kill_deadline);
            // Only counts while connected: a vanished agent is covered by the recovery
            // timeout, and the update must survive an agent restart.
            let connected = self.link.connected();
            let next_attempt = self.link.next_attempt();
            let ack_deadline = self
                .terminal_sent_at
                .filter(|_| connected)
                .map(|t| t + TERMINAL_ACK_TIMEOUT);
            let recovery_deadline = self.link.recovery_deadline();
            tokio::select! {
                event = self.link.next_event(), if connected => {
                    match event {
                        Ok(Some(event)) => self.handle_event(event).await,
                        Ok(None) => self.link.disconnected("agent closed the event stream"),
                        Err(err) => self.link.disconnected(&err.to_string()),
                    }
                }
                () = crate::link::attempt_at(next_attempt), if !connected => {
                    self.connect().await;
                }
                activity = task_activity(&mut self.task) => match activity {
                    Activity::Exited(status) => self.task_exited(status).await,
                    Activity::Health(update) => self.health_changed(update).await,
                },
                () = sleep_until(kill_deadline.unwrap_or(far)), if kill_deadline.is_some() => {
                    self.escalate();
                }
                () = sleep_until(ack_deadline.unwrap_or(far)), if ack_deadline.is_some() => {
                    tracing::warn!("terminal update not acknowledged in time; exiting");
                    return 0;
                }
                () = sleep_until(recovery_deadline.unwrap_or(far)), if recovery_deadline.is_some() => {
                    tracing::error!(
                        timeout = ?self.link.config.recovery_timeout,
                        "agent unreachable for the recovery timeout; killing the task and exiting"
                    );
                    let Some(process) = self.task.as_ref().and_then(|t| t.process.as_ref()) else {
                        return 0;
                    };
                    process.signal_group(Signal::SIGKILL);
                    return 1;
                }
            }
        }
    }

    /// Execs the park (not returning) when the task just runs and nothing is pending.
    fn park_if_idle(&mut self) {
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
            framework_info: self.link.framework_info.clone(),
        };
        tracing::debug!(task_id = %task.info.task_id, "parking");
        let err = crate::park::park(socket, process.pidfd(), &state);
        tracing::warn!(%err, "cannot park; the executor stays resident");
        self.parking = false;
    }

    /// Exit code once there is nothing left to do.
    fn finished(&self) -> Option<i32> {
        let running = self.task.as_ref().is_some_and(|t| t.process.is_some());
        let all_acked = self.link.all_acknowledged();
        let terminal_done = self.terminal_sent_at.is_some() && all_acked;
        let shutdown_done = self.shutting_down && !running && all_acked;
        (terminal_done || shutdown_done).then_some(0)
    }

    async fn connect(&mut self) {
        let unacknowledged_tasks = self
            .task
            .iter()
            .filter(|t| !t.acknowledged)
            .map(|t| t.info.clone())
            .collect();
        // The terminal update's acknowledgement timeout restarts with the new stream.
        if self.link.connect(unacknowledged_tasks).await && self.terminal_sent_at.is_some() {
            self.terminal_sent_at = Some(Instant::now());
        }
    }

    async fn handle_event(&mut self, event: Event) {
        match event.r#type {
            EventType::Subscribed => {
                tracing::info!("SUBSCRIBED");
                if let Some(subscribed) = event.subscribed {
                    self.link.framework_info = Some(subscribed.framework_info);
                }
            }
            EventType::Launch => match event.launch {
                Some(launch) => self.launch(launch.task).await,
                None => tracing::warn!("LAUNCH event without `launch`"),
            },
            EventType::LaunchGroup => {
                tracing::warn!(
                    "the command executor does not run task groups; ignoring LAUNCH_GROUP"
                );
            }
            EventType::Kill => match event.kill {
                Some(kill) => {
                    let grace = self.kill_grace_period(kill.kill_policy);
                    self.kill(&kill.task_id, grace).await;
                }
                None => tracing::warn!("KILL event without `kill`"),
            },
            EventType::Acknowledged => {
                if let Some(ack) = event.acknowledged {
                    if self.link.acknowledge(&ack.uuid).is_some() {
                        if let Some(task) =
                            self.task.as_mut().filter(|t| t.info.task_id == ack.task_id)
                        {
                            task.acknowledged = true;
                        }
                    }
                }
            }
            EventType::Shutdown => self.shutdown().await,
            EventType::Error => tracing::error!(
                message = event.error.map(|e| e.message).unwrap_or_default(),
                "agent sent ERROR"
            ),
            EventType::Message | EventType::Heartbeat | EventType::Unknown => {}
        }
    }

    async fn launch(&mut self, info: TaskInfo) {
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
        // The task is started before TASK_STARTING is sent, so that TASK_STARTING and
        // TASK_RUNNING go out together (pipelined, in this order) instead of one agent round
        // trip apart.
        let spawned = TaskProcess::spawn(&command, &environment, &self.link.config.sandbox);
        let starting = self.status(&task_id, TaskState::Starting, None, None);
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
                self.link.send_statuses(vec![starting, running]).await;
            }
            Err(err) => {
                tracing::error!(task_id = %task_id, %err, "cannot start task");
                self.link.send_status(starting).await;
                self.send_terminal(&task_id, TaskState::Failed, err.to_string(), true)
                    .await;
            }
        }
    }

    /// A KILL's grace period (Mesos `launcher/executor.cpp` `killTask`): the KILL event's
    /// policy, else the task's, else [`DEFAULT_KILL_GRACE_PERIOD`].
    fn kill_grace_period(&self, override_policy: Option<KillPolicy>) -> Duration {
        let task_policy = self.task.as_ref().and_then(|t| t.info.kill_policy);
        kill_grace_period(override_policy, task_policy, DEFAULT_KILL_GRACE_PERIOD)
    }

    async fn kill(&mut self, task_id: &TaskId, grace: Duration) {
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
        let killing_capable = self
            .link
            .framework_info
            .as_ref()
            .is_some_and(|f| f.has_capability(FrameworkCapabilityType::TaskKillingState));
        if killing_capable {
            self.send(task_id, TaskState::Killing, None, None).await;
        }
    }

    fn escalate(&mut self) {
        if let Some(task) = self.task.as_mut() {
            task.kill_deadline = None;
            if let Some(process) = task.process.as_ref() {
                tracing::info!(task_id = %task.info.task_id, "grace period over; sending SIGKILL");
                process.signal_group(Signal::SIGKILL);
            }
        }
    }

    async fn shutdown(&mut self) {
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

    async fn task_exited(&mut self, status: std::io::Result<ExitStatus>) {
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
    async fn health_changed(&mut self, update: HealthUpdate) {
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

    async fn send_terminal(
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
    fn status(
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
    async fn send(
        &mut self,
        task_id: &TaskId,
        state: TaskState,
        message: Option<String>,
        reason: Option<Reason>,
    ) {
        self.link.send(task_id, state, message, reason).await;
    }
}

/// What the running task did.
enum Activity {
    Exited(std::io::Result<ExitStatus>),
    Health(HealthUpdate),
}

/// The task's exit or its next health change, whichever comes first. Cancel-safe.
async fn task_activity(task: &mut Option<Task>) -> Activity {
    let Some(task) = task.as_mut() else {
        return std::future::pending().await;
    };
    let (process, health) = (&mut task.process, &mut task.health);
    tokio::select! {
        status = wait_process(process) => Activity::Exited(status),
        update = next_health(health) => Activity::Health(update),
    }
}

async fn next_health(health: &mut Option<HealthChecker>) -> HealthUpdate {
    match health.as_mut() {
        Some(checker) => checker.next().await,
        None => std::future::pending().await,
    }
}

fn localhost() -> std::net::IpAddr {
    std::net::IpAddr::V4(std::net::Ipv4Addr::LOCALHOST)
}

async fn wait_process(process: &mut Option<TaskProcess>) -> std::io::Result<ExitStatus> {
    match process.as_mut() {
        Some(process) => process.wait().await,
        None => std::future::pending().await,
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
