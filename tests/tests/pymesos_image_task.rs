//! An unmodified pymesos scheduler runs command tasks in MESOS containers with a docker image
//! (`ContainerInfo.mesos.image`) on a real Meseta cluster: the 3-layer busybox test image
//! (meseta_tests::images) comes from a `--docker_registry` directory, as a `docker save`
//! tarball and as an OCI layout. The task must really run inside the image (a file only the
//! image has, the whiteout applied, /etc/hostname, Docker's default capabilities,
//! NoNewPrivs), the image's Entrypoint/Cmd must run when the task gives no command, a kill
//! must end it, and nothing may be left behind (mounts, rootfs, cgroups). An agent without
//! `--image_providers` fails such a task with a clear message. Needs root.

// An integration test file is its own crate: its tests belong at the top level.
#![allow(clippy::tests_outside_test_module)]

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use meseta_tests::{images, root_or_skip, Cluster, ClusterOptions};

/// One cluster at a time: the machine has two cores.
static SERIAL: Mutex<()> = Mutex::new(());

const RESOURCES: &str = "cpus:2;mem:2048;disk:10240;ports:[31000-32000]";
const ISOLATION: &str = "cgroups/cpu,cgroups/mem,filesystem/linux,docker/runtime";

/// A `--docker_registry` directory with `busybox:latest.tar` (docker save) and
/// `ocibox:latest/` (OCI layout).
fn image_dir(root: &Path) -> PathBuf {
    let dir = root.join("images");
    std::fs::create_dir_all(&dir).unwrap();
    let layers = images::layers();
    std::fs::write(
        dir.join("busybox:latest.tar"),
        images::docker_save(&layers, false),
    )
    .unwrap();
    let oci = dir.join("ocibox:latest");
    std::fs::create_dir_all(&oci).unwrap();
    images::write_oci_layout(&oci, &layers);
    dir
}

fn find_files(dir: &Path, name: &str, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let p = e.path();
        let is_link = std::fs::symlink_metadata(&p).is_ok_and(|m| m.file_type().is_symlink());
        if p.file_name().is_some_and(|n| n == name) {
            out.push(p.clone());
        }
        if p.is_dir() && !is_link {
            find_files(&p, name, out);
        }
    }
}

fn image_cluster(extra: &[String]) -> (Cluster, tempfile::TempDir) {
    let images = tempfile::tempdir().unwrap();
    let dir = image_dir(images.path());
    let mut opts = ClusterOptions::new(RESOURCES);
    opts.isolation = ISOLATION.into();
    opts.agent_args = vec![
        "--image_providers=docker".into(),
        format!("--docker_registry={}", dir.display()),
        format!(
            "--docker_store_dir={}",
            images.path().join("store").display()
        ),
    ];
    opts.agent_args.extend(extra.iter().cloned());
    (Cluster::start_with(&opts), images)
}

/// Runs the image_task scenario for `image` and checks what the task saw and what was left.
fn run_image_scenario(cluster: &Cluster, image: &str) {
    cluster.run_scenario("image_task", 90, &[("IMAGE_NAME", image)]);
    run_checks(cluster);
}

/// What the proof task saw, and the Entrypoint task's output.
fn run_checks(cluster: &Cluster) {
    let work = cluster.dir.path().join("agent");
    let mut proofs = Vec::new();
    find_files(&work, "proof", &mut proofs);
    assert_eq!(proofs.len(), 1, "one proof file expected: {proofs:?}");
    let proof = std::fs::read_to_string(&proofs[0]).unwrap();
    eprintln!("what the task saw:\n{proof}");
    let host = nix::unistd::gethostname().unwrap();
    for want in [
        "keep",                      // a file only the image has
        "CapEff:\t00000000a80425fb", // Docker's default capability set
        "CapBnd:\t00000000a80425fb",
        "NoNewPrivs:\t1",
        "/tmp",                       // the image's WorkingDir
        "sandbox=/mnt/mesos/sandbox", // MESOS_SANDBOX
        "proc-ok",
        "dev-ok",
        "sys-ro",
        host.to_str().unwrap(), // /etc/hostname
    ] {
        assert!(proof.contains(want), "'{want}' missing in proof:\n{proof}");
    }
    assert!(!proof.contains("whiteout-missed"), "{proof}");
    // The listing of /bin is the image's (busybox, sh), not the host's.
    assert!(!proof.contains("bash"), "host /bin visible:\n{proof}");
    let mut stdouts = Vec::new();
    find_files(&work, "stdout", &mut stdouts);
    assert!(
        stdouts
            .iter()
            .any(|p| std::fs::read_to_string(p).is_ok_and(|s| s.lines().any(|l| l == "hi"))),
        "the image's Entrypoint+Cmd did not print 'hi'"
    );
}

#[test]
fn image_tasks_run_inside_a_docker_save_image() {
    let _serial = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    if !root_or_skip("image_tasks_run_inside_a_docker_save_image") {
        return;
    }
    let (cluster, _images) = image_cluster(&[]);
    run_image_scenario(&cluster, "busybox:latest");
    cluster.assert_no_container_left();
}

#[test]
fn image_tasks_run_inside_an_oci_layout_with_the_copy_backend() {
    let _serial = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    if !root_or_skip("image_tasks_run_inside_an_oci_layout_with_the_copy_backend") {
        return;
    }
    let (cluster, _images) = image_cluster(&["--image_provisioner_backend=copy".into()]);
    run_image_scenario(&cluster, "ocibox:latest");
    cluster.assert_no_container_left();
}

#[test]
fn image_task_fails_clearly_without_image_providers() {
    let _serial = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    if !root_or_skip("image_task_fails_clearly_without_image_providers") {
        return;
    }
    let cluster = Cluster::start(RESOURCES);
    cluster.run_scenario(
        "image_task",
        60,
        &[("IMAGE_EXPECT_FAILURE", "--image_providers=docker")],
    );
}

#[test]
fn image_tasks_pull_from_a_registry_with_visible_progress() {
    let _serial = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    if !root_or_skip("image_tasks_pull_from_a_registry_with_visible_progress") {
        return;
    }
    let Some(registry) = meseta_tests::registry::Registry::start() else {
        return;
    };
    // A big incompressible fourth layer keeps the pull going long enough to be watched.
    let mut layers = images::layers();
    layers.push(meseta_tests::registry::big_layer("data/blob", 48 << 20));
    registry.push_image("team/bigbox", "v1", &layers);
    let store = tempfile::tempdir().unwrap();
    let mut opts = ClusterOptions::new(RESOURCES);
    opts.isolation = ISOLATION.into();
    opts.agent_args = vec![
        "--image_providers=docker".into(),
        format!("--docker_registry={}", registry.url),
        format!("--docker_store_dir={}", store.path().display()),
        // A pull longer than this must not fail the executor: it does not count.
        "--executor_registration_timeout=1secs".into(),
    ];
    let cluster = Cluster::start_with(&opts);
    let child = cluster
        .scenario_command("image_task", 120)
        .env("IMAGE_NAME", "team/bigbox:v1")
        .spawn()
        .expect("scenario.py");
    let started = std::time::Instant::now();
    let mut seen: Option<(String, serde_json::Value)> = None;
    let mut inspect = String::new();
    while seen.is_none() && started.elapsed() < std::time::Duration::from_secs(60) {
        let containers = meseta_tests::get_json(cluster.agent_port, "/containers");
        for c in containers.as_array().into_iter().flatten() {
            let pull = &c["meseta"]["image_pull"];
            let layers = pull["layers"].as_array().map_or(0, Vec::len);
            if layers > 0 && pull["image"] == "team/bigbox:v1" {
                let id = c["container_id"].as_str().unwrap_or_default().to_owned();
                let out = std::process::Command::new(meseta_tests::bin("agentctl"))
                    .arg(format!("--agent=127.0.0.1:{}", cluster.agent_port))
                    .args(["inspect", &id])
                    .output()
                    .expect("agentctl");
                inspect = String::from_utf8_lossy(&out.stdout).into_owned();
                seen = Some((id, pull.clone()));
                break;
            }
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    let out = child.wait_with_output().expect("scenario.py");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "scenario failed:\n{stdout}\n{}",
        cluster.logs()
    );
    let (id, pull) = seen.expect("no pull progress seen in /containers during the pull");
    assert_eq!(pull["phase"], "pulling", "{pull}");
    assert!(
        inspect.contains("Image:       team/bigbox:v1 (pulling)"),
        "agentctl inspect {id}:\n{inspect}"
    );
    eprintln!("progress seen: {pull}\nagentctl inspect:\n{inspect}");
    let log = std::fs::read_to_string(cluster.dir.path().join("agent.err")).unwrap_or_default();
    let pull_secs: f64 = log
        .lines()
        .filter(|l| l.contains("image ready"))
        .filter_map(|l| l.rsplit("secs=").next()?.trim().parse().ok())
        .fold(0.0, f64::max);
    assert!(
        pull_secs > 1.0,
        "the pull ({pull_secs}s) should outlast --executor_registration_timeout=1secs"
    );
    run_checks(&cluster);
    cluster.assert_no_container_left();
    // The layers are in the store, unpacked once.
    let layers_dir = store.path().join("layers");
    assert_eq!(std::fs::read_dir(layers_dir).unwrap().count(), 4);
}

#[test]
fn a_custom_executor_with_an_image_runs_inside_it() {
    let _serial = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    if !root_or_skip("a_custom_executor_with_an_image_runs_inside_it") {
        return;
    }
    let (cluster, _images) = image_cluster(&[]);
    let out = cluster.run_scenario(
        "image_task",
        60,
        &[
            ("IMAGE_NAME", "busybox:latest"),
            ("IMAGE_CUSTOM_EXECUTOR", "1"),
        ],
    );
    let mut proofs = Vec::new();
    find_files(
        &cluster.dir.path().join("agent"),
        "executor-proof",
        &mut proofs,
    );
    assert_eq!(
        proofs.len(),
        1,
        "no executor-proof:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        cluster.logs()
    );
    let proof = std::fs::read_to_string(&proofs[0]).unwrap();
    for want in [
        "keep",
        "sandbox=/mnt/mesos/sandbox",
        "busybox",
        "CapEff:\t00000000a80425fb", // Docker's default capability set
        "CapBnd:\t00000000a80425fb",
        "NoNewPrivs:\t1",
    ] {
        assert!(proof.contains(want), "'{want}' missing:\n{proof}");
    }
    assert!(!proof.contains("bash"), "host /bin visible:\n{proof}");
    cluster.assert_no_container_left();
}
