//! How executors end: the container exits (tasks not yet terminal → TASK_FAILED), the
//! executor does not subscribe within `--executor_registration_timeout` (destroyed,
//! REASON_EXECUTOR_REGISTRATION_TIMEOUT), KILL_TASK, and SHUTDOWN_FRAMEWORK (SHUTDOWN event,
//! then destroy after the grace period).

use std::sync::Arc;

use meseta_api::internal::{Call, CallType, ExitedExecutor, FrameworkMessage, KillTask};
use meseta_api::{executor, ExecutorId, FrameworkId, Reason, TaskId, TaskState};
use tracing::{info, warn};

use super::state::Phase;
use super::{updates, Agent};
use crate::containerizer::Termination;

/// Waits for the container to end, then fails what is left and retires the executor.
pub async fn watch(agent: Arc<Agent>, fw: FrameworkId, ex: ExecutorId, container_id: String) {
    let termination = match agent.containerizer.wait(&container_id).await {
        Ok(t) => t,
        Err(err) => Termination::launch_failed(err.to_string()),
    };
    if let Err(err) = agent.containerizer.destroy(&container_id).await {
        agent.state().counters.container_destroy_errors += 1;
        warn!(container_id, %err, "cleaning up the container failed");
    }
    info!(executor_id = %ex, container_id, message = termination.message, "executor ended");
    ended(&agent, &fw, &ex, &container_id, &termination);
}

/// The end of an executor's container (see [`watch`]): what is left of its tasks fails,
/// the master hears of it, and its run and sandbox go to GC.
fn ended(
    agent: &Arc<Agent>,
    fw: &FrameworkId,
    ex: &ExecutorId,
    container_id: &str,
    termination: &Termination,
) {
    run_ended(agent, &fw.value, &ex.value, container_id);
    let (left, reason) = {
        let mut state = agent.state();
        let Some(e) = state.executor_mut(&fw.value, &ex.value) else {
            return;
        };
        e.phase = Phase::Terminated;
        e.events = None;
        let mut left: Vec<TaskId> = e.queued.iter().map(|t| t.task_id.clone()).collect();
        left.extend(
            e.tasks
                .values()
                .filter(|t| !t.state.is_terminal())
                .map(|t| t.info.task_id.clone()),
        );
        (left, e.end_reason.clone())
    };
    let (reason, message) = match reason {
        Some(r) => r,
        None if termination.oom_killed => (
            Reason::ContainerLimitationMemory,
            if termination.message.starts_with("Memory limit exceeded") {
                termination.message.clone()
            } else {
                format!("Memory limit exceeded: {}", termination.message)
            },
        ),
        None => (
            Reason::ExecutorTerminated,
            format!("Executor terminated: {}", termination.message),
        ),
    };
    for task in left {
        updates::agent_update(agent, fw, ex, task, TaskState::Failed, reason, &message);
    }
    agent.send(Call {
        r#type: CallType::ExitedExecutor,
        exited_executor: Some(ExitedExecutor {
            framework_id: fw.clone(),
            executor_id: ex.clone(),
            status: termination.status.unwrap_or(-1),
        }),
        ..Call::default()
    });
    let (sandbox, meta) = {
        let state = agent.state();
        let sandbox = state
            .frameworks
            .get(&fw.value)
            .and_then(|f| f.executors.get(&ex.value))
            .map(|e| e.directory.clone());
        let meta = match (&state.agent_id, state.checkpointing(&fw.value)) {
            (Some(id), true) => Some(agent.checkpointer.meta.run(
                &id.value,
                &fw.value,
                &ex.value,
                container_id,
            )),
            _ => None,
        };
        (sandbox, meta)
    };
    agent.state().retire_executor(&fw.value, &ex.value);
    gc_run(agent, &fw.value, &ex.value, container_id);
    if let Some(sandbox) = sandbox {
        super::gc::schedule_run(agent, &sandbox, meta);
    }
}

/// Removes the checkpointed run of `(fw, ex)` once it is settled (see `State::run_settled`).
pub fn gc_run(agent: &Agent, fw: &str, ex: &str, container_id: &str) {
    let agent_id = {
        let state = agent.state();
        if !state.checkpointing(fw) || !state.run_settled(fw, ex) {
            return;
        }
        state.agent_id.clone()
    };
    if let Some(agent_id) = agent_id {
        agent
            .checkpointer
            .remove_run(&agent_id.value, fw, ex, container_id);
    }
}

/// Destroys the container if the executor has not subscribed in time.
pub async fn registration_timeout(
    agent: Arc<Agent>,
    fw: FrameworkId,
    ex: ExecutorId,
    container_id: String,
) {
    let timeout = agent.config.executor_registration_timeout;
    let message = format!(
        "Executor did not register within {}",
        crate::flags::format_duration(timeout)
    );
    let reason = Reason::ExecutorRegistrationTimeout;
    destroy_unless_subscribed(&agent, &fw, &ex, &container_id, timeout, reason, message).await;
}

/// After `after`, destroys the container if its executor is still `Registering` (never
/// subscribed, or a recovered one that never re-subscribed); its tasks fail with `reason`.
pub(super) async fn destroy_unless_subscribed(
    agent: &Agent,
    fw: &FrameworkId,
    ex: &ExecutorId,
    container_id: &str,
    after: std::time::Duration,
    reason: Reason,
    message: String,
) {
    tokio::time::sleep(after).await;
    {
        let mut state = agent.state();
        let Some(e) = state.executor_mut(&fw.value, &ex.value) else {
            return;
        };
        if e.container_id != container_id || e.phase != Phase::Registering {
            return;
        }
        e.phase = Phase::Terminating;
        e.end_reason = Some((reason, message.clone()));
    }
    warn!(executor_id = %ex, container_id, message, "destroying the container");
    destroy(agent, container_id);
}

/// Kills a container (its `watch` cleans up). A container still being launched is unknown to
/// the containerizer: its executor is `Terminating`, and the launch kills it when done.
pub(super) fn destroy(agent: &Agent, container_id: &str) {
    match agent
        .containerizer
        .kill(container_id, std::time::Duration::ZERO)
    {
        Ok(()) => {}
        Err(crate::containerizer::ContainerizerError::Unknown(_)) => {
            // Not launched yet: a container waiting for its image stops now.
            super::image::cancel(container_id);
        }
        Err(err) => {
            agent.state().counters.container_destroy_errors += 1;
            warn!(container_id, %err, "killing the container failed");
        }
    }
}

/// KILL_TASK: a queued task is killed right away (its executor destroyed when it has nothing
/// else to run); a launched one gets a KILL event; an unknown one a TASK_LOST.
pub fn kill_task(agent: &Agent, kill: &KillTask) {
    let fw = &kill.framework_id;
    let task = &kill.task_id;
    let mut state = agent.state();
    let Some(e) = state.executor_of_task(&fw.value, &task.value) else {
        drop(state);
        warn!(task_id = %task, "KILL_TASK for an unknown task");
        // No executor: an update with the task id as executor id, like the command executor.
        let ex = ExecutorId::new(task.value.clone());
        updates::agent_update(
            agent,
            fw,
            &ex,
            task.clone(),
            TaskState::Lost,
            Reason::TaskUnknown,
            "Task unknown to the agent",
        );
        return;
    };
    let ex = e.info.executor_id.clone();
    if e.queued.iter().any(|t| &t.task_id == task) {
        let last = e.queued.len() == 1 && e.tasks.is_empty();
        if last {
            // Not launched yet: the launch sees Terminating and kills the container.
            e.phase = Phase::Terminating;
        }
        let destroy_it = last && e.launched.is_some();
        let container_id = e.container_id.clone();
        drop(state);
        updates::agent_update(
            agent,
            fw,
            &ex,
            task.clone(),
            TaskState::Killed,
            Reason::TaskKilledDuringLaunch,
            "Killed before delivery to the executor",
        );
        if last && !destroy_it {
            // Still waiting for its image: stop waiting (and pulling) now.
            // After the update, so the task is no longer queued when the launch ends it.
            super::image::cancel(&container_id);
        }
        if destroy_it {
            destroy(agent, &container_id);
        }
        return;
    }
    let policy = kill.kill_policy;
    if e.subscribed() {
        updates::send_event(e, &executor::Event::kill(task.clone(), policy));
    } else if e.recovered && e.phase == Phase::Registering {
        // After an agent restart the executor comes back within
        // --executor_reregistration_timeout: it gets the KILL then, so the task can end
        // gracefully instead of losing its whole container.
        info!(task_id = %task, "KILL_TASK for a recovered executor not re-subscribed yet; queued");
        e.pending_kills
            .push(executor::Event::kill(task.clone(), policy));
    } else {
        // The executor lost its stream: nobody can kill the task gracefully.
        let container_id = e.container_id.clone();
        drop(state);
        destroy(agent, &container_id);
    }
}

/// SHUTDOWN_FRAMEWORK: SHUTDOWN to every executor, destroy after the grace period.
pub fn shutdown_framework(agent: &Arc<Agent>, fw: &FrameworkId) {
    let mut containers = Vec::new();
    {
        let mut state = agent.state();
        let Some(f) = state.frameworks.get_mut(&fw.value) else {
            return;
        };
        f.shutting_down = true;
        for e in f.executors.values_mut() {
            e.phase = Phase::Terminating;
            updates::send_event(e, &executor::Event::bare(executor::EventType::Shutdown));
            containers.push((e.container_id.clone(), e.events.is_some()));
        }
        state
            .pending
            .retain(|p| p.update.framework_id.value != fw.value);
    }
    info!(framework_id = %fw, "shutting down framework");
    for (container_id, graceful) in containers {
        if !graceful {
            destroy(agent, &container_id);
            continue;
        }
        let agent = agent.clone();
        tokio::spawn(async move {
            tokio::time::sleep(agent.config.executor_shutdown_grace_period).await;
            destroy(&agent, &container_id);
        });
    }
}

/// SHUTDOWN_EXECUTOR (a scheduler's SHUTDOWN call): SHUTDOWN to that executor, destroy its
/// container after the grace period.
pub fn shutdown_executor(agent: &Arc<Agent>, fw: &FrameworkId, executor_id: &str) {
    let (container_id, graceful) = {
        let mut state = agent.state();
        let Some(e) = state.executor_mut(&fw.value, executor_id) else {
            warn!(executor_id, "shutdown for an unknown executor ignored");
            return;
        };
        e.phase = Phase::Terminating;
        updates::send_event(e, &executor::Event::bare(executor::EventType::Shutdown));
        (e.container_id.clone(), e.events.is_some())
    };
    info!(framework_id = %fw, executor_id, "shutting down executor");
    if !graceful {
        destroy(agent, &container_id);
        return;
    }
    let agent = agent.clone();
    tokio::spawn(async move {
        tokio::time::sleep(agent.config.executor_shutdown_grace_period).await;
        destroy(&agent, &container_id);
    });
}

/// FRAMEWORK_TO_EXECUTOR → MESSAGE event.
pub fn framework_message(agent: &Agent, msg: FrameworkMessage) {
    let mut state = agent.state();
    let Some(e) = state.executor_mut(&msg.framework_id.value, &msg.executor_id.value) else {
        warn!(executor_id = %msg.executor_id, "message for an unknown executor dropped");
        return;
    };
    let event = executor::Event {
        r#type: executor::EventType::Message,
        message: Some(executor::Message { data: msg.data }),
        ..executor::Event::default()
    };
    updates::send_event(e, &event);
}

/// Destroys every container (the master told the agent to shut down).
pub fn destroy_all(agent: &Agent) {
    let ids: Vec<String> = {
        let state = agent.state();
        state
            .frameworks
            .values()
            .flat_map(|f| f.executors.values().map(|e| e.container_id.clone()))
            .collect()
    };
    for id in ids {
        destroy(agent, &id);
    }
}

/// Checkpoints the end of a checkpointing framework's executor run (`executor.sentinel`).
pub fn run_ended(agent: &Agent, fw: &str, ex: &str, container_id: &str) {
    let agent_id = {
        let state = agent.state();
        if !state.checkpointing(fw) {
            return;
        }
        state.agent_id.clone()
    };
    if let Some(agent_id) = agent_id {
        agent
            .checkpointer
            .run_ended(&agent_id.value, fw, ex, container_id);
    }
}

/// A container destroyed while it waited for its image (KILL_TASK, a shutdown): it never
/// started, so its queued tasks are TASK_KILLED now and it ends like any other container.
pub(super) fn killed_while_provisioning(
    agent: &Arc<Agent>,
    fw: &FrameworkId,
    ex: &ExecutorId,
    container_id: &str,
) {
    let queued: Vec<TaskId> = agent
        .state()
        .executor_mut(&fw.value, &ex.value)
        .map(|e| e.queued.iter().map(|t| t.task_id.clone()).collect())
        .unwrap_or_default();
    for task in queued {
        updates::agent_update(
            agent,
            fw,
            ex,
            task,
            TaskState::Killed,
            Reason::TaskKilledDuringLaunch,
            "Killed while the container was provisioning its image",
        );
    }
    let message = "Container destroyed while provisioning its image".to_owned();
    info!(executor_id = %ex, container_id, message, "executor ended");
    let termination = Termination {
        status: None,
        exit_code: None,
        signal: None,
        oom_killed: false,
        killed: true,
        launch_error: None,
        message,
    };
    ended(agent, fw, ex, container_id, &termination);
}
