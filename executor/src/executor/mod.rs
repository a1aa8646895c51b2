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
//!
//! [`events`] handles what the agent sends, [`task`] starts the task and reports how it ends, [`kill`] stops it, [`parking`] parks
//! and resumes the executor.

mod events;
mod kill;
mod parking;
mod task;

use std::process::ExitStatus;
use std::time::Duration;

use meseta_api::{Environment, TaskInfo};
use nix::sys::signal::Signal;
use tokio::time::{sleep_until, Instant};

pub(crate) use kill::kill_grace_period;

use crate::config::Config;
use crate::health::{HealthChecker, HealthUpdate};
use crate::link::Link;
use crate::process::TaskProcess;

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
    /// Boxed, as the event it came in: ~2.6 KiB that every future holding it would carry.
    info: Box<TaskInfo>,
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
    /// When to park, while idle (see `parking.rs`).
    park_at: Option<Instant>,
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
            park_at: None,
        }
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
            let park_at = self.park_at;
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
                () = sleep_until(park_at.unwrap_or(far)), if park_at.is_some() => {}
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

    /// Exit code once there is nothing left to do.
    fn finished(&self) -> Option<i32> {
        let running = self.task.as_ref().is_some_and(|t| t.process.is_some());
        let all_acked = self.link.all_acknowledged();
        let terminal_done = self.terminal_sent_at.is_some() && all_acked;
        let shutdown_done = self.shutting_down && !running && all_acked;
        (terminal_done || shutdown_done).then_some(0)
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
