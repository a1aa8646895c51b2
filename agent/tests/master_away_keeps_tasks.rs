//! Fault injection (issue 4, e): the real `mesos-master` is stopped for 30 s under a running
//! `mesos-agent` (full isolation). No task is killed meanwhile; the agent retries with
//! exponential backoff (`--registration_backoff_factor`), re-registers with the same agent id
//! once the master is back on the same port and work dir, and the re-subscribed scheduler's
//! implicit reconciliation shows every task RUNNING. Needs root and
//! `cargo build --workspace --bins`.

// An integration test file is its own crate: its tests belong at the top level.
#![allow(clippy::tests_outside_test_module)]

mod fault_rig;

use std::process::{Child, Command};
use std::time::{Duration, Instant};

use fault_rig::{alive, containers, Sched};
use meseta_tests::{bin, bin_dir, free_port, get_json, http, root_or_skip, wait_until};
use serde_json::json;

const OUTAGE: Duration = Duration::from_secs(30);

/// A master and an agent that outlive each other's restarts; both killed on drop.
struct Rig {
    dir: tempfile::TempDir,
    master_port: u16,
    agent_port: u16,
    cgroups_root: String,
    master: Option<Child>,
    agent: Option<Child>,
    master_runs: usize,
}

impl Rig {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let cgroups_root = format!(
            "meseta-away-{}",
            dir.path().file_name().unwrap().to_string_lossy()
        );
        Self {
            dir,
            master_port: free_port(),
            agent_port: free_port(),
            cgroups_root,
            master: None,
            agent: None,
            master_runs: 0,
        }
    }

    fn log(&self, name: &str) -> std::fs::File {
        std::fs::File::create(self.dir.path().join(name)).unwrap()
    }

    fn agent_log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("agent.err")).unwrap_or_default()
    }

    fn start_master(&mut self) {
        self.master_runs += 1;
        let d = self.dir.path();
        let master = Command::new(bin("mesos-master"))
            .arg("--ip=127.0.0.1")
            .arg(format!("--port={}", self.master_port))
            .arg(format!("--work_dir={}", d.join("master").display()))
            .arg("--allocation_interval=100ms")
            .env("MESETA_MASTER_CONF_DIR", d.join("no-etc"))
            .stdout(self.log(&format!("master-{}.log", self.master_runs)))
            .stderr(self.log(&format!("master-{}.err", self.master_runs)))
            .spawn()
            .unwrap();
        self.master = Some(master);
        let port = self.master_port;
        assert!(
            wait_until(Duration::from_secs(20), || http(
                "GET", port, "/health", None
            )
            .is_ok_and(|(s, _)| s == 200)),
            "master did not come up"
        );
    }

    fn stop_master(&mut self) {
        let mut m = self.master.take().unwrap();
        m.kill().unwrap();
        m.wait().unwrap();
    }

    fn start_agent(&mut self) {
        let d = self.dir.path();
        let isolation = meseta_tests::ClusterOptions::new("").isolation;
        let agent = Command::new(bin("mesos-agent"))
            .arg(format!("--master=127.0.0.1:{}", self.master_port))
            .arg("--ip=127.0.0.1")
            .arg(format!("--port={}", self.agent_port))
            .arg(format!("--work_dir={}", d.join("agent").display()))
            .arg(format!("--runtime_dir={}", d.join("run").display()))
            .arg(format!("--isolation={isolation}"))
            .arg(format!("--cgroups_root={}", self.cgroups_root))
            .arg("--resources=cpus:4;mem:4096;disk:1000")
            .arg(format!("--launcher_dir={}", bin_dir().display()))
            .arg("--registration_backoff_factor=100ms")
            .env("MESETA_AGENT_CONF_DIR", d.join("no-etc"))
            .env("RUST_LOG", "info")
            .stdout(self.log("agent.log"))
            .stderr(self.log("agent.err"))
            .spawn()
            .unwrap();
        self.agent = Some(agent);
    }

    /// The ids of the agents the master has active.
    fn active_agents(&self) -> Vec<String> {
        http("GET", self.master_port, "/state", None)
            .ok()
            .and_then(|(_, b)| serde_json::from_str::<serde_json::Value>(&b).ok())
            .and_then(|v| v["slaves"].as_array().cloned())
            .unwrap_or_default()
            .iter()
            .filter(|s| s["active"] != false)
            .filter_map(|s| s["id"].as_str().map(str::to_owned))
            .collect()
    }
}

impl Drop for Rig {
    fn drop(&mut self) {
        for child in [self.agent.as_mut(), self.master.as_mut()]
            .into_iter()
            .flatten()
        {
            let _ = child.kill();
            let _ = child.wait();
        }
        // The agent's containers outlive it: kill them and remove their cgroups.
        for h in std::fs::read_dir("/sys/fs/cgroup")
            .into_iter()
            .flatten()
            .flatten()
        {
            let root = h.path().join(&self.cgroups_root);
            for c in std::fs::read_dir(&root).into_iter().flatten().flatten() {
                let procs = std::fs::read_to_string(c.path().join("cgroup.procs"));
                for pid in procs.unwrap_or_default().lines() {
                    if let Ok(pid) = pid.trim().parse::<i32>() {
                        let _ = nix::sys::signal::kill(
                            nix::unistd::Pid::from_raw(pid),
                            nix::sys::signal::SIGKILL,
                        );
                    }
                }
            }
        }
        std::thread::sleep(Duration::from_millis(200));
        for h in std::fs::read_dir("/sys/fs/cgroup")
            .into_iter()
            .flatten()
            .flatten()
        {
            let root = h.path().join(&self.cgroups_root);
            for c in std::fs::read_dir(&root).into_iter().flatten().flatten() {
                let _ = std::fs::remove_dir(c.path());
            }
            let _ = std::fs::remove_dir(&root);
        }
    }
}

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
    rig.start_master();
    rig.start_agent();
    assert!(
        wait_until(Duration::from_secs(20), || rig.active_agents().len() == 1),
        "the agent did not register: {}",
        rig.agent_log()
    );
    let agent_id = rig.active_agents().remove(0);
    let mut sched = Sched::subscribe(rig.master_port, "master-away");
    let framework_id = sched.client.framework_id.clone();
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
    let status = sched
        .client
        .call(json!({"type": "RECONCILE", "reconcile": {"tasks": []}}))
        .unwrap();
    assert_eq!(status, 202);
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
    sched.client.teardown().unwrap();
    assert!(
        wait_until(Duration::from_secs(20), || containers(rig.agent_port)
            .is_empty()),
        "teardown left containers"
    );
}
