//! Container images for the mesos containerizer (`--image_providers=docker`): a container
//! whose `ContainerInfo` is `{type: MESOS, mesos: {image: {type: DOCKER, docker: {name}}}}`
//! gets its image into the store (imported from a `--docker_registry` directory, or pulled
//! from a registry) and a root filesystem provisioned with its own writable layer, all
//! BEFORE the container launches, so pull time never counts against
//! `--executor_registration_timeout`.
//!
//! * Command tasks: the command executor stays a host binary; the agent writes
//!   `task_launch_info` (argv from Mesos's CommandInfo × Entrypoint/Cmd rules, the image's
//!   Env/WorkingDir/User) and the executor runs the task through `mesos-containerizer
//!   run-task` (OCI spec + libcontainer).
//! * Custom executors: the executor itself runs inside the root filesystem.
//!
//! While a container waits for its image, per-layer progress is published ([`pull_json`]) and
//! shown in `/containers` and `agentctl inspect`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, LazyLock, Mutex};

use meseta_api::{ContainerType, ExecutorInfo, FrameworkInfo, TaskInfo};
use oci_bundles::pull::{Progress, Puller};
use oci_bundles::{Limits, Reference, RuntimeConfig, Store, StoredImage};
use serde::Serialize;
use serde_json::Value as Json;
use tracing::info;

use super::Agent;
use crate::containerizer::launch_info::{TaskLaunchInfo, DEFAULT_PATH};
use crate::containerizer::mesos::ContainerSpec;
use crate::flags::ImageConfig;

/// Progress of one layer of a pull.
#[derive(Debug, Clone, Serialize)]
pub struct LayerProgress {
    /// The layer's digest.
    pub digest: String,
    /// Bytes fetched.
    pub done: u64,
    /// Size, when the registry said.
    pub total: Option<u64>,
    /// Already in the store: nothing to fetch.
    pub cached: bool,
}

/// A container waiting for its image.
#[derive(Debug, Clone, Serialize)]
pub struct ImagePull {
    /// The image name.
    pub image: String,
    /// `pulling`, `importing` or `provisioning`.
    pub phase: &'static str,
    /// Per-layer progress (pulls from a registry).
    pub layers: Vec<LayerProgress>,
}

/// One lock per image reference, held while it is fetched.
static FETCHING: LazyLock<Mutex<BTreeMap<String, Arc<Mutex<()>>>>> = LazyLock::new(Mutex::default);

/// Pulls in flight, by container id.
static PULLS: LazyLock<Mutex<BTreeMap<String, ImagePull>>> = LazyLock::new(Mutex::default);

fn pulls() -> std::sync::MutexGuard<'static, BTreeMap<String, ImagePull>> {
    PULLS.lock().unwrap_or_else(|p| p.into_inner())
}

/// The pull progress of `container_id`, while it waits for its image.
pub fn pull_json(container_id: &str) -> Option<Json> {
    pulls()
        .get(container_id)
        .and_then(|p| serde_json::to_value(p).ok())
}

struct Reporter(String);

impl Progress for Reporter {
    fn layer(&self, digest: &str, done: u64, total: Option<u64>, cached: bool) {
        let mut all = pulls();
        let Some(pull) = all.get_mut(&self.0) else {
            return;
        };
        let entry = LayerProgress {
            digest: digest.to_owned(),
            done,
            total,
            cached,
        };
        match pull.layers.iter_mut().find(|l| l.digest == digest) {
            Some(l) => *l = entry,
            None => pull.layers.push(entry),
        }
    }
}

/// Where a container's root filesystem, upper layer and task launch info live.
pub fn provisioner_dir(work_dir: &Path, container_id: &str) -> PathBuf {
    work_dir
        .join("provisioner")
        .join("containers")
        .join(container_id)
}

/// The image a container asks for: from the executor's `ContainerInfo`, or for the command
/// executor from its task's.
fn requested(executor: &ExecutorInfo, task: Option<&TaskInfo>) -> Option<String> {
    let container = match task {
        Some(t) => t.container.as_ref(),
        None => executor.container.as_ref(),
    }?;
    if container.r#type != ContainerType::Mesos {
        return None;
    }
    let image = container.mesos.as_ref()?.image.as_ref()?;
    Some(
        image
            .docker
            .as_ref()
            .map(|d| d.name.clone())
            .unwrap_or_default(),
    )
}

/// Gives `spec` its image, if the container has one: fetch, provision, and either wire the
/// command executor to run its task inside it or put the executor itself inside it. An
/// `Err` is the TASK_FAILED message.
pub async fn apply(
    agent: &Arc<Agent>,
    framework: &FrameworkInfo,
    executor: &ExecutorInfo,
    command_executor: bool,
    mut spec: ContainerSpec,
) -> Result<ContainerSpec, String> {
    let fw = framework.id.clone().unwrap_or_default().value;
    let task = if command_executor {
        agent
            .state()
            .executor_mut(&fw, &executor.executor_id.value)
            .and_then(|e| e.queued.first().cloned())
    } else {
        None
    };
    let Some(name) = requested(executor, task.as_ref()) else {
        return Ok(spec);
    };
    let Some(images) = agent.config.images.clone() else {
        return Err(format!(
            "Failed to launch container: the container has image '{name}' but this agent has \
             no image support (start it with --image_providers=docker and \
             --isolation=filesystem/linux,docker/runtime)"
        ));
    };
    let reference = Reference::parse(&name)
        .map_err(|e| format!("Failed to launch container: invalid image '{name}': {e}"))?;
    let cid = spec.container_id.clone();
    let dir = provisioner_dir(&agent.config.work_dir, &cid);
    let started = std::time::Instant::now();
    pulls().insert(
        cid.clone(),
        ImagePull {
            image: name.clone(),
            phase: "pulling",
            layers: Vec::new(),
        },
    );
    let (job_cid, job_dir) = (cid.clone(), dir.clone());
    let result = tokio::task::spawn_blocking(move || {
        fetch_and_provision(&images, &reference, &job_cid, &job_dir)
    })
    .await
    .map_err(|e| e.to_string())
    .and_then(|r| r);
    pulls().remove(&cid);
    let (image, rootfs) = match result {
        Ok(r) => r,
        Err(e) => {
            let _ = oci_bundles::provision::destroy(&dir);
            return Err(format!("Failed to launch container: image '{name}': {e}"));
        }
    };
    info!(
        container_id = cid,
        image = name,
        secs = started.elapsed().as_secs_f64(),
        "image ready"
    );
    let runtime = image.runtime.clone();
    let target = agent.config.sandbox_directory.clone();
    match task {
        Some(task) => {
            let launch = task_launch_info(agent, &spec, &task, &runtime, &rootfs, &dir)?;
            spec.command.user = None;
            let path = dir.join("task_launch_info");
            let json = serde_json::to_vec(&launch).map_err(|e| e.to_string())?;
            std::fs::write(&path, json)
                .map_err(|e| format!("Failed to write {}: {e}", path.display()))?;
            spec.command.argv.extend([
                format!("--task_launch_info={}", path.display()),
                format!("--rootfs={}", rootfs.display()),
                format!("--sandbox_directory={}", target.display()),
                format!("--launcher_dir={}", agent.config.launcher_dir.display()),
            ]);
        }
        None => {
            let mut env = image_env(&runtime);
            for (k, v) in &spec.command.env {
                if k != "PATH" || !env.iter().any(|(ek, _)| ek == "PATH") {
                    env.retain(|(ek, _)| ek != k);
                    env.push((k.clone(), v.clone()));
                }
            }
            set(&mut env, "MESOS_SANDBOX", &target.display().to_string());
            spec.command.env = env;
            spec.rootfs = Some(rootfs);
        }
    }
    Ok(spec)
}

/// Fetches `reference` and provisions `dir/rootfs` from it for `container_id` (blocking);
/// returns the image and the root filesystem. Progress goes to [`pull_json`] while the
/// container is registered there.
pub fn fetch_and_provision(
    images: &ImageConfig,
    reference: &Reference,
    container_id: &str,
    dir: &Path,
) -> Result<(StoredImage, PathBuf), String> {
    let image = fetch(images, reference, container_id)?;
    if let Some(p) = pulls().get_mut(container_id) {
        p.phase = "provisioning";
    }
    let store = Store::open(&images.store_dir, Limits::default()).map_err(|e| e.to_string())?;
    let rootfs = oci_bundles::provision::provision(&store, &image, dir, images.backend)
        .map_err(|e| e.to_string())?;
    Ok((image, rootfs))
}

/// Fetches `reference` into the store (blocking): the cached copy, an import from a
/// `--docker_registry` directory, or a pull from the registry.
fn fetch(
    images: &ImageConfig,
    reference: &Reference,
    container_id: &str,
) -> Result<StoredImage, String> {
    // One fetch per image at a time: the tasks behind the first find it in the store.
    let lock = FETCHING
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .entry(reference.to_string())
        .or_default()
        .clone();
    let _fetching = lock.lock().unwrap_or_else(|p| p.into_inner());
    let store = Store::open(&images.store_dir, Limits::default()).map_err(|e| e.to_string())?;
    for name in [reference.to_string(), reference.name()] {
        if let Some(image) = store.image(&name).map_err(|e| e.to_string())? {
            return Ok(image);
        }
    }
    if images.registry.starts_with("http://") || images.registry.starts_with("https://") {
        let puller = Puller::new(&images.registry, images.docker_config.as_deref())
            .map_err(|e| e.to_string())?;
        return puller
            .pull(&store, reference, &Reporter(container_id.to_owned()))
            .map_err(|e| e.to_string());
    }
    if let Some(p) = pulls().get_mut(container_id) {
        p.phase = "importing";
    }
    let dir = Path::new(&images.registry);
    let archive = oci_bundles::local_archive_path(dir, reference);
    let layout = archive.with_extension("");
    if layout.join("oci-layout").is_file() {
        return oci_bundles::import_oci_layout(
            &store,
            &layout,
            reference.tag.as_deref(),
            &reference.name(),
        )
        .map_err(|e| e.to_string());
    }
    if !archive.is_file() {
        return Err(format!(
            "{} not found in --docker_registry={}",
            archive
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default(),
            dir.display()
        ));
    }
    oci_bundles::import_docker_archive(&store, &archive)
        .map_err(|e| e.to_string())?
        .into_iter()
        .find(|i| i.reference == reference.name())
        .ok_or_else(|| format!("{} does not hold {}", archive.display(), reference.name()))
}

/// The task's command, environment, working directory and user inside the image.
fn task_launch_info(
    agent: &Agent,
    spec: &ContainerSpec,
    task: &TaskInfo,
    runtime: &RuntimeConfig,
    rootfs: &Path,
    dir: &Path,
) -> Result<TaskLaunchInfo, String> {
    let cmd = task.command.clone().unwrap_or_default();
    let command = oci_bundles::command::launch_command(
        cmd.shell.unwrap_or(true),
        cmd.value.as_deref(),
        &cmd.arguments,
        runtime,
    )
    .map_err(|e| format!("Failed to launch container: {e}"))?;
    let mut argv = command.argv;
    if let Some(first) = argv.first_mut() {
        *first = command.path;
    }
    let target = agent.config.sandbox_directory.clone();
    let mut env = image_env(runtime);
    for (k, v) in spec
        .command
        .env
        .iter()
        .filter(|(k, _)| k.starts_with("MESOS_"))
    {
        set(&mut env, k, v);
    }
    set(&mut env, "MESOS_SANDBOX", &target.display().to_string());
    let vars = cmd.environment.iter().flat_map(|e| &e.variables);
    for var in vars {
        if let Some(value) = &var.value {
            set(&mut env, &var.name, value);
        }
    }
    if !env.iter().any(|(k, _)| k == "PATH") {
        env.push(("PATH".into(), DEFAULT_PATH.into()));
    }
    let working_dir = runtime
        .working_dir
        .as_deref()
        .filter(|w| w.starts_with('/'))
        .map(PathBuf::from)
        .unwrap_or_else(|| target.clone());
    let state_dir = dir.join("libcontainer");
    std::fs::create_dir_all(&state_dir)
        .map_err(|e| format!("Failed to create {}: {e}", state_dir.display()))?;
    Ok(TaskLaunchInfo {
        container_id: spec.container_id.clone(),
        rootfs: rootfs.to_owned(),
        sandbox: spec.sandbox.clone(),
        sandbox_target: target,
        argv,
        env,
        working_dir,
        // The task's user (--switch_user) wins over the image's `User`; the executor itself
        // stays root, as libcontainer needs.
        user: spec
            .command
            .user
            .clone()
            .or_else(|| runtime.user.clone())
            .filter(|u| !u.is_empty()),
        hostname: agent.config.hostname.clone(),
        cgroups_path: format!("/{}/{}/task", agent.config.cgroups_root, spec.container_id),
        state_dir,
    })
}

/// The image's `Env` as pairs.
fn image_env(runtime: &RuntimeConfig) -> Vec<(String, String)> {
    runtime
        .env
        .iter()
        .flatten()
        .filter_map(|kv| kv.split_once('='))
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
}

fn set(env: &mut Vec<(String, String)>, key: &str, value: &str) {
    env.retain(|(k, _)| k != key);
    env.push((key.to_owned(), value.to_owned()));
}
