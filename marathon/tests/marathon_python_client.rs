//! The unmodified marathon-python client (PyPI `marathon`) drives a real `marathon` on a real
//! master, agent and ZooKeeper: create, list with filters and embeds, scale, restart, rolling
//! update, task kill and replacement, kill with scale, deployments, versions, delete.

#![allow(clippy::tests_outside_test_module)]

mod support;

use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::Duration;

use meseta_tests::zookeeper;
use meseta_tests::{root_or_skip, Cluster};
use support::{resources, zk_url, Marathon};

fn marathon_python() -> std::path::PathBuf {
    static PY: OnceLock<std::path::PathBuf> = OnceLock::new();
    PY.get_or_init(|| {
        let script =
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/python/setup-marathon-python.sh");
        let out = Command::new("bash")
            .arg(&script)
            .stderr(Stdio::inherit())
            .output()
            .expect("setup-marathon-python.sh");
        assert!(out.status.success(), "setup-marathon-python.sh failed");
        String::from_utf8_lossy(&out.stdout).trim().into()
    })
    .clone()
}

#[test]
fn marathon_python_drives_the_app_lifecycle() {
    if !root_or_skip("marathon_python_drives_the_app_lifecycle")
        || !zookeeper::available_or_skip("marathon_python")
    {
        return;
    }
    let cluster = Cluster::start(&resources());
    let m = Marathon::start(
        &format!("127.0.0.1:{}", cluster.master_port),
        &[format!("--zk={}", zk_url("marathon-python"))],
        cluster.dir.path(),
    );
    m.wait_elected(Duration::from_secs(20));
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/python/marathon_scenario.py");
    let out = Command::new(marathon_python())
        .arg(&script)
        .arg(m.url())
        .output()
        .expect("run marathon_scenario.py");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && stdout.contains("OK"),
        "scenario failed:\n{stdout}\n{}\n--- marathon ---\n{}\n{}",
        String::from_utf8_lossy(&out.stderr),
        m.logs(),
        cluster.logs()
    );
}
