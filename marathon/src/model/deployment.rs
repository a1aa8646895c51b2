//! A deployment plan (`v2/types/deployments.raml`): steps of actions on apps, the original and
//! target definitions (for rollback), and how far it got.

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use super::app::App;

/// An action of a step.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ActionKind {
    /// Create the app (no instances yet).
    StartApplication,
    /// Reach the target instance count.
    ScaleApplication,
    /// Replace every instance with the new version (rolling).
    RestartApplication,
    /// Kill every instance and remove the app.
    StopApplication,
}

impl ActionKind {
    /// The name in the REST API.
    pub fn name(self) -> &'static str {
        match self {
            Self::StartApplication => "StartApplication",
            Self::ScaleApplication => "ScaleApplication",
            Self::RestartApplication => "RestartApplication",
            Self::StopApplication => "StopApplication",
        }
    }
}

/// One action on one app.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Action {
    /// What.
    pub action: ActionKind,
    /// The app id.
    pub app: String,
}

/// A deployment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Deployment {
    /// UUID.
    pub id: String,
    /// Version of the target state.
    pub version: String,
    /// Apps touched.
    pub affected_apps: Vec<String>,
    /// Steps, run in order.
    pub steps: Vec<Vec<Action>>,
    /// Index of the step running now (0-based).
    pub current_step: usize,
    /// The definitions before (None: the app did not exist), for rollback.
    pub original: Vec<(String, Option<App>)>,
    /// The definitions after (None: the app is removed).
    pub target: Vec<(String, Option<App>)>,
}

impl Deployment {
    /// A new deployment of `steps`.
    pub fn new(
        version: &str,
        steps: Vec<Vec<Action>>,
        original: Vec<(String, Option<App>)>,
        target: Vec<(String, Option<App>)>,
    ) -> Self {
        let mut affected: Vec<String> = target.iter().map(|(id, _)| id.clone()).collect();
        affected.dedup();
        Self {
            id: uuid::Uuid::new_v4().to_string(),
            version: version.to_owned(),
            affected_apps: affected,
            steps,
            current_step: 0,
            original,
            target,
        }
    }

    /// The actions running now.
    pub fn current_actions(&self) -> &[Action] {
        self.steps
            .get(self.current_step)
            .map(Vec::as_slice)
            .unwrap_or(&[])
    }

    /// Whether it acts on `app`.
    pub fn affects(&self, app: &str) -> bool {
        self.affected_apps.iter().any(|a| a == app)
    }

    fn actions_json(actions: &[Action], readiness: bool) -> Vec<Value> {
        actions
            .iter()
            .map(|a| {
                let mut v = json!({"action": a.action.name(), "app": a.app});
                if readiness {
                    v["readinessCheckResults"] = json!([]);
                }
                v
            })
            .collect()
    }

    /// The JSON of `/v2/deployments`.
    pub fn to_json(&self) -> Value {
        json!({
            "id": self.id,
            "version": self.version,
            "affectedApps": self.affected_apps,
            "affectedPods": [],
            "steps": self.steps.iter().map(|s| json!({"actions": Self::actions_json(s, false)})).collect::<Vec<_>>(),
            "currentActions": Self::actions_json(self.current_actions(), true),
            "currentStep": (self.current_step + 1).min(self.steps.len()),
            "totalSteps": self.steps.len(),
        })
    }

    /// The light plan of SSE events (`plan` of `deployment_info` and friends).
    pub fn plan_json(&self) -> Value {
        json!({
            "id": self.id,
            "version": self.version,
            "steps": self.steps.iter().map(|s| json!({"actions": Self::actions_json(s, false)})).collect::<Vec<_>>(),
        })
    }
}
