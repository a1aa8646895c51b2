//! Fault injection on a real cluster: `kill -9` of `mesos-agent` (full isolation)
//! with 50 running tasks of a checkpointing framework, then a restart on the same dirs. All 50
//! executors re-subscribe, every task keeps running (same processes), the agent re-registers
//! with its id, `/containers` marks the containers recovered, and the scheduler sees no status
//! update at all. Before the kill, `agentctl recover --dry-run` is polled until every update is
//! acknowledged, so a resent (duplicate) update would be a real bug. Needs root and
//! `cargo build --workspace --bins`.

use std::time::{Duration, Instant};

use crate::fault_rig::cluster::Rig;
use crate::fault_rig::{alive, containers, Sched};
use meseta_tests::{bin, root_or_skip, wait_until};

const TASKS: usize = 50;

/// `agentctl recover --dry-run --json` on the rig's dirs.
fn dry_run(rig: &Rig) -> serde_json::Value {
    let d = rig.dir.path();
    let out = std::process::Command::new(bin("agentctl"))
        .args(["recover", "--dry-run", "--json"])
        .arg(format!("--work_dir={}", d.join("agent").display()))
        .arg(format!("--runtime_dir={}", d.join("run").display()))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn fifty_tasks_survive_an_agent_kill_9_without_a_spurious_update() {
    if !root_or_skip("fifty_tasks_survive_an_agent_kill_9_without_a_spurious_update") {
        return;
    }
    let mut rig = Rig::new();
    let agent_id = rig.start_cluster();
    let mut sched = Sched::subscribe(rig.master_port, "kill9-50");
    let ids: Vec<String> = (0..TASKS).map(|i| format!("k-{i}")).collect();
    sched.launch(&ids, "sleep 600");
    sched.until_all(&ids, "TASK_RUNNING", 120);
    let pids: Vec<u32> = containers(rig.agent_port)
        .iter()
        .filter_map(|c| c["status"]["executor_pid"].as_u64())
        .filter_map(|p| u32::try_from(p).ok())
        .collect();
    assert_eq!(pids.len(), TASKS);
    // Every update acknowledged and checkpointed: nothing would be resent.
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        sched.pump(Duration::from_millis(100));
        let plan = dry_run(&rig);
        if plan["report"].as_array().is_some_and(Vec::is_empty) {
            assert_eq!(plan["recover"].as_array().map(Vec::len), Some(TASKS));
            break;
        }
        assert!(
            Instant::now() < deadline,
            "updates never all acknowledged: {plan:#}"
        );
    }
    let before = sched.updates.len();

    rig.kill9_agent();
    rig.start_agent();
    assert!(
        wait_until(Duration::from_secs(30), || rig
            .agent_log()
            .matches("executor subscribed")
            .count()
            == TASKS),
        "not every executor re-subscribed:\n{}",
        rig.agent_log()
    );
    assert!(
        wait_until(Duration::from_secs(30), || rig.active_agents()
            == [agent_id.clone()]),
        "the agent did not re-register as {agent_id}"
    );
    // Past --executor_reregistration_timeout (2 s): nothing was destroyed or reported.
    let end = Instant::now() + Duration::from_secs(5);
    while Instant::now() < end {
        sched.pump(Duration::from_millis(200));
    }
    let spurious: Vec<_> = sched.updates[before..].iter().map(|(_, s)| s).collect();
    assert!(spurious.is_empty(), "spurious updates: {spurious:?}");
    assert!(pids.iter().all(|p| alive(*p)), "an executor died");
    let list = containers(rig.agent_port);
    assert_eq!(list.len(), TASKS);
    assert!(
        list.iter().all(|c| c["meseta"]["recovered"] == true),
        "{list:?}"
    );
    let state = meseta_tests::get_json(rig.agent_port, "/state");
    let running = state["frameworks"][0]["executors"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["tasks"][0]["state"] == "TASK_RUNNING")
        .count();
    assert_eq!(running, TASKS);

    sched.teardown();
    assert!(
        wait_until(Duration::from_secs(60), || containers(rig.agent_port)
            .is_empty()),
        "teardown left containers"
    );
}
