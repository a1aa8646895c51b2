//! The agent daemon end to end against a fake master, with the test playing the executor
//! over the v1 executor API: sandbox layout, executor environment, LAUNCH, status update
//! forwarding and retry until ACKNOWLEDGE, KILL, executor death, registration timeout,
//! /state, /containers, /files and bad input. Needs root (the containerizer).

use std::time::Duration;

use crate::daemon_harness::{
    get_json, request, root_or_skip, run_task, send, EventReader, FakeMaster, TestAgent,
};
use hyper::StatusCode;
use meseta_api::internal::{Acknowledge, CallType, Event, EventType, KillTask};
use meseta_api::{FrameworkId, Reason, TaskId, TaskState};
use serde_json::json;

const EXECUTOR_SCRIPT: &str =
    "env > \"$MESOS_SANDBOX/env.txt\"; echo hello-from-executor; exec sleep 60";

fn executor_call(kind: &str, extra: serde_json::Value) -> Vec<u8> {
    let mut call = json!({
        "type": kind,
        "framework_id": {"value": "fw-0000"},
        "executor_id": {"value": "ex1"},
    });
    if let (Some(c), Some(e)) = (call.as_object_mut(), extra.as_object()) {
        c.extend(e.clone());
    }
    serde_json::to_vec(&call).unwrap()
}

async fn wait_for_file(path: &std::path::Path) -> String {
    for _ in 0..200 {
        if let Ok(s) = std::fs::read_to_string(path) {
            if !s.is_empty() {
                return s;
            }
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("{} never appeared", path.display());
}

#[tokio::test(flavor = "current_thread")]
async fn executor_lifecycle_through_the_agent() {
    if !root_or_skip("executor_lifecycle_through_the_agent") {
        return;
    }
    let master = FakeMaster::start().await;
    // The test process plays the executor from outside its container: the peer check
    // (agent/tests/it/executor_calls_cannot_be_forged.rs) is off.
    let agent = TestAgent::start(
        master.addr,
        &["--switch_user=false", "--executor_peer_check=false"],
    )
    .await;
    let sub = master
        .next_call(10, |c| c.r#type == CallType::Subscribe)
        .await;
    let info = sub.subscribe.unwrap().agent_info;
    assert_eq!(info.port, Some(i32::from(agent.addr.port())));
    assert!(info.resources.iter().any(|r| r.name == "cpus"));

    // Before any executor exists: unknown framework → 400.
    let (status, body) = request(
        agent.addr,
        "POST",
        "/api/v1/executor",
        executor_call("SUBSCRIBE", json!({"subscribe": {}})),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body:?}");

    master
        .send(&run_task("t1", "ex1", EXECUTOR_SCRIPT, "root"))
        .await;

    // Sandbox layout and the `latest` symlink.
    let runs = agent
        .dir
        .path()
        .join("work/slaves/m1-S0/frameworks/fw-0000/executors/ex1/runs");
    let env = wait_for_file(&runs.join("latest/env.txt")).await;
    let latest = std::fs::read_link(runs.join("latest")).unwrap();
    let sandbox = runs.join(&latest);
    assert!(sandbox.is_dir());
    let sandbox_str = sandbox.display().to_string();
    for expected in [
        format!("MESOS_AGENT_ENDPOINT={}", agent.addr),
        "MESOS_FRAMEWORK_ID=fw-0000".to_owned(),
        "MESOS_EXECUTOR_ID=ex1".to_owned(),
        format!("MESOS_DIRECTORY={sandbox_str}"),
        format!("MESOS_SANDBOX={sandbox_str}"),
        "MESOS_SLAVE_ID=m1-S0".to_owned(),
        format!("MESOS_SLAVE_PID=slave(1)@{}", agent.addr),
        "MESOS_CHECKPOINT=0".to_owned(),
        "MESOS_HTTP_COMMAND_EXECUTOR=1".to_owned(),
        "MESOS_EXECUTOR_SHUTDOWN_GRACE_PERIOD=5secs".to_owned(),
        "LIBPROCESS_PORT=0".to_owned(),
        "PATH=".to_owned(),
        "HOME=".to_owned(),
    ] {
        assert!(
            env.lines().any(|l| l.starts_with(&expected)),
            "missing {expected} in\n{env}"
        );
    }

    // UPDATE before SUBSCRIBE → 403.
    let update = |state: &str, uuid: &str| {
        executor_call(
            "UPDATE",
            json!({"update": {"status": {
                "task_id": {"value": "t1"}, "state": state, "source": "SOURCE_EXECUTOR",
                "uuid": uuid, "timestamp": 1.0
            }}}),
        )
    };
    let uuid = meseta_api::Bytes::random_uuid();
    let (status, _) = request(
        agent.addr,
        "POST",
        "/api/v1/executor",
        update("TASK_RUNNING", &uuid.to_base64()),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    // SUBSCRIBE: chunked stream, SUBSCRIBED with exact ids, then LAUNCH.
    let resp = send(
        agent.addr,
        "POST",
        "/api/v1/executor",
        executor_call("SUBSCRIBE", json!({"subscribe": {}})),
    )
    .await;
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(resp.headers()["transfer-encoding"], "chunked");
    assert!(resp.headers().get("mesos-stream-id").is_none());
    let mut events = EventReader::new(resp);
    let subscribed = events.next(5).await;
    assert_eq!(subscribed["type"], "SUBSCRIBED");
    assert_eq!(
        subscribed["subscribed"]["executor_info"]["executor_id"],
        json!({"value": "ex1"})
    );
    assert_eq!(
        subscribed["subscribed"]["framework_info"]["id"],
        json!({"value": "fw-0000"})
    );
    assert_eq!(
        subscribed["subscribed"]["agent_info"]["id"],
        json!({"value": "m1-S0"})
    );
    assert_eq!(
        subscribed["subscribed"]["container_id"]["value"],
        latest.to_str().unwrap()
    );
    let launch = events.next_non_heartbeat(5).await;
    assert_eq!(launch["type"], "LAUNCH");
    assert_eq!(launch["launch"]["task"]["task_id"]["value"], "t1");
    assert_eq!(events.next(3).await["type"], "HEARTBEAT");

    // UPDATE → 202, forwarded with agent_id/executor_id, resent until acknowledged.
    let (status, _) = request(
        agent.addr,
        "POST",
        "/api/v1/executor",
        update("TASK_RUNNING", &uuid.to_base64()),
    )
    .await;
    assert_eq!(status, StatusCode::ACCEPTED);
    let is_update = |c: &meseta_api::internal::Call| c.r#type == CallType::StatusUpdate;
    let first = master.next_call(5, is_update).await.status_update.unwrap();
    assert_eq!(first.uuid, uuid);
    assert_eq!(first.status.agent_id.as_ref().unwrap().value, "m1-S0");
    assert_eq!(first.status.executor_id.as_ref().unwrap().value, "ex1");
    assert_eq!(first.status.state, TaskState::Running);
    let again = master.next_call(5, is_update).await.status_update.unwrap();
    assert_eq!(again.uuid, uuid, "the unacknowledged update is resent");
    master
        .send(&Event {
            r#type: EventType::Acknowledge,
            acknowledge: Some(Acknowledge {
                framework_id: FrameworkId::new("fw-0000"),
                task_id: TaskId::new("t1"),
                uuid: uuid.clone(),
            }),
            ..Event::default()
        })
        .await;
    let acked = events.next_non_heartbeat(5).await;
    assert_eq!(acked["type"], "ACKNOWLEDGED");
    assert_eq!(acked["acknowledged"]["uuid"], uuid.to_base64());

    // MESSAGE both ways.
    let (status, _) = request(
        agent.addr,
        "POST",
        "/api/v1/executor",
        executor_call("MESSAGE", json!({"message": {"data": "aGk="}})),
    )
    .await;
    assert_eq!(status, StatusCode::ACCEPTED);
    let msg = master
        .next_call(5, |c| c.r#type == CallType::ExecutorToFramework)
        .await
        .executor_to_framework
        .unwrap();
    assert_eq!(
        (msg.executor_id.value.as_str(), msg.data.as_slice()),
        ("ex1", &b"hi"[..])
    );
    master
        .send(&Event {
            r#type: EventType::FrameworkToExecutor,
            framework_to_executor: Some(msg),
            ..Event::default()
        })
        .await;
    let got = events.next_non_heartbeat(5).await;
    assert_eq!(got["type"], "MESSAGE");
    assert_eq!(got["message"]["data"], "aGk=");

    // The master's stream drops: the agent re-subscribes with its id and running task.
    master.drop_stream();
    let again = master
        .next_call(10, |c| c.r#type == CallType::Subscribe)
        .await;
    let again = again.subscribe.unwrap();
    assert_eq!(again.agent_info.id.unwrap().value, "m1-S0");
    assert_eq!(again.frameworks[0].id.as_ref().unwrap().value, "fw-0000");
    assert_eq!(again.executors[0].executor_id.value, "ex1");
    assert_eq!(again.tasks[0].task_id.value, "t1");
    assert_eq!(again.tasks[0].state, TaskState::Running);

    // /state and /containers.
    let state = get_json(agent.addr, "/slave(1)/state").await;
    assert_eq!(state["id"], "m1-S0");
    assert_eq!(state["pid"], format!("slave(1)@{}", agent.addr));
    assert_eq!(state["resources"]["cpus"], 4.0);
    assert_eq!(state["attributes"]["rack"], "r1");
    let ex = &state["frameworks"][0]["executors"][0];
    assert_eq!(ex["id"], "ex1");
    assert_eq!(ex["directory"], sandbox_str);
    assert_eq!(ex["tasks"][0]["state"], "TASK_RUNNING");
    assert_eq!(ex["tasks"][0]["statuses"][0]["state"], "TASK_RUNNING");
    let containers = get_json(agent.addr, "/containers").await;
    let c = &containers[0];
    assert_eq!(c["executor_id"], "ex1");
    assert_eq!(c["framework_id"], "fw-0000");
    assert_eq!(c["meseta"]["task_ids"], json!(["t1"]));
    assert_eq!(c["meseta"]["sandbox"], sandbox_str);
    assert_eq!(c["meseta"]["limits"]["cpus"], 0.5);
    assert_eq!(c["meseta"]["limits"]["mem_bytes"], 64 << 20);
    let pid = c["meseta"]["pid"].as_i64().unwrap();
    assert!(pid > 0 && c["meseta"]["supervisor_pid"].as_i64().unwrap() > 0);
    let metrics = get_json(agent.addr, "/metrics/snapshot").await;
    assert_eq!(metrics["slave/registered"], 1.0);
    assert_eq!(metrics["slave/tasks_running"], 1.0);

    // /files: stdout, traversal refused.
    let stdout = format!("{sandbox_str}/stdout");
    let read = get_json(agent.addr, &format!("/files/read?path={stdout}&offset=0")).await;
    assert_eq!(read["data"], "hello-from-executor\n");
    assert_eq!(read["offset"], 0);
    let size = get_json(agent.addr, &format!("/files/read.json?path={stdout}")).await;
    assert_eq!(size["offset"], 20);
    let browse = get_json(agent.addr, &format!("/files/browse?path={sandbox_str}")).await;
    assert!(browse
        .as_array()
        .unwrap()
        .iter()
        .any(|f| f["path"] == stdout));
    let (status, _) = request(
        agent.addr,
        "GET",
        &format!(
            "/files/read?path={sandbox_str}/../../../../../../../../../../etc/passwd&offset=0"
        ),
        Vec::new(),
    )
    .await;
    assert!(
        status == StatusCode::FORBIDDEN || status == StatusCode::NOT_FOUND,
        "{status}"
    );
    std::os::unix::fs::symlink("/etc", sandbox.join("escape")).unwrap();
    let (status, body) = request(
        agent.addr,
        "GET",
        &format!("/files/read?path={sandbox_str}/escape/passwd&offset=0"),
        Vec::new(),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body:?}");
    let (status, _) = request(
        agent.addr,
        "GET",
        "/files/download?path=/etc/passwd",
        Vec::new(),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    // Operator API.
    let (status, body) = request(
        agent.addr,
        "POST",
        "/api/v1",
        r#"{"type":"READ_FILE","read_file":{"path":"PATH","offset":0}}"#
            .replace("PATH", &stdout)
            .into_bytes(),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body:?}");
    let r: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(r["read_file"]["size"], 20);
    let (status, body) = request(
        agent.addr,
        "POST",
        "/api/v1",
        br#"{"type":"GET_STATE"}"#.to_vec(),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let r: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(
        r["get_state"]["get_tasks"]["launched_tasks"][0]["task_id"]["value"],
        "t1"
    );
    let (status, body) = request(
        agent.addr,
        "POST",
        "/api/v1/",
        br#"{"type":"GET_CONTAINERS"}"#.to_vec(),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let r: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(
        r["get_containers"]["containers"][0]["executor_id"]["value"],
        "ex1"
    );

    // KILL_TASK → KILL event.
    master
        .send(&Event {
            r#type: EventType::KillTask,
            kill_task: Some(KillTask {
                framework_id: FrameworkId::new("fw-0000"),
                task_id: TaskId::new("t1"),
                kill_policy: None,
            }),
            ..Event::default()
        })
        .await;
    let kill = events.next_non_heartbeat(5).await;
    assert_eq!(kill["type"], "KILL");
    assert_eq!(kill["kill"]["task_id"]["value"], "t1");

    // The executor dies with its task running → TASK_FAILED, REASON_EXECUTOR_TERMINATED.
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(i32::try_from(pid).unwrap()),
        nix::sys::signal::Signal::SIGKILL,
    )
    .unwrap();
    let failed = master
        .next_call(10, |c| {
            c.status_update
                .as_ref()
                .is_some_and(|u| u.status.state == TaskState::Failed)
        })
        .await
        .status_update
        .unwrap();
    assert_eq!(failed.status.reason, Some(Reason::ExecutorTerminated));
    assert_eq!(failed.status.source, Some(meseta_api::Source::Agent));
    assert!(failed
        .status
        .message
        .as_deref()
        .unwrap()
        .starts_with("Executor terminated"));
    assert_eq!(failed.uuid.as_slice().len(), 16);
    master
        .next_call(10, |c| c.r#type == CallType::ExitedExecutor)
        .await;
    let state = get_json(agent.addr, "/state").await;
    let done = &state["completed_frameworks"][0]["completed_executors"][0];
    assert_eq!(done["id"], "ex1");
    assert_eq!(done["completed_tasks"][0]["state"], "TASK_FAILED");
}

#[tokio::test(flavor = "current_thread")]
async fn executor_registration_timeout_fails_the_task() {
    if !root_or_skip("executor_registration_timeout_fails_the_task") {
        return;
    }
    let master = FakeMaster::start().await;
    let _agent = TestAgent::start(
        master.addr,
        &[
            "--executor_registration_timeout=1secs",
            "--switch_user=false",
        ],
    )
    .await;
    master
        .send(&run_task("t2", "ex2", "exec sleep 60", "root"))
        .await;
    let failed = master
        .next_call(15, |c| c.r#type == CallType::StatusUpdate)
        .await
        .status_update
        .unwrap();
    assert_eq!(failed.status.state, TaskState::Failed);
    assert_eq!(
        failed.status.reason,
        Some(Reason::ExecutorRegistrationTimeout)
    );
    assert_eq!(failed.status.task_id.value, "t2");
}

#[tokio::test(flavor = "current_thread")]
async fn unknown_user_fails_the_task_with_a_clear_message() {
    if !root_or_skip("unknown_user_fails_the_task_with_a_clear_message") {
        return;
    }
    let master = FakeMaster::start().await;
    let _agent = TestAgent::start(master.addr, &[]).await;
    master
        .send(&run_task(
            "t3",
            "ex3",
            "exec sleep 60",
            "no-such-user-meseta",
        ))
        .await;
    let failed = master
        .next_call(10, |c| c.r#type == CallType::StatusUpdate)
        .await
        .status_update
        .unwrap();
    assert_eq!(failed.status.state, TaskState::Failed);
    assert_eq!(failed.status.reason, Some(Reason::ContainerLaunchFailed));
    let msg = failed.status.message.unwrap();
    assert!(
        msg.contains("no-such-user-meseta") && msg.contains("does not exist"),
        "{msg}"
    );
}

#[tokio::test(flavor = "current_thread")]
async fn bad_requests_get_clear_status_codes() {
    if !root_or_skip("bad_requests_get_clear_status_codes") {
        return;
    }
    let master = FakeMaster::start().await;
    let agent = TestAgent::start(master.addr, &[]).await;
    let post = |path: &'static str, body: Vec<u8>| request(agent.addr, "POST", path, body);
    let (s, b) = post("/api/v1/executor", b"{not json".to_vec()).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert!(String::from_utf8_lossy(&b).contains("Failed to parse"));
    let (s, _) = post("/api/v1", br#"{"type":"NO_SUCH_CALL"}"#.to_vec()).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    let (s, _) = post("/api/v1", vec![b' '; 9 << 20]).await;
    assert_eq!(s, StatusCode::PAYLOAD_TOO_LARGE);
    let (s, _) = request(agent.addr, "GET", "/api/v1", Vec::new()).await;
    assert_eq!(s, StatusCode::METHOD_NOT_ALLOWED);
    let (s, _) = request(agent.addr, "GET", "/no/such/endpoint", Vec::new()).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let (s, _) = request(agent.addr, "GET", "/health", Vec::new()).await;
    assert_eq!(s, StatusCode::OK);
    let v = get_json(agent.addr, "/version").await;
    assert!(v["version"].is_string());
    let flags = get_json(agent.addr, "/flags").await;
    assert_eq!(flags["flags"]["http_heartbeat_interval"], "1secs");
    let (s, b) = post("/api/v1", br#"{"type":"GET_AGENT"}"#.to_vec()).await;
    assert_eq!(s, StatusCode::OK);
    let v: serde_json::Value = serde_json::from_slice(&b).unwrap();
    assert_eq!(v["get_agent"]["agent_info"]["port"], agent.addr.port());
    let (s, _) = post("/api/v1", br#"{"type":"PRUNE_IMAGES"}"#.to_vec()).await;
    assert_eq!(s, StatusCode::NOT_IMPLEMENTED);
    let (s, b) = post("/api/v1", br#"{"type":"GET_HEALTH"}"#.to_vec()).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(
        serde_json::from_slice::<serde_json::Value>(&b).unwrap()["get_health"]["healthy"],
        true
    );
}

#[tokio::test(flavor = "current_thread")]
async fn executor_over_its_memory_limit_fails_with_a_memory_limitation() {
    if !root_or_skip("executor_over_its_memory_limit_fails_with_a_memory_limitation") {
        return;
    }
    let cgroups_root = format!("meseta-agentd-test-{}", std::process::id());
    let master = FakeMaster::start().await;
    let root_flag = format!("--cgroups_root={cgroups_root}");
    let _agent = TestAgent::start(
        master.addr,
        &[
            "--isolation=cgroups/cpu,cgroups/mem",
            root_flag.as_str(),
            "--switch_user=false",
        ],
    )
    .await;
    // The task asks for 64 MB; the executor allocates 256 MB at once.
    master
        .send(&run_task(
            "t-oom",
            "ex-oom",
            "dd if=/dev/zero of=/dev/null bs=256M count=1",
            "root",
        ))
        .await;
    let failed = master
        .next_call(20, |c| c.r#type == CallType::StatusUpdate)
        .await
        .status_update
        .unwrap();
    for entry in std::fs::read_dir("/sys/fs/cgroup")
        .into_iter()
        .flatten()
        .flatten()
    {
        let _ = std::fs::remove_dir(entry.path().join(&cgroups_root));
    }
    assert_eq!(failed.status.state, TaskState::Failed);
    assert_eq!(
        failed.status.reason,
        Some(Reason::ContainerLimitationMemory)
    );
    let msg = failed.status.message.unwrap();
    assert!(msg.starts_with("Memory limit exceeded"), "{msg}");
}

#[tokio::test(flavor = "current_thread")]
async fn pymesos_style_subscribe_gets_a_chunked_stream() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    if !root_or_skip("pymesos_style_subscribe_gets_a_chunked_stream") {
        return;
    }
    let master = FakeMaster::start().await;
    // The test process plays the executor from outside its container: the peer check
    // (agent/tests/it/executor_calls_cannot_be_forged.rs) is off.
    let agent = TestAgent::start(
        master.addr,
        &["--switch_user=false", "--executor_peer_check=false"],
    )
    .await;
    master
        .send(&run_task("t-py", "ex-py", "exec sleep 60", "root"))
        .await;
    // The executor exists once its sandbox does.
    let runs = agent
        .dir
        .path()
        .join("work/slaves/m1-S0/frameworks/fw-0000/executors/ex-py/runs/latest");
    for _ in 0..200 {
        if runs.exists() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    // Exactly what pymesos's MesosExecutorDriver writes.
    let body = r#"{"type": "SUBSCRIBE", "framework_id": {"value": "fw-0000"}, "executor_id": {"value": "ex-py"}, "subscribe": {"unacknowledged_tasks": [], "unacknowledged_updates": []}}"#;
    let request = format!(
        "POST /api/v1/executor HTTP/1.1\r\nHost: {}\r\nContent-Type: application/json\r\n\
         Accept: application/json\r\nConnection: close\r\nContent-Length: {}\r\n\r\n{body}",
        agent.addr,
        body.len()
    );
    let mut sock = tokio::net::TcpStream::connect(agent.addr).await.unwrap();
    sock.write_all(request.as_bytes()).await.unwrap();
    let mut seen = Vec::new();
    let mut buf = [0u8; 4096];
    tokio::time::timeout(Duration::from_secs(10), async {
        while !String::from_utf8_lossy(&seen).contains("\"LAUNCH\"") {
            let n = sock.read(&mut buf).await.unwrap();
            assert!(n > 0, "stream closed: {}", String::from_utf8_lossy(&seen));
            seen.extend_from_slice(&buf[..n]);
        }
    })
    .await
    .expect("no LAUNCH");
    let text = String::from_utf8_lossy(&seen).to_ascii_lowercase();
    let head = text.split("\r\n\r\n").next().unwrap();
    assert!(head.starts_with("http/1.1 200"), "{head}");
    assert!(head.contains("transfer-encoding: chunked"), "{head}");
    assert!(head.contains("content-type: application/json"), "{head}");
    assert!(!head.contains("mesos-stream-id"), "{head}");
    assert!(text.contains("\"subscribed\""));
}

#[tokio::test(flavor = "current_thread")]
async fn kill_right_after_run_kills_the_queued_task_and_its_executor() {
    if !root_or_skip("kill_right_after_run_kills_the_queued_task_and_its_executor") {
        return;
    }
    let master = FakeMaster::start().await;
    let _agent = TestAgent::start(master.addr, &["--switch_user=false"]).await;
    master
        .send(&run_task("t-k", "ex-k", "exec sleep 60", "root"))
        .await;
    master
        .send(&Event {
            r#type: EventType::KillTask,
            kill_task: Some(KillTask {
                framework_id: FrameworkId::new("fw-0000"),
                task_id: TaskId::new("t-k"),
                kill_policy: None,
            }),
            ..Event::default()
        })
        .await;
    let killed = master
        .next_call(10, |c| c.r#type == CallType::StatusUpdate)
        .await
        .status_update
        .unwrap();
    assert_eq!(killed.status.state, TaskState::Killed);
    assert_eq!(killed.status.reason, Some(Reason::TaskKilledDuringLaunch));
    // The executor's container goes away, without a second (failed) update for the task.
    let next = master
        .next_call(10, |c| {
            c.r#type == CallType::ExitedExecutor || c.r#type == CallType::StatusUpdate
        })
        .await;
    if next.r#type == CallType::StatusUpdate {
        // A resend of the same update is fine; a new state is not.
        let u = next.status_update.unwrap();
        assert_eq!(u.uuid, killed.uuid, "{u:?}");
        master
            .next_call(10, |c| c.r#type == CallType::ExitedExecutor)
            .await;
    }
}
