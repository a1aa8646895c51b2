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

use super::state::PendingUpdate;
use super::{now_secs, Agent};

/// Completes `status` and hands it to the master (see the module doc).
pub fn forward(
    agent: &Agent,
    framework_id: &FrameworkId,
    executor_id: &ExecutorId,
    mut status: TaskStatus,
) {
    let mut state = agent.state();
    status.agent_id = state.agent_id.clone();
    status.executor_id = Some(executor_id.clone());
    if status.timestamp.is_none() {
        status.timestamp = Some(now_secs());
    }
    let uuid = status.uuid.clone().unwrap_or_else(Bytes::random_uuid);
    status.uuid = Some(uuid.clone());
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
        status,
        uuid,
    };
    state.pending.push(PendingUpdate {
        update: update.clone(),
        sent_at: Instant::now(),
    });
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
    let Some(pos) = state.pending.iter().position(|p| p.update.uuid == ack.uuid) else {
        debug!(task_id = %ack.task_id, "acknowledgement for an unknown update");
        return;
    };
    let pending = state.pending.remove(pos);
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
        state.complete_task_if_terminal(&fw, &ack.task_id.value);
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
            state
                .pending
                .iter_mut()
                .filter(|p| now.duration_since(p.sent_at) >= every)
                .map(|p| {
                    p.sent_at = now;
                    p.update.clone()
                })
                .collect()
        };
        for update in due {
            debug!(task_id = %update.status.task_id, "resending status update");
            agent.send(status_call(update));
        }
    }
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
