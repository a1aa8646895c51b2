#![allow(clippy::tests_outside_test_module)]
//! An unmodified pymesos 0.3.15 `MesosOperatorMasterDriver` (it POSTs to
//! `/api/v1/operator`) queries and updates the real `mesos-master` binary:
//! health, version, flags, weights, roles, quota, agents, state, and a
//! refused bad role. Opt-in like `pymesos_scheduler_runs_tasks`: set
//! `PYMESOS_PYTHONPATH`.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

#[test]
fn pymesos_operator_driver() {
    let Ok(pythonpath) = std::env::var("PYMESOS_PYTHONPATH") else {
        eprintln!("SKIPPED pymesos_operator_driver: set PYMESOS_PYTHONPATH to run it");
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut master = Command::new(env!("CARGO_BIN_EXE_mesos-master"))
        .args([
            &format!("--work_dir={}", dir.path().display()),
            "--ip=127.0.0.1",
            &format!("--port={port}"),
        ])
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "master did not start");
        std::thread::sleep(Duration::from_millis(20));
    }
    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/pymesos/operator_driver.py"
    );
    let out = Command::new("timeout")
        .args(["60", "python3", script, &port.to_string()])
        .env("PYMESOS_PYTHONPATH", pythonpath)
        .output()
        .unwrap();
    let _ = master.kill();
    let _ = master.wait();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("PYMESOS OPERATOR OK"),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
