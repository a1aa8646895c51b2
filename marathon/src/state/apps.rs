//! App changes requested through the API, each becoming a deployment: create
//! (StartApplication, then ScaleApplication), update (ScaleApplication when only `instances`
//! changed, RestartApplication otherwise), restart, delete (StopApplication), and the
//! rollback or forced stop of a deployment. One deployment per app unless `force`.

use std::collections::BTreeSet;

use serde_json::{json, Value};

use super::Core;
use crate::error::ApiError;
use crate::model::app::VersionInfo;
use crate::model::{Action, ActionKind, App, Deployment, PathId};

/// `{"deploymentId", "version"}`.
#[derive(Debug, Clone, PartialEq)]
pub struct DeploymentResult {
    /// The deployment.
    pub deployment_id: String,
    /// The new version.
    pub version: String,
}

impl DeploymentResult {
    /// The JSON answer.
    pub fn to_json(&self) -> Value {
        json!({"deploymentId": self.deployment_id, "version": self.version})
    }
}

pub(super) fn action(kind: ActionKind, app: &str) -> Action {
    Action {
        action: kind,
        app: app.to_owned(),
    }
}

impl Core {
    /// Ids of the deployments acting on `app`.
    pub fn locking_deployments(&self, app: &str) -> Vec<String> {
        self.deployments
            .values()
            .filter(|d| d.affects(app))
            .map(|d| d.id.clone())
            .collect()
    }

    /// 409 unless `force`; with `force`, the deployments in the way are dropped.
    pub(super) fn clear_the_way(&mut self, app: &str, force: bool) -> Result<(), ApiError> {
        let locking = self.locking_deployments(app);
        if locking.is_empty() {
            return Ok(());
        }
        if !force {
            return Err(ApiError::locked(locking));
        }
        for id in locking {
            if let Some(d) = self.forget_deployment(&id) {
                self.events.publish(
                    "deployment_failed",
                    json!({"id": d.id, "plan": d.plan_json(), "reason": "cancelled by a forced change"}),
                );
            }
        }
        Ok(())
    }

    /// Service ports in use by apps other than `except`.
    fn used_service_ports(&self, except: &str) -> BTreeSet<i64> {
        self.apps
            .values()
            .filter(|a| a.id != except)
            .flat_map(App::service_ports)
            .collect()
    }

    /// Gives every service port 0 a free port of the service port range.
    pub(super) fn assign_service_ports(&self, app: &mut App) {
        let mut used = self.used_service_ports(&app.id);
        used.extend(app.service_ports().into_iter().filter(|p| *p != 0));
        let (lo, hi) = self.settings.service_ports;
        let mut next = (i64::from(lo)..i64::from(hi)).filter(|p| !used.contains(p));
        if let Some(defs) = app.port_definitions.as_mut() {
            for d in defs.iter_mut().filter(|d| d.port == 0) {
                d.port = next.next().unwrap_or(0);
            }
        }
        if let Some(pm) = app.container.as_mut().and_then(|c| c.port_mappings_mut()) {
            for m in pm.iter_mut().filter(|m| m.service_port == 0) {
                m.service_port = next.next().unwrap_or(0);
            }
        }
    }

    fn start_deployment(
        &mut self,
        version: &str,
        steps: Vec<Vec<Action>>,
        original: Option<App>,
        target: Option<App>,
        app_id: &str,
    ) -> DeploymentResult {
        let d = Deployment::new(
            version,
            steps,
            vec![(app_id.to_owned(), original)],
            vec![(app_id.to_owned(), target)],
        );
        let result = DeploymentResult {
            deployment_id: d.id.clone(),
            version: version.to_owned(),
        };
        self.events.publish(
            "deployment_info",
            json!({"plan": d.plan_json(), "currentStep": {"actions": d.to_json()["currentActions"]}}),
        );
        self.save_deployment(d);
        result
    }

    /// Creates an app (409 if it exists).
    pub fn create_app(&mut self, mut app: App) -> Result<(App, DeploymentResult), ApiError> {
        let id = PathId::parse(&app.id).map_err(|_| ApiError::BadRequest("invalid id".into()))?;
        if self.apps.contains_key(&id) {
            return Err(ApiError::Conflict {
                message: format!("An app with id [{id}] already exists."),
                deployments: Vec::new(),
            });
        }
        if self.apps.keys().any(|a| a.starts_with(&id) && *a != id) {
            return Err(ApiError::Conflict {
                message: format!("A group with id [{id}] already exists."),
                deployments: Vec::new(),
            });
        }
        self.clear_the_way(&app.id, true)?;
        let version = self.next_version();
        app.version = Some(version.clone());
        app.version_info = Some(VersionInfo {
            last_scaling_at: version.clone(),
            last_config_change_at: version.clone(),
        });
        self.assign_service_ports(&mut app);
        let mut steps = vec![vec![action(ActionKind::StartApplication, &app.id)]];
        if app.instances > 0 {
            steps.push(vec![action(ActionKind::ScaleApplication, &app.id)]);
        }
        self.save_app(&app);
        self.events.publish(
            "api_post_event",
            json!({"clientIp": "", "uri": format!("/v2/apps{}", app.id), "appDefinition": app}),
        );
        let result = self.start_deployment(&version, steps, None, Some(app.clone()), &app.id);
        Ok((app, result))
    }

    /// Replaces an app's definition (creating it if missing: `Ok((true, ..))`).
    pub fn update_app(
        &mut self,
        mut app: App,
        force: bool,
    ) -> Result<(bool, DeploymentResult), ApiError> {
        let id = PathId::parse(&app.id).map_err(|_| ApiError::BadRequest("invalid id".into()))?;
        let Some(old) = self.apps.get(&id).cloned() else {
            return self.create_app(app).map(|(_, r)| (true, r));
        };
        self.clear_the_way(&app.id, force)?;
        let version = self.next_version();
        let restart = old.config_differs(&app);
        let last_config = if restart {
            version.clone()
        } else {
            old.config_version().to_owned()
        };
        app.version = Some(version.clone());
        app.version_info = Some(VersionInfo {
            last_scaling_at: version.clone(),
            last_config_change_at: last_config,
        });
        self.assign_service_ports(&mut app);
        if restart {
            // A new configuration starts with a clean launch delay.
            self.backoff.remove(&id);
        }
        let kind = if restart {
            ActionKind::RestartApplication
        } else {
            ActionKind::ScaleApplication
        };
        self.save_app(&app);
        self.events.publish(
            "api_post_event",
            json!({"clientIp": "", "uri": format!("/v2/apps{}", app.id), "appDefinition": app}),
        );
        let steps = vec![vec![action(kind, &app.id)]];
        Ok((
            false,
            self.start_deployment(&version, steps, Some(old), Some(app.clone()), &app.id),
        ))
    }

    /// Restarts every instance of an app with a rolling upgrade.
    pub fn restart_app(&mut self, id: &PathId, force: bool) -> Result<DeploymentResult, ApiError> {
        let Some(mut app) = self.apps.get(id).cloned() else {
            return Err(ApiError::no_app(&id.to_string()));
        };
        self.clear_the_way(&app.id, force)?;
        let old = app.clone();
        let version = self.next_version();
        app.version = Some(version.clone());
        app.version_info = Some(VersionInfo {
            last_scaling_at: version.clone(),
            last_config_change_at: version.clone(),
        });
        self.save_app(&app);
        let steps = vec![vec![action(ActionKind::RestartApplication, &app.id)]];
        Ok(self.start_deployment(&version, steps, Some(old), Some(app.clone()), &app.id))
    }

    /// Deletes an app: it is gone from the API at once, its instances are killed.
    pub fn delete_app(&mut self, id: &PathId, force: bool) -> Result<DeploymentResult, ApiError> {
        let Some(app) = self.apps.get(id).cloned() else {
            return Err(ApiError::no_app(&id.to_string()));
        };
        self.clear_the_way(&app.id, force)?;
        let version = self.next_version();
        self.forget_app(id);
        let steps = vec![vec![action(ActionKind::StopApplication, &app.id)]];
        let result = self.start_deployment(&version, steps, Some(app.clone()), None, &app.id);
        self.kill_all_of(&app);
        Ok(result)
    }

    /// Stops a deployment: with `force` it just ends; otherwise a new deployment reverts
    /// its apps to their original definitions.
    pub fn cancel_deployment(
        &mut self,
        id: &str,
        force: bool,
    ) -> Result<Option<DeploymentResult>, ApiError> {
        let Some(d) = self.forget_deployment(id) else {
            return Err(ApiError::NotFound(format!(
                "DeploymentPlan {id} does not exist"
            )));
        };
        self.events.publish(
            "deployment_failed",
            json!({"id": d.id, "plan": d.plan_json(), "reason": if force { "stopped" } else { "rolled back" }}),
        );
        if force {
            return Ok(None);
        }
        let mut result = None;
        for (app_id, original) in d.original {
            let pid =
                PathId::parse(&app_id).map_err(|_| ApiError::BadRequest("invalid id".into()))?;
            result = Some(match original {
                Some(orig) => self.update_app(orig, true)?.1,
                None if self.apps.contains_key(&pid) => self.delete_app(&pid, true)?,
                None => continue,
            });
        }
        Ok(result)
    }
}
