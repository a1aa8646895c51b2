//! The failover rig: a private ZooKeeper, three `mesos-master`s on it with a 2 s session, and
//! one `mesos-agent` that finds the leader through ZooKeeper (`--master=zk://...`). Everything
//! is killed on drop.

use std::process::{Child, Command};
use std::time::{Duration, Instant};

use anyhow::{bail, Result};
use meseta_tests::zookeeper::ZooKeeper;
use meseta_tests::{bin, free_port, http, wait_until};
use serde_json::Value;

/// Declared agent resources: room for the 100 small tasks.
const RESOURCES: &str = "cpus:64;mem:131072;disk:100000";

/// ZooKeeper, three masters and an agent on loopback.
pub struct Rig {
    /// Kept running for the rig's life.
    _zk: ZooKeeper,
    /// `zk://127.0.0.1:<port>/mesos`.
    pub url: String,
    pub dir: tempfile::TempDir,
    pub master_ports: Vec<u16>,
    pub masters: Vec<Option<Child>>,
    agent: Option<Child>,
    cgroups_root: String,
}

impl Rig {
    /// Starts ZooKeeper, three masters (session timeout `session`) and the agent.
    pub fn start(session: &str) -> Result<Rig> {
        let zk = ZooKeeper::start();
        let dir = tempfile::tempdir()?;
        let name = dir
            .path()
            .file_name()
            .unwrap_or_default()
            .to_string_lossy()
            .to_string();
        let mut rig = Rig {
            url: zk.url("/mesos"),
            _zk: zk,
            dir,
            master_ports: (0..3).map(|_| free_port()).collect(),
            masters: Vec::new(),
            agent: None,
            cgroups_root: format!("meseta-bench-failover-{name}"),
        };
        let d = rig.dir.path().to_owned();
        for (i, port) in rig.master_ports.clone().into_iter().enumerate() {
            let child = Command::new(bin("mesos-master"))
                .arg("--ip=127.0.0.1")
                .arg("--hostname=127.0.0.1")
                .arg(format!("--port={port}"))
                .arg(format!(
                    "--work_dir={}",
                    d.join(format!("master{i}")).display()
                ))
                .arg(format!("--zk={}", rig.url))
                .arg(format!("--zk_session_timeout={session}"))
                .arg("--allocation_interval=50ms")
                .env("MESETA_MASTER_CONF_DIR", d.join("no-etc"))
                .stdout(std::fs::File::create(d.join(format!("master{i}.log")))?)
                .stderr(std::fs::File::create(d.join(format!("master{i}.err")))?)
                .spawn()?;
            rig.masters.push(Some(child));
        }
        if rig.wait_leader(None, Duration::from_secs(30)).is_none() {
            bail!("no master was elected: {}", rig.logs());
        }
        let agent_port = free_port();
        rig.agent = Some(
            Command::new(bin("mesos-agent"))
                .arg(format!("--master={}", rig.url))
                .arg("--ip=127.0.0.1")
                .arg(format!("--port={agent_port}"))
                .arg(format!("--work_dir={}", d.join("agent").display()))
                .arg(format!("--runtime_dir={}", d.join("run").display()))
                .arg("--isolation=posix/cpu,posix/mem")
                .arg(format!("--cgroups_root={}", rig.cgroups_root))
                .arg(format!("--resources={RESOURCES}"))
                .env("MESETA_AGENT_CONF_DIR", d.join("no-etc"))
                .stdout(std::fs::File::create(d.join("agent.log"))?)
                .stderr(std::fs::File::create(d.join("agent.err"))?)
                .spawn()?,
        );
        Ok(rig)
    }

    /// `/state` of master `i`, if it answers.
    pub fn state(&self, i: usize) -> Option<Value> {
        self.masters[i].as_ref()?;
        let (status, body) = http("GET", self.master_ports[i], "/state", None).ok()?;
        (status == 200)
            .then(|| serde_json::from_str(&body).ok())
            .flatten()
    }

    /// The live master that is elected and recovered (other than `not`), if any.
    pub fn leader(&self, not: Option<usize>) -> Option<usize> {
        (0..self.master_ports.len())
            .filter(|i| Some(*i) != not)
            .find(|i| {
                self.state(*i)
                    .is_some_and(|s| s.get("elected_time").is_some() && s["leader"] == s["pid"])
            })
    }

    /// Waits (polling every 5 ms) for a leader other than `not`.
    pub fn wait_leader(&self, not: Option<usize>, timeout: Duration) -> Option<(usize, Instant)> {
        let deadline = Instant::now() + timeout;
        while Instant::now() < deadline {
            if let Some(i) = self.leader(not) {
                return Some((i, Instant::now()));
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        None
    }

    /// Waits until master `i` lists `agent_id` as an active agent.
    pub fn wait_agent(&self, i: usize, agent_id: &str, timeout: Duration) -> Option<Instant> {
        let mut at = None;
        wait_until(timeout, || {
            let active = self.state(i).is_some_and(|s| {
                s["slaves"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .any(|a| a["id"] == agent_id && a["active"] == true)
            });
            if active {
                at = Some(Instant::now());
            }
            active
        });
        at
    }

    /// Tasks master `i` reports `TASK_RUNNING`.
    pub fn running_tasks(&self, i: usize) -> usize {
        self.state(i).map_or(0, |s| {
            s["frameworks"]
                .as_array()
                .into_iter()
                .flatten()
                .flat_map(|f| f["tasks"].as_array().cloned().unwrap_or_default())
                .filter(|t| t["state"] == "TASK_RUNNING")
                .count()
        })
    }

    /// Sends `signal` to master `i` and reaps it.
    pub fn signal(&mut self, i: usize, signal: &str) -> Result<()> {
        let Some(mut child) = self.masters[i].take() else {
            bail!("master {i} is not running")
        };
        Command::new("kill")
            .arg(format!("-{signal}"))
            .arg(child.id().to_string())
            .status()?;
        child.wait()?;
        Ok(())
    }

    /// The daemons' logs (tails), for errors.
    pub fn logs(&self) -> String {
        let mut out = String::new();
        let mut names: Vec<String> = (0..3).map(|i| format!("master{i}.err")).collect();
        names.push("agent.err".into());
        for name in names {
            let text = std::fs::read_to_string(self.dir.path().join(&name)).unwrap_or_default();
            let lines: Vec<&str> = text.lines().collect();
            out.push_str(&format!(
                "\n--- {name} ---\n{}",
                lines[lines.len().saturating_sub(15)..].join("\n")
            ));
        }
        out
    }
}

impl Drop for Rig {
    fn drop(&mut self) {
        for child in self
            .masters
            .iter_mut()
            .chain(std::iter::once(&mut self.agent))
            .flatten()
        {
            let _ = child.kill();
            let _ = child.wait();
        }
        // With posix isolation (the default) the tasks are in no cgroup: kill the supervisors
        // of the agent's runtime dir and all under them, or they outlive the benchmark.
        meseta_tests::kill_supervised(&self.dir.path().join("run"));
        meseta_tests::kill_and_remove_cgroups(&self.cgroups_root, Duration::from_millis(200));
    }
}
