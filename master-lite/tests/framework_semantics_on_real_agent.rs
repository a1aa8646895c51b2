//! Framework semantics with the real `mesos-master` and `mesos-agent` binaries and real
//! `sleep` tasks: a disconnected framework's tasks survive until `failover_timeout` expires and
//! are then killed on the agent; re-subscribing with the framework id takes over in between;
//! explicit and implicit reconciliation return the latest states (TASK_UNKNOWN for unknown
//! tasks); when the agent stops (killed, or hung by SIGSTOP with its connection open)
//! PARTITION_AWARE frameworks get TASK_UNREACHABLE and others TASK_LOST, and a hung agent that
//! runs again is re-admitted with its tasks RUNNING, none killed; MARK_AGENT_GONE gives
//! TASK_GONE_BY_OPERATOR / TASK_LOST. Needs root.

// An integration test file is its own crate: its tests belong at the top level.
#![allow(clippy::tests_outside_test_module)]

mod common;

use std::time::{Duration, Instant};

use common::real::{
    launch_sleep, master_addr, reconcile, status_of, subscribe, wait_state, REAL_WAIT,
};
use meseta_tests::{get_json, http, root_or_skip, wait_until, Cluster};
use serde_json::{json, Value};

const AGENT: &str = "cpus:1;mem:1024;disk:1024;ports:[31000-31100]";

/// One cluster at a time: the machine has two cores, and the agent timeouts come from the
/// environment the master inherits.
static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// A cluster whose master removes an agent 2 s after its connection breaks.
fn cluster() -> Cluster {
    // The master reads MESOS_<FLAG> variables; the agent ignores flags it does not know.
    std::env::set_var("MESOS_AGENT_PING_TIMEOUT", "1secs");
    std::env::set_var("MESOS_MAX_AGENT_PING_TIMEOUTS", "2");
    tokio::task::block_in_place(|| Cluster::start(AGENT))
}

/// The state of `task` in the master's `/tasks` (current or completed).
fn master_task_state(port: u16, task: &str) -> Option<String> {
    let v = get_json(port, "/master/tasks");
    v["tasks"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|t| t["id"] == task)
        .and_then(|t| t["state"].as_str().map(str::to_owned))
}

/// Executors the agent runs (not completed) for framework `fw`; none once the agent is gone.
fn agent_executors(agent_port: u16, fw: &str) -> Vec<Value> {
    let Ok((200, body)) = http("GET", agent_port, "/state", None) else {
        return Vec::new();
    };
    let state: Value = serde_json::from_str(&body).unwrap_or_default();
    state["frameworks"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|f| f["id"] == fw)
        .flat_map(|f| f["executors"].as_array().cloned().unwrap_or_default())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn disconnected_framework_keeps_tasks_until_failover_timeout_then_they_are_killed() {
    let _serial = SERIAL.lock().await;
    if !root_or_skip("disconnected_framework_keeps_tasks_until_failover_timeout") {
        return;
    }
    let cluster = cluster();
    let (addr, port) = (master_addr(&cluster), cluster.master_port);
    let mut s = subscribe(addr, "failover", true, json!({"failover_timeout": 6})).await;
    let fw = s.framework_id.clone();
    launch_sleep(&mut s, "keep").await;
    wait_state(&mut s, "keep", "TASK_RUNNING").await.unwrap();

    // Disconnect: the task keeps running on the agent.
    drop(s);
    let disconnected = Instant::now();
    tokio::time::sleep(Duration::from_secs(2)).await;
    let fws = get_json(port, "/master/frameworks");
    let f = &fws["frameworks"][0];
    assert_eq!(
        (f["id"].as_str(), &f["connected"]),
        (Some(&*fw), &json!(false)),
        "{fws}"
    );
    assert_eq!(
        master_task_state(port, "keep").as_deref(),
        Some("TASK_RUNNING")
    );
    assert_eq!(agent_executors(cluster.agent_port, &fw).len(), 1);

    // Re-subscribing with the framework id takes over, tasks and all.
    let mut s = subscribe(
        addr,
        "failover",
        true,
        json!({"id": {"value": fw}, "failover_timeout": 6}),
    )
    .await;
    assert_eq!(s.framework_id, fw);
    let explicit = reconcile(&mut s, &["keep", "never-launched"]).await;
    assert_eq!(
        status_of(&explicit, "keep")["state"],
        "TASK_RUNNING",
        "{explicit:?}"
    );
    assert_eq!(
        status_of(&explicit, "never-launched")["state"],
        "TASK_UNKNOWN",
        "{explicit:?}"
    );
    let implicit = reconcile(&mut s, &[]).await;
    assert_eq!(implicit.len(), 1, "{implicit:?}");
    assert_eq!(status_of(&implicit, "keep")["state"], "TASK_RUNNING");
    assert_eq!(agent_executors(cluster.agent_port, &fw).len(), 1);

    // Gone for longer than failover_timeout: removed, and its task killed on the agent.
    drop(s);
    let disconnected_again = Instant::now();
    let removed = tokio::task::block_in_place(|| {
        wait_until(REAL_WAIT, || {
            get_json(port, "/master/frameworks")["completed_frameworks"]
                .as_array()
                .is_some_and(|c| c.iter().any(|f| f["id"] == fw))
        })
    });
    assert!(removed, "framework not removed: {}", cluster.logs());
    let waited = disconnected_again.elapsed();
    assert!(
        waited >= Duration::from_secs(5),
        "removed after only {waited:?}"
    );
    assert!(disconnected.elapsed() > Duration::from_secs(6));
    let killed = tokio::task::block_in_place(|| {
        wait_until(REAL_WAIT, || {
            agent_executors(cluster.agent_port, &fw).is_empty()
        })
    });
    assert!(
        killed,
        "the task still runs on the agent: {}",
        cluster.logs()
    );
    let state = master_task_state(port, "keep");
    assert_eq!(state.as_deref(), Some("TASK_KILLED"), "{}", cluster.logs());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stopped_agent_makes_tasks_unreachable_for_partition_aware_and_lost_for_others() {
    let _serial = SERIAL.lock().await;
    if !root_or_skip("stopped_agent_makes_tasks_unreachable_or_lost") {
        return;
    }
    let cluster = cluster();
    let addr = master_addr(&cluster);
    let mut pa = subscribe(addr, "partition-aware", true, json!({})).await;
    let mut plain = subscribe(addr, "plain", false, json!({})).await;
    launch_sleep(&mut pa, "pa-task").await;
    wait_state(&mut pa, "pa-task", "TASK_RUNNING")
        .await
        .unwrap();
    launch_sleep(&mut plain, "plain-task").await;
    wait_state(&mut plain, "plain-task", "TASK_RUNNING")
        .await
        .unwrap();

    // The agent stops: no more heartbeats, its connection is gone.
    let kill = std::process::Command::new("kill")
        .args(["-KILL", &cluster.agent_pid.to_string()])
        .status()
        .unwrap();
    assert!(kill.success());
    let st = wait_state(&mut pa, "pa-task", "TASK_UNREACHABLE")
        .await
        .unwrap();
    assert_eq!(st["reason"], "REASON_AGENT_REMOVED", "{st}");
    let st = wait_state(&mut plain, "plain-task", "TASK_LOST")
        .await
        .unwrap();
    assert_eq!(st["reason"], "REASON_AGENT_REMOVED", "{st}");

    // Reconciliation keeps answering with those states.
    let r = reconcile(&mut pa, &["pa-task", "unknown-task"]).await;
    assert_eq!(
        status_of(&r, "pa-task")["state"],
        "TASK_UNREACHABLE",
        "{r:?}"
    );
    assert_eq!(
        status_of(&r, "unknown-task")["state"],
        "TASK_UNKNOWN",
        "{r:?}"
    );
    let r = reconcile(&mut plain, &["plain-task"]).await;
    assert_eq!(status_of(&r, "plain-task")["state"], "TASK_LOST", "{r:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn agent_marked_gone_gives_gone_by_operator_to_partition_aware_and_lost_to_others() {
    let _serial = SERIAL.lock().await;
    if !root_or_skip("agent_marked_gone_gives_gone_by_operator_or_lost") {
        return;
    }
    let cluster = cluster();
    let (addr, port) = (master_addr(&cluster), cluster.master_port);
    let mut pa = subscribe(addr, "partition-aware", true, json!({})).await;
    let mut plain = subscribe(addr, "plain", false, json!({})).await;
    let agent = launch_sleep(&mut pa, "pa-task").await;
    wait_state(&mut pa, "pa-task", "TASK_RUNNING")
        .await
        .unwrap();
    launch_sleep(&mut plain, "plain-task").await;
    wait_state(&mut plain, "plain-task", "TASK_RUNNING")
        .await
        .unwrap();

    let call =
        json!({"type": "MARK_AGENT_GONE", "mark_agent_gone": {"agent_id": {"value": agent}}});
    let (status, body) = http("POST", port, "/api/v1", Some(&call.to_string())).unwrap();
    assert_eq!(status, 200, "{body}");
    let st = wait_state(&mut pa, "pa-task", "TASK_GONE_BY_OPERATOR")
        .await
        .unwrap();
    assert_eq!(st["reason"], "REASON_AGENT_REMOVED_BY_OPERATOR", "{st}");
    wait_state(&mut plain, "plain-task", "TASK_LOST")
        .await
        .unwrap();
    let r = reconcile(&mut pa, &["pa-task"]).await;
    assert_eq!(
        status_of(&r, "pa-task")["state"],
        "TASK_GONE_BY_OPERATOR",
        "{r:?}"
    );
    // The agent is told to shut down: it destroys its containers and starts over.
    let stopped = tokio::task::block_in_place(|| {
        wait_until(REAL_WAIT, || {
            http("GET", cluster.agent_port, "/state", None).is_ok()
                && agent_executors(cluster.agent_port, &pa.framework_id).is_empty()
                && agent_executors(cluster.agent_port, &plain.framework_id).is_empty()
        })
    });
    assert!(stopped, "agent still runs the task: {}", cluster.logs());
}

/// Sends `sig` to `pid` with kill(1).
fn signal(pid: u32, sig: &str) {
    let ok = std::process::Command::new("kill")
        .args([sig, &pid.to_string()])
        .status()
        .unwrap();
    assert!(ok.success(), "kill {sig} {pid}");
}

/// Resumes a stopped process even when the test fails half-way.
struct Resume(u32);

impl Drop for Resume {
    fn drop(&mut self) {
        signal(self.0, "-CONT");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hung_agent_becomes_unreachable_and_comes_back_with_its_tasks_running() {
    let _serial = SERIAL.lock().await;
    if !root_or_skip("hung_agent_becomes_unreachable_and_comes_back") {
        return;
    }
    let cluster = cluster();
    let (addr, port) = (master_addr(&cluster), cluster.master_port);
    let mut pa = subscribe(addr, "partition-aware", true, json!({})).await;
    let mut plain = subscribe(addr, "plain", false, json!({})).await;
    let agent = launch_sleep(&mut pa, "pa-task").await;
    wait_state(&mut pa, "pa-task", "TASK_RUNNING")
        .await
        .unwrap();
    launch_sleep(&mut plain, "plain-task").await;
    wait_state(&mut plain, "plain-task", "TASK_RUNNING")
        .await
        .unwrap();

    // The agent hangs: its process is stopped, its TCP connection stays open.
    signal(cluster.agent_pid, "-STOP");
    let resume = Resume(cluster.agent_pid);
    let st = wait_state(&mut pa, "pa-task", "TASK_UNREACHABLE")
        .await
        .unwrap();
    assert_eq!(st["reason"], "REASON_AGENT_REMOVED", "{st}");
    let st = wait_state(&mut plain, "plain-task", "TASK_LOST")
        .await
        .unwrap();
    assert_eq!(st["reason"], "REASON_AGENT_REMOVED", "{st}");
    let state = get_json(port, "/master/state");
    assert_eq!(state["unreachable_slaves"], 1, "{state}");
    assert!(
        state["slaves"].as_array().unwrap().is_empty(),
        "{}",
        state["slaves"]
    );

    // It runs again: it re-registers with its id, and both tasks are back, still running.
    drop(resume);
    let st = wait_state(&mut pa, "pa-task", "TASK_RUNNING")
        .await
        .unwrap();
    assert_eq!(st["reason"], "REASON_AGENT_REREGISTERED", "{st}");
    let st = wait_state(&mut plain, "plain-task", "TASK_RUNNING")
        .await
        .unwrap();
    assert_eq!(st["reason"], "REASON_AGENT_REREGISTERED", "{st}");
    let state = get_json(port, "/master/state");
    assert_eq!(state["unreachable_slaves"], 0, "{state}");
    assert_eq!(state["slaves"][0]["id"], agent.as_str(), "{state}");
    let r = reconcile(&mut pa, &["pa-task"]).await;
    assert_eq!(status_of(&r, "pa-task")["state"], "TASK_RUNNING", "{r:?}");
    let r = reconcile(&mut plain, &["plain-task"]).await;
    assert_eq!(
        status_of(&r, "plain-task")["state"],
        "TASK_RUNNING",
        "{r:?}"
    );
    assert_eq!(
        agent_executors(cluster.agent_port, &pa.framework_id).len(),
        1
    );
    assert_eq!(
        agent_executors(cluster.agent_port, &plain.framework_id).len(),
        1
    );
}
