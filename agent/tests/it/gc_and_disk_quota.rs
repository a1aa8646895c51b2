//! Garbage collection and the `disk/du` isolator, end to end through the agent daemon with
//! the real supervisor and the real command executor (`mesos-executor`):
//! - a finished executor's sandbox and checkpointed meta are removed after `--gc_delay`;
//! - with a full-enough disk (`--gc_disk_headroom=1`) they go at the next disk check even
//!   with a week-long `--gc_delay`;
//! - a sandbox that outgrows its `disk` resource ends the task with TASK_FAILED /
//!   REASON_CONTAINER_LIMITATION_DISK under `--enforce_container_disk_quota`, and is only
//!   reported in `/monitor/statistics` without it.
//!
//! Needs root (the containerizer).

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::daemon_harness::{command_task, get_json, root_or_skip, FakeMaster, TestAgent};
use meseta_api::internal::{CallType, StatusUpdate};
use meseta_api::{Reason, TaskState};
use serde_json::json;

/// A launcher dir with the real supervisor and the real command executor; `None` (with a
/// SKIPPED line) when the workspace binaries are not built.
fn launcher(test: &str) -> Option<tempfile::TempDir> {
    let supervisor = meseta_tests::bin("mesos-containerizer");
    let executor = supervisor.parent()?.join("mesos-executor");
    if !executor.is_file() {
        eprintln!("SKIPPED {test}: no mesos-executor built (cargo build --workspace --bins)");
        return None;
    }
    let dir = tempfile::tempdir().unwrap();
    std::os::unix::fs::symlink(&supervisor, dir.path().join("mesos-containerizer")).unwrap();
    std::os::unix::fs::symlink(&executor, dir.path().join("mesos-executor")).unwrap();
    Some(dir)
}

/// Acknowledges every update until a task reaches a terminal state, which is returned.
async fn until_terminal(master: &Arc<FakeMaster>) -> StatusUpdate {
    loop {
        let u = master
            .next_call(60, |c| c.r#type == CallType::StatusUpdate)
            .await
            .status_update
            .unwrap();
        master.acknowledge(&u).await;
        if u.status.state.is_terminal() {
            return u;
        }
    }
}

fn run_dir(agent: &TestAgent, meta: bool, fw: &str, ex: &str) -> PathBuf {
    let base = agent.dir.path().join("work");
    let base = if meta { base.join("meta") } else { base };
    base.join(format!("slaves/m1-S0/frameworks/{fw}/executors/{ex}/runs"))
}

/// The run directories (not `latest`) under `runs`.
fn runs(runs: &Path) -> Vec<PathBuf> {
    std::fs::read_dir(runs)
        .map(|rd| {
            rd.filter_map(Result::ok)
                .filter(|e| e.file_name() != "latest")
                .map(|e| e.path())
                .collect()
        })
        .unwrap_or_default()
}

async fn wait_gone(paths: &[PathBuf], within: Duration) -> bool {
    let deadline = Instant::now() + within;
    while Instant::now() < deadline {
        if paths.iter().all(|p| !p.exists()) {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    false
}

#[tokio::test(flavor = "current_thread")]
async fn finished_sandboxes_are_removed_after_gc_delay() {
    let test = "finished_sandboxes_are_removed_after_gc_delay";
    if !root_or_skip(test) {
        return;
    }
    let Some(launcher) = launcher(test) else {
        return;
    };
    let master = FakeMaster::start().await;
    let ld = format!("--launcher_dir={}", launcher.path().display());
    let agent = TestAgent::start(master.addr, &[ld.as_str(), "--gc_delay=3secs"]).await;
    master
        .send(&command_task("fw-gc", "t1", "echo done", true, Some(10.0)))
        .await;
    let end = until_terminal(&master).await;
    assert_eq!(end.status.state, TaskState::Finished);
    master
        .next_call(30, |c| c.r#type == CallType::ExitedExecutor)
        .await;
    let sandboxes = runs(&run_dir(&agent, false, "fw-gc", "t1"));
    assert_eq!(sandboxes.len(), 1, "one sandbox for the run");
    let ended = Instant::now();
    // Kept for gc_delay...
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert!(sandboxes[0].join("stdout").is_file(), "removed too early");
    // ...then removed, with its meta.
    let mut paths = sandboxes.clone();
    paths.extend(runs(&run_dir(&agent, true, "fw-gc", "t1")));
    assert!(
        wait_gone(&paths, Duration::from_secs(10)).await,
        "{paths:?} still there"
    );
    assert!(ended.elapsed() >= Duration::from_secs(2));
    let metrics = get_json(agent.addr, "/metrics/snapshot").await;
    assert!(metrics["gc/path_removals_succeeded"].as_f64().unwrap() >= 1.0);
    assert_eq!(metrics["gc/path_removals_failed"], 0.0);
}

#[tokio::test(flavor = "current_thread")]
async fn a_full_disk_prunes_sandboxes_long_before_gc_delay() {
    let test = "a_full_disk_prunes_sandboxes_long_before_gc_delay";
    if !root_or_skip(test) {
        return;
    }
    let Some(launcher) = launcher(test) else {
        return;
    };
    let master = FakeMaster::start().await;
    let ld = format!("--launcher_dir={}", launcher.path().display());
    // Headroom 1.0: any usage leaves sandboxes a max age of 0 (Mesos: gc_delay ×
    // max(0, 1 − headroom − usage)), so the next disk check prunes everything scheduled.
    let agent = TestAgent::start(
        master.addr,
        &[
            ld.as_str(),
            "--gc_delay=1weeks",
            "--gc_disk_headroom=1.0",
            "--disk_watch_interval=1secs",
        ],
    )
    .await;
    master
        .send(&command_task("fw-full", "t2", "echo x", false, Some(10.0)))
        .await;
    assert_eq!(
        until_terminal(&master).await.status.state,
        TaskState::Finished
    );
    master
        .next_call(30, |c| c.r#type == CallType::ExitedExecutor)
        .await;
    let sandboxes = runs(&run_dir(&agent, false, "fw-full", "t2"));
    assert_eq!(sandboxes.len(), 1);
    assert!(
        wait_gone(&sandboxes, Duration::from_secs(10)).await,
        "not pruned"
    );
}

#[tokio::test(flavor = "current_thread")]
async fn disk_quota_is_enforced_with_the_mesos_reason() {
    let test = "disk_quota_is_enforced_with_the_mesos_reason";
    if !root_or_skip(test) {
        return;
    }
    let Some(launcher) = launcher(test) else {
        return;
    };
    let master = FakeMaster::start().await;
    let ld = format!("--launcher_dir={}", launcher.path().display());
    let _agent = TestAgent::start(
        master.addr,
        &[
            ld.as_str(),
            "--isolation=disk/du",
            "--enforce_container_disk_quota",
            "--container_disk_watch_interval=1secs",
        ],
    )
    .await;
    // 20 MB of real blocks against a 5 MB quota.
    let script = "dd if=/dev/urandom of=big bs=1M count=20 2>/dev/null; sleep 60";
    master
        .send(&command_task("fw-disk", "hog", script, false, Some(5.0)))
        .await;
    let started = Instant::now();
    let end = until_terminal(&master).await;
    assert_eq!(end.status.state, TaskState::Failed, "{:?}", end.status);
    assert_eq!(end.status.reason, Some(Reason::ContainerLimitationDisk));
    let message = end.status.message.clone().unwrap_or_default();
    assert!(
        message.starts_with("Disk usage (") && message.ends_with("exceeds quota (5MB)"),
        "{message}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(30),
        "not the sleep ending it"
    );
}

#[tokio::test(flavor = "current_thread")]
async fn disk_usage_is_reported_without_enforcement() {
    let test = "disk_usage_is_reported_without_enforcement";
    if !root_or_skip(test) {
        return;
    }
    let Some(launcher) = launcher(test) else {
        return;
    };
    let master = FakeMaster::start().await;
    let ld = format!("--launcher_dir={}", launcher.path().display());
    let agent = TestAgent::start(
        master.addr,
        &[
            ld.as_str(),
            "--isolation=posix/disk",
            "--container_disk_watch_interval=1secs",
        ],
    )
    .await;
    let script = "dd if=/dev/urandom of=big bs=1M count=12 2>/dev/null; touch written; sleep 60";
    master
        .send(&command_task("fw-du", "du", script, false, Some(5.0)))
        .await;
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut seen = json!(null);
    while Instant::now() < deadline {
        let stats = get_json(agent.addr, "/monitor/statistics").await;
        seen = stats[0]["statistics"].clone();
        if seen["disk_used_bytes"].as_u64().unwrap_or(0) >= 12 << 20 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert!(
        seen["disk_used_bytes"].as_u64().unwrap_or(0) >= 12 << 20,
        "usage never reached 12 MB: {seen}"
    );
    assert_eq!(seen["disk_limit_bytes"], json!(5u64 << 20));
    // Over quota but not enforced: the task is still running.
    let state = get_json(agent.addr, "/state").await;
    let tasks = &state["frameworks"][0]["executors"][0]["tasks"];
    assert_eq!(tasks[0]["state"], "TASK_RUNNING", "{state}");
}

#[tokio::test(flavor = "current_thread")]
async fn sandboxes_left_by_an_earlier_run_age_from_their_mtime() {
    // No containers are launched: no root needed.
    let master = FakeMaster::start().await;
    let dir = tempfile::tempdir().unwrap();
    let work = dir.path().join("work");
    let runs = work.join("slaves/old-S1/frameworks/fw/executors/ex/runs");
    let (old, young) = (runs.join("c-old"), runs.join("c-young"));
    for d in [&old, &young] {
        std::fs::create_dir_all(d).unwrap();
        std::fs::write(d.join("stdout"), "x").unwrap();
    }
    // Ended two hours ago: past a one-hour gc_delay already.
    let two_hours_ago = std::time::SystemTime::now() - Duration::from_secs(7200);
    std::fs::File::open(&old)
        .unwrap()
        .set_modified(two_hours_ago)
        .unwrap();
    let args = [
        "mesos-agent".to_owned(),
        format!("--master={}", master.addr),
        format!("--work_dir={}", work.display()),
        format!("--runtime_dir={}", dir.path().join("run").display()),
        "--ip=127.0.0.1".into(),
        "--port=0".into(),
        "--resources=cpus:1;mem:512;disk:100".into(),
        "--gc_delay=1hrs".into(),
        format!(
            "--launcher_dir={}",
            meseta_tests::bin("mesos-containerizer")
                .parent()
                .unwrap()
                .display()
        ),
    ];
    let flags = meseta_agent::flags::parse(
        &dir.path().join("no-conf"),
        Vec::new(),
        args.into_iter().map(Into::into),
    )
    .unwrap();
    let started = meseta_agent::daemon::start(flags.into_config().unwrap())
        .await
        .unwrap();
    let agent = started.agent.clone();
    tokio::spawn(started.run());
    assert!(
        wait_gone(std::slice::from_ref(&old), Duration::from_secs(10)).await,
        "old run kept"
    );
    assert!(
        young.join("stdout").is_file(),
        "a young run must wait for gc_delay"
    );
    assert_eq!(agent.gc.pending(), 1, "the young run is scheduled");
}
