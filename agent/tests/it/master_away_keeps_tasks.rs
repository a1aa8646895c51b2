//! Fault injection: the real `mesos-master` is stopped for 30 s under a running
//! `mesos-agent` (full isolation). No task is killed meanwhile; the agent retries with
//! exponential backoff (`--registration_backoff_factor`), re-registers with the same agent id
//! once the master is back on the same port and work dir, and the re-subscribed scheduler's
//! implicit reconciliation shows every task RUNNING. Needs root and
//! `cargo build --workspace --bins`.

use std::time::{Duration, Instant};

use crate::fault_rig::cluster::Rig;
use crate::fault_rig::{alive, containers, Sched};
use meseta_tests::{get_json, root_or_skip, wait_until};

const OUTAGE: Duration = Duration::from_secs(30);

/// The executor pids of the agent's containers.
fn executor_pids(agent_port: u16) -> Vec<u32> {
    containers(agent_port)
        .iter()
        .filter_map(|c| c["status"]["executor_pid"].as_u64())
        .filter_map(|p| u32::try_from(p).ok())
        .collect()
}

/// The states of the tasks in the agent's `/state`.
fn agent_task_states(agent_port: u16) -> Vec<String> {
    let state = get_json(agent_port, "/state");
    state["frameworks"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|f| f["executors"].as_array().cloned().unwrap_or_default())
        .flat_map(|e| e["tasks"].as_array().cloned().unwrap_or_default())
        .map(|t| t["state"].as_str().unwrap_or_default().to_owned())
        .collect()
}

#[test]
fn tasks_survive_a_30s_master_outage_and_reconcile_when_it_returns() {
    if !root_or_skip("tasks_survive_a_30s_master_outage_and_reconcile_when_it_returns") {
        return;
    }
    let mut rig = Rig::new();
    let agent_id = rig.start_cluster();
    let mut sched = Sched::subscribe(rig.master_port, "master-away");
    let framework_id = sched.framework_id.clone();
    let ids: Vec<String> = (0..3).map(|i| format!("away-{i}")).collect();
    sched.launch(&ids, "sleep 600");
    sched.until_all(&ids, "TASK_RUNNING", 60);
    let pids = executor_pids(rig.agent_port);
    assert_eq!(pids.len(), 3);
    drop(sched);

    rig.stop_master();
    let failures_before = rig.agent_log().matches("master link failed").count();
    let down_at = Instant::now();
    while down_at.elapsed() < OUTAGE {
        assert!(pids.iter().all(|p| alive(*p)), "an executor died");
        let states = agent_task_states(rig.agent_port);
        assert_eq!(states, ["TASK_RUNNING"; 3], "{}", rig.agent_log());
        std::thread::sleep(Duration::from_secs(1));
    }
    // Backoff: a 100 ms factor doubling up to 1 min makes about ten attempts in 30 s; a retry
    // loop without backoff would make hundreds.
    let attempts = rig.agent_log().matches("master link failed").count() - failures_before;
    assert!(
        (3..=25).contains(&attempts),
        "{attempts} registration attempts in {OUTAGE:?}:\n{}",
        rig.agent_log()
    );

    rig.start_master();
    let back_at = Instant::now();
    // The backoff is capped at 1 min (Mesos' REGISTER_RETRY_INTERVAL_MAX).
    assert!(
        wait_until(Duration::from_secs(75), || rig.active_agents()
            == [agent_id.clone()]),
        "the agent did not re-register as {agent_id}: {:?}\n{}",
        rig.active_agents(),
        rig.agent_log()
    );
    eprintln!(
        "{attempts} attempts during the outage; re-registered {:?} after the master came back",
        back_at.elapsed()
    );
    assert!(pids.iter().all(|p| alive(*p)));

    let mut sched = Sched::resubscribe(rig.master_port, "master-away", &framework_id);
    let reconcile = sched.client.scheduler().reconcile_all();
    sched.client.block_on(reconcile).expect("RECONCILE");
    sched.until(30, "reconciliation of every task", |s| {
        ids.iter().all(|id| {
            s.updates.iter().any(|(_, st)| {
                st["task_id"]["value"] == id.as_str() && st["reason"] == "REASON_RECONCILIATION"
            })
        })
    });
    for (_, st) in &sched.updates {
        assert_eq!(st["state"], "TASK_RUNNING", "{st}");
        assert_eq!(st["agent_id"]["value"], agent_id.as_str(), "{st}");
    }
    assert_eq!(executor_pids(rig.agent_port).len(), 3);
    assert!(pids.iter().all(|p| alive(*p)));
    sched.teardown();
    assert!(
        wait_until(Duration::from_secs(20), || containers(rig.agent_port)
            .is_empty()),
        "teardown left containers"
    );
}
