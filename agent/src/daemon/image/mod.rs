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
//!   run-task` (builds the OCI spec and applies it in place, then becomes the task).
//! * Custom executors: the executor itself runs inside the root filesystem.
//!
//! While a container waits for its image, per-layer progress is published ([`pull_json`]) and
//! shown in `/containers` and `agentctl inspect`. A kill or shutdown meanwhile ([`cancel`])
//! ends the wait at once (its tasks TASK_KILLED, as Mesos does for a PROVISIONING
//! container) and stops the pull unless another waiting container wants the same image.
mod progress;
mod task;
mod waiting;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use meseta_api::{ContainerType, ExecutorInfo, FrameworkInfo, ImageType, TaskInfo};
pub use oci_bundles::mount_points::Kind as MountPointKind;
use oci_bundles::pull::{PullError, Puller};
use oci_bundles::{Limits, Reference, RuntimeConfig, Store, StoredImage};
use tracing::info;

pub use self::progress::{pull_json, ImagePull, LayerProgress};
use self::progress::{pulls, Reporter};
pub use self::task::run_task_mount_points;
use self::task::{image_env, set, task_launch_info};
pub use self::waiting::cancel;
use self::waiting::{FetchTurn, Waiting};
use super::state::Phase;
use super::Agent;
use crate::containerizer::mesos::ContainerSpec;
use crate::flags::ImageConfig;

/// Why a container did not get its image.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ImageError {
    /// The TASK_FAILED message (nothing is left provisioned).
    Failed(String),
    /// The container was killed while it waited ([`cancel`]); its provisioning is undone by
    /// the fetch job itself.
    Cancelled,
}

impl From<String> for ImageError {
    fn from(message: String) -> Self {
        Self::Failed(message)
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
/// executor from its task's. `Err` for an image Meseta cannot run (APPC).
fn requested(executor: &ExecutorInfo, task: Option<&TaskInfo>) -> Option<Result<String, String>> {
    let container = match task {
        Some(t) => t.container.as_ref(),
        None => executor.container.as_ref(),
    }?;
    if container.r#type != ContainerType::Mesos {
        return None;
    }
    let image = container.mesos.as_ref()?.image.as_ref()?;
    Some(match &image.docker {
        Some(d) if image.r#type == ImageType::Docker => Ok(d.name.clone()),
        _ => Err(format!(
            "Failed to launch container: only DOCKER images are supported (got {:?})",
            image.r#type
        )),
    })
}

/// Gives `spec` its image, if the container has one: fetch, provision, and either wire the
/// command executor to run its task inside it or put the executor itself inside it. An
/// `Err` says why not (see [`ImageError`]).
pub async fn apply(
    agent: &Arc<Agent>,
    framework: &FrameworkInfo,
    executor: &ExecutorInfo,
    command_executor: bool,
    mut spec: ContainerSpec,
) -> Result<ContainerSpec, ImageError> {
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
    let name = name?;
    let Some(images) = agent.config.images.clone() else {
        return Err(ImageError::Failed(format!(
            "Failed to launch container: the container has image '{name}' but this agent has \
             no image support (start it with --image_providers=docker and \
             --isolation=filesystem/linux,docker/runtime)"
        )));
    };
    let reference = Reference::parse(&name)
        .map_err(|e| format!("Failed to launch container: invalid image '{name}': {e}"))?;
    // Registered before the phase is read: a kill either came first (Terminating) or finds
    // the registration and cancels it.
    let (waiting, cancelled) = Waiting::register(&spec.container_id, &reference.to_string());
    let killed = agent
        .state()
        .executor_mut(&fw, &executor.executor_id.value)
        .is_none_or(|e| e.phase == Phase::Terminating);
    if killed {
        return Err(ImageError::Cancelled);
    }
    let dir = provisioner_dir(&agent.config.work_dir, &spec.container_id);
    // A command task's run-task mounts over these; a custom executor's rootfs is the
    // supervisor's and gets nothing added.
    let mount_points = match task {
        Some(_) => run_task_mount_points(&agent.config.sandbox_directory),
        None => Vec::new(),
    };
    let pull = Pull {
        images,
        reference,
        name: name.clone(),
        container_id: spec.container_id.clone(),
        dir: dir.clone(),
        mount_points,
    };
    let (image, rootfs) = prepare_rootfs(pull, waiting, cancelled).await?;
    let wired = match task {
        Some(task) => wire_task(agent, &mut spec, &task, &image.runtime, &rootfs, &dir),
        None => {
            wire_executor(agent, &mut spec, &image.runtime, rootfs);
            Ok(())
        }
    };
    if let Err(e) = wired {
        let _ = oci_bundles::provision::destroy(&dir);
        return Err(e.into());
    }
    Ok(spec)
}

/// What one container's fetch job needs.
struct Pull {
    images: ImageConfig,
    reference: Reference,
    name: String,
    container_id: String,
    dir: PathBuf,
    mount_points: Vec<(PathBuf, MountPointKind)>,
}

/// Fetches and provisions on a blocking thread, publishing progress meanwhile. A
/// cancellation returns at once; the job then stops at its next check (between chunks of a
/// download, before and after provisioning) and undoes its own provisioning.
async fn prepare_rootfs(
    pull: Pull,
    waiting: Waiting,
    mut cancelled: tokio::sync::watch::Receiver<bool>,
) -> Result<(StoredImage, PathBuf), ImageError> {
    let (name, cid) = (pull.name.clone(), pull.container_id.clone());
    let started = std::time::Instant::now();
    pulls().insert(
        cid.clone(),
        ImagePull {
            image: name.clone(),
            phase: "pulling",
            layers: Vec::new(),
        },
    );
    let job = tokio::task::spawn_blocking(move || {
        let _waiting = waiting;
        let result = fetch_and_provision(
            &pull.images,
            &pull.reference,
            &pull.container_id,
            &pull.dir,
            &pull.mount_points,
        );
        if result.is_err() {
            let _ = oci_bundles::provision::destroy(&pull.dir);
        }
        result
    });
    let result = tokio::select! {
        biased;
        r = job => r.map_err(|e| e.to_string()).and_then(|r| r),
        Ok(_) = cancelled.wait_for(|c| *c) => {
            pulls().remove(&cid);
            info!(container_id = cid, image = name, "image wait cancelled");
            return Err(ImageError::Cancelled);
        }
    };
    pulls().remove(&cid);
    match result {
        Ok(r) => {
            let secs = started.elapsed().as_secs_f64();
            info!(container_id = cid, image = name, secs, "image ready");
            Ok(r)
        }
        Err(_) if *cancelled.borrow() => Err(ImageError::Cancelled),
        Err(e) => Err(format!("Failed to launch container: image '{name}': {e}").into()),
    }
}

/// The command executor: writes `task_launch_info` and passes it (Mesos's executor flags).
fn wire_task(
    agent: &Agent,
    spec: &mut ContainerSpec,
    task: &TaskInfo,
    runtime: &RuntimeConfig,
    rootfs: &Path,
    dir: &Path,
) -> Result<(), String> {
    let launch = task_launch_info(agent, spec, task, runtime, rootfs, dir)?;
    spec.command.user = None;
    spec.image_tasks = true;
    let path = dir.join("task_launch_info");
    let json = serde_json::to_vec(&launch).map_err(|e| e.to_string())?;
    std::fs::write(&path, json).map_err(|e| format!("Failed to write {}: {e}", path.display()))?;
    spec.command.argv.extend([
        format!("--task_launch_info={}", path.display()),
        format!("--rootfs={}", rootfs.display()),
        format!(
            "--sandbox_directory={}",
            agent.config.sandbox_directory.display()
        ),
        format!("--launcher_dir={}", agent.config.per_task_dir.display()),
    ]);
    Ok(())
}

/// A custom executor: it runs inside the root filesystem, with the image's environment under
/// its own (the image's `PATH` wins) and `MESOS_SANDBOX` at `--sandbox_directory`.
fn wire_executor(
    agent: &Agent,
    spec: &mut ContainerSpec,
    runtime: &RuntimeConfig,
    rootfs: PathBuf,
) {
    let mut env = image_env(runtime);
    for (k, v) in &spec.command.env {
        if k != "PATH" || !env.iter().any(|(ek, _)| ek == "PATH") {
            set(&mut env, k, v);
        }
    }
    let target = agent.config.sandbox_directory.display().to_string();
    set(&mut env, "MESOS_SANDBOX", &target);
    spec.command.env = env;
    spec.rootfs = Some(rootfs);
}

/// Fetches `reference` and provisions `dir/rootfs` from it for `container_id` (blocking),
/// with the `mount_points` it lacks in a shared layer ([`run_task_mount_points`]); returns the
/// image and the root filesystem. Progress goes to [`pull_json`] while the container is
/// registered there. A container whose wait is cancelled meanwhile gets `Err` and nothing
/// provisioned.
pub fn fetch_and_provision(
    images: &ImageConfig,
    reference: &Reference,
    container_id: &str,
    dir: &Path,
    mount_points: &[(PathBuf, MountPointKind)],
) -> Result<(StoredImage, PathBuf), String> {
    // Opened once for the fetch and the provisioning (opening creates and sweeps directories).
    let store = Store::open(&images.store_dir, Limits::default()).map_err(|e| e.to_string())?;
    let image = fetch(images, &store, reference, container_id)?;
    if waiting::cancelled(container_id) {
        return Err(PullError::Cancelled.to_string());
    }
    if let Some(p) = pulls().get_mut(container_id) {
        p.phase = "provisioning";
    }
    let rootfs =
        oci_bundles::provision::provision_with(&store, &image, dir, images.backend, mount_points)
            .map_err(|e| e.to_string())?;
    if waiting::cancelled(container_id) {
        let _ = oci_bundles::provision::destroy(dir);
        return Err(PullError::Cancelled.to_string());
    }
    Ok((image, rootfs))
}

/// Fetches `reference` into the store (blocking): the cached copy, an import from a
/// `--docker_registry` directory, or a pull from the registry.
fn fetch(
    images: &ImageConfig,
    store: &Store,
    reference: &Reference,
    container_id: &str,
) -> Result<StoredImage, String> {
    // One fetch per image at a time: the tasks behind the first find it in the store.
    let _turn = FetchTurn::take(&reference.to_string(), container_id)
        .ok_or_else(|| PullError::Cancelled.to_string())?;
    for name in [reference.to_string(), reference.name()] {
        if let Some(image) = store.image(&name).map_err(|e| e.to_string())? {
            return Ok(image);
        }
    }
    if images.registry.starts_with("http://") || images.registry.starts_with("https://") {
        let puller = Puller::new(&images.registry, images.docker_config.as_deref())
            .map_err(|e| e.to_string())?;
        return puller
            .pull(store, reference, &Reporter(container_id.to_owned()))
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
            store,
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
    oci_bundles::import_docker_archive(store, &archive)
        .map_err(|e| e.to_string())?
        .into_iter()
        .find(|i| i.reference == reference.name())
        .ok_or_else(|| format!("{} does not hold {}", archive.display(), reference.name()))
}
