//! Turning state changes into store writes, and loading the state back after a restart or
//! a leader change.

use crate::model::{App, Deployment, Instance, PathId};
use crate::store::{self, Store, StoreError, StoreOp};

use super::Core;

fn to_bytes<T: serde::Serialize>(v: &T) -> Vec<u8> {
    // Our own types always serialise (string keys, finite numbers are checked on input).
    serde_json::to_vec(v).unwrap_or_default()
}

impl Core {
    /// Stores the current definition of `app` and records it as a version.
    pub(crate) fn save_app(&mut self, app: &App) {
        let Ok(id) = PathId::parse(&app.id) else {
            return;
        };
        let version = app.version.clone().unwrap_or_default();
        let bytes = to_bytes(app);
        self.pending
            .push(StoreOp::Put(store::APPS, id.key(), bytes.clone()));
        self.pending.push(StoreOp::Put(
            store::VERSIONS,
            format!("{}@{version}", id.key()),
            bytes,
        ));
        let versions = self.versions.entry(id.clone()).or_default();
        versions.insert(version, app.clone());
        while versions.len() > self.settings.max_versions.max(1) {
            let Some(oldest) = versions.keys().next().cloned() else {
                break;
            };
            versions.remove(&oldest);
            self.pending.push(StoreOp::Delete(
                store::VERSIONS,
                format!("{}@{oldest}", id.key()),
            ));
        }
        self.apps.insert(id, app.clone());
        self.kick = true;
    }

    /// Removes `app` and its versions.
    pub(crate) fn forget_app(&mut self, id: &PathId) {
        self.apps.remove(id);
        self.pending.push(StoreOp::Delete(store::APPS, id.key()));
        for v in self.versions.remove(id).unwrap_or_default().into_keys() {
            self.pending.push(StoreOp::Delete(
                store::VERSIONS,
                format!("{}@{v}", id.key()),
            ));
        }
        self.backoff.remove(id);
        self.last_failure.remove(id);
        self.kick = true;
    }

    /// Stores an instance (and keeps it in memory).
    pub(crate) fn save_instance(&mut self, inst: Instance) {
        self.pending.push(StoreOp::Put(
            store::INSTANCES,
            inst.task_id.clone(),
            to_bytes(&inst),
        ));
        self.instances.insert(inst.task_id.clone(), inst);
    }

    /// Removes an instance.
    pub(crate) fn forget_instance(&mut self, task_id: &str) -> Option<Instance> {
        self.pending
            .push(StoreOp::Delete(store::INSTANCES, task_id.to_owned()));
        self.health.remove(task_id);
        self.kills_sent.remove(task_id);
        self.kick = true;
        self.instances.remove(task_id)
    }

    /// Stores a deployment.
    pub(crate) fn save_deployment(&mut self, d: Deployment) {
        self.pending
            .push(StoreOp::Put(store::DEPLOYMENTS, d.id.clone(), to_bytes(&d)));
        self.deployments.insert(d.id.clone(), d);
        self.kick = true;
    }

    /// Removes a deployment.
    pub(crate) fn forget_deployment(&mut self, id: &str) -> Option<Deployment> {
        self.pending
            .push(StoreOp::Delete(store::DEPLOYMENTS, id.to_owned()));
        self.kick = true;
        self.deployments.remove(id)
    }

    /// Records the framework id.
    pub fn set_framework_id(&mut self, id: &str) {
        if self.framework_id.as_deref() != Some(id) {
            self.framework_id = Some(id.to_owned());
            self.pending.push(StoreOp::Put(
                store::FRAMEWORK,
                "id".into(),
                id.as_bytes().to_vec(),
            ));
        }
    }

    /// Replaces the in-memory state with what `store` holds.
    pub async fn load(&mut self, store: &Store) -> Result<(), StoreError> {
        self.apps.clear();
        self.versions.clear();
        self.instances.clear();
        self.deployments.clear();
        for (key, bytes) in store.load(store::APPS).await? {
            match (
                PathId::from_key(&key),
                serde_json::from_slice::<App>(&bytes),
            ) {
                (Some(id), Ok(app)) => {
                    self.apps.insert(id, app);
                }
                _ => tracing::warn!(%key, "skipping an unreadable app in the store"),
            }
        }
        for (key, bytes) in store.load(store::VERSIONS).await? {
            let Some((app_key, version)) = key.split_once('@') else {
                continue;
            };
            if let (Some(id), Ok(app)) = (PathId::from_key(app_key), serde_json::from_slice(&bytes))
            {
                self.versions
                    .entry(id)
                    .or_default()
                    .insert(version.to_owned(), app);
            }
        }
        for (key, bytes) in store.load(store::INSTANCES).await? {
            match serde_json::from_slice::<Instance>(&bytes) {
                Ok(i) => {
                    self.instances.insert(key, i);
                }
                Err(err) => tracing::warn!(%key, %err, "skipping an unreadable instance"),
            }
        }
        for (key, bytes) in store.load(store::DEPLOYMENTS).await? {
            match serde_json::from_slice::<Deployment>(&bytes) {
                Ok(d) => {
                    self.deployments.insert(key, d);
                }
                Err(err) => tracing::warn!(%key, %err, "skipping an unreadable deployment"),
            }
        }
        self.framework_id = store
            .load(store::FRAMEWORK)
            .await?
            .into_iter()
            .find(|(k, _)| k == "id")
            .and_then(|(_, v)| String::from_utf8(v).ok());
        if let Some(v) = self.apps.values().filter_map(|a| a.version.clone()).max() {
            self.last_version = v;
        }
        Ok(())
    }
}
