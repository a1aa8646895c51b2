//! The unmodified chronos-python 1.2.1 client against `chronos` on a real master and agent:
//! a repeating ISO 8601 job, a dependent job, retries, a manual run, search, delete, and bad
//! input refused with 400 and nothing stored.

#![allow(clippy::tests_outside_test_module)]

mod common;

use std::process::Command;

use common::{chronos_python, scenario_script, Chronos};
use meseta_tests::{root_or_skip, Cluster};

#[test]
fn chronos_python_client_drives_jobs_on_a_real_cluster() {
    if !root_or_skip("chronos_python_client_drives_jobs_on_a_real_cluster") {
        return;
    }
    let py = chronos_python();
    let cluster = Cluster::start("cpus:4;mem:4096;disk:20000");
    let work = tempfile::tempdir().unwrap();
    let chronos = Chronos::start(
        work.path(),
        "chronos",
        &[
            format!("--master=127.0.0.1:{}", cluster.master_port),
            format!("--state_dir={}", work.path().join("state").display()),
            "--failure_retry=500".into(),
        ],
    );
    let out = Command::new(py)
        .arg(scenario_script())
        .arg(format!("127.0.0.1:{}", chronos.port))
        .arg(work.path())
        .output()
        .expect("python");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "scenario failed:\n{stdout}\n{stderr}\n--- chronos ---\n{}\n{}",
        chronos.logs(),
        cluster.logs()
    );
    assert!(stdout.contains("OK"), "{stdout}");
    eprintln!("{stdout}");
}
