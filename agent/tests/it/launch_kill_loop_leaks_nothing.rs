//! Fault injection: 200 tasks launched and killed in a loop (ten at a time) on a
//! real single-node cluster with full isolation leave nothing behind on the agent: no cgroup
//! under the test's `--cgroups_root`, no mount of the test's dirs, no process under the agent,
//! no extra fd in the agent, no container in its runtime dir. Needs root and
//! `cargo build --workspace --bins`.

use std::time::Duration;

use crate::fault_rig::{
    cgroups_under, containers, descendants, fd_count, mounts_mentioning, Sched,
};
use meseta_tests::{root_or_skip, wait_until, Cluster, ClusterOptions};

const TASKS: usize = 200;
const BATCH: usize = 10;

/// Launches `BATCH` tasks, waits until they run, kills them and waits until they are killed.
fn round(sched: &mut Sched, n: usize) {
    let ids: Vec<String> = (0..BATCH).map(|i| format!("loop-{n}-{i}")).collect();
    sched.launch(&ids, "sleep 600");
    sched.until_all(&ids, "TASK_RUNNING", 60);
    sched.kill(&ids);
    sched.until_all(&ids, "TASK_KILLED", 60);
}

/// Everything the agent holds that could leak, as one comparable snapshot.
fn leftovers(cluster: &Cluster) -> Vec<String> {
    let mut left = cgroups_under(&cluster.cgroups_root);
    left.extend(mounts_mentioning(
        cluster.agent_pid,
        &cluster.dir.path().display().to_string(),
    ));
    left.extend(
        descendants(cluster.agent_pid)
            .into_iter()
            .map(|(pid, state)| format!("process {pid} ({state})")),
    );
    left.extend(
        std::fs::read_dir(cluster.dir.path().join("run/containers"))
            .into_iter()
            .flatten()
            .flatten()
            .map(|e| format!("runtime dir {}", e.path().display())),
    );
    left.extend(
        containers(cluster.agent_port)
            .into_iter()
            .map(|c| format!("container {}", c["container_id"])),
    );
    left
}

#[test]
fn launching_and_killing_200_tasks_leaks_no_cgroup_mount_process_or_fd() {
    if !root_or_skip("launching_and_killing_200_tasks_leaks_no_cgroup_mount_process_or_fd") {
        return;
    }
    let cluster = Cluster::start_with(&ClusterOptions::new("cpus:4;mem:4096;disk:1000"));
    let mut sched = Sched::subscribe(cluster.master_port, "launch-kill-loop");
    // Warm-up: the agent opens its lazily created fds (cgroup handles, log files) once.
    round(&mut sched, 0);
    assert!(
        wait_until(Duration::from_secs(20), || leftovers(&cluster).is_empty()),
        "after warm-up: {:?}",
        leftovers(&cluster)
    );
    let fds = fd_count(cluster.agent_pid);
    assert!(fds > 0);

    for n in 1..=TASKS / BATCH {
        round(&mut sched, n);
    }
    let killed = sched
        .states
        .iter()
        .filter(|(id, st)| !id.starts_with("loop-0-") && *st == "TASK_KILLED")
        .count();
    assert_eq!(killed, TASKS);
    assert!(
        wait_until(Duration::from_secs(30), || leftovers(&cluster).is_empty()),
        "leaked: {:#?}",
        leftovers(&cluster)
    );
    // Executors' connections close shortly after they exit.
    assert!(
        wait_until(Duration::from_secs(10), || fd_count(cluster.agent_pid)
            <= fds),
        "agent fds: {} before, {} after",
        fds,
        fd_count(cluster.agent_pid)
    );
    sched.teardown();
}
