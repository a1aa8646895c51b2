//! Containerizer selection (`--containerizers`, tried in order, as Mesos' composing
//! containerizer does): a task whose `ContainerInfo.type` is `DOCKER` goes to the `docker`
//! containerizer, everything else to `mesos`.
//!
//! A DOCKER command task gets `mesos-docker-executor` as its executor, started like any
//! executor by the `mesos` containerizer (a plain host process, no image); the executor runs
//! the task in the Docker container `mesos-<container id>`. This module also watches that
//! container for the agent (stats, cleanup when the executor is gone) and removes orphans
//! after a restart. A DOCKER task on an agent without `docker` in `--containerizers`, or
//! with dockerd unreachable, ends TASK_FAILED with the reason in the message.

use std::sync::Arc;
use std::time::Duration;

use meseta_api::{
    CommandInfo, ContainerType, ExecutorId, ExecutorInfo, FrameworkId, ResourceStatistics, TaskInfo,
};
use tracing::{info, warn};

use super::Agent;
use crate::containerizer::docker::{container_name, DockerConfig, DockerContainerizer};
use crate::flags::{format_duration, Config};

/// How often a docker container's executor is checked when the agent cannot wait on it.
const POLL: Duration = Duration::from_secs(1);

/// The docker containerizer when `--containerizers` lists `docker`.
pub fn docker_containerizer(config: &Config) -> Option<DockerContainerizer> {
    config
        .containerizers
        .iter()
        .any(|c| c == "docker")
        .then(|| {
            // Authentication.
            let docker_config_file = config.docker_config.as_deref().map(|json| {
                let written =
                    crate::containerizer::docker::write_docker_config(&config.runtime_dir, json);
                written.unwrap_or_else(|err| {
                    // The executor's pull then fails naming this path and the error.
                    warn!(%err, "cannot write --docker_config for the docker executors");
                    config.runtime_dir.join("docker/config.json")
                })
            });
            DockerContainerizer::new(DockerConfig {
                socket: config.docker_socket.clone(),
                docker: config.docker.clone(),
                stop_timeout: config.docker_stop_timeout,
                remove_delay: config.docker_remove_delay,
                kill_orphans: config.docker_kill_orphans,
                cgroups_hierarchy: config.cgroups_hierarchy.clone(),
                docker_config_file,
                removals_dir: Some(config.work_dir.join("meta/docker/removals")),
            })
        })
}

fn is_docker(container: Option<&meseta_api::ContainerInfo>) -> bool {
    container.is_some_and(|c| c.r#type == ContainerType::Docker)
}

/// The executor of a DOCKER command task: `mesos-docker-executor` with Mesos' docker
/// executor flags, carrying the task's `ContainerInfo`. `None` for every other task.
pub fn docker_executor_info(
    agent: &Agent,
    fw_id: &FrameworkId,
    task: &TaskInfo,
) -> Option<ExecutorInfo> {
    if task.executor.is_some() || !is_docker(task.container.as_ref()) {
        return None;
    }
    let config = &agent.config;
    let launcher = config.launcher_dir.join("mesos-docker-executor");
    let mut command = CommandInfo::shell(String::new());
    command.shell = Some(false);
    command.value = Some(launcher.display().to_string());
    command.arguments = vec![
        "mesos-docker-executor".into(),
        format!("--docker={}", config.docker),
        format!("--docker_socket={}", config.docker_socket.display()),
        format!("--mapped_directory={}", config.sandbox_directory.display()),
        format!(
            "--stop_timeout={}",
            format_duration(config.docker_stop_timeout)
        ),
        format!("--launcher_dir={}", config.launcher_dir.display()),
        format!("--cgroups_enable_cfs={}", config.cgroups_enable_cfs),
    ];
    // Authentication.
    if let Some(file) = agent
        .docker
        .as_ref()
        .and_then(|d| d.config.docker_config_file.as_ref())
    {
        command
            .arguments
            .push(format!("--docker_config={}", file.display()));
    }
    let cmd = task.command.clone().unwrap_or_default();
    // Mesos runs the docker executor as the agent's user: it needs the Docker socket, and
    // the task's user applies inside the container (`--user` parameter, image USER).
    command.user = Some("root".into());
    let image = task
        .container
        .as_ref()
        .and_then(|c| c.docker.as_ref())
        .map(|d| d.image.clone())
        .unwrap_or_default();
    Some(ExecutorInfo {
        executor_id: ExecutorId::new(task.task_id.value.clone()),
        framework_id: Some(fw_id.clone()),
        name: Some(format!(
            "Docker Executor (Task: {}) (Image: {image}) (Command: sh -c '{}')",
            task.task_id,
            cmd.value.as_deref().unwrap_or_default()
        )),
        source: Some(task.task_id.value.clone()),
        command: Some(command),
        container: task.container.clone(),
        resources: meseta_api::resource_parse::parse_resources("cpus:0.1;mem:32", "*")
            .unwrap_or_default(),
        ..ExecutorInfo::default()
    })
}

/// Before launching `executor` in `container_id`: a DOCKER executor needs `docker` in
/// `--containerizers` and a reachable dockerd, and gets `--container=mesos-<id>`. An `Err`
/// is the TASK_FAILED message. Other executors pass unchanged.
pub async fn admit(
    agent: &Agent,
    executor: &mut ExecutorInfo,
    container_id: &str,
) -> Result<(), String> {
    let wants_docker = is_docker(executor.container.as_ref());
    select(&agent.config.containerizers, wants_docker)?;
    if !wants_docker {
        return Ok(());
    }
    let Some(docker) = &agent.docker else {
        return Err("the docker containerizer is not set up".into());
    };
    let is_docker_executor = executor
        .command
        .as_ref()
        .and_then(|c| c.arguments.first())
        .is_some_and(|a| a == "mesos-docker-executor");
    if !is_docker_executor {
        return Err(
            "custom executors in DOCKER containers are not supported yet; use a command task \
             with ContainerInfo.type=DOCKER"
                .into(),
        );
    }
    if let Err(err) = docker.available().await {
        return Err(format!(
            "Failed to launch docker container: Docker is not available: {err}"
        ));
    }
    if let Some(command) = executor.command.as_mut() {
        command
            .arguments
            .push(format!("--container={}", container_name(container_id)));
    }
    Ok(())
}

/// The first containerizer of `--containerizers` (in order) that takes the container:
/// `docker` takes DOCKER containers only, `mesos` everything else. An `Err` says why none does.
pub fn select(containerizers: &[String], docker_container: bool) -> Result<&'static str, String> {
    let wanted = if docker_container { "docker" } else { "mesos" };
    if containerizers.iter().any(|c| c == wanted) {
        return Ok(wanted);
    }
    let list = containerizers.join(",");
    Err(if docker_container {
        format!(
            "ContainerInfo.type is DOCKER but the docker containerizer is not enabled on this \
             agent (--containerizers={list})"
        )
    } else {
        format!(
            "no containerizer for a non-DOCKER container: the mesos containerizer is not \
             enabled on this agent (--containerizers={list})"
        )
    })
}

/// After the executor's launch: watch its docker container.
pub fn launched(agent: &Arc<Agent>, executor: &ExecutorInfo, container_id: &str) {
    if let Some(docker) = agent
        .docker
        .as_ref()
        .filter(|_| is_docker(executor.container.as_ref()))
    {
        docker.track(container_id);
        tokio::spawn(watch(agent.clone(), container_id.to_owned()));
    }
}

/// Whether an executor with this container id is still alive in the agent's state.
fn executor_alive(agent: &Agent, container_id: &str) -> bool {
    let state = agent.state();
    state.frameworks.values().any(|f| {
        f.executors
            .values()
            .any(|e| e.container_id == container_id && e.phase != super::state::Phase::Terminated)
    })
}

/// Learns the container's pid while its executor lives, then cleans the container up.
async fn watch(agent: Arc<Agent>, container_id: String) {
    let Some(docker) = agent.docker.clone() else {
        return;
    };
    let mut running = false;
    loop {
        if !running {
            running = docker.refresh(&container_id).await;
        }
        if !executor_alive(&agent, &container_id) {
            break;
        }
        tokio::select! {
            ended = agent.containerizer.wait(&container_id) => {
                if ended.is_ok() {
                    break;
                }
                tokio::time::sleep(POLL).await;
            }
            () = tokio::time::sleep(POLL) => {}
        }
    }
    docker.cleanup(&container_id).await;
}

/// After an agent restart: watch the docker containers of recovered executors, remove the
/// `mesos-*` containers nobody owns (`--docker_kill_orphans`).
pub async fn recover(agent: Arc<Agent>) {
    let Some(docker) = agent.docker.clone() else {
        return;
    };
    let known: Vec<String> = {
        let state = agent.state();
        state
            .frameworks
            .values()
            .flat_map(|f| f.executors.values())
            .filter(|e| is_docker(e.info.container.as_ref()))
            .map(|e| e.container_id.clone())
            .collect()
    };
    match docker.recover(&known).await {
        Ok(orphans) if !orphans.is_empty() => info!(?orphans, "removed orphan docker containers"),
        Ok(_) => {}
        Err(err) => warn!(%err, "listing docker containers failed; orphans are left"),
    }
    for id in known {
        docker.track(&id);
        tokio::spawn(watch(agent.clone(), id));
    }
}

/// Usage of a container: the docker container's cgroup for DOCKER executors, the `mesos`
/// containerizer's otherwise. Blocking (cgroup files, `/proc`).
pub fn usage(
    agent: &Agent,
    container_id: &str,
    cpus: Option<f64>,
    mem_mb: Option<f64>,
) -> Option<ResourceStatistics> {
    usage_of(agent, &[(container_id, cpus, mem_mb)]).remove(container_id)
}

/// Usage of many containers (`(id, cpus, mem_mb)`) at once, keyed by container id; one pass
/// over `/proc` serves every `mesos` container without cgroups. Blocking.
pub fn usage_of(
    agent: &Agent,
    containers: &[(&str, Option<f64>, Option<f64>)],
) -> std::collections::HashMap<String, ResourceStatistics> {
    let mut out = std::collections::HashMap::with_capacity(containers.len());
    let mut mesos = Vec::with_capacity(containers.len());
    for &(id, cpus, mem_mb) in containers {
        match agent.docker.as_ref().filter(|d| d.tracks(id)) {
            // Never the executor's own cgroup: nothing until the container runs.
            Some(docker) => {
                let stats = isolators::Limits::new(cpus, mem_mb, false)
                    .ok()
                    .and_then(|limits| docker.usage(id, &limits));
                if let Some(stats) = stats {
                    out.insert(id.to_owned(), stats);
                }
            }
            None => mesos.push(id),
        }
    }
    out.extend(agent.containerizer.usage_many(&mesos));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn containerizers_are_tried_in_order_by_container_type() {
        let list = |s: &str| s.split(',').map(str::to_owned).collect::<Vec<_>>();
        assert_eq!(select(&list("docker,mesos"), true), Ok("docker"));
        assert_eq!(select(&list("docker,mesos"), false), Ok("mesos"));
        assert_eq!(select(&list("mesos"), false), Ok("mesos"));
        let e = select(&list("mesos"), true).unwrap_err();
        assert!(
            e.contains("docker containerizer is not enabled") && e.contains("=mesos"),
            "{e}"
        );
        let e = select(&list("docker"), false).unwrap_err();
        assert!(e.contains("mesos containerizer is not enabled"), "{e}");
    }
}
