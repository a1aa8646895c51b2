//! The scheduler of `mesos-execute`: subscribe, launch on the first offer that fits (decline
//! the others), optionally kill after `--kill_after`, print every status update of the task,
//! tear the framework down at the task's end. Returns whether the task finished.

use std::time::Duration;

use anyhow::bail;
use meseta_api::{
    AgentId, FrameworkCapability, FrameworkCapabilityType, FrameworkInfo, TaskId, TaskState,
    TaskStatus,
};
use meseta_scheduler::{Config, Event, Events, Scheduler};
use serde::Serialize;
use tokio::time::Instant;

use crate::flags::Cli;
use crate::task::Spec;

/// Runs the task; `Ok(true)` when it reached TASK_FINISHED.
pub async fn run(cli: &Cli) -> anyhow::Result<bool> {
    let spec = Spec::from_cli(cli)?;
    let framework = FrameworkInfo {
        user: "root".into(),
        name: cli.framework_name.clone(),
        roles: vec![cli.role.clone()],
        capabilities: vec![FrameworkCapability::from(
            FrameworkCapabilityType::MultiRole,
        )],
        checkpoint: Some(cli.checkpoint),
        ..FrameworkInfo::default()
    };
    let (sched, mut events) = meseta_scheduler::start(Config::new(&cli.master, framework))?;
    let deadline = Instant::now() + Duration::from_secs_f64(cli.timeout.max(0.0));
    let agent_id = launch(cli, &spec, &sched, &mut events, deadline).await?;
    follow(cli, &sched, &mut events, agent_id).await
}

/// Waits for an offer that fits and launches the task on it; returns the agent.
async fn launch(
    cli: &Cli,
    spec: &Spec,
    sched: &Scheduler,
    events: &mut Events,
    deadline: Instant,
) -> anyhow::Result<AgentId> {
    let mut subscribed = false;
    let mut last_problem = String::from("no answer from the master");
    loop {
        let event = match tokio::time::timeout_at(deadline, events.recv()).await {
            Err(_) if subscribed => {
                bail!("no offer with {} within {}s", cli.resources, cli.timeout)
            }
            Err(_) => bail!(
                "not subscribed to {} within {}s: {last_problem}",
                cli.master,
                cli.timeout
            ),
            Ok(None) => bail!("the scheduler driver stopped"),
            Ok(Some(e)) => e,
        };
        match event {
            Event::Subscribed { framework_id, .. } if !subscribed => {
                subscribed = true;
                println!("Subscribed with ID {}", framework_id.value);
            }
            Event::Error(message) => bail!("the master reported an error: {message}"),
            Event::Disconnected { reason } => {
                if last_problem != reason {
                    eprintln!("mesos-execute: not subscribed ({reason}); retrying");
                }
                last_problem = reason;
            }
            Event::Offers(offers) => {
                let mut chosen = None;
                let mut declined = Vec::new();
                for offer in offers {
                    if chosen.is_none() && spec.fits(&offer) {
                        sched
                            .launch(&offer.id, vec![spec.task(cli, &offer)])
                            .await?;
                        chosen = Some(offer.agent_id);
                    } else {
                        declined.push(offer.id);
                    }
                }
                if !declined.is_empty() {
                    sched.decline(declined, Some(5.0)).await?;
                }
                if let Some(agent) = chosen {
                    println!("Submitted task '{}' to agent '{}'", cli.name, agent.value);
                    return Ok(agent);
                }
            }
            _ => {}
        }
    }
}

/// Prints the task's updates until a terminal one; kills it after `--kill_after`.
async fn follow(
    cli: &Cli,
    sched: &Scheduler,
    events: &mut Events,
    agent_id: AgentId,
) -> anyhow::Result<bool> {
    let kill_at = cli
        .kill_after
        .map(|s| Instant::now() + Duration::from_secs_f64(s.max(0.0)));
    let mut kill_pending = kill_at.is_some();
    loop {
        let event = match kill_at.filter(|_| kill_pending) {
            Some(at) => match tokio::time::timeout_at(at, events.recv()).await {
                Ok(e) => e,
                Err(_) => {
                    println!("Killing task '{}'", cli.name);
                    kill_pending = false;
                    let id = TaskId::new(&cli.name);
                    if let Err(e) = sched.kill(id, Some(agent_id.clone())).await {
                        eprintln!("mesos-execute: KILL failed ({e}); the task keeps running");
                    }
                    continue;
                }
            },
            None => events.recv().await,
        };
        let status = match event {
            None => bail!("the scheduler driver stopped"),
            Some(Event::Error(message)) => bail!("the master reported an error: {message}"),
            Some(Event::Disconnected { reason }) => {
                eprintln!("mesos-execute: disconnected ({reason}); re-subscribing");
                continue;
            }
            Some(Event::Update(status)) if status.task_id.value == cli.name => status,
            Some(_) => continue,
        };
        print_update(&cli.name, &status);
        if status.state.is_terminal() {
            let _ = sched.teardown().await;
            return Ok(status.state == TaskState::Finished);
        }
    }
}

/// Mesos' lines for one update (enum values by their proto names).
fn print_update(name: &str, st: &TaskStatus) {
    println!(
        "Received status update {} for task '{name}'",
        wire_name(&st.state)
    );
    if let Some(m) = &st.message {
        println!("  message: '{m}'");
    }
    if let Some(s) = &st.source {
        println!("  source: {}", wire_name(s));
    }
    if let Some(r) = &st.reason {
        println!("  reason: {}", wire_name(r));
    }
}

/// The proto name of an enum value, as it appears in JSON.
fn wire_name<T: Serialize>(value: &T) -> String {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::String(s)) => s,
        Ok(other) => other.to_string(),
        Err(_) => "?".into(),
    }
}
