//! A KILL_TASK that reaches a restarted agent before the task's recovered executor has
//! re-subscribed is held for the executor (it gets the KILL event when it comes back), instead
//! of destroying the container and failing the task "Executor terminated". The real
//! `mesos-agent` binary is `kill -9`'ed and restarted against a fake master; the test plays the
//! executor over the v1 executor API so it controls when it re-subscribes. Needs root.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use crate::daemon_harness::{request, root_or_skip, send, EventReader, FakeMaster};
use hyper::StatusCode;
use meseta_api::internal::{Acknowledge, CallType, Event, EventType, KillTask};
use meseta_api::{FrameworkId, TaskId, TaskState};
use serde_json::json;

fn start_agent(master: std::net::SocketAddr, dir: &Path, port: u16, extra: &[&str]) -> Child {
    let bin = PathBuf::from(env!("CARGO_BIN_EXE_mesos-agent"));
    Command::new(&bin)
        .env("MESETA_AGENT_CONF_DIR", dir.join("no-conf"))
        .arg(format!("--master={master}"))
        .arg(format!("--work_dir={}", dir.join("work").display()))
        .arg(format!("--runtime_dir={}", dir.join("run").display()))
        .arg(format!(
            "--launcher_dir={}",
            bin.parent().unwrap().display()
        ))
        .args(["--ip=127.0.0.1", "--switch_user=false"])
        .arg(format!("--port={port}"))
        .args([
            "--resources=cpus:2;mem:1024;disk:100",
            "--registration_backoff_factor=100ms",
            "--executor_reregistration_timeout=20secs",
            // The test process plays the executor from outside its container.
            "--executor_peer_check=false",
        ])
        .args(extra)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

/// Kills the agent when the test ends, passed or failed.
struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn executor_call(kind: &str, extra: serde_json::Value) -> Vec<u8> {
    let mut call = json!({"type": kind, "framework_id": {"value": "fw-k"},
                          "executor_id": {"value": "ex-k"}});
    if let (Some(c), Some(e)) = (call.as_object_mut(), extra.as_object()) {
        c.extend(e.clone());
    }
    serde_json::to_vec(&call).unwrap()
}

async fn subscribe(addr: std::net::SocketAddr) -> EventReader {
    for _ in 0..100 {
        if let Ok(Ok(resp)) = tokio::time::timeout(
            Duration::from_secs(2),
            tokio::spawn(async move {
                send(
                    addr,
                    "POST",
                    "/api/v1/executor",
                    executor_call("SUBSCRIBE", json!({"subscribe": {}})),
                )
                .await
            }),
        )
        .await
        {
            if resp.status() == StatusCode::OK {
                return EventReader::new(resp);
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the executor could not subscribe");
}

#[tokio::test(flavor = "current_thread")]
async fn a_kill_for_a_recovered_executor_waits_for_it_to_resubscribe() {
    if !root_or_skip("a_kill_for_a_recovered_executor_waits_for_it_to_resubscribe") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let _reaper = meseta_tests::KillSupervisedOnDrop(dir.path().join("run"));
    let port = meseta_tests::free_port();
    let addr: std::net::SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
    let master = FakeMaster::start().await;
    let agent = Killed(start_agent(master.addr, dir.path(), port, &[]));
    master
        .next_call(20, |c| c.r#type == CallType::Subscribe)
        .await;
    let run: Event = serde_json::from_value(json!({
        "type": "RUN_TASK",
        "run_task": {
            "framework": {"user": "root", "name": "fw", "id": {"value": "fw-k"}, "checkpoint": true},
            "task": {
                "name": "t", "task_id": {"value": "t-k"}, "agent_id": {"value": "m1-S0"},
                "resources": [{"name": "cpus", "type": "SCALAR", "scalar": {"value": 0.1}},
                              {"name": "mem", "type": "SCALAR", "scalar": {"value": 32}}],
                "executor": {"executor_id": {"value": "ex-k"}, "command": {"value": "exec sleep 600"}}
            }
        }
    }))
    .unwrap();
    master.send(&run).await;
    // Play the executor: subscribe, take the task, report it running.
    let mut events = subscribe(addr).await;
    assert_eq!(events.next(5).await["type"], "SUBSCRIBED");
    assert_eq!(events.next_non_heartbeat(5).await["type"], "LAUNCH");
    let uuid = meseta_api::Bytes::random_uuid();
    let update = executor_call(
        "UPDATE",
        json!({"update": {"status": {"task_id": {"value": "t-k"}, "state": "TASK_RUNNING",
               "source": "SOURCE_EXECUTOR", "uuid": uuid.to_base64(), "timestamp": 1.0}}}),
    );
    let (status, _) = request(addr, "POST", "/api/v1/executor", update).await;
    assert_eq!(status, StatusCode::ACCEPTED);
    master
        .next_call(10, |c| c.r#type == CallType::StatusUpdate)
        .await;
    master
        .send(&Event {
            r#type: EventType::Acknowledge,
            acknowledge: Some(Acknowledge {
                framework_id: FrameworkId::new("fw-k"),
                task_id: TaskId::new("t-k"),
                uuid,
            }),
            ..Event::default()
        })
        .await;
    tokio::time::sleep(Duration::from_millis(500)).await;

    // kill -9 the agent, restart it; the KILL arrives before the executor is back.
    drop(agent);
    drop(events);
    master.drop_stream();
    let agent = Killed(start_agent(master.addr, dir.path(), port, &[]));
    master
        .next_call(20, |c| c.r#type == CallType::Subscribe)
        .await;
    master
        .send(&Event {
            r#type: EventType::KillTask,
            kill_task: Some(KillTask {
                framework_id: FrameworkId::new("fw-k"),
                task_id: TaskId::new("t-k"),
                kill_policy: None,
            }),
            ..Event::default()
        })
        .await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let state: serde_json::Value = crate::daemon_harness::get_json(addr, "/state").await;
    let task = &state["frameworks"][0]["executors"][0]["tasks"][0];
    assert_eq!(
        task["state"], "TASK_RUNNING",
        "the container was destroyed: {state}"
    );

    // The executor re-subscribes and gets the KILL it missed.
    let mut events = subscribe(addr).await;
    assert_eq!(events.next(5).await["type"], "SUBSCRIBED");
    let kill = events.next_non_heartbeat(5).await;
    assert_eq!(kill["type"], "KILL", "{kill}");
    assert_eq!(kill["kill"]["task_id"]["value"], "t-k");
    // The executor ends the task as asked.
    let uuid = meseta_api::Bytes::random_uuid();
    let update = executor_call(
        "UPDATE",
        json!({"update": {"status": {"task_id": {"value": "t-k"}, "state": "TASK_KILLED",
               "source": "SOURCE_EXECUTOR", "uuid": uuid.to_base64(), "timestamp": 2.0}}}),
    );
    let (status, _) = request(addr, "POST", "/api/v1/executor", update).await;
    assert_eq!(status, StatusCode::ACCEPTED);
    let u = master
        .next_call(10, |c| {
            c.r#type == CallType::StatusUpdate
                && c.status_update
                    .as_ref()
                    .is_some_and(|u| u.status.state.is_terminal())
        })
        .await;
    assert_eq!(u.status_update.unwrap().status.state, TaskState::Killed);
    drop(agent);
    // The executor (sleep) outlives the agent: `--recover=cleanup` kills it and exits.
    let status = start_agent(master.addr, dir.path(), port, &["--recover=cleanup"])
        .wait()
        .unwrap();
    assert!(status.success());
}
