//! The JSON `agentctl` reads and the joined view it prints.
//!
//! `GET /containers` entries carry the standard Mesos fields plus the Meseta extension
//! `"meseta": {pid, supervisor_pid, task_ids, cgroups, sandbox, limits{cpus, mem_bytes}}`;
//! `GET /state` gives frameworks → executors (`container`, `directory`) → tasks. Every field
//! is optional here so that an older or partial agent still gives a useful listing.

use meseta_api::ResourceStatistics;
use serde::{Deserialize, Serialize};

/// One entry of `GET /containers`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct ContainerEntry {
    /// Container id.
    pub container_id: String,
    /// Executor id.
    pub executor_id: Option<String>,
    /// Executor name.
    pub executor_name: Option<String>,
    /// Framework id.
    pub framework_id: Option<String>,
    /// Executor source.
    pub source: Option<String>,
    /// Live usage.
    pub statistics: Option<ResourceStatistics>,
    /// `ContainerStatus` (only `executor_pid` is used).
    pub status: Option<EntryStatus>,
    /// The Meseta extension.
    pub meseta: Option<MesetaExtension>,
}

/// The part of `ContainerStatus` `agentctl` shows.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct EntryStatus {
    /// The executor's pid.
    pub executor_pid: Option<i64>,
}

/// The `"meseta"` object of a `/containers` entry.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct MesetaExtension {
    /// The executor's (container's first process) pid.
    pub pid: Option<i64>,
    /// The `mesos-containerizer launch` supervisor's pid.
    pub supervisor_pid: Option<i64>,
    /// Tasks run by the container's executor.
    pub task_ids: Vec<String>,
    /// The container's cgroup directories.
    pub cgroups: Vec<String>,
    /// Host path of the sandbox.
    pub sandbox: Option<String>,
    /// Configured limits.
    pub limits: Limits,
    /// Re-attached by a restarted agent (recovered from its checkpoints).
    pub recovered: bool,
    /// Pull progress while the container waits for its image.
    pub image_pull: Option<ImagePull>,
}

// --- image ---
/// `"image_pull"`: the image a container waits for, layer by layer.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ImagePull {
    /// Image name.
    pub image: String,
    /// `pulling`, `importing` or `provisioning`.
    pub phase: String,
    /// Layers seen so far.
    pub layers: Vec<PullLayer>,
}

/// One layer of an [`ImagePull`].
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct PullLayer {
    /// Layer digest.
    pub digest: String,
    /// Bytes fetched.
    pub done: u64,
    /// Size, when known.
    pub total: Option<u64>,
    /// Already in the store.
    pub cached: bool,
}

/// Container limits.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Limits {
    /// CPUs.
    pub cpus: Option<f64>,
    /// Memory, bytes.
    pub mem_bytes: Option<u64>,
}

/// The part of `GET /state` `agentctl` uses.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct AgentState {
    /// Active frameworks.
    pub frameworks: Vec<StateFramework>,
    /// Completed frameworks.
    pub completed_frameworks: Vec<StateFramework>,
}

/// A framework in `/state`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct StateFramework {
    /// Framework id.
    pub id: String,
    /// Framework name.
    pub name: String,
    /// Live executors.
    pub executors: Vec<StateExecutor>,
    /// Finished executors.
    pub completed_executors: Vec<StateExecutor>,
}

/// An executor in `/state`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct StateExecutor {
    /// Executor id.
    pub id: String,
    /// Executor name.
    pub name: String,
    /// Container id.
    pub container: Option<String>,
    /// Sandbox directory on the host.
    pub directory: Option<String>,
    /// Running tasks.
    pub tasks: Vec<StateTask>,
    /// Tasks waiting for the executor.
    pub queued_tasks: Vec<StateTask>,
    /// Finished tasks.
    pub completed_tasks: Vec<StateTask>,
}

/// A task in `/state`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct StateTask {
    /// Task id.
    pub id: String,
    /// Task name.
    pub name: Option<String>,
    /// `TASK_RUNNING` etc.
    pub state: Option<String>,
}

/// One container with everything known about it; the `--json` output of `inspect`.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ContainerView {
    /// Container id.
    pub container_id: String,
    /// Framework id.
    pub framework_id: Option<String>,
    /// Framework name (from `/state`).
    pub framework_name: Option<String>,
    /// Executor id.
    pub executor_id: Option<String>,
    /// Executor name.
    pub executor_name: Option<String>,
    /// Executor source.
    pub source: Option<String>,
    /// Tasks, live ones first.
    pub tasks: Vec<StateTask>,
    /// Executor pid.
    pub pid: Option<i64>,
    /// Supervisor pid.
    pub supervisor_pid: Option<i64>,
    /// Cgroup directories.
    pub cgroups: Vec<String>,
    /// Sandbox (host path).
    pub sandbox: Option<String>,
    /// Limits.
    pub limits: Limits,
    /// Live usage.
    pub statistics: Option<ResourceStatistics>,
    /// Re-attached by a restarted agent (recovered from its checkpoints).
    pub recovered: bool,
    /// Pull progress while the container waits for its image.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub image_pull: Option<ImagePull>,
}

/// Joins `/containers` with `/state`, keeping the order of `/containers`.
pub fn join(containers: Vec<ContainerEntry>, state: &AgentState) -> Vec<ContainerView> {
    containers
        .into_iter()
        .map(|entry| join_one(entry, state))
        .collect()
}

fn join_one(entry: ContainerEntry, state: &AgentState) -> ContainerView {
    let found = find_executor(&entry, state);
    let meseta = entry.meseta.unwrap_or_default();
    let mut tasks: Vec<StateTask> = found
        .map(|(_, e)| {
            let all = e
                .tasks
                .iter()
                .chain(&e.queued_tasks)
                .chain(&e.completed_tasks);
            all.cloned().collect()
        })
        .unwrap_or_default();
    for id in &meseta.task_ids {
        if !tasks.iter().any(|t| &t.id == id) {
            tasks.push(StateTask {
                id: id.clone(),
                ..StateTask::default()
            });
        }
    }
    ContainerView {
        framework_id: entry
            .framework_id
            .or_else(|| found.map(|(f, _)| f.id.clone())),
        framework_name: found.map(|(f, _)| f.name.clone()).filter(|n| !n.is_empty()),
        executor_id: entry
            .executor_id
            .or_else(|| found.map(|(_, e)| e.id.clone())),
        executor_name: entry
            .executor_name
            .or_else(|| found.map(|(_, e)| e.name.clone()))
            .filter(|n| !n.is_empty()),
        source: entry.source,
        tasks,
        pid: meseta
            .pid
            .or_else(|| entry.status.and_then(|s| s.executor_pid)),
        supervisor_pid: meseta.supervisor_pid,
        cgroups: meseta.cgroups,
        sandbox: meseta
            .sandbox
            .or_else(|| found.and_then(|(_, e)| e.directory.clone())),
        limits: meseta.limits,
        recovered: meseta.recovered,
        image_pull: meseta.image_pull,
        statistics: entry.statistics,
        container_id: entry.container_id,
    }
}

fn find_executor<'a>(
    entry: &ContainerEntry,
    state: &'a AgentState,
) -> Option<(&'a StateFramework, &'a StateExecutor)> {
    let frameworks = state.frameworks.iter().chain(&state.completed_frameworks);
    let pairs: Vec<_> = frameworks
        .flat_map(|f| {
            f.executors
                .iter()
                .chain(&f.completed_executors)
                .map(move |e| (f, e))
        })
        .collect();
    pairs
        .iter()
        .find(|(_, e)| e.container.as_deref() == Some(entry.container_id.as_str()))
        .or_else(|| {
            pairs.iter().find(|(f, e)| {
                entry.framework_id.as_deref() == Some(f.id.as_str())
                    && entry.executor_id.as_deref() == Some(e.id.as_str())
            })
        })
        .copied()
}

/// The container whose id is `wanted` or, failing that, the only one starting with it.
pub fn select<'a>(
    views: &'a [ContainerView],
    wanted: &str,
) -> Result<&'a ContainerView, super::CtlError> {
    if let Some(exact) = views.iter().find(|v| v.container_id == wanted) {
        return Ok(exact);
    }
    let mut matches = views
        .iter()
        .filter(|v| !wanted.is_empty() && v.container_id.starts_with(wanted));
    match (matches.next(), matches.next()) {
        (Some(only), None) => Ok(only),
        (Some(_), Some(_)) => Err(super::CtlError::AmbiguousContainer(wanted.to_owned())),
        (None, _) => Err(super::CtlError::UnknownContainer(wanted.to_owned())),
    }
}
