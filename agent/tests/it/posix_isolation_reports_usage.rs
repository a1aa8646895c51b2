//! With Mesos's default isolation (`posix/cpu,posix/mem`: no cgroups), `/monitor/statistics`
//! and `/containers` still report usage: CPU times and RSS summed over the container's
//! process tree, as Mesos's posix isolators read them from `/proc`. The task burns CPU in a
//! child of its shell and holds memory, so both must show up, and only its container's.
//!
//! Needs root (the containerizer).

use std::time::{Duration, Instant};

use crate::daemon_harness::{command_task, get_json, root_or_skip, FakeMaster, TestAgent};
use meseta_api::internal::{CallType, Event, EventType, ShutdownFramework};
use meseta_api::FrameworkId;
use serde_json::Value;

/// The `statistics` of the one entry of `/monitor/statistics` once `done` holds for them.
async fn statistics_until(
    agent: &TestAgent,
    secs: u64,
    done: impl Fn(&Value) -> bool,
) -> (Value, Value) {
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        let list = get_json(agent.addr, "/monitor/statistics").await;
        let stats = list[0]["statistics"].clone();
        if done(&stats) || Instant::now() > deadline {
            return (list, stats);
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test(flavor = "current_thread")]
async fn default_isolation_reports_cpu_and_rss_of_the_process_tree() {
    let test = "default_isolation_reports_cpu_and_rss_of_the_process_tree";
    if !root_or_skip(test) {
        return;
    }
    let master = FakeMaster::start().await;
    let agent = TestAgent::start(master.addr, &["--isolation=posix/cpu,posix/mem"]).await;
    // A subshell spins for a while (CPU in a grandchild of the executor), then all sleep.
    let script = "(i=0; while [ $i -lt 300000 ]; do i=$((i+1)); done; sleep 60) & sleep 60";
    master
        .send(&command_task("fw-posix", "burn", script, false, None))
        .await;
    let cpu = |s: &Value| {
        s["cpus_user_time_secs"].as_f64().unwrap_or(0.0)
            + s["cpus_system_time_secs"].as_f64().unwrap_or(0.0)
    };
    let (list, stats) = statistics_until(&agent, 60, |s| cpu(s) >= 0.2).await;
    assert_eq!(list.as_array().map(Vec::len), Some(1), "{list}");
    assert!(cpu(&stats) >= 0.2, "no CPU time of the tree: {stats}");
    // Executor + shells + sleep: well above one page, well below the whole host.
    let rss = stats["mem_rss_bytes"].as_u64().unwrap_or(0);
    assert!((1 << 20..1 << 30).contains(&rss), "rss {rss}: {stats}");
    // Limits of the task (0.1 cpus, 32 MB) plus the command executor's (0.1, 32 MB).
    assert_eq!(stats["cpus_limit"].as_f64(), Some(0.2), "{stats}");
    assert_eq!(stats["mem_limit_bytes"].as_u64(), Some(64 << 20), "{stats}");
    assert!(stats["timestamp"].as_f64().unwrap_or(0.0) > 0.0);
    // No cgroup counters are invented without cgroups.
    assert!(stats.get("cpus_nr_throttled").is_none(), "{stats}");
    // `/containers` carries the same usage.
    let containers = get_json(agent.addr, "/containers").await;
    let seen = &containers[0]["statistics"];
    assert!(cpu(seen) >= cpu(&stats), "{containers}");
    assert!(
        seen["mem_rss_bytes"].as_u64().unwrap_or(0) > 0,
        "{containers}"
    );
}

/// Pids of the processes whose command line is exactly `argv`.
fn processes_running(argv: &[&str]) -> Vec<i32> {
    let want: Vec<u8> = argv
        .iter()
        .flat_map(|a| [a.as_bytes(), b"\0"].concat())
        .collect();
    std::fs::read_dir("/proc")
        .unwrap()
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<i32>().ok())
        .filter(|pid| std::fs::read(format!("/proc/{pid}/cmdline")).is_ok_and(|c| c == want))
        .collect()
}

/// Without cgroups a task can leave its session (`setsid`), out of reach of every process-group
/// kill. When its container ends, the supervisor (the task's subreaper) still kills it, as
/// Mesos's posix launcher kills the container's process tree, instead of leaving it to init.
#[tokio::test(flavor = "current_thread")]
async fn a_process_that_left_the_tasks_session_dies_with_its_container() {
    let test = "a_process_that_left_the_tasks_session_dies_with_its_container";
    if !root_or_skip(test) {
        return;
    }
    let escaped = ["sleep", "6173"];
    let master = FakeMaster::start().await;
    let _agent = TestAgent::start(master.addr, &["--isolation=posix/cpu,posix/mem"]).await;
    let task = command_task(
        "fw-orphan",
        "orphan",
        "setsid sleep 6173 & exec sleep 600",
        false,
        None,
    );
    master.send(&task).await;
    let deadline = Instant::now() + Duration::from_secs(30);
    while processes_running(&escaped).is_empty() {
        assert!(
            Instant::now() < deadline,
            "the task never started its escaped process"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    master
        .send(&Event {
            r#type: EventType::ShutdownFramework,
            shutdown_framework: Some(ShutdownFramework {
                framework_id: FrameworkId::new("fw-orphan"),
            }),
            ..Event::default()
        })
        .await;
    master
        .next_call(20, |c| c.r#type == CallType::ExitedExecutor)
        .await;
    let deadline = Instant::now() + Duration::from_secs(5);
    let mut left = processes_running(&escaped);
    while !left.is_empty() && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
        left = processes_running(&escaped);
    }
    for pid in &left {
        let _ = nix::sys::signal::kill(
            nix::unistd::Pid::from_raw(*pid),
            nix::sys::signal::Signal::SIGKILL,
        );
    }
    assert!(
        left.is_empty(),
        "left running after its container ended: {left:?}"
    );
}
