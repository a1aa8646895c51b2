//! One container's life, run as a background task that reports to the event loop:
//! pull the image if it is missing (or `force_pull_image`), create `mesos-<container id>`,
//! start it, copy its output to the executor's stdout/stderr, wait for it to exit. A pull
//! carries the credentials for the image's registry from `--docker_config`, if any.

use std::path::PathBuf;
use std::time::Duration;

use meseta_api::TaskInfo;
use meseta_docker::mesos::{container_config, docker_info, RunOptions};
use meseta_docker::{Docker, RegistryAuth};
use tokio::sync::mpsc::UnboundedSender;

/// How long to wait for the last of the container's output after it exited.
const LOG_DRAIN_TIMEOUT: Duration = Duration::from_secs(5);

/// What the runner reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RunEvent {
    /// The container runs; its first process has this host pid.
    Started {
        /// `State.Pid`.
        pid: i32,
        /// Its address on a Docker network (bridge, user network); `None` on the host network.
        ip: Option<String>,
    },
    /// The container could not be run; the TASK_FAILED message.
    Failed(String),
    /// The container exited.
    Exited {
        /// Its exit code.
        code: i64,
        /// Whether the kernel OOM-killed it.
        oom_killed: bool,
    },
}

/// Runs `task` in the container `opts.name`, reporting through `events`; pulls with the
/// credentials in the Docker config file `docker_config`.
pub async fn run(
    docker: Docker,
    task: TaskInfo,
    opts: RunOptions,
    docker_config: Option<PathBuf>,
    events: UnboundedSender<RunEvent>,
) {
    let report = |e: RunEvent| {
        let _ = events.send(e);
    };
    let name = opts.name.clone();
    if let Err(message) = prepare(&docker, &task, &opts, docker_config).await {
        report(RunEvent::Failed(message));
        return;
    }
    let (pid, ip) = match docker.inspect(&name).await {
        Ok(Some(c)) => {
            let ip = Some(c.network_settings.ip_address).filter(|ip| !ip.is_empty());
            (c.state.pid, ip)
        }
        Ok(None) => (0, None),
        Err(err) => {
            tracing::warn!(%err, "cannot inspect the started container");
            (0, None)
        }
    };
    tracing::info!(container = name, pid, ?ip, "container started");
    report(RunEvent::Started { pid, ip });
    let logs = match docker.logs(&name).await {
        Ok(body) => Some(tokio::spawn(async move {
            let (Some(mut out), Some(mut err)) =
                (dup_file(&std::io::stdout()), dup_file(&std::io::stderr()))
            else {
                tracing::warn!("cannot duplicate stdout/stderr for the container's output");
                return;
            };
            if let Err(e) = meseta_docker::logs::copy_logs(body, &mut out, &mut err).await {
                tracing::warn!(%e, "the container's log stream broke");
            }
        })),
        Err(err) => {
            tracing::warn!(%err, "cannot follow the container's output");
            None
        }
    };
    let code = match docker.wait(&name).await {
        Ok(code) => code,
        Err(err) => {
            report(RunEvent::Failed(format!(
                "Failed to wait for container {name}: {err}"
            )));
            return;
        }
    };
    if let Some(logs) = logs {
        let _ = tokio::time::timeout(LOG_DRAIN_TIMEOUT, logs).await;
    }
    let oom_killed = matches!(docker.inspect(&name).await, Ok(Some(c)) if c.state.oom_killed);
    report(RunEvent::Exited { code, oom_killed });
}

/// Pull if needed, create, start. An `Err` is the TASK_FAILED message.
async fn prepare(
    docker: &Docker,
    task: &TaskInfo,
    opts: &RunOptions,
    docker_config: Option<PathBuf>,
) -> Result<(), String> {
    let info = docker_info(task).map_err(|e| e.to_string())?;
    let config = container_config(task, opts).map_err(|e| format!("Invalid docker task: {e}"))?;
    let image = &info.image;
    let present = docker
        .image_inspect(image)
        .await
        .map_err(|e| format!("Failed to inspect image '{image}': {e}"))?
        .is_some();
    if !present || info.force_pull_image == Some(true) {
        let auth = registry_auth(docker_config, image).await?;
        tracing::info!(
            image,
            present,
            with_credentials = auth.is_some(),
            "pulling image"
        );
        let mut last = String::new();
        let mut progress = |line: &meseta_docker::types::ProgressLine| {
            let text = format!("{} {}", line.id, line.status);
            if text != last && line.progress_detail.total == 0 {
                tracing::info!(image = %line.id, status = %line.status, "pull");
                last = text;
            }
        };
        docker
            .pull_with_auth(image, auth.as_ref(), &mut progress)
            .await
            .map_err(|e| format!("Failed to pull image '{image}': {e}"))?;
    }
    let name = &opts.name;
    // A container of this name can only be left over from an earlier attempt of this very
    // container id; the name must be free.
    if let Ok(Some(_)) = docker.inspect(name).await {
        tracing::warn!(
            container = name,
            "removing a leftover container of the same name"
        );
        let _ = docker.remove(name).await;
    }
    docker
        .create(name, &config)
        .await
        .map_err(|e| format!("Failed to create container {name}: {e}"))?;
    // A container that fails to start is kept for inspection; the agent removes it after
    // --docker_remove_delay like any other.
    if let Err(err) = docker.start(name).await {
        return Err(format!("Failed to start container {name}: {err}"));
    }
    Ok(())
}

/// The credentials for `image`'s registry in the Docker config file `path`; an `Err` is the
/// TASK_FAILED message.
async fn registry_auth(path: Option<PathBuf>, image: &str) -> Result<Option<RegistryAuth>, String> {
    let Some(path) = path else {
        return Ok(None);
    };
    let text = tokio::fs::read_to_string(&path)
        .await
        .map_err(|e| format!("Failed to read --docker_config {}: {e}", path.display()))?;
    RegistryAuth::for_image(&text, image)
        .map_err(|e| format!("Failed to pull image '{image}': {e}"))
}

/// An async file on a duplicate of `fd` (the sandbox's stdout/stderr files the agent gave
/// the executor); tokio's own `stdout()` needs a feature the workspace does not enable.
fn dup_file(fd: &impl std::os::fd::AsFd) -> Option<tokio::fs::File> {
    let owned = fd.as_fd().try_clone_to_owned().ok()?;
    Some(tokio::fs::File::from_std(std::fs::File::from(owned)))
}
