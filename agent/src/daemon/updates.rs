//! Status updates, at-least-once: every update (from an executor or made by the agent) gets
//! `agent_id`, `executor_id`, a timestamp and a 16-byte uuid, is recorded on its task, sent to
//! the master as `STATUS_UPDATE`, and resent every `status_update_retry_interval` until the
//! master's `ACKNOWLEDGE` with that uuid arrives. Executor-made updates are then acknowledged
//! to the executor (`ACKNOWLEDGED`).

use std::sync::Arc;
use std::time::Instant;

use meseta_api::internal::{Acknowledge, Call, CallType, StatusUpdate};
use meseta_api::TaskStatus;
use meseta_api::{executor, Bytes, ExecutorId, FrameworkId, Reason, Source, TaskId, TaskState};
use tracing::{debug, info};

use super::checkpoint::UpdateRecord;
use super::state::State;
use super::{now_secs, Agent};

/// Completes `status` and hands it to the master (see the module doc).
pub fn forward(
    agent: &Agent,
    framework_id: &FrameworkId,
    executor_id: &ExecutorId,
    mut status: TaskStatus,
) {
    tracing::debug!(target: "meseta::timing", stage = "agent.update", task_id = %status.task_id,
                    state = %status.state);
    let mut state = agent.state();
    status.agent_id = state.agent_id.clone();
    status.executor_id = Some(executor_id.clone());
    if status.timestamp.is_none() {
        status.timestamp = Some(now_secs());
    }
    let uuid = status.uuid.clone().unwrap_or_else(Bytes::random_uuid);
    status.uuid = Some(uuid.clone());
    if state.pending.contains(&uuid) {
        // Resent by a re-subscribing executor, and already queued (from the checkpoint).
        debug!(task_id = %status.task_id, "duplicate status update ignored");
        return;
    }
    if let Some(ex) = state.executor_mut(&framework_id.value, &executor_id.value) {
        let seen = ex
            .tasks
            .get(&status.task_id.value)
            .into_iter()
            .chain(
                ex.completed_tasks
                    .iter()
                    .filter(|t| t.info.task_id == status.task_id),
            )
            .any(|t| t.statuses.iter().any(|s| s.uuid.as_ref() == Some(&uuid)));
        if seen {
            // Already acknowledged by the master: tell the executor again.
            send_event(
                ex,
                &executor::Event::acknowledged(status.task_id.clone(), uuid),
            );
            return;
        }
    }
    state.record_status(&framework_id.value, &executor_id.value, &status);
    if state
        .frameworks
        .get(&framework_id.value)
        .is_some_and(|f| f.shutting_down)
    {
        return;
    }
    info!(framework_id = %framework_id, task_id = %status.task_id, state = %status.state,
          "forwarding status update");
    let update = StatusUpdate {
        framework_id: framework_id.clone(),
        executor_id: Some(executor_id.clone()),
        timestamp: status.timestamp.unwrap_or_default(),
        latest_state: Some(status.state),
        status,
        uuid,
    };
    checkpoint(
        agent,
        &state,
        &update,
        UpdateRecord::Update(Box::new(update.clone())),
    );
    state.pending.push(update.clone(), Instant::now());
    drop(state);
    agent.send(status_call(update));
}

/// An update made by the agent itself (`SOURCE_AGENT`).
pub fn agent_update(
    agent: &Agent,
    framework_id: &FrameworkId,
    executor_id: &ExecutorId,
    task_id: TaskId,
    task_state: TaskState,
    reason: Reason,
    message: impl Into<String>,
) {
    let mut status = TaskStatus::new(task_id, task_state);
    status.source = Some(Source::Agent);
    status.reason = Some(reason);
    status.message = Some(message.into());
    forward(agent, framework_id, executor_id, status);
}

/// Appends to `task.updates` when the update's framework checkpoints.
fn checkpoint(agent: &Agent, state: &State, update: &StatusUpdate, record: UpdateRecord) {
    let fw = &update.framework_id.value;
    if !state.checkpointing(fw) {
        return;
    }
    let (Some(agent_id), Some(ex)) = (&state.agent_id, &update.executor_id) else {
        return;
    };
    let Some(container) = state.container_of(fw, &ex.value) else {
        return;
    };
    agent
        .checkpointer
        .record(&agent_id.value, &container, update, &record);
}

fn status_call(update: StatusUpdate) -> Call {
    Call {
        r#type: CallType::StatusUpdate,
        status_update: Some(update),
        ..Call::default()
    }
}

/// The master's ACKNOWLEDGE: drop the pending update and tell its executor.
pub fn acknowledge(agent: &Agent, ack: &Acknowledge) {
    let mut state = agent.state();
    let Some(pending) = state.pending.remove(&ack.uuid) else {
        debug!(task_id = %ack.task_id, "acknowledgement for an unknown update");
        return;
    };
    checkpoint(
        agent,
        &state,
        &pending.update,
        UpdateRecord::Ack(ack.uuid.clone()),
    );
    let status = &pending.update.status;
    let fw = ack.framework_id.value.clone();
    if status.source == Some(Source::Executor) {
        if let Some(ex) = pending
            .update
            .executor_id
            .as_ref()
            .and_then(|ex| state.executor_mut(&fw, &ex.value))
        {
            send_event(
                ex,
                &executor::Event::acknowledged(ack.task_id.clone(), ack.uuid.clone()),
            );
        }
    }
    if status.state.is_terminal() {
        let ex = pending
            .update
            .executor_id
            .as_ref()
            .map(|e| e.value.as_str());
        state.complete_task_if_terminal(&fw, ex, &ack.task_id.value);
    }
    let ended = pending.update.executor_id.as_ref().and_then(|ex| {
        let container = state.container_of(&fw, &ex.value)?;
        state
            .run_settled(&fw, &ex.value)
            .then(|| (ex.value.clone(), container))
    });
    drop(state);
    if let Some((ex, container)) = ended {
        super::lifecycle::gc_run(agent, &fw, &ex, &container);
    }
}

/// Resends unacknowledged updates whose last send is older than the retry interval.
pub async fn retry_loop(agent: Arc<Agent>) {
    let every = agent.config.status_update_retry_interval;
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        let due: Vec<StatusUpdate> = {
            let mut state = agent.state();
            if !state.registered {
                continue;
            }
            let now = Instant::now();
            let mut due: Vec<StatusUpdate> = state
                .pending
                .iter_mut()
                .filter(|p| now.duration_since(p.sent_at) >= every)
                .map(|p| {
                    p.sent_at = now;
                    p.update.clone()
                })
                .collect();
            for update in &mut due {
                update.latest_state = Some(latest_state(&state, update));
            }
            due
        };
        for update in due {
            debug!(task_id = %update.status.task_id, "resending status update");
            agent.send(status_call(update));
        }
    }
}

/// The task's newest state at the agent (the update's own state if the task is gone), sent as
/// `latest_state` with a retried update so the master does not move the task back to it.
fn latest_state(state: &State, update: &StatusUpdate) -> TaskState {
    let task_id = &update.status.task_id.value;
    update
        .executor_id
        .as_ref()
        .and_then(|ex| {
            let executor = state
                .frameworks
                .get(&update.framework_id.value)?
                .executors
                .get(&ex.value)?;
            executor.tasks.get(task_id).map(|t| t.state).or_else(|| {
                executor
                    .completed_tasks
                    .iter()
                    .find(|t| &t.info.task_id.value == task_id)
                    .map(|t| t.state)
            })
        })
        .unwrap_or(update.status.state)
}

/// Sends one event on an executor's stream, if it is subscribed.
pub fn send_event(executor: &mut super::state::Executor, event: &executor::Event) {
    let Some(tx) = &executor.events else {
        return;
    };
    match meseta_api::recordio::encode_json(event) {
        Ok(record) => {
            if tx.send(bytes::Bytes::from(record)).is_err() {
                executor.events = None;
            }
        }
        Err(err) => tracing::error!(?err, "encoding an executor event"),
    }
}
