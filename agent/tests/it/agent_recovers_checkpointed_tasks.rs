//! Agent recovery with the real binaries: `mesos-agent` (a child process, `kill -9`'ed and
//! restarted on the same work_dir/runtime_dir/port) against an in-process fake master, with the
//! real `mesos-containerizer` supervisor and `mesos-executor` command executor.
//!
//! Needs root and the whole workspace built (`cargo build --workspace --bins`) so that
//! `mesos-executor` sits next to `mesos-agent`; otherwise the tests are skipped.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::daemon_harness::{command_task, root_or_skip, FakeMaster};
use meseta_api::internal::{Call, CallType, Event, EventType, ShutdownFramework};
use meseta_api::{FrameworkId, TaskState};

fn agent_bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_mesos-agent"))
}

fn free_port() -> u16 {
    meseta_tests::free_port()
}

/// A work dir, a runtime dir, a launcher dir and a port that outlive agent restarts.
struct Rig {
    dir: tempfile::TempDir,
    port: u16,
    master: Arc<FakeMaster>,
    runs: usize,
}

impl Rig {
    /// `None` (test skipped) without root or without a built `mesos-executor`.
    async fn new(test: &str) -> Option<Self> {
        Self::with_executor(test, None).await
    }

    /// With `script` as a stand-in `mesos-executor` (one that never subscribes).
    async fn with_executor(test: &str, script: Option<&str>) -> Option<Self> {
        if !root_or_skip(test) {
            return None;
        }
        let executor = agent_bin().parent()?.join("mesos-executor");
        if script.is_none() && !executor.is_file() {
            eprintln!("SKIPPED {test}: no mesos-executor (cargo build --workspace --bins)");
            return None;
        }
        let dir = tempfile::tempdir().unwrap();
        let launcher = dir.path().join("launcher");
        std::fs::create_dir_all(&launcher).unwrap();
        let containerizer = meseta_tests::bin("mesos-containerizer");
        std::os::unix::fs::symlink(containerizer, launcher.join("mesos-containerizer")).unwrap();
        match script {
            Some(text) => {
                let exe = launcher.join("mesos-executor");
                std::fs::write(&exe, text).unwrap();
                let mode = std::os::unix::fs::PermissionsExt::from_mode(0o755);
                std::fs::set_permissions(&exe, mode).unwrap();
            }
            None => {
                std::os::unix::fs::symlink(executor, launcher.join("mesos-executor")).unwrap();
            }
        }
        Some(Self {
            dir,
            port: free_port(),
            master: FakeMaster::start().await,
            runs: 0,
        })
    }

    fn work(&self) -> PathBuf {
        self.dir.path().join("work")
    }

    /// The agent's stderr of run `n` (1-based).
    fn log(&self, n: usize) -> String {
        std::fs::read_to_string(self.dir.path().join(format!("agent-{n}.log"))).unwrap_or_default()
    }

    /// Starts `mesos-agent`; its stderr goes to `agent-<n>.log`.
    fn spawn(&mut self, extra: &[&str]) -> AgentProc {
        self.runs += 1;
        let log = std::fs::File::create(self.dir.path().join(format!("agent-{}.log", self.runs)))
            .unwrap();
        let d = self.dir.path();
        Command::new(agent_bin())
            .env("MESETA_AGENT_CONF_DIR", d.join("no-conf"))
            .arg(format!("--master={}", self.master.addr))
            .arg(format!("--work_dir={}", d.join("work").display()))
            .arg(format!("--runtime_dir={}", d.join("run").display()))
            .arg(format!("--launcher_dir={}", d.join("launcher").display()))
            .arg("--ip=127.0.0.1")
            .arg(format!("--port={}", self.port))
            .arg("--resources=cpus:4;mem:4096;disk:1000;ports:[31000-32000]")
            .arg("--registration_backoff_factor=100ms")
            .arg("--executor_shutdown_grace_period=1secs")
            .arg("--executor_reregistration_timeout=8secs")
            .args(extra)
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .map(AgentProc)
            .unwrap()
    }

    async fn subscribe(&self) -> Call {
        let call = self
            .master
            .try_next_call(30, |c| c.r#type == CallType::Subscribe)
            .await;
        call.unwrap_or_else(|| {
            panic!(
                "agent run {} never subscribed; its log:\n{}",
                self.runs,
                self.log(self.runs)
            )
        })
    }

    async fn run_command_task(&self, task: &str, command: &str) {
        let run = command_task("fw-ck", task, command, true, None);
        self.master.send(&run).await;
    }

    async fn ack(&self, call: &Call) {
        self.master
            .acknowledge(call.status_update.as_ref().unwrap())
            .await;
    }

    /// Acknowledges updates until `task` is RUNNING.
    async fn until_running(&self, task: &str) {
        loop {
            let c = self
                .master
                .next_call(30, |c| c.r#type == CallType::StatusUpdate)
                .await;
            self.ack(&c).await;
            let s = &c.status_update.as_ref().unwrap().status;
            assert!(!s.state.is_terminal(), "{task}: {s:?}");
            if s.task_id.value == task && s.state == TaskState::Running {
                return;
            }
        }
    }

    /// Every status update within `secs`, acknowledged.
    async fn updates_for(&self, secs: u64) -> Vec<meseta_api::internal::StatusUpdate> {
        let end = Instant::now() + Duration::from_secs(secs);
        let mut seen = Vec::new();
        let mut rx = self.master.calls.lock().await;
        while let Ok(Some(c)) = tokio::time::timeout_at(end.into(), rx.recv()).await {
            if c.r#type == CallType::StatusUpdate {
                drop(rx);
                self.ack(&c).await;
                rx = self.master.calls.lock().await;
                seen.extend(c.status_update);
            }
        }
        seen
    }

    /// SHUTDOWN_FRAMEWORK, wait for its executors to exit, then stop the agent.
    async fn finish(&self, mut agent: AgentProc, executors: usize) {
        self.master
            .send(&Event {
                r#type: EventType::ShutdownFramework,
                shutdown_framework: Some(ShutdownFramework {
                    framework_id: FrameworkId::new("fw-ck"),
                }),
                ..Event::default()
            })
            .await;
        for _ in 0..executors {
            self.master
                .next_call(30, |c| c.r#type == CallType::ExitedExecutor)
                .await;
        }
        let _ = agent.kill();
        let _ = agent.wait();
    }
}

/// A running `mesos-agent`, killed when dropped (also when a test fails).
struct AgentProc(Child);

impl std::ops::Deref for AgentProc {
    type Target = Child;
    fn deref(&self) -> &Child {
        &self.0
    }
}

impl std::ops::DerefMut for AgentProc {
    fn deref_mut(&mut self) -> &mut Child {
        &mut self.0
    }
}

impl Drop for Rig {
    /// The containers outlive every agent run by design: kill them when the test ends.
    fn drop(&mut self) {
        meseta_tests::kill_supervised(&self.dir.path().join("run"));
    }
}

impl Drop for AgentProc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn kill9(mut agent: AgentProc) {
    agent.kill().unwrap();
    agent.wait().unwrap();
}

fn task_info_path(work: &Path, task: &str) -> PathBuf {
    work.join(format!(
        "meta/slaves/m1-S0/frameworks/fw-ck/executors/{task}/runs/latest/tasks/{task}/task.info"
    ))
}

#[tokio::test(flavor = "current_thread")]
async fn running_task_survives_an_agent_kill_9() {
    let Some(mut rig) = Rig::new("running_task_survives_an_agent_kill_9").await else {
        return;
    };
    let agent = rig.spawn(&[]);
    let first = rig.subscribe().await;
    assert!(first.subscribe.unwrap().agent_info.id.is_none());
    rig.run_command_task("sleeper", "sleep 60").await;
    rig.until_running("sleeper").await;
    assert!(task_info_path(&rig.work(), "sleeper").is_file());
    tokio::time::sleep(Duration::from_millis(300)).await;
    kill9(agent);

    let agent = rig.spawn(&[]);
    let sub = rig.subscribe().await.subscribe.unwrap();
    assert_eq!(sub.agent_info.id.as_ref().unwrap().value, "m1-S0");
    assert!(sub
        .frameworks
        .iter()
        .any(|f| f.id.as_ref().unwrap().value == "fw-ck"));
    let task = sub.tasks.iter().find(|t| t.task_id.value == "sleeper");
    assert_eq!(task.map(|t| t.state), Some(TaskState::Running), "{sub:?}");
    // Past the re-registration timeout: the executor re-subscribed and nothing ended.
    let updates = rig.updates_for(10).await;
    assert!(
        updates.iter().all(|u| !u.status.state.is_terminal()),
        "spurious terminal update: {updates:?}"
    );
    let log = rig.log(2);
    assert!(
        log.contains("re-attached to a recovered container"),
        "{log}"
    );
    assert!(log.contains("executor subscribed"), "{log}");
    rig.finish(agent, 1).await;
}

#[tokio::test(flavor = "current_thread")]
async fn task_finishing_while_the_agent_is_down_is_reported_once() {
    let Some(mut rig) = Rig::new("task_finishing_while_the_agent_is_down_is_reported_once").await
    else {
        return;
    };
    let agent = rig.spawn(&[]);
    rig.subscribe().await;
    rig.run_command_task("short", "sleep 3; exit 0").await;
    rig.until_running("short").await;
    kill9(agent);
    tokio::time::sleep(Duration::from_secs(5)).await;

    let mut agent = rig.spawn(&[]);
    let sub = rig.subscribe().await.subscribe.unwrap();
    assert_eq!(sub.agent_info.id.as_ref().unwrap().value, "m1-S0");
    let updates = rig.updates_for(12).await;
    let finished = updates
        .iter()
        .filter(|u| u.status.state == TaskState::Finished)
        .count();
    assert_eq!(finished, 1, "{updates:?}\n{}", rig.log(2));
    assert!(
        updates
            .iter()
            .all(|u| !u.status.state.is_terminal() || u.status.state == TaskState::Finished),
        "{updates:?}"
    );
    // The executor exited once acknowledged (its EXITED_EXECUTOR went by in `updates_for`):
    // its settled run leaves the checkpoints.
    let deadline = Instant::now() + Duration::from_secs(10);
    while task_info_path(&rig.work(), "short").exists() {
        assert!(Instant::now() < deadline, "the settled run was not removed");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let _ = agent.kill();
    let _ = agent.wait();
}

#[tokio::test(flavor = "current_thread")]
async fn truncated_checkpoint_is_fatal_when_strict_and_skipped_otherwise() {
    let Some(mut rig) =
        Rig::new("truncated_checkpoint_is_fatal_when_strict_and_skipped_otherwise").await
    else {
        return;
    };
    let agent = rig.spawn(&[]);
    rig.subscribe().await;
    // `a` is destroyed as an orphan below: without cgroups the command executor's task (its
    // own session) outlives its container, so it is kept short.
    rig.run_command_task("a", "sleep 20").await;
    rig.until_running("a").await;
    rig.run_command_task("b", "sleep 60").await;
    rig.until_running("b").await;
    kill9(agent);
    let broken = task_info_path(&rig.work(), "a").canonicalize().unwrap();
    let len = std::fs::metadata(&broken).unwrap().len();
    let file = std::fs::OpenOptions::new()
        .write(true)
        .open(&broken)
        .unwrap();
    file.set_len(len / 2).unwrap();

    let mut strict = rig.spawn(&[]);
    let deadline = Instant::now() + Duration::from_secs(20);
    let status = loop {
        if let Some(s) = strict.try_wait().unwrap() {
            break s;
        }
        assert!(Instant::now() < deadline, "--strict agent kept running");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(status.code(), Some(1));
    let log = rig.log(2);
    let errors: Vec<&str> = log
        .lines()
        .filter(|l| l.starts_with("mesos-agent:"))
        .collect();
    assert_eq!(errors.len(), 1, "{log}");
    assert_eq!(log.trim_end().lines().count(), 1, "{log}");
    assert!(errors[0].contains(&broken.display().to_string()), "{log}");

    let agent = rig.spawn(&["--strict=false"]);
    let sub = rig.subscribe().await.subscribe.unwrap();
    assert_eq!(sub.agent_info.id.as_ref().unwrap().value, "m1-S0");
    let ids: Vec<&str> = sub.tasks.iter().map(|t| t.task_id.value.as_str()).collect();
    assert_eq!(ids, ["b"], "{sub:?}");
    // Shut down gracefully once `b`'s executor is back (else its task would be orphaned).
    let deadline = Instant::now() + Duration::from_secs(20);
    while !rig.log(3).contains("executor subscribed") {
        assert!(
            Instant::now() < deadline,
            "b's executor never re-subscribed"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    rig.finish(agent, 1).await;
}

#[tokio::test(flavor = "current_thread")]
async fn executor_that_does_not_reregister_is_destroyed_and_its_task_failed() {
    let test = "executor_that_does_not_reregister_is_destroyed_and_its_task_failed";
    let Some(mut rig) = Rig::with_executor(test, Some("#!/bin/sh\nexec sleep 60\n")).await else {
        return;
    };
    launch_then_kill9(&mut rig).await;

    let mut agent = rig.spawn(&["--executor_reregistration_timeout=1secs"]);
    let sub = rig.subscribe().await.subscribe.unwrap();
    assert_eq!(sub.agent_info.id.as_ref().unwrap().value, "m1-S0");
    let failed = rig
        .master
        .next_call(30, |c| c.r#type == CallType::StatusUpdate)
        .await
        .status_update
        .unwrap();
    assert_eq!(failed.status.task_id.value, "mute");
    assert_eq!(failed.status.state, TaskState::Failed, "{failed:?}");
    assert_eq!(
        failed.status.reason,
        Some(meseta_api::Reason::ExecutorReregistrationTimeout)
    );
    rig.master
        .next_call(30, |c| c.r#type == CallType::ExitedExecutor)
        .await;
    let _ = agent.kill();
    let _ = agent.wait();
}

/// Runs task `mute` (its stand-in executor never subscribes), waits for its container, then
/// `kill -9`s the agent.
async fn launch_then_kill9(rig: &mut Rig) {
    let agent = rig.spawn(&[]);
    rig.subscribe().await;
    rig.run_command_task("mute", "sleep 60").await;
    let deadline = Instant::now() + Duration::from_secs(20);
    // The container is up once the supervisor wrote its pid.
    while rig.containers().is_empty() {
        assert!(Instant::now() < deadline, "the container never started");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    kill9(agent);
}

impl Rig {
    /// Containers with a supervisor in the runtime dir.
    fn containers(&self) -> Vec<PathBuf> {
        std::fs::read_dir(self.dir.path().join("run/containers"))
            .map(|d| {
                d.flatten()
                    .map(|e| e.path())
                    .filter(|p| p.join("supervisor.pid").exists())
                    .collect()
            })
            .unwrap_or_default()
    }

    async fn next_update(&self) -> meseta_api::internal::StatusUpdate {
        self.master
            .next_call(30, |c| c.r#type == CallType::StatusUpdate)
            .await
            .status_update
            .unwrap()
    }
}

#[tokio::test(flavor = "current_thread")]
async fn executor_that_ended_while_the_agent_was_down_fails_its_task_from_the_termination() {
    let test = "executor_that_ended_while_the_agent_was_down_fails_its_task_from_the_termination";
    let script = "#!/bin/sh\nsleep 2\nexit 3\n";
    let Some(mut rig) = Rig::with_executor(test, Some(script)).await else {
        return;
    };
    launch_then_kill9(&mut rig).await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    let mut agent = rig.spawn(&[]);
    rig.subscribe().await;
    let failed = rig.next_update().await;
    assert_eq!(failed.status.state, TaskState::Failed, "{failed:?}");
    assert_eq!(
        failed.status.reason,
        Some(meseta_api::Reason::ExecutorTerminated)
    );
    let message = failed.status.message.clone().unwrap_or_default();
    assert!(message.contains('3'), "{message}");
    let _ = agent.kill();
    let _ = agent.wait();
}

#[tokio::test(flavor = "current_thread")]
async fn after_a_reboot_tasks_are_lost_and_containers_destroyed() {
    let test = "after_a_reboot_tasks_are_lost_and_containers_destroyed";
    let Some(mut rig) = Rig::with_executor(test, Some("#!/bin/sh\nexec sleep 60\n")).await else {
        return;
    };
    launch_then_kill9(&mut rig).await;
    std::fs::write(rig.work().join("meta/boot_id"), "an-earlier-boot").unwrap();
    let mut agent = rig.spawn(&[]);
    let sub = rig.subscribe().await.subscribe.unwrap();
    assert_eq!(sub.agent_info.id.as_ref().unwrap().value, "m1-S0");
    let lost = rig.next_update().await;
    assert_eq!(lost.status.state, TaskState::Lost, "{lost:?}");
    assert_eq!(lost.status.reason, Some(meseta_api::Reason::AgentRestarted));
    let deadline = Instant::now() + Duration::from_secs(20);
    while !rig.containers().is_empty() {
        assert!(
            Instant::now() < deadline,
            "the old container was not destroyed"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let _ = agent.kill();
    let _ = agent.wait();
}

#[tokio::test(flavor = "current_thread")]
async fn recover_cleanup_kills_old_executors_and_exits_then_a_restart_is_a_new_agent() {
    let test = "recover_cleanup_kills_old_executors_and_exits_then_a_restart_is_a_new_agent";
    let Some(mut rig) = Rig::with_executor(test, Some("#!/bin/sh\nexec sleep 60\n")).await else {
        return;
    };
    launch_then_kill9(&mut rig).await;
    assert_eq!(rig.containers().len(), 1);
    // Mesos: `--recover=cleanup` kills the old live executors and exits, without registering.
    let mut cleanup = rig.spawn(&["--recover=cleanup"]);
    let deadline = Instant::now() + Duration::from_secs(20);
    let status = loop {
        if let Some(s) = cleanup.try_wait().unwrap() {
            break s;
        }
        assert!(Instant::now() < deadline, "--recover=cleanup kept running");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert!(status.success(), "{status:?}: {}", rig.log(2));
    assert!(rig.containers().is_empty(), "{:?}", rig.containers());
    assert!(!rig.work().join("meta/slaves/latest").exists());

    let mut agent = rig.spawn(&[]);
    let sub = rig.subscribe().await.subscribe.unwrap();
    assert!(sub.agent_info.id.is_none(), "{sub:?}");
    assert!(sub.tasks.is_empty());
    let _ = agent.kill();
    let _ = agent.wait();
}

#[tokio::test(flavor = "current_thread")]
async fn an_authenticated_executor_resubscribes_after_an_agent_kill_9() {
    let Some(mut rig) =
        Rig::new("an_authenticated_executor_resubscribes_after_an_agent_kill_9").await
    else {
        return;
    };
    let key = rig.dir.path().join("jwt.key");
    std::fs::write(&key, "executor key").unwrap();
    let key_flag = format!("--jwt_secret_key={}", key.display());
    let flags = ["--authenticate_http_executors", key_flag.as_str()];
    let agent = rig.spawn(&flags);
    rig.subscribe().await;
    rig.run_command_task("sleeper", "sleep 60").await;
    rig.until_running("sleeper").await;
    kill9(agent);

    // The executor keeps its token (same key, same container) and re-subscribes with it.
    let agent = rig.spawn(&flags);
    let sub = rig.subscribe().await.subscribe.unwrap();
    let task = sub.tasks.iter().find(|t| t.task_id.value == "sleeper");
    assert_eq!(task.map(|t| t.state), Some(TaskState::Running), "{sub:?}");
    let updates = rig.updates_for(10).await;
    assert!(
        updates.iter().all(|u| !u.status.state.is_terminal()),
        "spurious terminal update: {updates:?}\n{}",
        rig.log(2)
    );
    let log = rig.log(2);
    assert!(log.contains("executor subscribed"), "{log}");
    rig.finish(agent, 1).await;
}
