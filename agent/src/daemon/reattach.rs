//! The second half of recovery (see `recovery`): once the agent serves, [`reattach`] finds
//! the surviving containers through `MesosContainerizer::recover()`, watches the ones of
//! recovered executors, gives those executors `--executor_reregistration_timeout` to
//! re-subscribe (else destroyed, REASON_EXECUTOR_REREGISTRATION_TIMEOUT), reports the tasks of
//! executors whose container is gone as lost (REASON_AGENT_RESTARTED after a reboot), and
//! destroys every other container (orphans).

use std::sync::Arc;

use meseta_api::{FrameworkId, Reason, TaskState};
use tracing::{info, warn};

use super::{lifecycle, updates, Agent};

/// Re-attaches recovered executors to their containers and destroys every other container.
pub async fn reattach(agent: Arc<Agent>, rebooted: bool) {
    let ids = match agent.containerizer.recover().await {
        Ok(ids) => ids,
        Err(err) => {
            warn!(%err, "recovering containers failed");
            Vec::new()
        }
    };
    let executors: Vec<(FrameworkId, meseta_api::ExecutorId, String)> = {
        let state = agent.state();
        state
            .frameworks
            .values()
            .flat_map(|f| {
                let fw = f.info.id.clone().unwrap_or_default();
                f.executors.values().map(move |e| {
                    (
                        fw.clone(),
                        e.info.executor_id.clone(),
                        e.container_id.clone(),
                    )
                })
            })
            .collect()
    };
    for (fw, ex, container_id) in &executors {
        if !rebooted && ids.contains(container_id) {
            info!(executor_id = %ex, container_id, "re-attached to a recovered container");
            if let Some(e) = agent.state().executor_mut(&fw.value, &ex.value) {
                e.launched = agent.containerizer.launched(container_id).ok();
            }
            tokio::spawn(lifecycle::watch(
                agent.clone(),
                fw.clone(),
                ex.clone(),
                container_id.clone(),
            ));
            tokio::spawn(reregistration_timeout(
                agent.clone(),
                fw.clone(),
                ex.clone(),
                container_id.clone(),
            ));
        } else {
            lost(&agent, fw, ex, container_id, rebooted);
        }
    }
    for id in ids {
        if executors.iter().any(|(_, _, c)| c == &id) && !rebooted {
            continue;
        }
        warn!(
            container_id = id,
            "destroying a container of an earlier agent run"
        );
        if let Err(err) = agent.containerizer.destroy(&id).await {
            agent.state().counters.container_destroy_errors += 1;
            warn!(container_id = id, %err, "destroying an orphan failed");
        }
    }
}

/// A recovered executor whose container is gone: its live tasks are lost.
fn lost(
    agent: &Agent,
    fw: &FrameworkId,
    ex: &meseta_api::ExecutorId,
    container: &str,
    rebooted: bool,
) {
    let live: Vec<meseta_api::TaskId> = agent
        .state()
        .executor_mut(&fw.value, &ex.value)
        .map(|e| {
            e.tasks
                .values()
                .filter(|t| !t.state.is_terminal())
                .map(|t| t.info.task_id.clone())
                .collect()
        })
        .unwrap_or_default();
    let (reason, message) = if rebooted {
        (Reason::AgentRestarted, "The agent's host rebooted")
    } else {
        (
            Reason::ExecutorTerminated,
            "The executor's container was not recovered",
        )
    };
    warn!(executor_id = %ex, container_id = container, rebooted, "executor not recovered");
    for task in live {
        updates::agent_update(agent, fw, ex, task, TaskState::Lost, reason, message);
    }
    lifecycle::run_ended(agent, &fw.value, &ex.value, container);
    agent.state().retire_executor(&fw.value, &ex.value);
}

/// Destroys the container if the recovered executor has not re-subscribed in time.
async fn reregistration_timeout(
    agent: Arc<Agent>,
    fw: FrameworkId,
    ex: meseta_api::ExecutorId,
    container_id: String,
) {
    let timeout = agent.config.executor_reregistration_timeout;
    let message = format!(
        "Executor did not re-register within {}",
        crate::flags::format_duration(timeout)
    );
    let reason = Reason::ExecutorReregistrationTimeout;
    super::lifecycle::destroy_unless_subscribed(
        &agent,
        &fw,
        &ex,
        &container_id,
        timeout,
        reason,
        message,
    )
    .await;
}
