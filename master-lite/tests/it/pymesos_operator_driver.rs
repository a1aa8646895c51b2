//! An unmodified pymesos 0.3.15 `MesosOperatorMasterDriver` (it POSTs to
//! `/api/v1/operator`) queries and updates the real `mesos-master` binary:
//! health, version, flags, weights, roles, quota, agents, state, and a
//! refused bad role. Opt-in like `pymesos_scheduler_runs_tasks`: set
//! `PYMESOS_PYTHONPATH`.

#[test]
fn pymesos_operator_driver() {
    let Some(out) =
        crate::common::pymesos::run_script("pymesos_operator_driver", "operator_driver.py", &[])
    else {
        return;
    };
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("PYMESOS OPERATOR OK"),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
