#![allow(clippy::tests_outside_test_module)]
//! Bounded waits: an agent that never acknowledges the terminal update, and an agent that
//! disappears for longer than MESOS_RECOVERY_TIMEOUT.

mod fake_agent;

use std::time::{Duration, Instant};

use fake_agent::{sandbox, shell_task, spawn_executor_with, wait_exit, Behaviour, FakeAgent};
use meseta_api::TaskState;

#[tokio::test]
async fn exits_0_when_the_terminal_update_is_never_acknowledged() {
    let behaviour = Behaviour {
        auto_ack: false,
        ..Behaviour::default()
    };
    let agent = FakeAgent::start(shell_task("exit 0"), behaviour).await;
    let (_dir, path) = sandbox();
    let started = Instant::now();
    let mut child = spawn_executor_with(agent.addr, &path, &[], &[]);
    let status = wait_exit(&mut child, &path, Duration::from_secs(30)).await;
    assert!(
        status.success(),
        "exit {status:?}; log:\n{}",
        fake_agent::log(&path)
    );
    assert!(
        started.elapsed() >= Duration::from_secs(9),
        "waited for the ack"
    );
    assert_eq!(agent.states().last(), Some(&TaskState::Finished));
}

#[tokio::test]
async fn kills_the_task_and_exits_1_when_the_agent_stays_away() {
    let agent = FakeAgent::start(
        shell_task("sleep 100; echo survived > survived.txt"),
        Behaviour::default(),
    )
    .await;
    let (dir, path) = sandbox();
    let mut child = spawn_executor_with(
        agent.addr,
        &path,
        &[],
        &[
            ("MESOS_RECOVERY_TIMEOUT", "1secs"),
            ("MESOS_SUBSCRIPTION_BACKOFF_MAX", "200ms"),
        ],
    );
    agent
        .wait_for_state(TaskState::Running, Duration::from_secs(20))
        .await;
    let subscribes_before = agent.subscribes().len();
    agent.go_away();
    let status = wait_exit(&mut child, &path, Duration::from_secs(20)).await;
    assert_eq!(status.code(), Some(1), "log:\n{}", fake_agent::log(&path));
    assert_eq!(
        agent.subscribes().len(),
        subscribes_before,
        "503s are not subscriptions"
    );
    assert!(fake_agent::log(&path).contains("recovery timeout"));
    assert!(!dir.path().join("survived.txt").exists());
}
