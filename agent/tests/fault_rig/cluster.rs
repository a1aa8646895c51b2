//! A real `mesos-master` and `mesos-agent` (full isolation) that can each be stopped and
//! started again on the same ports and dirs, for fault injection.

use std::process::{Child, Command};
use std::time::Duration;

use meseta_tests::{bin, free_port, http, wait_until};

/// A master and an agent that outlive each other's restarts; both killed on drop.
pub struct Rig {
    /// Work dirs and logs.
    pub dir: tempfile::TempDir,
    /// The master's port on 127.0.0.1.
    pub master_port: u16,
    /// The agent's port on 127.0.0.1.
    pub agent_port: u16,
    /// The agent's unique `--cgroups_root`.
    pub cgroups_root: String,
    master: Option<Child>,
    agent: Option<Child>,
    master_runs: usize,
    agent_runs: usize,
}

impl Rig {
    /// Fresh dirs and ports; nothing started.
    pub fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let cgroups_root = format!(
            "meseta-fault-{}",
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
            agent_runs: 0,
        }
    }

    fn log(&self, name: &str) -> std::fs::File {
        std::fs::File::create(self.dir.path().join(name)).unwrap()
    }

    /// The stderr of the current agent run.
    pub fn agent_log(&self) -> String {
        std::fs::read_to_string(
            self.dir
                .path()
                .join(format!("agent-{}.err", self.agent_runs)),
        )
        .unwrap_or_default()
    }

    /// Starts `mesos-master` (same port and work dir every time) and waits for /health.
    pub fn start_master(&mut self) {
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

    /// The running master's pid.
    pub fn master_pid(&self) -> Option<u32> {
        self.master.as_ref().map(Child::id)
    }

    /// SIGKILLs the master.
    pub fn stop_master(&mut self) {
        let mut m = self.master.take().unwrap();
        m.kill().unwrap();
        m.wait().unwrap();
    }

    /// Starts `mesos-agent` (same port, work and runtime dirs every time).
    pub fn start_agent(&mut self) {
        self.agent_runs += 1;
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
            .arg("--registration_backoff_factor=100ms")
            .env("MESETA_AGENT_CONF_DIR", d.join("no-etc"))
            .env("RUST_LOG", "info")
            .stdout(std::process::Stdio::null())
            .stderr(self.log(&format!("agent-{}.err", self.agent_runs)))
            .spawn()
            .unwrap();
        self.agent = Some(agent);
    }

    /// SIGKILLs the agent (its containers keep running).
    pub fn kill9_agent(&mut self) {
        let mut a = self.agent.take().unwrap();
        a.kill().unwrap();
        a.wait().unwrap();
    }

    /// Starts the master and an agent and waits until the agent is registered; returns its id.
    pub fn start_cluster(&mut self) -> String {
        self.start_master();
        self.start_agent();
        assert!(
            wait_until(Duration::from_secs(20), || self.active_agents().len() == 1),
            "the agent did not register: {}",
            self.agent_log()
        );
        self.active_agents().remove(0)
    }

    /// The ids of the agents the master has active.
    pub fn active_agents(&self) -> Vec<String> {
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
        // The agent's containers outlive it: kill them (supervisors and all they started, in a
        // cgroup or not) and remove their cgroups.
        meseta_tests::kill_supervised(&self.dir.path().join("run"));
        meseta_tests::kill_and_remove_cgroups(&self.cgroups_root, Duration::from_millis(200));
    }
}
