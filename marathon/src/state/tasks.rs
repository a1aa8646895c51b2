//! Task status updates from Mesos and kills: an update moves an instance's state (and its
//! Mesos health), a terminal one removes it, records `lastTaskFailure` and grows the app's
//! launch delay; updates for tasks marathon does not know are answered with a KILL.

use std::time::{Duration, Instant};

use meseta_api::{AgentId, TaskId, TaskStatus};
use serde_json::json;

use super::{Backoff, Command, Core};
use crate::model::instance::is_terminal;
use crate::model::{now_ms, timestamp, App, Instance, PathId};

/// States after which a failure counts towards the launch delay.
fn is_failure(state: &str) -> bool {
    matches!(
        state,
        "TASK_FAILED" | "TASK_ERROR" | "TASK_LOST" | "TASK_DROPPED" | "TASK_GONE"
    )
}

impl Core {
    /// Sends a KILL for an instance (with the app's grace period) and marks it killing.
    pub fn kill_instance(&mut self, task_id: &str) {
        let Some(mut inst) = self.instances.get(task_id).cloned() else {
            return;
        };
        let grace = PathId::parse(&inst.app_id)
            .ok()
            .and_then(|id| self.apps.get(&id))
            .and_then(|a| a.task_kill_grace_period_seconds);
        self.command(Command::Kill {
            task_id: TaskId::new(task_id),
            agent_id: Some(AgentId::new(inst.agent_id.clone())),
            grace_seconds: grace,
        });
        self.kills_sent.insert(task_id.to_owned(), Instant::now());
        if !inst.killing {
            inst.killing = true;
            self.save_instance(inst);
        }
    }

    /// Kills every instance of `app`.
    pub fn kill_all_of(&mut self, app: &App) {
        let ids: Vec<String> = self
            .instances_of(&app.id)
            .map(|i| i.task_id.clone())
            .collect();
        for id in ids {
            self.kill_instance(&id);
        }
    }

    /// A status update from Mesos.
    pub fn handle_status(&mut self, status: &TaskStatus) {
        let task_id = status.task_id.value.clone();
        let state = status.state.as_str().to_owned();
        let Some(mut inst) = self.instances.get(&task_id).cloned() else {
            if !is_terminal(&state) {
                // Not ours (any more): Marathon kills unknown tasks.
                tracing::info!(%task_id, %state, "killing a task marathon does not know");
                self.command(Command::Kill {
                    task_id: status.task_id.clone(),
                    agent_id: status.agent_id.clone(),
                    grace_seconds: None,
                });
            }
            return;
        };
        // A retried update can arrive after a newer one (an agent resending an unacknowledged
        // TASK_STARTING after TASK_RUNNING went out): it must not move the task backwards.
        if let (Some(at), Some(last)) = (status.timestamp, inst.last_status_at) {
            if at < last && !is_terminal(&state) {
                tracing::debug!(%task_id, %state, "ignoring a stale status update");
                return;
            }
        }
        if status.timestamp.is_some() {
            inst.last_status_at = status.timestamp;
        }
        let changed = inst.state != state;
        let was_healthy = inst.healthy;
        inst.state.clone_from(&state);
        if state == "TASK_RUNNING" && inst.started_at.is_none() {
            inst.started_at = Some(timestamp());
            self.launch_tokens = self
                .launch_tokens
                .saturating_add(1)
                .min(self.settings.launch_tokens.saturating_mul(2));
            if std::mem::take(&mut self.token_starved) {
                // The offer declined for want of a token is filtered: have it back now.
                self.command(Command::Revive);
            }
        }
        if state == "TASK_UNREACHABLE" {
            inst.unreachable_since_ms.get_or_insert_with(now_ms);
        } else {
            inst.unreachable_since_ms = None;
        }
        if status.healthy.is_some() {
            inst.healthy = status.healthy;
        }
        if let Some(ips) = status.container_status.as_ref().map(|c| {
            c.network_infos
                .iter()
                .flat_map(|n| n.ip_addresses.iter().filter_map(|i| i.ip_address.clone()))
                .collect::<Vec<_>>()
        }) {
            if !ips.is_empty() {
                inst.ip_addresses = ips;
            }
        }
        if changed && self.events.listened() {
            let service_ports = PathId::parse(&inst.app_id)
                .ok()
                .and_then(|id| self.apps.get(&id))
                .map(App::service_ports)
                .unwrap_or_default();
            self.events.publish(
                "status_update_event",
                json!({
                    "slaveId": inst.agent_id, "taskId": task_id, "taskStatus": state,
                    "message": status.message.clone().unwrap_or_default(), "appId": inst.app_id,
                    "host": inst.host, "ipAddresses": inst.ip_addresses.iter().map(|i| json!({"ipAddress": i, "protocol": "IPv4"})).collect::<Vec<_>>(),
                    "ports": inst.ports, "servicePorts": service_ports, "version": inst.version,
                }),
            );
            self.events.publish(
                "instance_changed_event",
                json!({
                    "instanceId": task_id, "condition": condition(&state), "runSpecId": inst.app_id,
                    "agentId": inst.agent_id, "host": inst.host, "runSpecVersion": inst.version,
                }),
            );
        }
        if was_healthy != inst.healthy {
            if let Some(alive) = inst.healthy {
                self.events.publish(
                    "health_status_changed_event",
                    json!({"appId": inst.app_id, "taskId": task_id, "instanceId": task_id, "version": inst.version, "alive": alive}),
                );
            }
        }
        if is_terminal(&state) {
            self.task_ended(inst, status);
        } else if changed || was_healthy != inst.healthy {
            // Readiness moved: deployments may advance.
            self.kick = true;
            self.save_instance(inst);
        }
    }

    fn task_ended(&mut self, inst: Instance, status: &TaskStatus) {
        self.forget_instance(&inst.task_id);
        let Ok(app_id) = PathId::parse(&inst.app_id) else {
            return;
        };
        if inst.killing || !is_failure(&inst.state) && inst.state != "TASK_FINISHED" {
            return;
        }
        self.last_failure.insert(
            app_id.clone(),
            json!({
                "appId": inst.app_id, "host": inst.host,
                "message": status.message.clone().unwrap_or_default(),
                "state": inst.state, "taskId": inst.task_id, "instanceId": inst.task_id,
                "slaveId": inst.agent_id, "timestamp": timestamp(), "version": inst.version,
            }),
        );
        let Some(app) = self.apps.get(&app_id) else {
            return;
        };
        let base = Duration::from_secs_f64(app.backoff_seconds.max(0.0));
        let max = Duration::from_secs_f64(app.max_launch_delay_seconds.max(0.0));
        let factor = app.backoff_factor.max(1.0);
        let delay = match self.backoff.get(&app_id) {
            Some(b) => b.delay.mul_f64(factor).min(max),
            None => base.min(max),
        };
        self.backoff.insert(
            app_id,
            Backoff {
                delay,
                until: Instant::now() + delay,
            },
        );
    }
}

/// Marathon's instance condition for a Mesos state.
fn condition(state: &str) -> &'static str {
    match state {
        "TASK_STAGING" => "Staging",
        "TASK_STARTING" => "Starting",
        "TASK_RUNNING" => "Running",
        "TASK_KILLING" => "Killing",
        "TASK_FINISHED" => "Finished",
        "TASK_FAILED" => "Failed",
        "TASK_KILLED" => "Killed",
        "TASK_ERROR" => "Error",
        "TASK_DROPPED" => "Dropped",
        "TASK_GONE" | "TASK_GONE_BY_OPERATOR" => "Gone",
        "TASK_UNREACHABLE" => "Unreachable",
        "TASK_LOST" => "Lost",
        _ => "Unknown",
    }
}
