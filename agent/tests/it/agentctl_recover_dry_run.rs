//! `agentctl recover --dry-run` predicts what the restarted agent then really does, and
//! `agentctl inspect` marks the containers it re-attached. Real `mesos-agent`,
//! `mesos-containerizer` and `mesos-executor` against an in-process fake master; the agent is
//! `kill -9`'ed with four checkpointed tasks:
//! `alive` (acknowledged RUNNING) and `unacked` (RUNNING never acknowledged) are recovered,
//! `unacked`'s update is resent; `crashed`'s executor is `kill -9`'ed while the agent is down
//! (TASK_FAILED reported, container cleaned up); `orphaned` loses its checkpoint (its container
//! is an orphan and destroyed). Needs root and `cargo build --workspace --bins`.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::daemon_harness::{command_task, root_or_skip, FakeMaster};
use meseta_api::internal::{Call, CallType, Event, EventType, ShutdownFramework};
use meseta_api::{FrameworkId, TaskState};
use serde_json::Value;

struct Rig {
    dir: tempfile::TempDir,
    port: u16,
    master: Arc<FakeMaster>,
}

impl Rig {
    fn spawn(&self, n: usize) -> Child {
        let d = self.dir.path();
        let log = std::fs::File::create(d.join(format!("agent-{n}.log"))).unwrap();
        Command::new(env!("CARGO_BIN_EXE_mesos-agent"))
            .env("MESETA_AGENT_CONF_DIR", d.join("no-conf"))
            .arg(format!("--master={}", self.master.addr))
            .arg(format!("--work_dir={}", d.join("work").display()))
            .arg(format!("--runtime_dir={}", d.join("run").display()))
            .arg(format!(
                "--launcher_dir={}",
                meseta_tests::bin_dir().display()
            ))
            .arg("--ip=127.0.0.1")
            .arg(format!("--port={}", self.port))
            .arg("--isolation=cgroups/cpu,cgroups/mem")
            .arg(format!("--cgroups_root={}", self.cgroups_root()))
            .arg("--resources=cpus:4;mem:4096;disk:1000")
            .arg("--registration_backoff_factor=100ms")
            .arg("--executor_reregistration_timeout=10secs")
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .unwrap()
    }

    async fn run_task(&self, task: &str) {
        let run = command_task("fw-ck", task, "sleep 120", true, None);
        self.master.send(&run).await;
    }

    async fn ack(&self, call: &Call) {
        self.master
            .acknowledge(call.status_update.as_ref().unwrap())
            .await;
    }

    /// Waits for `task` to be RUNNING, acknowledging its updates unless `ack` is false.
    async fn until_running(&self, task: &str, ack: bool) {
        loop {
            let c = self
                .master
                .next_call(30, |c| c.r#type == CallType::StatusUpdate)
                .await;
            let s = &c.status_update.as_ref().unwrap().status;
            let running = s.task_id.value == task && s.state == TaskState::Running;
            if ack || !running {
                self.ack(&c).await;
            }
            if running {
                return;
            }
        }
    }

    fn agentctl(&self, args: &[&str]) -> String {
        let d = self.dir.path();
        let out = Command::new(meseta_tests::bin("agentctl"))
            .arg(format!("--agent=127.0.0.1:{}", self.port))
            .args(args)
            .arg(format!("--work_dir={}", d.join("work").display()))
            .arg(format!("--runtime_dir={}", d.join("run").display()))
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        assert!(
            out.status.success(),
            "{args:?}: {text}{}",
            String::from_utf8_lossy(&out.stderr)
        );
        text
    }

    /// Unique per test run, so that killing a container kills its whole task.
    fn cgroups_root(&self) -> String {
        let name = self.dir.path().file_name().unwrap().to_string_lossy();
        format!("meseta-dryrun-{name}")
    }

    fn executor_dir(&self, task: &str) -> PathBuf {
        self.dir
            .path()
            .join("work/meta/slaves/m1-S0/frameworks/fw-ck/executors")
            .join(task)
    }
}

fn container_of(list: &[Value], task: &str) -> Value {
    list.iter()
        .find(|c| c["meseta"]["task_ids"][0] == task)
        .cloned()
        .unwrap_or_else(|| panic!("no container for {task}: {list:?}"))
}

#[tokio::test(flavor = "current_thread")]
async fn dry_run_predicts_the_restart_and_inspect_marks_recovered_containers() {
    if !root_or_skip("dry_run_predicts_the_restart_and_inspect_marks_recovered_containers") {
        return;
    }
    let rig = Rig {
        dir: tempfile::tempdir().unwrap(),
        port: meseta_tests::free_port(),
        master: FakeMaster::start().await,
    };
    let mut agent = rig.spawn(1);
    rig.master
        .next_call(30, |c| c.r#type == CallType::Subscribe)
        .await;
    for task in ["alive", "crashed", "orphaned"] {
        rig.run_task(task).await;
        rig.until_running(task, true).await;
    }
    rig.run_task("unacked").await;
    rig.until_running("unacked", false).await;
    let list = meseta_tests::get_json(rig.port, "/containers");
    let list = list.as_array().unwrap();
    assert!(
        list.iter().all(|c| c["meseta"]["recovered"] == false),
        "{list:?}"
    );
    let crashed = container_of(list, "crashed");
    let orphaned = container_of(list, "orphaned");
    agent.kill().unwrap();
    agent.wait().unwrap();

    let pid = crashed["meseta"]["pid"].as_i64().unwrap();
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(i32::try_from(pid).unwrap()),
        nix::sys::signal::SIGKILL,
    )
    .unwrap();
    std::fs::remove_dir_all(rig.executor_dir("orphaned")).unwrap();
    let termination = rig
        .dir
        .path()
        .join("run/containers")
        .join(crashed["container_id"].as_str().unwrap())
        .join("termination");
    let deadline = Instant::now() + Duration::from_secs(10);
    while !termination.exists() {
        assert!(
            Instant::now() < deadline,
            "the supervisor recorded no termination"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    let plan: Value =
        serde_json::from_str(&rig.agentctl(&["recover", "--dry-run", "--json"])).unwrap();
    assert_eq!(plan["agent_id"], "m1-S0", "{plan:#}");
    assert_eq!(plan["rebooted"], false);
    assert!(plan["strict_error"].is_null(), "{plan:#}");
    let mut recovered: Vec<&str> = plan["recover"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["executor_id"].as_str().unwrap())
        .collect();
    recovered.sort_unstable();
    assert_eq!(recovered, ["alive", "unacked"], "{plan:#}");
    let kills: Vec<(&str, &str)> = plan["kill"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| {
            (
                k["container_id"].as_str().unwrap(),
                k["why"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(kills.len(), 2, "{plan:#}");
    assert!(kills
        .iter()
        .any(|(c, w)| *c == crashed["container_id"] && w.contains("ended while")));
    assert!(kills
        .iter()
        .any(|(c, w)| *c == orphaned["container_id"] && w.contains("orphan")));
    let reports: Vec<(&str, &str)> = plan["report"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["task_id"].as_str().unwrap(), r["state"].as_str().unwrap()))
        .collect();
    // The executor sends TASK_STARTING and TASK_RUNNING together: the acknowledgement of
    // STARTING may not have been checkpointed when the agent was killed, and then it is
    // resent too (before RUNNING, as Mesos resends a task's updates in order).
    let starting_unacked = reports.contains(&("unacked", "TASK_STARTING"));
    assert_eq!(reports.len(), 2 + usize::from(starting_unacked), "{plan:#}");
    assert!(reports.contains(&("unacked", "TASK_RUNNING")), "{plan:#}");
    assert!(reports.contains(&("crashed", "TASK_FAILED")), "{plan:#}");
    let text = rig.agentctl(&["recover", "--dry-run"]);
    let report_line = format!("Report ({}):", reports.len());
    assert!(
        text.contains("Recover (2):") && text.contains("Kill (2):") && text.contains(&report_line),
        "{text}"
    );

    // The restart does what the dry run said.
    let mut agent = rig.spawn(2);
    let sub = rig
        .master
        .next_call(30, |c| c.r#type == CallType::Subscribe)
        .await
        .subscribe
        .unwrap();
    assert_eq!(sub.agent_info.id.unwrap().value, "m1-S0");
    let mut seen = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(20);
    while seen.len() < reports.len() && Instant::now() < deadline {
        let c = rig
            .master
            .next_call(20, |c| c.r#type == CallType::StatusUpdate)
            .await;
        rig.ack(&c).await;
        let s = &c.status_update.as_ref().unwrap().status;
        seen.push((s.task_id.value.clone(), s.state));
    }
    seen.sort_by(|a, b| a.0.cmp(&b.0));
    let mut expected = vec![("crashed".to_owned(), TaskState::Failed)];
    if starting_unacked {
        expected.push(("unacked".to_owned(), TaskState::Starting));
    }
    expected.push(("unacked".to_owned(), TaskState::Running));
    assert_eq!(seen, expected);
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let list = meseta_tests::get_json(rig.port, "/containers");
        let ids: Vec<&str> = list
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|c| c["meseta"]["task_ids"][0].as_str())
            .collect();
        if ids.len() == 2
            && !rig
                .dir
                .path()
                .join("run/containers")
                .join(orphaned["container_id"].as_str().unwrap())
                .exists()
        {
            assert!(list
                .as_array()
                .unwrap()
                .iter()
                .all(|c| c["meseta"]["recovered"] == true));
            break;
        }
        assert!(
            Instant::now() < deadline,
            "orphan not destroyed or containers left: {list}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let inspect = rig.agentctl_inspect();
    assert_eq!(inspect.matches("Recovered:   yes").count(), 2, "{inspect}");

    rig.master
        .send(&Event {
            r#type: EventType::ShutdownFramework,
            shutdown_framework: Some(ShutdownFramework {
                framework_id: FrameworkId::new("fw-ck"),
            }),
            ..Event::default()
        })
        .await;
    for _ in 0..2 {
        rig.master
            .next_call(30, |c| c.r#type == CallType::ExitedExecutor)
            .await;
    }
    let _ = agent.kill();
    let _ = agent.wait();
}

impl Drop for Rig {
    fn drop(&mut self) {
        meseta_tests::kill_and_remove_cgroups(&self.cgroups_root(), Duration::from_millis(100));
    }
}

impl Rig {
    fn agentctl_inspect(&self) -> String {
        let out = Command::new(meseta_tests::bin("agentctl"))
            .arg(format!("--agent=127.0.0.1:{}", self.port))
            .arg("inspect")
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }
}
