#![allow(clippy::tests_outside_test_module)]
//! The real `mesos-executor` against a fake agent: task states, messages, reasons,
//! commands, environment, kills and SHUTDOWN.

mod fake_agent;

use std::time::{Duration, Instant};

use fake_agent::{
    sandbox, shell_task, spawn_executor, spawn_executor_with_args, wait_exit, Behaviour, FakeAgent,
    EXECUTOR,
};
use meseta_api::executor::{Event, EventType};
use meseta_api::{
    CommandInfo, DurationInfo, Environment, ExecutorId, KillPolicy, Reason, Source, TaskId,
    TaskInfo, TaskState,
};

const EXIT_TIMEOUT: Duration = Duration::from_secs(20);

async fn run_to_end(task: TaskInfo) -> (FakeAgent, tempfile::TempDir) {
    let agent = FakeAgent::start(task, Behaviour::default()).await;
    let (dir, path) = sandbox();
    let mut child = spawn_executor(agent.addr, &path);
    let status = wait_exit(&mut child, &path, EXIT_TIMEOUT).await;
    assert!(
        status.success(),
        "exit {status:?}; log:\n{}",
        fake_agent::log(&path)
    );
    (agent, dir)
}

#[tokio::test]
async fn exit_0_reports_starting_running_finished() {
    let (agent, _dir) = run_to_end(shell_task("exit 0")).await;
    assert_eq!(
        agent.states(),
        [TaskState::Starting, TaskState::Running, TaskState::Finished]
    );
    let mut uuids = Vec::new();
    for status in agent.updates() {
        assert_eq!(status.task_id, TaskId::new(fake_agent::TASK));
        assert_eq!(status.source, Some(Source::Executor));
        assert_eq!(status.executor_id, Some(ExecutorId::new(EXECUTOR)));
        assert!(status.timestamp.is_some_and(|t| t > 1.0e9));
        let uuid = status.uuid.expect("uuid");
        assert_eq!(uuid.0.len(), 16);
        uuids.push(uuid);
    }
    uuids.dedup();
    assert_eq!(uuids.len(), 3, "every update has a fresh uuid");
}

#[tokio::test]
async fn exit_3_reports_failed_with_reason() {
    let (agent, _dir) = run_to_end(shell_task("exit 3")).await;
    let last = agent.updates().pop().expect("updates");
    assert_eq!(last.state, TaskState::Failed);
    assert_eq!(
        last.message.as_deref(),
        Some("Command exited with status 3")
    );
    assert_eq!(last.reason, Some(Reason::CommandExecutorFailed));
    assert_eq!(last.source, Some(Source::Executor));
}

#[tokio::test]
async fn shell_false_execs_value_with_arguments_as_argv() {
    let mut task = shell_task("");
    task.command = Some(CommandInfo {
        shell: Some(false),
        value: Some("/bin/sh".into()),
        arguments: vec![
            "sh".into(),
            "-c".into(),
            "printf '%s|' \"$0\" \"$@\" > args.txt".into(),
            "zero".into(),
            "one".into(),
        ],
        ..CommandInfo::default()
    });
    let (agent, dir) = run_to_end(task).await;
    assert_eq!(agent.states().last(), Some(&TaskState::Finished));
    let args = std::fs::read_to_string(dir.path().join("args.txt")).expect("args.txt in sandbox");
    assert_eq!(args, "zero|one|");
}

#[tokio::test]
async fn a_command_that_cannot_start_reports_starting_then_failed() {
    // TASK_STARTING is written before the fork; a failed exec still ends in exactly one
    // TASK_FAILED after it, each update answered.
    let mut task = shell_task("");
    task.command = Some(CommandInfo {
        shell: Some(false),
        value: Some("/nonexistent/meseta-no-such-program".into()),
        arguments: vec!["x".into()],
        ..CommandInfo::default()
    });
    let (agent, _dir) = run_to_end(task).await;
    assert_eq!(agent.states(), [TaskState::Starting, TaskState::Failed]);
    let last = agent.updates().pop().expect("updates");
    assert!(
        last.message
            .as_deref()
            .is_some_and(|m| m.contains("meseta-no-such-program")),
        "{last:?}"
    );
}

#[tokio::test]
async fn environment_variables_reach_the_task_in_the_sandbox() {
    let mut task = shell_task("echo \"$GREETING $MESOS_EXECUTOR_ID\" > env.txt");
    if let Some(command) = task.command.as_mut() {
        command.environment = Some(Environment::from_pairs([("GREETING", "hello world")]));
    }
    let (agent, dir) = run_to_end(task).await;
    assert_eq!(agent.states().last(), Some(&TaskState::Finished));
    let text = std::fs::read_to_string(dir.path().join("env.txt")).expect("env.txt in sandbox");
    assert_eq!(text.trim(), format!("hello world {EXECUTOR}"));
}

#[tokio::test]
async fn task_environment_flag_and_allocation_role_reach_the_task() {
    let mut task = shell_task("echo \"$FROM_FLAG $SHARED $MESOS_ALLOCATION_ROLE\" > env.txt");
    task.resources = serde_json::from_value(serde_json::json!([
        {"name": "cpus", "type": "SCALAR", "scalar": {"value": 0.1},
         "allocation_info": {"role": "engineering"}}
    ]))
    .expect("resources");
    if let Some(command) = task.command.as_mut() {
        command.environment = Some(Environment::from_pairs([("SHARED", "from-command")]));
    }
    let agent = FakeAgent::start(task, Behaviour::default()).await;
    let (dir, path) = sandbox();
    let flag = r#"--task_environment={"variables":[{"name":"FROM_FLAG","type":"VALUE","value":"flag"},{"name":"SHARED","type":"VALUE","value":"from-flag"}]}"#;
    let mut child =
        spawn_executor_with_args(agent.addr, &path, &["--launcher_dir=/nonexistent", flag]);
    let status = wait_exit(&mut child, &path, EXIT_TIMEOUT).await;
    assert!(
        status.success(),
        "exit {status:?}; log:\n{}",
        fake_agent::log(&path)
    );
    let text = std::fs::read_to_string(dir.path().join("env.txt")).expect("env.txt in sandbox");
    assert_eq!(text.trim(), "flag from-command engineering");
}

#[tokio::test]
async fn task_output_goes_to_the_executor_stdout() {
    let (_agent, dir) = run_to_end(shell_task("echo from-the-task")).await;
    let stdout = std::fs::read_to_string(dir.path().join("stdout")).expect("stdout");
    assert!(stdout.contains("from-the-task"), "stdout: {stdout:?}");
}

async fn kill_running_task(command: &str, grace: Option<Duration>) -> (FakeAgent, Duration) {
    kill_running_task_with(command, grace, Behaviour::default()).await
}

async fn kill_running_task_with(
    command: &str,
    grace: Option<Duration>,
    behaviour: Behaviour,
) -> (FakeAgent, Duration) {
    let agent = FakeAgent::start(shell_task(command), behaviour).await;
    let (_dir, path) = sandbox();
    let mut child = spawn_executor(agent.addr, &path);
    agent.wait_for_state(TaskState::Running, EXIT_TIMEOUT).await;
    // Give the shell time to install its trap before it is signalled.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let policy = grace.map(|g| KillPolicy {
        grace_period: Some(DurationInfo::from_duration(g)),
    });
    let started = Instant::now();
    agent.send(Event::kill(TaskId::new(fake_agent::TASK), policy));
    let status = wait_exit(&mut child, &path, EXIT_TIMEOUT).await;
    assert!(
        status.success(),
        "exit {status:?}; log:\n{}",
        fake_agent::log(&path)
    );
    (agent, started.elapsed())
}

#[tokio::test]
async fn kill_sends_killing_then_killed_by_sigterm() {
    let (agent, elapsed) = kill_running_task("sleep 100", None).await;
    assert_eq!(
        agent.states(),
        [
            TaskState::Starting,
            TaskState::Running,
            TaskState::Killing,
            TaskState::Killed
        ]
    );
    let last = agent.updates().pop().expect("updates");
    assert_eq!(
        last.message.as_deref(),
        Some("Command terminated with signal SIGTERM")
    );
    assert_eq!(last.reason, None);
    assert!(elapsed < Duration::from_secs(2), "took {elapsed:?}");
}

#[tokio::test]
async fn no_task_killing_for_frameworks_without_the_capability() {
    let behaviour = Behaviour {
        killing_capable: false,
        ..Behaviour::default()
    };
    let (agent, _) = kill_running_task_with("sleep 100", None, behaviour).await;
    assert_eq!(
        agent.states(),
        [TaskState::Starting, TaskState::Running, TaskState::Killed]
    );
}

#[tokio::test]
async fn task_ignoring_sigterm_is_sigkilled_after_the_grace_period() {
    let grace = Duration::from_secs(1);
    let (agent, elapsed) = kill_running_task("trap '' TERM; sleep 100", Some(grace)).await;
    let last = agent.updates().pop().expect("updates");
    assert_eq!(last.state, TaskState::Killed);
    assert_eq!(
        last.message.as_deref(),
        Some("Command terminated with signal SIGKILL")
    );
    assert!(
        elapsed >= grace,
        "killed after {elapsed:?}, before the grace period"
    );
    assert!(elapsed < Duration::from_secs(5), "took {elapsed:?}");
}

#[tokio::test]
async fn task_kill_policy_sets_the_grace_period() {
    let mut task = shell_task("trap '' TERM; sleep 100");
    task.kill_policy = Some(KillPolicy {
        grace_period: Some(DurationInfo::from_duration(Duration::from_millis(500))),
    });
    let agent = FakeAgent::start(task, Behaviour::default()).await;
    let (_dir, path) = sandbox();
    let mut child = spawn_executor(agent.addr, &path);
    agent.wait_for_state(TaskState::Running, EXIT_TIMEOUT).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let started = Instant::now();
    agent.send(Event::kill(TaskId::new(fake_agent::TASK), None));
    assert!(wait_exit(&mut child, &path, EXIT_TIMEOUT).await.success());
    let elapsed = started.elapsed();
    assert!(elapsed >= Duration::from_millis(500) && elapsed < Duration::from_millis(1900));
    assert_eq!(agent.states().last(), Some(&TaskState::Killed));
}

#[tokio::test]
async fn shutdown_kills_the_task_and_exits() {
    let agent = FakeAgent::start(shell_task("sleep 100"), Behaviour::default()).await;
    let (_dir, path) = sandbox();
    let mut child = spawn_executor(agent.addr, &path);
    agent.wait_for_state(TaskState::Running, EXIT_TIMEOUT).await;
    agent.send(Event::bare(EventType::Shutdown));
    assert!(wait_exit(&mut child, &path, EXIT_TIMEOUT).await.success());
    assert_eq!(agent.states().last(), Some(&TaskState::Killed));
}

#[tokio::test]
async fn missing_environment_exits_1_with_one_line() {
    let output = tokio::process::Command::new(env!("CARGO_BIN_EXE_mesos-executor"))
        .env_clear()
        .env("MESOS_FRAMEWORK_ID", "fw")
        .output()
        .await
        .expect("run mesos-executor");
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(stderr.lines().count(), 1, "stderr: {stderr:?}");
    assert!(
        stderr.contains("MESOS_AGENT_ENDPOINT"),
        "stderr: {stderr:?}"
    );
}

#[tokio::test]
async fn sigkill_not_sent_by_the_executor_is_a_failure_not_a_kill() {
    // What the kernel OOM killer does: SIGKILL out of the blue.
    let (agent, _dir) = run_to_end(shell_task("kill -KILL $$")).await;
    assert_eq!(
        agent.states(),
        [TaskState::Starting, TaskState::Running, TaskState::Failed]
    );
    let last = agent.updates().pop().expect("updates");
    assert_eq!(
        last.message.as_deref(),
        Some("Command terminated with signal SIGKILL")
    );
    assert_eq!(last.reason, Some(Reason::CommandExecutorFailed));
}

#[tokio::test]
async fn an_unreachable_agent_socket_falls_back_to_tcp() {
    // The agent's Unix socket (MESOS_DOMAIN_SOCKET) is gone, as while an agent restarts or on
    // one that serves none: the executor reaches the agent over TCP instead.
    let agent = FakeAgent::start(shell_task("exit 0"), Behaviour::default()).await;
    let (_dir, path) = sandbox();
    let socket = path.join("no-agent.sock");
    let socket = socket.to_str().unwrap();
    let mut child =
        fake_agent::spawn_executor_with(agent.addr, &path, &[], &[("MESOS_DOMAIN_SOCKET", socket)]);
    let status = wait_exit(&mut child, &path, EXIT_TIMEOUT).await;
    let log = fake_agent::log(&path);
    assert!(status.success(), "exit {status:?}; log:\n{log}");
    assert_eq!(
        agent.states(),
        [TaskState::Starting, TaskState::Running, TaskState::Finished]
    );
    assert!(log.contains("using TCP"), "{log}");
}
