#![allow(clippy::tests_outside_test_module)]
//! The real `mesos-executor` against a fake agent parks while its task just runs (it execs
//! its tiny park program, whose resident memory is a few KiB), sleeps through HEARTBEATs,
//! and comes back for a KILL or the task's exit with the same pid, the same connection and
//! the same task.

mod fake_agent;

use std::time::{Duration, Instant};

use fake_agent::{sandbox, shell_task, spawn_executor, wait_exit, Behaviour, FakeAgent};
use meseta_api::executor::{Event, EventType};
use meseta_api::{TaskId, TaskState};

const TIMEOUT: Duration = Duration::from_secs(20);

/// Whether `pid` is running the park program (it runs from a memfd of that name).
fn parked(pid: u32) -> bool {
    std::fs::read_link(format!("/proc/{pid}/exe"))
        .is_ok_and(|exe| exe.to_string_lossy().contains("mesos-executor-park"))
}

/// `VmRSS` of `pid` in KiB.
fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .unwrap_or(u64::MAX)
}

async fn wait_parked(pid: u32, sandbox: &std::path::Path) {
    let deadline = Instant::now() + TIMEOUT;
    while !parked(pid) {
        assert!(
            Instant::now() < deadline,
            "executor never parked; log:\n{}",
            fake_agent::log(sandbox)
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn resumes(sandbox: &std::path::Path) -> usize {
    fake_agent::log(sandbox)
        .matches("resumed from the park")
        .count()
}

#[tokio::test]
async fn parked_executor_sleeps_through_heartbeats_and_wakes_for_a_kill() {
    let agent = FakeAgent::start(shell_task("sleep 100"), Behaviour::default()).await;
    let (_dir, path) = sandbox();
    let mut child = spawn_executor(agent.addr, &path);
    let pid = child.id().expect("pid");
    agent.wait_for_state(TaskState::Running, TIMEOUT).await;
    wait_parked(pid, &path).await;
    let rss = rss_kib(pid);
    assert!(rss < 256, "a parked executor holds {rss} KiB resident");

    for _ in 0..3 {
        agent.send(Event::bare(EventType::Heartbeat));
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(parked(pid), "a heartbeat woke the executor");
    assert_eq!(resumes(&path), 0, "log:\n{}", fake_agent::log(&path));

    let started = Instant::now();
    agent.send(Event::kill(TaskId::new(fake_agent::TASK), None));
    let status = wait_exit(&mut child, &path, TIMEOUT).await;
    assert!(status.success(), "exit {status:?}");
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "SIGTERM came {:?} after the KILL",
        started.elapsed()
    );
    assert_eq!(
        agent.states(),
        [
            TaskState::Starting,
            TaskState::Running,
            TaskState::Killing,
            TaskState::Killed
        ]
    );
    assert!(resumes(&path) >= 1, "log:\n{}", fake_agent::log(&path));
    let last = agent.updates().pop().expect("updates");
    assert_eq!(
        last.message.as_deref(),
        Some("Command terminated with signal SIGTERM")
    );
}

#[tokio::test]
async fn parked_executor_wakes_when_its_task_exits() {
    let agent = FakeAgent::start(shell_task("sleep 4; exit 3"), Behaviour::default()).await;
    let (_dir, path) = sandbox();
    let mut child = spawn_executor(agent.addr, &path);
    let pid = child.id().expect("pid");
    agent.wait_for_state(TaskState::Running, TIMEOUT).await;
    wait_parked(pid, &path).await;
    let status = wait_exit(&mut child, &path, TIMEOUT).await;
    assert!(status.success(), "exit {status:?}");
    assert_eq!(
        agent.states(),
        [TaskState::Starting, TaskState::Running, TaskState::Failed]
    );
    let last = agent.updates().pop().expect("updates");
    assert_eq!(
        last.message.as_deref(),
        Some("Command exited with status 3")
    );
    assert_eq!(resumes(&path), 1, "log:\n{}", fake_agent::log(&path));
}

#[tokio::test]
async fn a_task_shorter_than_the_park_delay_ends_without_parking() {
    let agent = FakeAgent::start(shell_task("sleep 0.1; exit 0"), Behaviour::default()).await;
    let (_dir, path) = sandbox();
    let mut child = spawn_executor(agent.addr, &path);
    let status = wait_exit(&mut child, &path, TIMEOUT).await;
    assert!(status.success(), "exit {status:?}");
    assert_eq!(
        agent.states(),
        [TaskState::Starting, TaskState::Running, TaskState::Finished]
    );
    let log = fake_agent::log(&path);
    assert!(
        !log.contains("parking"),
        "parked for a 0.1 s task; log:\n{log}"
    );
    assert_eq!(resumes(&path), 0, "log:\n{log}");
}
