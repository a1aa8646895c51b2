//! A group of apps changed in one request (`POST`/`PUT /v2/groups`) becomes ONE deployment,
//! planned as upstream's `DeploymentPlan.apply`: a step stopping the apps that are gone, a
//! step starting the new ones with no instances, then one step per dependency level (apps
//! whose `dependencies` form the longest chain come last), each scaling or restarting its
//! apps. An app whose step has not come yet launches nothing ([`Core::held_apps`]), so a
//! dependent starts only once what it depends on is running and healthy.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::json;

use super::apps::{action, DeploymentResult};
use super::Core;
use crate::error::ApiError;
use crate::model::app::VersionInfo;
use crate::model::validate::{DefinitionError, Violation};
use crate::model::{Action, ActionKind, App, Deployment, PathId};

fn invalid(path: &str, error: String) -> ApiError {
    ApiError::Definition(DefinitionError::Invalid(vec![Violation {
        path: path.into(),
        errors: vec![error],
    }]))
}

/// An app's dependencies as path ids (relative ones resolved against its group).
fn dependencies(app: &App) -> Result<Vec<PathId>, ApiError> {
    let id = PathId::parse(&app.id).map_err(|e| invalid("/id", e.to_string()))?;
    app.dependencies
        .iter()
        .map(|d| {
            PathId::parse_in(d, &id.parent())
                .map_err(|e| invalid("/dependencies", format!("'{d}': {e}")))
        })
        .collect()
}

/// Each app's level: 0 without dependencies, else 1 + the highest level of what it depends
/// on (upstream `runSpecsGroupedByLongestPath`). 422 on a cycle or an unknown dependency.
fn levels(apps: &BTreeMap<PathId, App>) -> Result<BTreeMap<PathId, usize>, ApiError> {
    let mut deps = BTreeMap::new();
    for (id, app) in apps {
        let ds = dependencies(app)?;
        if let Some(missing) = ds.iter().find(|d| !apps.contains_key(*d)) {
            return Err(invalid(
                "/dependencies",
                format!("{id} depends on {missing}, which does not exist"),
            ));
        }
        deps.insert(id.clone(), ds);
    }
    let mut level: BTreeMap<PathId, usize> = BTreeMap::new();
    // Kahn's algorithm: an app is placed once everything it depends on is.
    while level.len() < deps.len() {
        let ready: Vec<(PathId, usize)> = deps
            .iter()
            .filter(|(id, _)| !level.contains_key(*id))
            .filter_map(|(id, ds)| {
                ds.iter()
                    .map(|d| level.get(d).map(|l| l + 1))
                    .try_fold(0, |acc, l| l.map(|l| acc.max(l)))
                    .map(|l| (id.clone(), l))
            })
            .collect();
        if ready.is_empty() {
            return Err(invalid(
                "/",
                "Dependency graph has cyclic dependencies.".into(),
            ));
        }
        level.extend(ready);
    }
    Ok(level)
}

impl Core {
    /// Apps with an action in a step after a deployment's active one (the first unfinished
    /// step that does more than start apps): they launch nothing yet.
    pub fn held_apps(&self) -> BTreeSet<String> {
        let mut held = BTreeSet::new();
        for d in self.deployments.values() {
            let active = (d.current_step..d.steps.len()).find(|&i| {
                d.steps[i]
                    .iter()
                    .any(|a| a.action != ActionKind::StartApplication)
            });
            let Some(active) = active else {
                continue;
            };
            let moving: BTreeSet<&str> = d.steps[..=active]
                .iter()
                .flatten()
                .filter(|a| a.action != ActionKind::StartApplication)
                .map(|a| a.app.as_str())
                .collect();
            for a in d.steps[active + 1..].iter().flatten() {
                if a.action != ActionKind::StopApplication && !moving.contains(a.app.as_str()) {
                    held.insert(a.app.clone());
                }
            }
        }
        held
    }

    /// Applies `apps` (and removes `removed`) as one deployment. `create`: 409 when an app
    /// exists already. `None` when nothing changes.
    pub fn deploy_group(
        &mut self,
        apps: Vec<App>,
        removed: Vec<PathId>,
        create: bool,
        force: bool,
    ) -> Result<Option<DeploymentResult>, ApiError> {
        let mut target = self.apps.clone();
        for id in &removed {
            target.remove(id);
        }
        let mut changed = Vec::new();
        for app in apps {
            let id = PathId::parse(&app.id).map_err(|e| invalid("/id", e.to_string()))?;
            if create && self.apps.contains_key(&id) {
                return Err(ApiError::Conflict {
                    message: format!("An app with id [{id}] already exists."),
                    deployments: Vec::new(),
                });
            }
            target.insert(id.clone(), app.clone());
            changed.push((id, app));
        }
        let level = levels(&target)?;
        for id in changed.iter().map(|(id, _)| id).chain(&removed) {
            self.clear_the_way(&id.to_string(), force)?;
        }
        let version = self.next_version();
        let (mut stops, mut starts) = (Vec::new(), Vec::new());
        let mut by_level: BTreeMap<usize, Vec<Action>> = BTreeMap::new();
        let (mut original, mut targets) = (Vec::new(), Vec::new());
        for id in &removed {
            if let Some(old) = self.apps.get(id).cloned() {
                stops.push(action(ActionKind::StopApplication, &old.id));
                original.push((old.id.clone(), Some(old.clone())));
                targets.push((old.id.clone(), None));
            }
        }
        for (id, mut app) in changed {
            let old = self.apps.get(&id).cloned();
            let kind = match &old {
                None => {
                    starts.push(action(ActionKind::StartApplication, &app.id));
                    ActionKind::ScaleApplication
                }
                Some(o) if o.config_differs(&app) => ActionKind::RestartApplication,
                Some(o) if o.instances != app.instances => ActionKind::ScaleApplication,
                Some(_) => continue,
            };
            let config_at = match &old {
                Some(o) if kind != ActionKind::RestartApplication => o.config_version().to_owned(),
                _ => version.clone(),
            };
            app.version = Some(version.clone());
            app.version_info = Some(VersionInfo {
                last_scaling_at: version.clone(),
                last_config_change_at: config_at,
            });
            self.assign_service_ports(&mut app);
            if kind == ActionKind::RestartApplication {
                self.backoff.remove(&id);
            }
            self.save_app(&app);
            self.events.publish(
                "api_post_event",
                json!({"clientIp": "", "uri": format!("/v2/groups{}", id.parent()), "appDefinition": app}),
            );
            if kind != ActionKind::ScaleApplication || app.instances > 0 || old.is_some() {
                let l = level.get(&id).copied().unwrap_or(0);
                by_level.entry(l).or_default().push(action(kind, &app.id));
            }
            original.push((app.id.clone(), old));
            targets.push((app.id.clone(), Some(app)));
        }
        let steps: Vec<Vec<Action>> = [stops, starts]
            .into_iter()
            .chain(by_level.into_values())
            .filter(|s| !s.is_empty())
            .collect();
        if steps.is_empty() {
            return Ok(None);
        }
        let d = Deployment::new(&version, steps, original, targets);
        let result = DeploymentResult {
            deployment_id: d.id.clone(),
            version: version.clone(),
        };
        self.events.publish(
            "deployment_info",
            json!({"plan": d.plan_json(), "currentStep": {"actions": d.to_json()["currentActions"]}}),
        );
        self.save_deployment(d);
        for id in &removed {
            if let Some(app) = self.apps.get(id).cloned() {
                self.forget_app(id);
                self.kill_all_of(&app);
            }
        }
        Ok(Some(result))
    }
}
