//! The JSON of apps as `/v2/apps` serves them (`AppInfo`): the definition plus what
//! `embed` asks for (`tasks`, `counts`, `deployments`, `lastTaskFailure`, `taskStats`,
//! `readiness`, `failures`), with or without the `apps.`/`app.`/`group.apps.` prefix
//! (upstream `InfoEmbedResolver`).

use std::collections::BTreeSet;

use serde::Serialize;
use serde_json::{json, Value};

use super::Query;
use crate::health;
use crate::model::instance::TaskView;
use crate::model::{App, Instance};
use crate::state::Core;

/// What to embed.
#[derive(Debug, Clone, Default)]
pub struct Embed(BTreeSet<String>);

impl Embed {
    /// From the query's `embed` values; `defaults` when none are given.
    pub fn from_query(q: &Query, defaults: &[&str]) -> Self {
        let given = q.all("embed");
        let mut set = BTreeSet::new();
        let list: Vec<String> = if given.is_empty() {
            defaults.iter().map(|s| (*s).to_owned()).collect()
        } else {
            given
        };
        for e in list {
            let e = ["group.apps.", "apps.", "app."]
                .iter()
                .find_map(|p| e.strip_prefix(p))
                .unwrap_or(&e)
                .to_owned();
            match e.as_str() {
                "tasks" => set.extend(["tasks".into(), "deployments".into()]),
                "failures" => set.extend([
                    "tasks".into(),
                    "lastTaskFailure".into(),
                    "deployments".into(),
                ]),
                _ => {
                    set.insert(e);
                }
            }
        }
        set.insert("counts".into());
        Self(set)
    }

    fn has(&self, e: &str) -> bool {
        self.0.contains(e)
    }
}

/// The `/v2/tasks` JSON of an instance.
pub fn task_json(core: &Core, app: Option<&App>, inst: &Instance) -> Value {
    let service_ports = app.map(App::service_ports).unwrap_or_default();
    let health = app.and_then(|a| health::results(core, a, &inst.task_id, inst.healthy));
    inst.to_json(&service_ports, health)
}

/// An `AppInfo` that serializes its embedded tasks straight from the instances: rendering
/// thousands of tasks as `Value` trees first cost most of `/v2/apps?embed=apps.tasks`.
#[derive(Debug)]
pub struct AppView<'a> {
    doc: Value,
    service_ports: Vec<i64>,
    tasks: Option<Vec<(&'a Instance, Option<Value>)>>,
}

impl Serialize for AppView<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut m = s.serialize_map(None)?;
        if let Some(doc) = self.doc.as_object() {
            for (k, v) in doc {
                m.serialize_entry(k, v)?;
            }
        }
        if let Some(tasks) = &self.tasks {
            let views: Vec<TaskView<'_>> = tasks
                .iter()
                .map(|(i, h)| i.view(&self.service_ports, h.clone()))
                .collect();
            m.serialize_entry("tasks", &views)?;
        }
        m.end()
    }
}

/// The `AppInfo` JSON.
pub fn app_json(core: &Core, app: &App, embed: &Embed) -> Value {
    serde_json::to_value(app_view(core, app, embed)).unwrap_or_else(|_| json!({}))
}

/// The `AppInfo`, to serialize.
pub fn app_view<'a>(core: &'a Core, app: &'a App, embed: &Embed) -> AppView<'a> {
    let mut v = serde_json::to_value(app).unwrap_or_else(|_| json!({}));
    let service_ports = app.service_ports();
    v["ports"] = json!(service_ports);
    let insts: Vec<&Instance> = core.instances_of(&app.id).collect();
    if embed.has("counts") {
        let alive: Vec<&&Instance> = insts.iter().filter(|i| core.counts(i, app)).collect();
        let running = alive.iter().filter(|i| i.running()).count();
        let with_checks = !app.health_checks.is_empty();
        let healthy = if with_checks {
            alive.iter().filter(|i| core.ready(i, app)).count()
        } else {
            0
        };
        let unhealthy = if with_checks {
            alive
                .iter()
                .filter(|i| {
                    i.running()
                        && !core.ready(i, app)
                        && (i.healthy == Some(false)
                            || core
                                .health
                                .get(&i.task_id)
                                .is_some_and(|h| h.alive == Some(false)))
                })
                .count()
        } else {
            0
        };
        v["tasksStaged"] = json!(alive.len() - running);
        v["tasksRunning"] = json!(running);
        v["tasksHealthy"] = json!(healthy);
        v["tasksUnhealthy"] = json!(unhealthy);
    }
    if embed.has("deployments") {
        v["deployments"] = json!(core
            .locking_deployments(&app.id)
            .into_iter()
            .map(|id| json!({"id": id}))
            .collect::<Vec<_>>());
    }
    let tasks = embed.has("tasks").then(|| {
        insts
            .iter()
            .map(|i| (*i, health::results(core, app, &i.task_id, i.healthy)))
            .collect()
    });
    if embed.has("lastTaskFailure") {
        if let Some(f) = crate::model::PathId::parse(&app.id)
            .ok()
            .and_then(|id| core.last_failure.get(&id))
        {
            v["lastTaskFailure"] = f.clone();
        }
    }
    if embed.has("readiness") {
        v["readinessCheckResults"] = json!([]);
    }
    if embed.has("taskStats") {
        v["taskStats"] = json!({});
    }
    AppView {
        doc: v,
        service_ports,
        tasks,
    }
}
