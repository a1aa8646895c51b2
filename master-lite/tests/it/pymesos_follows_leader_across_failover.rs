//! Mesos's HA promise end to end, on a real ZooKeeper: three `mesos-master`s elect a leader,
//! one real `mesos-agent --master=zk://…` and an unmodified pymesos scheduler (which follows
//! the leader with kazoo) run `sleep` tasks; the leader is `kill -9`ed. A new leader is
//! elected, the agent re-registers with it (same id, its tasks), the framework re-subscribes
//! with its id, reconciliation answers TASK_RUNNING for every task, no task ended, and under
//! the election path live exactly the surviving masters' `json.info_` znodes. Needs root.

#[allow(dead_code)] // a few helpers serve only other tests
use std::io::{BufRead, BufReader, Write};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use crate::ha::Masters;
use meseta_tests::zookeeper::{available_or_skip, ZooKeeper};
use serde_json::Value;

const TASKS: usize = 3;
const WAIT: Duration = Duration::from_secs(90);

/// The real agent, following the leader through ZooKeeper; killed (and its containers with
/// it) when dropped.
struct Agent {
    child: Child,
    port: u16,
    cgroups_root: String,
    log: std::path::PathBuf,
}

impl Agent {
    fn start(dir: &std::path::Path, zk_url: &str) -> Agent {
        let port = meseta_tests::free_port();
        let cgroups_root = format!(
            "meseta-zkfollow-{}",
            dir.file_name().unwrap_or_default().to_string_lossy()
        );
        let log = dir.join("agent.log");
        let child = Command::new(meseta_tests::bin("mesos-agent"))
            .arg(format!("--master={zk_url}"))
            .arg("--zk_session_timeout=2secs")
            .arg("--ip=127.0.0.1")
            .arg(format!("--port={port}"))
            .arg(format!("--work_dir={}", dir.join("agent").display()))
            .arg(format!("--runtime_dir={}", dir.join("run").display()))
            .arg("--isolation=cgroups/cpu,cgroups/mem")
            .arg(format!("--cgroups_root={cgroups_root}"))
            .arg("--resources=cpus:2;mem:1024;disk:1024;ports:[31000-31100]")
            .arg(format!(
                "--launcher_dir={}",
                meseta_tests::bin_dir().display()
            ))
            .env("MESETA_AGENT_CONF_DIR", dir.join("no-etc"))
            .env("MESETA_MESOS_ZK_FILE", "")
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .expect("start mesos-agent");
        Agent {
            child,
            port,
            cgroups_root,
            log,
        }
    }

    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// The agent's own `/state`.
    fn state(&self) -> Value {
        meseta_tests::get_json(self.port, "/state")
    }

    /// `(executor id, container id)` of every running executor.
    fn containers(&self) -> Vec<(String, String)> {
        let state = self.state();
        let mut out: Vec<(String, String)> = state["frameworks"]
            .as_array()
            .into_iter()
            .flatten()
            .flat_map(|f| f["executors"].as_array().cloned().unwrap_or_default())
            .map(|e| (e["id"].to_string(), e["container"].to_string()))
            .collect();
        out.sort();
        out
    }
}

impl Drop for Agent {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        meseta_tests::kill_and_remove_cgroups(&self.cgroups_root, Duration::from_millis(100));
    }
}

/// The pymesos scheduler, its stdout lines arriving on a channel.
struct Pymesos {
    child: Child,
    lines: mpsc::Receiver<String>,
    seen: Vec<String>,
    log: std::path::PathBuf,
}

impl Pymesos {
    fn start(dir: &std::path::Path, zk_url: &str) -> Pymesos {
        let log = dir.join("pymesos.log");
        let script = format!(
            "{}/tests/pymesos/follow_leader.py",
            env!("CARGO_MANIFEST_DIR")
        );
        let mut child = Command::new(meseta_tests::pymesos_python())
            .arg(script)
            .arg(zk_url)
            .arg(TASKS.to_string())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .expect("start the pymesos scheduler");
        let out = child.stdout.take().unwrap();
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(out).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        Pymesos {
            child,
            lines,
            seen: Vec::new(),
            log,
        }
    }

    /// What it printed, and its log.
    fn said(&self) -> String {
        let log = std::fs::read_to_string(&self.log).unwrap_or_default();
        format!("{}\n--- pymesos log ---\n{log}", self.seen.join("\n"))
    }

    /// Waits for a line starting with `prefix`; returns the rest.
    fn expect(&mut self, prefix: &str) -> String {
        let deadline = Instant::now() + WAIT;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let line = self.lines.recv_timeout(left).unwrap_or_else(|_| {
                panic!("no '{prefix}' from pymesos; it said:\n{}", self.said())
            });
            self.seen.push(line.clone());
            if let Some(rest) = line.strip_prefix(prefix) {
                return rest.trim().to_owned();
            }
        }
    }

    fn send(&mut self, line: &str) {
        let stdin = self.child.stdin.as_mut().unwrap();
        writeln!(stdin, "{line}").unwrap();
        stdin.flush().unwrap();
    }
}

impl Drop for Pymesos {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Waits until `cond` holds for the `/state` of master `i`.
async fn wait_state(m: &Masters, i: usize, what: &str, cond: impl Fn(&Value) -> bool) -> Value {
    let deadline = Instant::now() + WAIT;
    loop {
        if let Some(s) = m.state(i).await {
            if cond(&s) {
                return s;
            }
            assert!(
                Instant::now() < deadline,
                "master {i}: {what} did not happen: {s}\n{}",
                m.logs()
            );
        }
        assert!(Instant::now() < deadline, "master {i} silent\n{}", m.logs());
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn agent_ids(state: &Value) -> Vec<String> {
    state["slaves"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|a| a["id"].as_str().map(str::to_owned))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pymesos_and_the_agent_follow_the_leader_across_kill_9() {
    if !meseta_tests::root_or_skip("pymesos_follows_leader_across_failover")
        || !available_or_skip("pymesos_follows_leader_across_failover")
    {
        return;
    }
    let mut m = Masters::start(ZooKeeper::shared(), 3, &[]);
    let (leader, _) = m.wait_leader(WAIT).await;
    let agent = Agent::start(m.dir.path(), &m.url);
    let state = wait_state(&m, leader, "agent registered", |s| agent_ids(s).len() == 1).await;
    let agent_id = agent_ids(&state).remove(0);

    let mut py = tokio::task::block_in_place(|| Pymesos::start(m.dir.path(), &m.url));
    let framework_id = tokio::task::block_in_place(|| py.expect("ALL_RUNNING"));
    let before = wait_state(&m, leader, "tasks running", |s| {
        s["frameworks"][0]["tasks"]
            .as_array()
            .is_some_and(|t| t.len() == TASKS && t.iter().all(|t| t["state"] == "TASK_RUNNING"))
    })
    .await;
    assert_eq!(before["frameworks"][0]["id"], framework_id.as_str());
    let containers_before = agent.containers();
    assert_eq!(containers_before.len(), TASKS, "{}", agent.log());

    // kill -9 the leader.
    m.signal(leader, "KILL");
    let (new_leader, _) = m.wait_leader(WAIT).await;
    assert_ne!(new_leader, leader);
    // The agent re-registers with the new leader, keeping its id and tasks.
    let after = wait_state(&m, new_leader, "agent re-registered", |s| {
        agent_ids(s) == [agent_id.clone()]
            && s["frameworks"]
                .as_array()
                .is_some_and(|f| f.iter().any(|f| f["id"] == framework_id.as_str()))
    })
    .await;
    assert_eq!(after["unreachable_slaves"], 0, "{after}");

    // The framework re-subscribes with its id and reconciles: every task RUNNING, none ended.
    let (reconciled, terminal) = tokio::task::block_in_place(|| {
        py.send("RECONCILE");
        let reconciled = py.expect("RECONCILED");
        let terminal = py.expect("TERMINAL");
        (reconciled, terminal)
    });
    let reconciled: Value = serde_json::from_str(&reconciled).unwrap();
    assert_eq!(
        reconciled.as_object().map(|o| o.len()),
        Some(TASKS),
        "{reconciled}"
    );
    for (task, state) in reconciled.as_object().unwrap() {
        assert_eq!(state, "TASK_RUNNING", "{task}: {reconciled}\n{}", py.said());
    }
    assert_eq!(terminal, "[]", "{}", py.said());
    let status = tokio::task::block_in_place(|| py.child.wait()).unwrap();
    assert!(status.success(), "{}", py.said());
    let fw = wait_state(&m, new_leader, "framework re-subscribed", |s| {
        s["frameworks"]
            .as_array()
            .is_some_and(|f| f.iter().any(|f| f["id"] == framework_id.as_str()))
    })
    .await;
    let fw = fw["frameworks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["id"] == framework_id.as_str())
        .cloned()
        .unwrap();
    let tasks = fw["tasks"].as_array().unwrap();
    assert_eq!(tasks.len(), TASKS, "{fw}");
    assert!(tasks.iter().all(|t| t["state"] == "TASK_RUNNING"), "{fw}");
    assert!(
        fw["completed_tasks"].as_array().is_none_or(Vec::is_empty),
        "{fw}"
    );
    // The same executors still run on the agent: nothing was killed or restarted.
    assert_eq!(agent.containers(), containers_before, "{}", agent.log());
    let agent_state = agent.state();
    assert!(
        agent_state["completed_frameworks"]
            .as_array()
            .is_none_or(Vec::is_empty),
        "{agent_state}"
    );
    assert!(
        agent.log().contains("a new leading master was detected")
            || agent.log().contains("leading master detected"),
        "{}",
        agent.log()
    );

    // Under the election path: exactly the two live masters' json.info_ nodes.
    let nodes = m.election_nodes().await;
    let mut ports: Vec<u64> = nodes
        .iter()
        .map(|(name, data)| {
            assert!(name.starts_with("json.info_"), "{name}");
            let info: Value = serde_json::from_slice(data).unwrap();
            info["port"].as_u64().unwrap()
        })
        .collect();
    ports.sort_unstable();
    let mut live: Vec<u64> = (0..3)
        .filter(|i| *i != leader)
        .map(|i| u64::from(m.ports[i]))
        .collect();
    live.sort_unstable();
    assert_eq!(ports, live);
}
