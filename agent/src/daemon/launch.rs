//! RUN_TASK: find or create the task's executor, prepare its sandbox (with the `latest`
//! symlink), build its command and environment, and launch its container. The task waits in
//! the executor's queue until the executor subscribes (see `http::executor_api`).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use meseta_api::internal::RunTask;
use meseta_api::{
    CommandInfo, ExecutorId, ExecutorInfo, FrameworkId, Reason, Resource, TaskInfo, TaskState,
};
use tracing::{error, info, warn};

use super::env::{executor_env, executor_runs_dir, sandbox_dir, EnvInput};
use super::state::{Executor, Framework, Phase};
use super::{lifecycle, updates, Agent};
use crate::containerizer::mesos::ContainerSpec;
use crate::containerizer::Command;

/// Handles one RUN_TASK event: the task is recorded at once (so a KILL_TASK right behind it
/// finds it), the container is launched in the background.
pub fn run_task(agent: &Arc<Agent>, run: RunTask) {
    let Some(fw_id) = run.framework.id.clone() else {
        warn!(task_id = %run.task.task_id, "RUN_TASK without a framework id; dropped");
        return;
    };
    let task = run.task;
    tracing::debug!(target: "meseta::timing", stage = "agent.run_task", task_id = %task.task_id);
    let executor = executor_info(agent, &fw_id, &task);
    let ex_id = executor.executor_id.clone();
    // Ids become path components of the sandbox: refuse anything that could escape it.
    if let Some(bad) = [&fw_id.value, &ex_id.value]
        .into_iter()
        .find(|id| !safe_id(id))
    {
        warn!(task_id = %task.task_id, id = bad, "RUN_TASK with an id unusable in a path");
        updates::agent_update(
            agent,
            &fw_id,
            &ex_id,
            task.task_id,
            TaskState::Failed,
            Reason::ContainerLaunchFailed,
            format!("Invalid id '{bad}': ids must not be empty, '.', '..' or contain '/'"),
        );
        return;
    }
    let container_id = uuid::Uuid::new_v4().to_string();
    let (directory, agent_id) = {
        let mut state = agent.state();
        let Some(agent_id) = state.agent_id.clone() else {
            warn!(task_id = %task.task_id, "RUN_TASK before registration; dropped");
            return;
        };
        let framework = state
            .frameworks
            .entry(fw_id.value.clone())
            .or_insert_with(|| Framework {
                info: run.framework.clone(),
                executors: Default::default(),
                completed_executors: Default::default(),
                shutting_down: false,
            });
        framework.info = run.framework.clone();
        framework.shutting_down = false;
        let checkpoint = run.framework.checkpoint == Some(true);
        if let Some(existing) = framework.executors.get_mut(&ex_id.value) {
            if checkpoint {
                agent.checkpointer.task(
                    &agent_id.value,
                    &fw_id.value,
                    &ex_id.value,
                    &existing.container_id,
                    &task,
                );
            }
            queue_or_launch(existing, task);
            return;
        }
        if checkpoint {
            agent
                .checkpointer
                .executor(&agent_id.value, &run.framework, &executor, &container_id);
            agent.checkpointer.task(
                &agent_id.value,
                &fw_id.value,
                &ex_id.value,
                &container_id,
                &task,
            );
        }
        let directory = sandbox_dir(
            &agent.config.work_dir,
            &agent_id.value,
            &fw_id.value,
            &ex_id.value,
            &container_id,
        );
        let (cpus, mem_mb) = limits(&task.resources, &executor.resources);
        framework.executors.insert(
            ex_id.value.clone(),
            Executor {
                command_executor: task.executor.is_none(),
                info: executor.clone(),
                container_id: container_id.clone(),
                directory: directory.clone(),
                phase: Phase::Registering,
                queued: vec![task],
                tasks: Default::default(),
                completed_tasks: Default::default(),
                events: None,
                launched: None,
                cpus,
                mem_mb,
                end_reason: None,
                recovered: false,
                pending_kills: Vec::new(),
            },
        );
        (directory, agent_id)
    };
    let job = Job {
        framework: run.framework,
        executor,
        agent_id: agent_id.value,
        container_id,
        directory,
    };
    tokio::spawn(launch(agent.clone(), job));
}

/// Whether `id` is usable as one path component.
fn safe_id(id: &str) -> bool {
    !(id.is_empty() || id == "." || id == ".." || id.contains('/') || id.contains('\0'))
}

/// A container to start for a new executor.
#[derive(Debug)]
struct Job {
    framework: meseta_api::FrameworkInfo,
    executor: ExecutorInfo,
    agent_id: String,
    container_id: String,
    directory: PathBuf,
}

async fn launch(agent: Arc<Agent>, mut job: Job) {
    let fw_id = job.framework.id.clone().unwrap_or_default();
    let ex_id = job.executor.executor_id.clone();
    let container_id = job.container_id.clone();
    if let Err(message) =
        super::containerizers::admit(&agent, &mut job.executor, &container_id).await
    {
        return launch_failed(&agent, &fw_id, &ex_id, &message);
    }
    // The sandbox is created (and the user looked up) on the blocking pool, never on the
    // runtime's thread.
    let prepared = {
        let (agent, framework, executor) =
            (agent.clone(), job.framework.clone(), job.executor.clone());
        let (agent_id, id, directory) = (
            job.agent_id.clone(),
            container_id.clone(),
            job.directory.clone(),
        );
        tokio::task::spawn_blocking(move || {
            prepare(&agent, &framework, &executor, &agent_id, &id, &directory)
        })
        .await
        .unwrap_or_else(|e| Err(format!("Failed to prepare the sandbox: {e}")))
    };
    let spec = match prepared {
        Ok(spec) => spec,
        Err(message) => return launch_failed(&agent, &fw_id, &ex_id, &message),
    };
    // A task with an image: the image is fetched and provisioned before the launch (and
    // its registration timeout).
    let command_executor = agent
        .state()
        .executor_mut(&fw_id.value, &ex_id.value)
        .is_some_and(|e| e.command_executor);
    let spec = match super::image::apply(
        &agent,
        &job.framework,
        &job.executor,
        command_executor,
        spec,
    )
    .await
    {
        Ok(spec) => spec,
        Err(super::image::ImageError::Failed(message)) => {
            return launch_failed(&agent, &fw_id, &ex_id, &message)
        }
        Err(super::image::ImageError::Cancelled) => {
            return lifecycle::killed_while_provisioning(&agent, &fw_id, &ex_id, &container_id)
        }
    };
    info!(framework_id = %fw_id, executor_id = %ex_id, container_id, "launching executor");
    tracing::debug!(target: "meseta::timing", stage = "agent.launch", executor_id = %ex_id);
    match agent.containerizer.launch(spec).await {
        Ok(launched) => {
            tracing::debug!(target: "meseta::timing", stage = "agent.launched", executor_id = %ex_id);
            let killed_meanwhile = {
                let mut state = agent.state();
                match state.executor_mut(&fw_id.value, &ex_id.value) {
                    Some(e) => {
                        e.launched = Some(launched);
                        e.phase == Phase::Terminating
                    }
                    None => true,
                }
            };
            if killed_meanwhile {
                let _ = agent
                    .containerizer
                    .kill(&container_id, std::time::Duration::ZERO);
            }
            super::containerizers::launched(&agent, &job.executor, &container_id);
            tokio::spawn(lifecycle::watch(
                agent.clone(),
                fw_id.clone(),
                ex_id.clone(),
                container_id.clone(),
            ));
            tokio::spawn(lifecycle::registration_timeout(
                agent,
                fw_id,
                ex_id,
                container_id,
            ));
        }
        Err(err) => {
            agent.state().counters.container_launch_errors += 1;
            error!(executor_id = %ex_id, %err, "container launch failed");
            launch_failed(
                &agent,
                &fw_id,
                &ex_id,
                &format!("Failed to launch container: {err}"),
            );
        }
    }
}

/// A task for an executor that already exists: straight to it when subscribed, else queued.
fn queue_or_launch(executor: &mut Executor, task: TaskInfo) {
    if executor.phase == Phase::Running && executor.subscribed() {
        let id = task.task_id.value.clone();
        updates::send_event(executor, &meseta_api::executor::Event::launch(task.clone()));
        executor.tasks.insert(
            id,
            super::state::TaskEntry {
                info: Box::new(task),
                state: TaskState::Staging,
                statuses: Vec::new(),
            },
        );
    } else {
        executor.queued.push(task);
    }
}

/// Fails every task of an executor that could not start, and forgets the executor.
fn launch_failed(agent: &Agent, fw: &FrameworkId, ex: &ExecutorId, message: &str) {
    let ids = agent
        .state()
        .executor_mut(&fw.value, &ex.value)
        .map(|e| {
            let mut ids: Vec<String> = e.queued.iter().map(|t| t.task_id.value.clone()).collect();
            let live = e.tasks.values().filter(|t| !t.state.is_terminal());
            ids.extend(live.map(|t| t.info.task_id.value.clone()));
            ids
        })
        .unwrap_or_default();
    for id in ids {
        updates::agent_update(
            agent,
            fw,
            ex,
            meseta_api::TaskId::new(id),
            TaskState::Failed,
            Reason::ContainerLaunchFailed,
            message,
        );
    }
    agent.state().retire_executor(&fw.value, &ex.value);
}

/// The task's own executor, or the command executor (executor id = task id).
fn executor_info(agent: &Agent, fw_id: &FrameworkId, task: &TaskInfo) -> ExecutorInfo {
    if let Some(docker) = super::containerizers::docker_executor_info(agent, fw_id, task) {
        return docker;
    }
    if let Some(e) = &task.executor {
        let mut e = e.clone();
        e.framework_id = Some(fw_id.clone());
        return e;
    }
    let cmd = task.command.clone().unwrap_or_default();
    let launcher = agent.config.per_task_dir.join("mesos-executor");
    let mut command = CommandInfo::shell(String::new());
    command.shell = Some(false);
    command.value = Some(launcher.display().to_string());
    command.arguments = vec!["mesos-executor".into()];
    command.environment = cmd.environment.clone();
    command.user = cmd.user.clone();
    ExecutorInfo {
        executor_id: ExecutorId::new(task.task_id.value.clone()),
        framework_id: Some(fw_id.clone()),
        name: Some(format!(
            "Command Executor (Task: {}) (Command: sh -c '{}')",
            task.task_id,
            cmd.value.as_deref().unwrap_or_default()
        )),
        source: Some(task.task_id.value.clone()),
        command: Some(command),
        // Mesos's allowance for the command executor itself (DEFAULT_EXECUTOR_CPUS/MEM).
        resources: meseta_api::resource_parse::parse_resources("cpus:0.1;mem:32", "*")
            .unwrap_or_default(),
        ..ExecutorInfo::default()
    }
}

/// The container's cpus and memory limits: the task's plus the executor's.
fn limits(task: &[Resource], executor: &[Resource]) -> (Option<f64>, Option<f64>) {
    let total = |name: &str| {
        let sum: f64 = task
            .iter()
            .chain(executor)
            .filter(|r| r.name == name)
            .filter_map(|r| r.scalar.as_ref().map(|s| s.value))
            .sum();
        // Mesos's scalars are fixed-point to three decimals: 0.2 + 0.1 is 0.3, not
        // 0.30000000000000004.
        let sum = (sum * 1000.0).round() / 1000.0;
        (sum > 0.0).then_some(sum)
    };
    (total("cpus"), total("mem"))
}

/// Creates the sandbox and the container spec; an `Err` is the TASK_FAILED message.
fn prepare(
    agent: &Agent,
    framework: &meseta_api::FrameworkInfo,
    executor: &ExecutorInfo,
    agent_id: &str,
    container_id: &str,
    directory: &Path,
) -> Result<ContainerSpec, String> {
    let cmd = executor.command.clone().unwrap_or_default();
    let user = run_as(agent, framework, &cmd)?;
    std::fs::create_dir_all(directory)
        .map_err(|e| format!("Failed to create sandbox {}: {e}", directory.display()))?;
    let fw = framework
        .id
        .as_ref()
        .map(|i| i.value.as_str())
        .unwrap_or_default();
    let runs = executor_runs_dir(
        &agent.config.work_dir,
        agent_id,
        fw,
        &executor.executor_id.value,
    );
    let latest = runs.join("latest");
    let _ = std::fs::remove_file(&latest);
    std::os::unix::fs::symlink(container_id, &latest)
        .map_err(|e| format!("Failed to link {}: {e}", latest.display()))?;
    let home = match &user {
        Some((name, uid, gid, home)) => {
            // The agent (root) just created the sandbox: for tasks running as root it is
            // theirs already, and a chown would only write the inode again.
            use std::os::unix::fs::MetadataExt;
            let owned = std::fs::symlink_metadata(directory)
                .is_ok_and(|m| m.uid() == uid.as_raw() && m.gid() == gid.as_raw());
            if !owned {
                nix::unistd::chown(directory, Some(*uid), Some(*gid))
                    .map_err(|e| format!("Failed to chown sandbox to {name}: {e}"))?;
            }
            Some(home.clone())
        }
        None => None,
    };
    let mut env = executor_env(&EnvInput {
        config: &agent.config,
        endpoint: agent.advertised.to_string(),
        agent_id,
        framework,
        executor,
        directory,
        home,
    });
    // Mesos gives the token whenever --jwt_secret_key is set; it is the agent's, never the
    // framework's: it replaces any value from CommandInfo.environment.
    if let Some(key) = &agent.config.executor_auth.key {
        let token = crate::executor_auth::token(key, fw, &executor.executor_id.value, container_id);
        env.retain(|(k, _)| k != crate::executor_auth::TOKEN_ENV);
        env.push((crate::executor_auth::TOKEN_ENV.into(), token));
    }
    let argv = argv(&cmd)?;
    let command = Command {
        argv,
        env,
        user: user.map(|(name, ..)| name),
    };
    let (cpus, mem_mb) = {
        let mut state = agent.state();
        state
            .executor_mut(fw, &executor.executor_id.value)
            .map(|e| (e.cpus, e.mem_mb))
            .unwrap_or_default()
    };
    let mut spec = ContainerSpec::new(container_id, command, directory);
    spec.cpus = cpus;
    spec.mem_mb = mem_mb;
    Ok(spec)
}

fn argv(cmd: &CommandInfo) -> Result<Vec<String>, String> {
    let value = cmd.value.clone().unwrap_or_default();
    if cmd.shell.unwrap_or(true) {
        if value.is_empty() {
            return Err("The executor's command is empty".into());
        }
        return Ok(vec!["/bin/sh".into(), "-c".into(), value]);
    }
    if value.is_empty() {
        return Err("The executor's command has no value".into());
    }
    let mut argv = vec![value];
    argv.extend(cmd.arguments.iter().skip(1).cloned());
    Ok(argv)
}

type RunAs = Option<(String, nix::unistd::Uid, nix::unistd::Gid, PathBuf)>;

/// The user to switch to (`--switch_user` and the agent is root), checked to exist.
fn run_as(
    agent: &Agent,
    framework: &meseta_api::FrameworkInfo,
    cmd: &CommandInfo,
) -> Result<RunAs, String> {
    if !agent.config.switch_user || !nix::unistd::Uid::effective().is_root() {
        return Ok(None);
    }
    let name = cmd.user.clone().unwrap_or_else(|| framework.user.clone());
    if name.is_empty() {
        return Ok(None);
    }
    match nix::unistd::User::from_name(&name) {
        Ok(Some(u)) => Ok(Some((name, u.uid, u.gid, u.dir))),
        Ok(None) => Err(format!(
            "Failed to launch container: user '{name}' does not exist on this agent \
             (--switch_user is on)"
        )),
        Err(e) => Err(format!("Failed to look up user '{name}': {e}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_sum_like_mesos_scalars() {
        let r = |s: &str| meseta_api::resource_parse::parse_resources(s, "*").unwrap();
        let (cpus, mem) = limits(&r("cpus:0.2;mem:32"), &r("cpus:0.1;mem:32"));
        assert_eq!(cpus, Some(0.3));
        assert_eq!(mem, Some(64.0));
        assert_eq!(limits(&r("mem:1"), &[]).0, None);
    }

    #[test]
    fn ids_that_escape_the_sandbox_are_refused() {
        assert!(safe_id("fw-0000") && safe_id("my.executor"));
        for bad in ["", ".", "..", "../x", "a/b", "x\0"] {
            assert!(!safe_id(bad), "{bad:?}");
        }
    }
}
