//! An executor's connection to the agent, shared by the command executor
//! ([`crate::executor`]) and the docker executor: SUBSCRIBE with backoff ([`crate::backoff`]), the event stream,
//! and status updates kept until acknowledged and re-listed on re-subscription.

use std::time::Duration;

use meseta_api::executor::{Call, CallType, Event, Subscribe, Update};
use meseta_api::{
    Bytes, FrameworkCapabilityType, FrameworkInfo, Reason, TaskId, TaskInfo, TaskState, TaskStatus,
};
use tokio::time::Instant;

use crate::client::{AgentClient, ClientError, Subscription};
use crate::config::Config;
use crate::updates::{new_status, Unacknowledged};

/// Limit on one HTTP call (connect + response headers).
const CALL_TIMEOUT: Duration = Duration::from_secs(10);

/// Resolves at `at`, or at once when `at` has passed: tokio's timer rounds a deadline up to
/// its next 1 ms tick, which would hold back the first SUBSCRIBE for nothing.
pub async fn attempt_at(at: Instant) {
    if at > Instant::now() {
        tokio::time::sleep_until(at).await;
    }
}

/// One executor's link to its agent.
#[derive(Debug)]
pub struct Link {
    /// The executor's configuration.
    pub config: Config,
    client: AgentClient,
    subscription: Option<Subscription>,
    disconnected_since: Option<Instant>,
    next_attempt: Instant,
    failed_attempts: u32,
    unacknowledged: Unacknowledged,
    /// Whether SUBSCRIBED's `framework_info` declared `TASK_KILLING_STATE` (TASK_KILLING
    /// goes only to frameworks that understand it).
    pub task_killing_capable: bool,
}

impl Link {
    /// A not-yet-connected link.
    pub fn new(config: Config) -> Self {
        let now = Instant::now();
        Self {
            client: AgentClient::new(config.agent_endpoint.clone())
                .with_domain_socket(config.domain_socket.clone())
                .with_token(config.authentication_token.clone()),
            config,
            subscription: None,
            disconnected_since: Some(now),
            next_attempt: now,
            failed_attempts: 0,
            unacknowledged: Unacknowledged::default(),
            task_killing_capable: false,
        }
    }

    /// A link resumed from the park: connected on `subscription`, every update acknowledged.
    pub fn resumed(config: Config, subscription: Subscription, task_killing_capable: bool) -> Self {
        let mut link = Self::new(config);
        link.subscription = Some(subscription);
        link.disconnected_since = None;
        link.task_killing_capable = task_killing_capable;
        link
    }

    /// The open event stream's socket, when nothing is pending on the link: connected,
    /// every update acknowledged, the stream read up to a chunk boundary.
    pub fn idle_socket(&self) -> Option<std::os::fd::BorrowedFd<'_>> {
        let subscription = self.subscription.as_ref()?;
        (self.unacknowledged.is_empty() && subscription.is_idle()).then(|| subscription.as_fd())
    }

    /// Closes the kept-alive connection for calls (after a failed park, whose descriptor
    /// moves may have replaced its descriptor number).
    pub fn drop_calls_connection(&mut self) {
        self.client.drop_connection();
    }

    /// Takes what matters from SUBSCRIBED's `framework_info`.
    pub fn subscribed(&mut self, framework_info: &FrameworkInfo) {
        self.task_killing_capable =
            framework_info.has_capability(FrameworkCapabilityType::TaskKillingState);
    }

    /// Whether the event stream is open.
    pub fn connected(&self) -> bool {
        self.subscription.is_some()
    }

    /// When to try the next SUBSCRIBE (meaningful while disconnected).
    pub fn next_attempt(&self) -> Instant {
        self.next_attempt
    }

    /// When the agent counts as gone for good (`MESOS_RECOVERY_TIMEOUT` after the link
    /// dropped); `None` while connected.
    pub fn recovery_deadline(&self) -> Option<Instant> {
        self.disconnected_since
            .map(|t| t + self.config.recovery_timeout)
    }

    /// Whether every update sent was acknowledged.
    pub fn all_acknowledged(&self) -> bool {
        self.unacknowledged.is_empty()
    }

    /// Drops the acknowledged update; returns it if it was pending.
    pub fn acknowledge(&mut self, uuid: &Bytes) -> Option<Update> {
        self.unacknowledged.acknowledge(uuid)
    }

    /// Sends SUBSCRIBE (listing `unacknowledged_tasks` and every unacknowledged update);
    /// on failure schedules the next attempt with backoff. Returns whether it subscribed.
    pub async fn connect(&mut self, unacknowledged_tasks: Vec<TaskInfo>) -> bool {
        let call = Call {
            executor_id: self.config.executor_id.clone(),
            framework_id: self.config.framework_id.clone(),
            r#type: CallType::Subscribe,
            subscribe: Some(Subscribe {
                unacknowledged_tasks,
                unacknowledged_updates: self.unacknowledged.to_vec(),
            }),
            ..Call::default()
        };
        match tokio::time::timeout(CALL_TIMEOUT, self.client.subscribe(&call)).await {
            Ok(Ok(subscription)) => {
                tracing::info!(agent = %self.config.agent_endpoint, "subscribed to agent");
                self.subscription = Some(subscription);
                self.client.preconnect().await;
                self.disconnected_since = None;
                self.failed_attempts = 0;
                true
            }
            Ok(Err(err)) => {
                self.retry_later(&err.to_string());
                false
            }
            Err(_) => {
                self.retry_later("SUBSCRIBE timed out");
                false
            }
        }
    }

    fn retry_later(&mut self, why: &str) {
        let delay = crate::backoff::delay(
            self.failed_attempts,
            self.config.subscription_backoff_max,
            crate::backoff::random_fraction(),
        );
        self.failed_attempts = self.failed_attempts.saturating_add(1);
        tracing::warn!(error = why, retry_in = ?delay, "cannot subscribe to agent");
        self.next_attempt = Instant::now() + delay;
    }

    /// The stream broke or ended: re-subscribe soon.
    pub fn disconnected(&mut self, why: &str) {
        tracing::warn!(reason = why, "disconnected from agent; will re-subscribe");
        self.subscription = None;
        self.disconnected_since.get_or_insert_with(Instant::now);
        self.next_attempt = Instant::now() + crate::backoff::INITIAL;
    }

    /// The next event; never resolves while disconnected. Cancel-safe.
    pub async fn next_event(&mut self) -> Result<Option<Box<Event>>, ClientError> {
        match &mut self.subscription {
            Some(s) => s.next_event().await,
            None => std::future::pending().await,
        }
    }

    /// Sends a status update and keeps it until acknowledged. A failed POST is not retried
    /// here: the update is re-listed in the next SUBSCRIBE.
    pub async fn send(
        &mut self,
        task_id: &TaskId,
        state: TaskState,
        message: Option<String>,
        reason: Option<Reason>,
    ) {
        let status = new_status(&self.config.executor_id, task_id, state, message, reason);
        self.send_status(status).await;
    }

    /// Sends a status built by the caller (e.g. with a `container_status`), like
    /// [`Link::send`].
    pub async fn send_status(&mut self, status: TaskStatus) {
        self.send_statuses(vec![status]).await;
    }

    /// Keeps `status` until acknowledged and returns its UPDATE call.
    fn keep_update(&mut self, status: TaskStatus) -> Call {
        let update = Update { status };
        self.unacknowledged.push(update.clone());
        Call {
            executor_id: self.config.executor_id.clone(),
            framework_id: self.config.framework_id.clone(),
            r#type: CallType::Update,
            update: Some(update),
            ..Call::default()
        }
    }

    /// Writes an update on the kept-alive connection without waiting for its answer (the
    /// next [`Link::send_statuses`] reads it) and keeps it until acknowledged.
    pub async fn send_status_early(&mut self, status: TaskStatus) {
        let call = self.keep_update(status);
        if self.subscription.is_none() {
            return;
        }
        match tokio::time::timeout(CALL_TIMEOUT, self.client.post_early(&call)).await {
            Ok(Ok(())) => {}
            Ok(Err(err)) => tracing::warn!(%err, "UPDATE failed; kept for re-subscribe"),
            Err(_) => tracing::warn!("UPDATE timed out; kept for re-subscribe"),
        }
    }

    /// Sends several updates in order, pipelined on the kept-alive connection (one write,
    /// then the answers), and keeps each until acknowledged.
    pub async fn send_statuses(&mut self, statuses: Vec<TaskStatus>) {
        let Some(last) = statuses.last() else {
            return;
        };
        let (task_id, state) = (last.task_id.clone(), last.state);
        let calls: Vec<Call> = statuses
            .into_iter()
            .map(|status| self.keep_update(status))
            .collect();
        if self.subscription.is_none() {
            return;
        }
        match tokio::time::timeout(CALL_TIMEOUT, self.client.post_all(&calls)).await {
            Ok(Ok(())) => {}
            Ok(Err(err)) => {
                tracing::warn!(task_id = %task_id, ?state, %err, "UPDATE failed; kept for re-subscribe")
            }
            Err(_) => {
                tracing::warn!(task_id = %task_id, ?state, "UPDATE timed out; kept for re-subscribe")
            }
        }
    }
}
