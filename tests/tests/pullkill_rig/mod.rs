//! The rig of pymesos_kill_during_pull.rs: Debian's docker-registry with the test image plus
//! a big layer, the throttling relay in front of it, a cluster whose agent pulls through
//! the relay, the image_kill pymesos scenario driven over its stdin, and the leak checks.

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Stdio};
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};

use meseta_tests::registry::{big_layer, Registry};
use meseta_tests::{get_json, images, wait_until, Cluster, ClusterOptions};
use serde_json::Value;

use crate::relay::Relay;

const RESOURCES: &str = "cpus:2;mem:2048;disk:10240;ports:[31000-32000]";
const ISOLATION: &str = "cgroups/cpu,cgroups/mem,filesystem/linux,docker/runtime";
const IMAGE: &str = "team/bigbox:v1";
/// The big layer's payload: 48 MiB at 8 MiB/s keeps the pull going ~6 s.
pub const BIG: usize = 48 << 20;
/// The relay's rate while a test acts during the pull (bytes/s).
const RATE: u64 = 8 << 20;

/// A registry with the test image plus a big layer, a throttled relay in front of it, and
/// a cluster whose agent pulls through the relay.
pub struct Rig {
    _registry: Registry,
    /// The relay the agent pulls through.
    pub relay: Relay,
    /// `--docker_store_dir`.
    pub store: tempfile::TempDir,
    /// Master and agent.
    pub cluster: Cluster,
}

/// Starts the registry (pushing the image), the relay and the cluster; `None` (with a
/// message) without docker-registry.
pub fn rig() -> Option<Rig> {
    let registry = Registry::start()?;
    let mut layers = images::layers();
    layers.push(big_layer("data/blob", BIG));
    registry.push_image("team/bigbox", "v1", &layers);
    let relay = Relay::start(&registry.url, RATE);
    let store = tempfile::tempdir().unwrap();
    let mut opts = ClusterOptions::new(RESOURCES);
    opts.isolation = ISOLATION.into();
    opts.agent_args = vec![
        "--image_providers=docker".into(),
        format!("--docker_registry={}", relay.url),
        format!("--docker_store_dir={}", store.path().display()),
    ];
    let cluster = Cluster::start_with(&opts);
    Some(Rig {
        _registry: registry,
        relay,
        store,
        cluster,
    })
}

/// A running image_kill scenario: commands go to its stdin, its events come back parsed.
pub struct Scenario {
    child: Child,
    stdin: Option<ChildStdin>,
    events: Receiver<Value>,
    seen: Vec<Value>,
}

impl Scenario {
    /// Starts the scenario with the tasks `first` (comma-separated) and the final states
    /// `expect` (`id=TASK_STATE,...`).
    pub fn start(cluster: &Cluster, first: &str, expect: &str) -> Self {
        let mut child = cluster
            .scenario_command("image_kill", 120)
            .env("IMAGE_NAME", IMAGE)
            .env("IMAGE_KILL_FIRST", first)
            .env("IMAGE_KILL_EXPECT", expect)
            .stdin(Stdio::piped())
            .spawn()
            .expect("scenario.py");
        let stdin = child.stdin.take();
        let stdout = child.stdout.take().expect("stdout");
        let (tx, events) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                let value = match line.strip_prefix("RESULT ") {
                    Some(r) => serde_json::json!({"event": "result", "result": r}),
                    None => serde_json::from_str(&line).unwrap_or(Value::Null),
                };
                if tx.send(value).is_err() {
                    break;
                }
            }
        });
        Self {
            child,
            stdin,
            events,
            seen: Vec::new(),
        }
    }

    /// Sends one command line (`launch ID`, `kill ID`, `teardown -`).
    pub fn send(&mut self, command: &str) {
        let stdin = self.stdin.as_mut().expect("stdin open");
        writeln!(stdin, "{command}").expect("scenario stdin");
        stdin.flush().expect("scenario stdin");
    }

    /// Waits for the first event matching `want`; panics with what was seen on timeout.
    pub fn wait_for(&mut self, timeout: Duration, want: impl Fn(&Value) -> bool) -> Value {
        if let Some(v) = self.seen.iter().find(|v| want(v)) {
            return v.clone();
        }
        let deadline = Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.events.recv_timeout(left) {
                Ok(v) => {
                    self.seen.push(v.clone());
                    if want(&v) {
                        return v;
                    }
                }
                Err(RecvTimeoutError::Timeout | RecvTimeoutError::Disconnected) => {
                    panic!("event not seen; events: {:#?}", self.seen)
                }
            }
        }
    }

    /// Closes stdin and waits for the scenario's verdict.
    pub fn finish(mut self, cluster: &Cluster) {
        drop(self.stdin.take());
        let status = self.child.wait().expect("scenario.py");
        while let Ok(v) = self.events.recv_timeout(Duration::from_secs(1)) {
            self.seen.push(v);
        }
        assert!(
            status.success(),
            "scenario failed: {:#?}\n{}",
            self.seen,
            cluster.logs()
        );
    }
}

/// Kills `task` and returns the scheduler's kill → TASK_KILLED latency in seconds.
pub fn kill(scenario: &mut Scenario, task: &str) -> f64 {
    scenario.send(&format!("kill {task}"));
    let latency = scenario.wait_for(Duration::from_secs(20), |v| {
        v["event"] == "kill_latency" && v["task_id"] == task
    });
    let update = scenario.wait_for(Duration::from_secs(1), |v| {
        v["event"] == "update" && v["task_id"] == task && v["state"] == "TASK_KILLED"
    });
    assert_eq!(
        update["reason"], "REASON_TASK_KILLED_DURING_LAUNCH",
        "{update}"
    );
    latency["secs"].as_f64().expect("secs")
}

/// The pending container of `task` in `/containers`, once `ready` holds for its pull.
pub fn pending_container(rig: &Rig, task: &str, ready: impl Fn(&Value) -> bool) -> String {
    let mut found = None;
    let seen = wait_until(Duration::from_secs(60), || {
        let all = get_json(rig.cluster.agent_port, "/containers");
        found = all.as_array().into_iter().flatten().find_map(|c| {
            let pull = &c["meseta"]["image_pull"];
            (c["executor_id"] == task && pull["image"] == IMAGE && ready(pull))
                .then(|| c["container_id"].as_str().unwrap_or_default().to_owned())
        });
        found.is_some()
    });
    assert!(seen, "{task}: no such pull seen\n{}", rig.cluster.logs());
    found.unwrap_or_default()
}

/// Whether the big layer is coming down (the small ones are done by then).
pub fn downloading(pull: &Value) -> bool {
    pull["layers"].as_array().into_iter().flatten().any(|l| {
        l["cached"] == false
            && l["done"].as_u64().unwrap_or(0) > 0
            && l["total"].as_u64().unwrap_or(0) >= BIG as u64
    })
}

/// Whether `/containers` lists container `id`.
pub fn container_listed(rig: &Rig, id: &str) -> bool {
    let all = get_json(rig.cluster.agent_port, "/containers");
    all.as_array()
        .into_iter()
        .flatten()
        .any(|c| c["container_id"] == id)
}

/// The entries of `dir` (none when it does not exist).
pub fn dir_entries(dir: &Path) -> Vec<PathBuf> {
    std::fs::read_dir(dir)
        .map(|d| d.flatten().map(|e| e.path()).collect())
        .unwrap_or_default()
}

/// No rootfs, mount or cgroup of the cluster left, and no half-written layer in the store.
pub fn assert_nothing_left(rig: &Rig) {
    rig.cluster.assert_no_container_left();
    let staging = rig.store.path().join("staging");
    assert_eq!(dir_entries(&staging), Vec::<PathBuf>::new());
}

/// The states recorded anywhere in `doc` for the task `id`.
pub fn task_states(doc: &Value, id: &str, out: &mut Vec<String>) {
    match doc {
        Value::Object(map) => {
            if map.get("id").and_then(Value::as_str) == Some(id) {
                if let Some(s) = map.get("state").and_then(Value::as_str) {
                    out.push(s.to_owned());
                }
            }
            map.values().for_each(|v| task_states(v, id, out));
        }
        Value::Array(items) => items.iter().for_each(|v| task_states(v, id, out)),
        _ => {}
    }
}
