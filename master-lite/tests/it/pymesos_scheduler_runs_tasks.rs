//! An unmodified pymesos 0.3.15 scheduler (MesosSchedulerDriver) runs 50 tasks
//! against the real `mesos-master` binary, with a Python fake agent. Opt-in:
//! set `PYMESOS_PYTHONPATH` to a directory holding pymesos, six, addict and
//! http_parser (the pure-Python parser is enough).

#[test]
fn pymesos_scheduler_runs_tasks() {
    let Some(out) = crate::common::pymesos::run_script(
        "pymesos_scheduler_runs_tasks",
        "scheduler_and_fake_agent.py",
        &["50"],
    ) else {
        return;
    };
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("PYMESOS OK"),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
