#![allow(clippy::tests_outside_test_module)]
//! When the agent's event stream drops mid-task, the executor re-subscribes and lists the
//! update the agent never acknowledged; once that is acknowledged it carries on.

mod fake_agent;

use std::time::Duration;

use fake_agent::{sandbox, shell_task, spawn_executor, wait_exit, Behaviour, FakeAgent};
use meseta_api::TaskState;

#[tokio::test]
async fn dropped_stream_resubscribes_with_unacknowledged_update() {
    let behaviour = Behaviour {
        drop_stream_on: Some(TaskState::Running),
        ..Behaviour::default()
    };
    let agent = FakeAgent::start(shell_task("sleep 2"), behaviour).await;
    let (_dir, path) = sandbox();
    let mut child = spawn_executor(agent.addr, &path);
    let status = wait_exit(&mut child, &path, Duration::from_secs(30)).await;
    assert!(
        status.success(),
        "exit {status:?}; log:\n{}",
        fake_agent::log(&path)
    );

    let subscribes = agent.subscribes();
    assert!(subscribes.len() >= 2, "no re-SUBSCRIBE: {subscribes:?}");
    let resubscribe = &subscribes[1];
    let listed: Vec<TaskState> = resubscribe
        .unacknowledged_updates
        .iter()
        .map(|u| u.status.state)
        .collect();
    assert_eq!(listed, [TaskState::Running]);
    let running = agent
        .updates()
        .into_iter()
        .find(|s| s.state == TaskState::Running)
        .expect("RUNNING update");
    assert_eq!(
        resubscribe.unacknowledged_updates[0].status.uuid,
        running.uuid
    );
    // STARTING was acknowledged, so the task itself is not re-listed.
    assert!(resubscribe.unacknowledged_tasks.is_empty());
    assert_eq!(agent.states().last(), Some(&TaskState::Finished));
}

#[tokio::test]
async fn unacknowledged_task_is_relisted_on_resubscribe() {
    let behaviour = Behaviour {
        drop_stream_on: Some(TaskState::Starting),
        ..Behaviour::default()
    };
    let agent = FakeAgent::start(shell_task("sleep 1"), behaviour).await;
    let (_dir, path) = sandbox();
    let mut child = spawn_executor(agent.addr, &path);
    let status = wait_exit(&mut child, &path, Duration::from_secs(30)).await;
    assert!(
        status.success(),
        "exit {status:?}; log:\n{}",
        fake_agent::log(&path)
    );
    let subscribes = agent.subscribes();
    assert!(subscribes.len() >= 2, "no re-SUBSCRIBE: {subscribes:?}");
    let tasks: Vec<_> = subscribes[1]
        .unacknowledged_tasks
        .iter()
        .map(|t| t.task_id.value.clone())
        .collect();
    assert_eq!(tasks, [fake_agent::TASK]);
    assert_eq!(
        subscribes[1].unacknowledged_updates[0].status.state,
        TaskState::Starting
    );
}
