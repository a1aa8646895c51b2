//! Killing a task while the agent pulls its image (Mesos's PROVISIONING kill): an
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

mod pullkill_rig;
mod relay;

use std::sync::Mutex;
use std::time::{Duration, Instant};

use meseta_tests::{get_json, root_or_skip, wait_until};
use pullkill_rig::{
    assert_nothing_left, container_listed, dir_entries, downloading, kill, pending_container, rig,
    task_states, Scenario, BIG,
};

/// One cluster at a time: the machine has two cores.
static SERIAL: Mutex<()> = Mutex::new(());

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
    eprintln!("bytes from the registry in all: {total} (big layer {BIG})");
    assert!(
        total < 2 * BIG as u64,
        "{total} bytes: the big layer came down more than once"
    );
    assert_nothing_left(&rig);
    assert_eq!(dir_entries(&rig.store.path().join("layers")).len(), 4);
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
