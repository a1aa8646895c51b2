//! The periodic pass that drives every app towards its definition: how many instances to
//! launch, which to kill (scale-down by `killSelection`, rolling restarts within
//! `upgradeStrategy`), launch timeouts, unreachable replacement and expunge, kill retries,
//! and the progress of deployments (a step is done when its apps have converged; then
//! `deployment_step_success`, and `deployment_success` after the last step).
//!
//! Rolling restart (upstream `TaskReplaceActor`): with `n` instances, at least
//! `ceil(n × minimumHealthCapacity)` must stay ready and at most
//! `n + floor(n × maximumOverCapacity)` may exist; old instances are killed while the ready
//! count allows it, new ones launched while capacity allows it, and when neither can move
//! (capacity 1, over-capacity 0) one old instance is killed to make room.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use serde_json::json;

use super::{Command, Core};
use crate::model::{now_ms, ActionKind, App, Instance, PathId};

/// Kill retries are sent this often while a task has not died.
const KILL_RETRY: Duration = Duration::from_secs(10);

impl Core {
    /// Whether `inst` still counts as one of `app`'s instances.
    pub fn counts(&self, inst: &Instance, app: &App) -> bool {
        if !inst.alive() {
            return false;
        }
        match (inst.unreachable_since_ms, app.unreachable_inactive_after()) {
            (Some(since), Some(after)) => (now_ms() - since) as f64 / 1000.0 < after,
            _ => true,
        }
    }

    /// Whether `inst` is running and, when the app has health checks, healthy.
    pub fn ready(&self, inst: &Instance, app: &App) -> bool {
        if !inst.running() {
            return false;
        }
        if app.health_checks.is_empty() {
            return true;
        }
        let mesos_ok = inst.healthy.unwrap_or(false);
        let marathon_side = app.health_checks.iter().any(|h| h.marathon_side());
        let marathon_ok = self
            .health
            .get(&inst.task_id)
            .is_some_and(|h| h.alive == Some(true));
        if marathon_side {
            marathon_ok && (app.health_checks.iter().all(|h| h.marathon_side()) || mesos_ok)
        } else {
            mesos_ok
        }
    }

    /// Instances to kill first, by `killSelection` (not running ones before running ones).
    fn kill_order<'a>(app: &App, mut v: Vec<&'a Instance>) -> Vec<&'a Instance> {
        let oldest_first = app.kill_selection == "OLDEST_FIRST";
        v.sort_by(|a, b| {
            a.running().cmp(&b.running()).then_with(|| {
                if oldest_first {
                    a.staged_at.cmp(&b.staged_at)
                } else {
                    b.staged_at.cmp(&a.staged_at)
                }
            })
        });
        v
    }

    /// How many instances `app` should launch now, killing what has to go.
    fn plan_app(&mut self, app: &App, restarting: bool) -> usize {
        let n = usize::try_from(app.instances).unwrap_or(0);
        let version = app.config_version();
        let alive: Vec<&Instance> = self
            .instances_of(&app.id)
            .filter(|i| self.counts(i, app))
            .collect();
        let (new, old): (Vec<&Instance>, Vec<&Instance>) =
            alive.iter().partition(|i| i.version == version);
        let mut kills = Vec::new();
        let launch;
        if restarting {
            let ready_new = new.iter().filter(|i| self.ready(i, app)).count();
            let min_healthy = crate::model::sat_usize(
                (n as f64 * app.upgrade_strategy.minimum_health_capacity).ceil(),
            );
            let max_cap = n + crate::model::sat_usize(
                (n as f64 * app.upgrade_strategy.maximum_over_capacity).floor(),
            );
            let mut old_left = old.len();
            let mut ready_old_left = old.iter().filter(|i| self.ready(i, app)).count();
            for o in Self::kill_order(app, old.clone()) {
                let r = self.ready(o, app);
                if !r || ready_new + ready_old_left > min_healthy {
                    kills.push(o.task_id.clone());
                    old_left -= 1;
                    ready_old_left -= usize::from(r);
                } else {
                    break;
                }
            }
            launch = n
                .saturating_sub(new.len())
                .min(max_cap.saturating_sub(new.len() + old_left));
            let pending_new = new.iter().any(|i| !i.running());
            if launch == 0 && kills.is_empty() && new.len() < n && old_left > 0 && !pending_new {
                if let Some(o) = Self::kill_order(app, old.clone()).first() {
                    kills.push(o.task_id.clone());
                }
            }
            if new.len() > n {
                kills.extend(
                    Self::kill_order(app, new)
                        .iter()
                        .take(alive.len() - n)
                        .map(|i| i.task_id.clone()),
                );
            }
        } else {
            if alive.len() > n {
                kills.extend(
                    Self::kill_order(app, alive.clone())
                        .iter()
                        .take(alive.len() - n)
                        .map(|i| i.task_id.clone()),
                );
            }
            launch = n.saturating_sub(alive.len());
        }
        for k in kills {
            self.kill_instance(&k);
        }
        launch
    }

    /// Whether `action` on `app_id` is complete.
    fn action_done(&self, kind: ActionKind, app_id: &str) -> bool {
        let pid = PathId::parse(app_id).ok();
        let app = pid.as_ref().and_then(|p| self.apps.get(p));
        match (kind, app) {
            (ActionKind::StartApplication, _) => true,
            (ActionKind::StopApplication, _) => self.instances_of(app_id).next().is_none(),
            (_, None) => true,
            (_, Some(app)) => {
                let n = usize::try_from(app.instances).unwrap_or(0);
                let all: Vec<&Instance> = self.instances_of(app_id).collect();
                let alive: Vec<&&Instance> = all.iter().filter(|i| self.counts(i, app)).collect();
                let killing = all.iter().any(|i| i.killing);
                let ready = alive.iter().filter(|i| self.ready(i, app)).count();
                let current = kind != ActionKind::RestartApplication
                    || alive.iter().all(|i| i.version == app.config_version());
                !killing && alive.len() == n && ready == n && current
            }
        }
    }

    /// Launches wanted per app now (apps in backoff or without need are left out).
    pub fn launch_wanted(&mut self) -> BTreeMap<PathId, usize> {
        let restarting: Vec<String> = self
            .deployments
            .values()
            .flat_map(|d| d.current_actions().iter())
            .filter(|a| a.action == ActionKind::RestartApplication)
            .map(|a| a.app.clone())
            .collect();
        let apps: Vec<(PathId, App)> = self
            .apps
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        let now = Instant::now();
        let held = self.held_apps();
        let mut wanted = BTreeMap::new();
        for (id, app) in apps {
            if held.contains(&app.id) {
                continue;
            }
            let n = self.plan_app(&app, restarting.contains(&app.id));
            let delayed = self.backoff.get(&id).is_some_and(|b| b.until > now);
            if n > 0 && !delayed {
                wanted.insert(id, n);
            }
        }
        wanted
    }

    /// The periodic pass: timeouts, expunges, kill retries, deployment progress, and
    /// whether offers are wanted.
    pub fn tick(&mut self) {
        let now = Instant::now();
        if now.duration_since(self.tokens_refilled) >= self.settings.launch_token_refresh {
            self.launch_tokens = self.settings.launch_tokens;
            self.tokens_refilled = now;
            if std::mem::take(&mut self.token_starved) && self.subscribed {
                self.command(Command::Revive);
            }
        }
        self.expire_instances(now);
        let wanted = self.launch_wanted();
        self.advance_deployments();
        // What this pass changed is acted on by this pass.
        self.kick = false;
        if !self.subscribed {
            return;
        }
        if wanted.is_empty() && !self.suppressed {
            self.suppressed = true;
            self.command(Command::Suppress);
        } else if !wanted.is_empty() && (self.suppressed || self.declined_long) {
            // New demand: clear the filters of offers declined while there was none.
            self.suppressed = false;
            self.declined_long = false;
            self.command(Command::Revive);
        }
    }

    fn expire_instances(&mut self, now: Instant) {
        let timeout_ms =
            i64::try_from(self.settings.task_launch_timeout.as_millis()).unwrap_or(i64::MAX);
        let mut to_kill = Vec::new();
        let mut to_expunge = Vec::new();
        for inst in self.instances.values() {
            let app = PathId::parse(&inst.app_id)
                .ok()
                .and_then(|id| self.apps.get(&id));
            if inst.killing {
                let due = self
                    .kills_sent
                    .get(&inst.task_id)
                    .is_none_or(|t| now.duration_since(*t) >= KILL_RETRY);
                if due {
                    to_kill.push(inst.task_id.clone());
                }
                continue;
            }
            // Only launching tasks can time out: no timestamp parse for every running one
            // on every tick (10,000 instances are normal).
            let launching = matches!(inst.state.as_str(), "TASK_STAGING" | "TASK_STARTING");
            let staged = || {
                chrono::DateTime::parse_from_rfc3339(&inst.staged_at)
                    .map(|t| t.timestamp_millis())
                    .unwrap_or_else(|_| now_ms())
            };
            if launching && now_ms() - staged() > timeout_ms {
                tracing::info!(task_id = %inst.task_id, "task launch timed out");
                to_kill.push(inst.task_id.clone());
            }
            if let (Some(since), Some(app)) = (inst.unreachable_since_ms, app) {
                let expunge = app
                    .unreachable_strategy
                    .get("expungeAfterSeconds")
                    .and_then(serde_json::Value::as_f64);
                if expunge.is_some_and(|e| (now_ms() - since) as f64 / 1000.0 >= e) {
                    to_expunge.push(inst.task_id.clone());
                }
            }
        }
        for id in to_kill {
            self.kill_instance(&id);
        }
        for id in to_expunge {
            if let Some(inst) = self.forget_instance(&id) {
                self.events.publish(
                    "instance_changed_event",
                    json!({"instanceId": id, "condition": "Gone", "runSpecId": inst.app_id, "agentId": inst.agent_id, "host": inst.host, "runSpecVersion": inst.version}),
                );
            }
        }
    }

    fn advance_deployments(&mut self) {
        let ids: Vec<String> = self.deployments.keys().cloned().collect();
        for id in ids {
            let Some(mut d) = self.deployments.get(&id).cloned() else {
                continue;
            };
            let mut moved = false;
            while d.current_step < d.steps.len()
                && d.current_actions()
                    .iter()
                    .all(|a| self.action_done(a.action, &a.app))
            {
                for a in d.current_actions() {
                    if a.action == ActionKind::StopApplication {
                        self.events
                            .publish("app_terminated_event", json!({"appId": a.app}));
                    }
                }
                self.events.publish(
                    "deployment_step_success",
                    json!({"plan": d.plan_json(), "currentStep": {"actions": d.to_json()["currentActions"]}}),
                );
                d.current_step += 1;
                moved = true;
            }
            if d.current_step >= d.steps.len() {
                self.forget_deployment(&id);
                self.events.publish(
                    "deployment_success",
                    json!({"id": d.id, "plan": d.plan_json()}),
                );
            } else if moved {
                self.events.publish(
                    "deployment_info",
                    json!({"plan": d.plan_json(), "currentStep": {"actions": d.to_json()["currentActions"]}}),
                );
                self.save_deployment(d);
            }
        }
    }
}
