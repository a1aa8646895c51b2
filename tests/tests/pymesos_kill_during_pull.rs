//! Killing a task while the agent pulls its image (issue 6, Mesos's PROVISIONING kill): an
//! unmodified pymesos scheduler launches command tasks with a docker image that the real
//! agent pulls from Debian's docker-registry, through a byte-counting relay that slows the
//! pull down enough to act during it (tests/relay). Checked:
//! * a kill during the pull gives TASK_KILLED within a second, the download stops (no bytes,
//!   no open transfer), nothing is left (rootfs, mount, cgroup, half-written layer), and a
//!   new task with the same image then pulls it and finishes;
//! * with three tasks waiting for one image, killing the one whose container is pulling and
//!   one queued behind it leaves the pull running for the third (its progress visible in
//!   `/containers`), which finishes; the big layer crosses the wire once;
//! * a framework teardown during the pull stops it too, and the agent records TASK_KILLED.
//!
//! Needs root, docker-registry and pymesos.

// An integration test file is its own crate: its tests belong at the top level.
#![allow(clippy::tests_outside_test_module)]

mod relay;

use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Child, ChildStdin, Stdio};
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use meseta_tests::registry::{big_layer, Registry};
use meseta_tests::{get_json, images, root_or_skip, wait_until, Cluster, ClusterOptions};
use relay::Relay;
use serde_json::Value;

/// One cluster at a time: the machine has two cores.
static SERIAL: Mutex<()> = Mutex::new(());

const RESOURCES: &str = "cpus:2;mem:2048;disk:10240;ports:[31000-32000]";
const ISOLATION: &str = "cgroups/cpu,cgroups/mem,filesystem/linux,docker/runtime";
const IMAGE: &str = "team/bigbox:v1";
/// The big layer: 48 MiB at 8 MiB/s keeps the pull going ~6 s.
const BIG: usize = 48 << 20;
const RATE: u64 = 8 << 20;

/// A registry with the test image plus a big layer, a throttled relay in front of it, and
/// a cluster whose agent pulls through the relay.
struct Rig {
    _registry: Registry,
    relay: Relay,
    store: tempfile::TempDir,
    cluster: Cluster,
}

fn rig() -> Option<Rig> {
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
struct Scenario {
    child: Child,
    stdin: Option<ChildStdin>,
    events: Receiver<Value>,
    seen: Vec<Value>,
}

impl Scenario {
    fn start(cluster: &Cluster, first: &str, expect: &str) -> Self {
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

    fn send(&mut self, command: &str) {
        let stdin = self.stdin.as_mut().expect("stdin open");
        writeln!(stdin, "{command}").expect("scenario stdin");
        stdin.flush().expect("scenario stdin");
    }

    /// Waits for the first event matching `want`; panics with what was seen on timeout.
    fn wait_for(&mut self, timeout: Duration, want: impl Fn(&Value) -> bool) -> Value {
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
    fn finish(mut self, cluster: &Cluster) {
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
fn kill(scenario: &mut Scenario, task: &str) -> f64 {
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
fn pending_container(rig: &Rig, task: &str, ready: impl Fn(&Value) -> bool) -> String {
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
fn downloading(pull: &Value) -> bool {
    pull["layers"].as_array().into_iter().flatten().any(|l| {
        l["cached"] == false
            && l["done"].as_u64().unwrap_or(0) > 0
            && l["total"].as_u64().unwrap_or(0) >= BIG as u64
    })
}

fn container_listed(rig: &Rig, id: &str) -> bool {
    let all = get_json(rig.cluster.agent_port, "/containers");
    all.as_array()
        .into_iter()
        .flatten()
        .any(|c| c["container_id"] == id)
}

fn dir_entries(dir: &Path) -> Vec<std::path::PathBuf> {
    std::fs::read_dir(dir)
        .map(|d| d.flatten().map(|e| e.path()).collect())
        .unwrap_or_default()
}

/// No rootfs, mount or cgroup of the cluster left, and no half-written layer in the store.
fn assert_nothing_left(rig: &Rig) {
    let cluster = &rig.cluster;
    let provisioner = cluster.dir.path().join("agent/provisioner/containers");
    let gone = wait_until(Duration::from_secs(10), || {
        dir_entries(&provisioner).is_empty()
    });
    assert!(gone, "rootfses left: {:?}", dir_entries(&provisioner));
    let mounts = std::fs::read_to_string("/proc/self/mountinfo").unwrap();
    let tmp = cluster.dir.path().display().to_string();
    assert!(
        !mounts.lines().any(|l| l.contains(&tmp)),
        "mounts left under {tmp}"
    );
    for hierarchy in ["memory", "cpu", "pids", "devices", "freezer"] {
        let root = Path::new("/sys/fs/cgroup")
            .join(hierarchy)
            .join(&cluster.cgroups_root);
        let left: Vec<_> = dir_entries(&root)
            .into_iter()
            .filter(|p| p.is_dir())
            .collect();
        assert!(left.is_empty(), "cgroups left: {left:?}");
    }
    let staging = rig.store.path().join("staging");
    assert_eq!(dir_entries(&staging), Vec::<std::path::PathBuf>::new());
}

#[test]
fn killing_a_task_during_its_pull_stops_the_pull_and_a_new_task_gets_the_image() {
    let _serial = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    if !root_or_skip("killing_a_task_during_its_pull_stops_the_pull_and_a_new_task_gets_the_image")
    {
        return;
    }
    let Some(rig) = rig() else {
        return;
    };
    let mut scenario = Scenario::start(
        &rig.cluster,
        "pk-victim",
        "pk-victim=TASK_KILLED,pk-again=TASK_FINISHED",
    );
    let id = pending_container(&rig, "pk-victim", downloading);
    let asked = Instant::now();
    let latency = kill(&mut scenario, "pk-victim");
    eprintln!("kill -> TASK_KILLED: {latency:.3} s");
    assert!(latency < 1.0, "TASK_KILLED after {latency} s");

    // The download stops: its connection closes and no byte follows.
    let closed = wait_until(Duration::from_secs(2), || rig.relay.big_open() == 0);
    assert!(closed, "the layer download is still open");
    let secs = asked.elapsed().as_secs_f64();
    eprintln!("kill asked -> download connection closed: <= {secs:.3} s");
    let stopped_at = rig.relay.down();
    std::thread::sleep(Duration::from_secs(1));
    assert_eq!(rig.relay.down(), stopped_at, "bytes still flowing");
    assert!(
        stopped_at < BIG as u64,
        "the whole layer came down ({stopped_at} bytes): the pull was not stopped"
    );
    eprintln!("pull stopped after {stopped_at} bytes of a {BIG}-byte layer");
    let forgotten = wait_until(Duration::from_secs(5), || !container_listed(&rig, &id));
    assert!(forgotten, "container {id} still listed");
    assert_nothing_left(&rig);
    let layers = rig.store.path().join("layers");
    assert_eq!(dir_entries(&layers).len(), 3, "only the small layers stay");

    // The same image again, at full speed: pulled afresh, and the task runs in it.
    rig.relay.set_rate(0);
    scenario.send("launch pk-again");
    scenario.wait_for(Duration::from_secs(90), |v| {
        v["event"] == "update" && v["task_id"] == "pk-again" && v["state"] == "TASK_FINISHED"
    });
    scenario.finish(&rig.cluster);
    assert_nothing_left(&rig);
    assert_eq!(dir_entries(&layers).len(), 4);
}

#[test]
fn killing_the_pulling_task_keeps_the_pull_for_a_task_still_waiting() {
    let _serial = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    if !root_or_skip("killing_the_pulling_task_keeps_the_pull_for_a_task_still_waiting") {
        return;
    }
    let Some(rig) = rig() else {
        return;
    };
    let mut scenario = Scenario::start(
        &rig.cluster,
        "pk-a",
        "pk-a=TASK_KILLED,pk-b=TASK_FINISHED,pk-c=TASK_KILLED",
    );
    // pk-a's container pulls; pk-b and pk-c queue behind it for the same image.
    let a = pending_container(&rig, "pk-a", downloading);
    scenario.send("launch pk-b");
    scenario.send("launch pk-c");
    let b = pending_container(&rig, "pk-b", |_| true);
    let c = pending_container(&rig, "pk-c", |_| true);
    assert!(
        rig.relay.down() < BIG as u64,
        "the pull ended before the kills"
    );

    let latency_a = kill(&mut scenario, "pk-a");
    let latency_c = kill(&mut scenario, "pk-c");
    eprintln!("kill -> TASK_KILLED: pulling {latency_a:.3} s, queued {latency_c:.3} s");
    assert!(latency_a < 1.0, "pk-a TASK_KILLED after {latency_a} s");
    assert!(latency_c < 1.0, "pk-c TASK_KILLED after {latency_c} s");
    for id in [&a, &c] {
        let forgotten = wait_until(Duration::from_secs(5), || !container_listed(&rig, id));
        assert!(forgotten, "container {id} still listed");
        let dir = rig.cluster.dir.path().join("agent/provisioner/containers");
        assert!(!dir.join(id).exists(), "{id} has a provisioner dir");
    }
    // pk-b still wants the image: the download goes on.
    let before = rig.relay.down();
    std::thread::sleep(Duration::from_millis(500));
    let after = rig.relay.down();
    assert!(after > before, "the download stopped ({before} -> {after})");
    // ... and pk-b's container shows its progress.
    assert_eq!(pending_container(&rig, "pk-b", downloading), b);

    rig.relay.set_rate(0);
    scenario.wait_for(Duration::from_secs(90), |v| {
        v["event"] == "update" && v["task_id"] == "pk-b" && v["state"] == "TASK_FINISHED"
    });
    scenario.finish(&rig.cluster);
    let total = rig.relay.down();
    assert!(
        total < 2 * BIG as u64,
        "{total} bytes: the big layer came down more than once"
    );
    assert_nothing_left(&rig);
    assert_eq!(dir_entries(&rig.store.path().join("layers")).len(), 4);
}

/// The states recorded anywhere in `doc` for the task `id`.
fn task_states(doc: &Value, id: &str, out: &mut Vec<String>) {
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

#[test]
fn tearing_the_framework_down_during_a_pull_stops_it() {
    let _serial = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    if !root_or_skip("tearing_the_framework_down_during_a_pull_stops_it") {
        return;
    }
    let Some(rig) = rig() else {
        return;
    };
    let mut scenario = Scenario::start(&rig.cluster, "pk-t", "");
    let id = pending_container(&rig, "pk-t", downloading);
    let asked = Instant::now();
    scenario.send("teardown -");
    let forgotten = wait_until(Duration::from_secs(5), || !container_listed(&rig, &id));
    assert!(forgotten, "container {id} still listed");
    eprintln!(
        "teardown -> container gone: {:.3} s",
        asked.elapsed().as_secs_f64()
    );
    let closed = wait_until(Duration::from_secs(2), || rig.relay.big_open() == 0);
    assert!(closed, "the layer download is still open");
    let stopped_at = rig.relay.down();
    std::thread::sleep(Duration::from_secs(1));
    assert_eq!(rig.relay.down(), stopped_at, "bytes still flowing");
    assert!(stopped_at < BIG as u64, "the whole layer came down");
    scenario.finish(&rig.cluster);
    assert_nothing_left(&rig);
    // The agent recorded the task as killed.
    let mut states = Vec::new();
    task_states(
        &get_json(rig.cluster.agent_port, "/state"),
        "pk-t",
        &mut states,
    );
    assert_eq!(states, ["TASK_KILLED"], "agent /state");
}
