//! Executor API calls cannot be forged. With no flag, a process outside an executor's
//! container (the test itself on the host, or a task of another framework) gets 403 for a fake
//! TASK_FINISHED, a SUBSCRIBE or a MESSAGE as that executor, the master never sees the fake
//! state, and the real executor keeps its link (its task is still killed normally); a task
//! cannot send an UPDATE for a task its executor was never given, nor pass for the victim on
//! a connection the agent already accepted from it as its own executor. With
//! `--authenticate_http_executors`, calls need the executor's own token (401 without a valid
//! one, 403 for another executor's), and the command executor still runs tasks to
//! TASK_FINISHED. The same holds on the agent's Unix socket (`MESOS_DOMAIN_SOCKET`), which the
//! command executor uses instead of TCP and which serves nothing but the executor API. Runs the real agent daemon, containerizer and `mesos-executor`; needs root.

use std::net::SocketAddr;
use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;
use std::time::Duration;

use crate::daemon_harness::{command_task, get_json, root_or_skip, FakeMaster, TestAgent};
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::{HeaderMap, Request, StatusCode};
use hyper_util::rt::TokioIo;
use meseta_api::internal::{CallType, Event, EventType, KillTask, StatusUpdate};
use meseta_api::{FrameworkId, TaskId, TaskState};
use serde_json::json;

const VICTIM_FW: &str = "fw-victim";
const VICTIM: &str = "victim";

/// A v1 executor call as JSON.
fn call(fw: &str, ex: &str, kind: &str, extra: serde_json::Value) -> String {
    let mut c = json!({"type": kind, "framework_id": {"value": fw}, "executor_id": {"value": ex}});
    if let (Some(c), Some(e)) = (c.as_object_mut(), extra.as_object()) {
        c.extend(e.clone());
    }
    c.to_string()
}

/// A fake TASK_FINISHED for `task`, as executor `ex` of `fw`.
fn fake_finished(fw: &str, ex: &str, task: &str) -> String {
    let uuid = meseta_api::Bytes::random_uuid().to_base64();
    call(
        fw,
        ex,
        "UPDATE",
        json!({"update": {"status": {"task_id": {"value": task}, "state": "TASK_FINISHED",
               "source": "SOURCE_EXECUTOR", "uuid": uuid, "timestamp": 1.0}}}),
    )
}

/// POSTs an executor call with an optional `Authorization` value; status, headers, body.
async fn post(
    addr: SocketAddr,
    body: String,
    authorization: Option<&str>,
) -> (StatusCode, HeaderMap, String) {
    let stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .unwrap();
    tokio::spawn(conn);
    let mut req = Request::post("/api/v1/executor")
        .header("Host", addr.to_string())
        .header("Content-Type", "application/json");
    if let Some(a) = authorization {
        req = req.header("Authorization", a);
    }
    let resp = sender
        .send_request(req.body(Full::new(Bytes::from(body))).unwrap())
        .await
        .unwrap();
    let (parts, body) = resp.into_parts();
    (parts.status, parts.headers, read_body(body).await)
}

/// The body as text; a SUBSCRIBE that was (wrongly) accepted streams forever, so only what
/// arrives within 2 s.
async fn read_body(body: hyper::body::Incoming) -> String {
    tokio::time::timeout(Duration::from_secs(2), body.collect())
        .await
        .ok()
        .and_then(Result::ok)
        .map(|b| String::from_utf8_lossy(&b.to_bytes()).into_owned())
        .unwrap_or_default()
}

/// POSTs an executor call on the agent's Unix socket to `path`; status and body.
async fn post_unix(socket: &std::path::Path, path: &str, body: String) -> (StatusCode, String) {
    let stream = tokio::net::UnixStream::connect(socket).await.unwrap();
    let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .unwrap();
    tokio::spawn(conn);
    let req = Request::post(path)
        .header("Host", "agent")
        .header("Content-Type", "application/json")
        .body(Full::new(Bytes::from(body)))
        .unwrap();
    let resp = sender.send_request(req).await.unwrap();
    let (parts, body) = resp.into_parts();
    (parts.status, read_body(body).await)
}

/// The inodes of the sockets `pid` holds.
fn socket_inodes(pid: &str) -> Vec<String> {
    std::fs::read_dir(format!("/proc/{pid}/fd"))
        .map(|d| {
            d.flatten()
                .filter_map(|e| std::fs::read_link(e.path()).ok())
                .filter_map(|t| {
                    let t = t.to_string_lossy().into_owned();
                    Some(t.strip_prefix("socket:[")?.strip_suffix(']')?.to_owned())
                })
                .collect()
        })
        .unwrap_or_default()
}

/// The pid of the `mesos-executor` of executor `ex`.
fn executor_pid(ex: &str) -> Option<String> {
    let wanted = format!("MESOS_EXECUTOR_ID={ex}");
    std::fs::read_dir("/proc").ok()?.flatten().find_map(|e| {
        let pid = e.file_name().to_string_lossy().into_owned();
        let comm = std::fs::read_to_string(format!("/proc/{pid}/comm")).unwrap_or_default();
        let environ = std::fs::read(format!("/proc/{pid}/environ")).unwrap_or_default();
        (comm.trim() == "mesos-executor"
            && environ.split(|b| *b == 0).any(|v| v == wanted.as_bytes()))
        .then_some(pid)
    })
}

/// Acknowledges status updates until `task` reaches `state`; returns every update seen.
async fn until_state(master: &FakeMaster, task: &str, state: TaskState) -> Vec<StatusUpdate> {
    let mut seen = Vec::new();
    loop {
        let u = master
            .next_call(60, |c| c.r#type == CallType::StatusUpdate)
            .await
            .status_update
            .unwrap();
        master.acknowledge(&u).await;
        let done = u.status.task_id.value == task && u.status.state == state;
        seen.push(u);
        if done {
            return seen;
        }
    }
}

fn kill(fw: &str, task: &str) -> Event {
    Event {
        r#type: EventType::KillTask,
        kill_task: Some(KillTask {
            framework_id: FrameworkId::new(fw),
            task_id: TaskId::new(task),
            kill_policy: None,
        }),
        ..Event::default()
    }
}

/// The victim's task state in `/state`.
async fn victim_state(addr: SocketAddr) -> String {
    let state = get_json(addr, "/state").await;
    let fw = state["frameworks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["id"] == VICTIM_FW)
        .expect("victim framework in /state");
    fw["executors"][0]["tasks"][0]["state"]
        .as_str()
        .unwrap()
        .to_owned()
}

fn sandbox(agent: &TestAgent, fw: &str, ex: &str) -> PathBuf {
    agent.dir.path().join(format!(
        "work/slaves/m1-S0/frameworks/{fw}/executors/{ex}/runs/latest"
    ))
}

/// The shell of a task of another framework that tries to pass for the victim's executor,
/// then for its own executor with the victim's task; it records the three status codes.
fn attacker_script() -> String {
    let post = |body: &str| {
        format!(
            "curl -s -o /dev/null -w '%{{http_code}} ' -X POST -H 'Content-Type: \
             application/json' -d '{body}' http://$MESOS_AGENT_ENDPOINT/api/v1/executor"
        )
    };
    let forged = fake_finished(VICTIM_FW, VICTIM, VICTIM);
    let subscribe = call(VICTIM_FW, VICTIM, "SUBSCRIBE", json!({"subscribe": {}}));
    let own = fake_finished("fw-evil", "evil", VICTIM);
    // One kept-alive connection: a genuine call as its own executor first (accepted), then
    // the forged one as the victim's, which must be checked again (`num_connects` 0: the
    // connection was reused).
    let heartbeat = call("fw-evil", "evil", "HEARTBEAT", json!({}));
    let kept = format!(
        "curl -s -H 'Content-Type: application/json' \
         -o /dev/null -w '%{{http_code}} ' -d '{heartbeat}' \
         http://$MESOS_AGENT_ENDPOINT/api/v1/executor --next \
         -H 'Content-Type: application/json' \
         -o /dev/null -w '%{{http_code}}/%{{num_connects}} ' -d '{forged}' \
         http://$MESOS_AGENT_ENDPOINT/api/v1/executor"
    );
    // The same on the agent's Unix socket, which the task finds in its environment.
    let unix = |body: &str, end: &str| {
        format!(
            "--unix-socket \"$MESOS_DOMAIN_SOCKET\" -H 'Content-Type: application/json' \
             -o /dev/null -w '%{{http_code}}{end} ' -d '{body}' \
             'http://agent/slave(1)/api/v1/executor'"
        )
    };
    let on_socket = format!(
        "curl -s {}; curl -s {}; curl -s {}; curl -s {} --next {}",
        unix(&forged, ""),
        unix(&subscribe, ""),
        unix(&own, ""),
        unix(&heartbeat, ""),
        unix(&forged, "/%{num_connects}")
    );
    format!(
        "({}; {}; {}; {kept}) > \"$MESOS_SANDBOX/codes\"; \
         ({on_socket}) > \"$MESOS_SANDBOX/codes_unix\"",
        post(&forged),
        post(&subscribe),
        post(&own)
    )
}

async fn forged_calls_are_refused(test: &str, isolation: &str) {
    if !root_or_skip(test) {
        return;
    }
    meseta_tests::bin("mesos-executor");
    let cgroups_root = format!("meseta-forge-{}-{test}", std::process::id());
    let root_flag = format!("--cgroups_root={cgroups_root}");
    let master = FakeMaster::start().await;
    let agent = TestAgent::start(master.addr, &[isolation, &root_flag]).await;
    master
        .send(&command_task(
            VICTIM_FW,
            VICTIM,
            "exec sleep 60",
            false,
            None,
        ))
        .await;
    until_state(&master, VICTIM, TaskState::Running).await;

    // From the host, outside every container.
    let forged = post(agent.addr, fake_finished(VICTIM_FW, VICTIM, VICTIM), None).await;
    assert_eq!(forged.0, StatusCode::FORBIDDEN, "{forged:?}");
    assert!(
        forged.2.contains("is not a process of container"),
        "{}",
        forged.2
    );
    let subscribe = call(VICTIM_FW, VICTIM, "SUBSCRIBE", json!({"subscribe": {}}));
    let (status, _, body) = post(agent.addr, subscribe, None).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    let message = call(
        VICTIM_FW,
        VICTIM,
        "MESSAGE",
        json!({"message": {"data": "aGk="}}),
    );
    assert_eq!(
        post(agent.addr, message, None).await.0,
        StatusCode::FORBIDDEN
    );

    // The same on the agent's Unix socket, which serves nothing else; the victim's command
    // executor talks to the agent through it, not through TCP.
    let socket = agent.dir.path().join("run/agent.sock");
    let (status, body) = post_unix(
        &socket,
        "/slave(1)/api/v1/executor",
        fake_finished(VICTIM_FW, VICTIM, VICTIM),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert!(body.contains("is not a process of container"), "{body}");
    let (status, body) = post_unix(&socket, "/state", String::new()).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    let executor = executor_pid(VICTIM).expect("the victim's mesos-executor");
    let tcp: String = ["/proc/net/tcp", "/proc/net/tcp6"]
        .iter()
        .map(|f| std::fs::read_to_string(f).unwrap_or_default())
        .collect();
    let unix_sockets = std::fs::read_to_string("/proc/net/unix").unwrap();
    let held = socket_inodes(&executor);
    let on_tcp: Vec<_> = held
        .iter()
        .filter(|i| tcp.split_whitespace().any(|w| w == i.as_str()))
        .collect();
    assert!(
        on_tcp.is_empty(),
        "the executor holds TCP sockets {on_tcp:?}"
    );
    assert!(
        held.iter()
            .any(|i| unix_sockets.split_whitespace().any(|w| w == i.as_str())),
        "the executor holds no Unix socket: {held:?}"
    );

    // From a task of another framework on the same agent.
    master
        .send(&command_task(
            "fw-evil",
            "evil",
            &attacker_script(),
            false,
            None,
        ))
        .await;
    let seen = until_state(&master, "evil", TaskState::Finished).await;
    let codes = std::fs::read_to_string(sandbox(&agent, "fw-evil", "evil").join("codes")).unwrap();
    assert_eq!(
        codes.trim(),
        "403 403 403 202 403/0",
        "forged, subscribe, other task, then on one connection its own heartbeat and a forged \
         update"
    );
    let codes =
        std::fs::read_to_string(sandbox(&agent, "fw-evil", "evil").join("codes_unix")).unwrap();
    assert_eq!(
        codes.trim(),
        "403 403 403 202 403/0",
        "the same on the Unix socket"
    );

    // The master never saw the fake state; the real executor still holds its task.
    let victim_updates = |u: &&StatusUpdate| u.status.task_id.value == VICTIM;
    assert!(!seen.iter().any(|u| victim_updates(&u)), "{seen:?}");
    let late = master
        .try_next_call(2, |c| {
            c.status_update
                .as_ref()
                .is_some_and(|u| u.status.task_id.value == VICTIM)
        })
        .await;
    assert!(late.is_none(), "{late:?}");
    assert_eq!(victim_state(agent.addr).await, "TASK_RUNNING");
    master.send(&kill(VICTIM_FW, VICTIM)).await;
    let ended = until_state(&master, VICTIM, TaskState::Killed).await;
    assert!(ended
        .iter()
        .all(|u| u.status.state != TaskState::Finished || u.status.task_id.value != VICTIM));
    meseta_tests::kill_and_remove_cgroups(&cgroups_root, Duration::from_millis(100));
}

#[tokio::test(flavor = "current_thread")]
async fn forged_calls_are_refused_without_cgroups() {
    forged_calls_are_refused("posix", "--isolation=posix/cpu,posix/mem").await;
}

#[tokio::test(flavor = "current_thread")]
async fn forged_calls_are_refused_with_cgroups() {
    forged_calls_are_refused("cgroups", "--isolation=cgroups/cpu,cgroups/mem").await;
}

#[tokio::test(flavor = "current_thread")]
async fn with_authenticate_http_executors_calls_need_the_executors_token() {
    if !root_or_skip("with_authenticate_http_executors_calls_need_the_executors_token") {
        return;
    }
    meseta_tests::bin("mesos-executor");
    let keys = tempfile::tempdir().unwrap();
    let key_file = keys.path().join("jwt.key");
    std::fs::write(&key_file, "the agent's executor key").unwrap();
    let key_flag = format!("--jwt_secret_key={}", key_file.display());
    let master = FakeMaster::start().await;
    let agent = TestAgent::start(master.addr, &["--authenticate_http_executors", &key_flag]).await;

    // The command executor authenticates with its token; its task never sees the token.
    let script = "env > \"$MESOS_SANDBOX/task_env\"; exec sleep 60";
    master
        .send(&command_task(VICTIM_FW, VICTIM, script, false, None))
        .await;
    until_state(&master, VICTIM, TaskState::Running).await;
    // TASK_RUNNING is sent as the task starts: its `env` may not have run yet.
    let env_file = sandbox(&agent, VICTIM_FW, VICTIM).join("task_env");
    let mut task_env = String::new();
    for _ in 0..200 {
        task_env = std::fs::read_to_string(&env_file).unwrap_or_default();
        if task_env.contains("MESOS_EXECUTOR_ID") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(task_env.contains("MESOS_EXECUTOR_ID=victim"), "{task_env}");
    assert!(!task_env.contains("MESOS_EXECUTOR_AUTHENTICATION_TOKEN"));

    let forged = || fake_finished(VICTIM_FW, VICTIM, VICTIM);
    let (status, headers, _) = post(agent.addr, forged(), None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        headers["www-authenticate"],
        "Bearer realm=\"mesos-agent-executor\""
    );
    let (status, headers, body) = post(agent.addr, forged(), Some("Bearer not.a.jwt")).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    let challenge = headers["www-authenticate"].to_str().unwrap();
    assert!(challenge.contains("error=\"invalid_token\""), "{challenge}");

    let container = std::fs::read_link(sandbox(&agent, VICTIM_FW, VICTIM)).unwrap();
    let container = container.to_str().unwrap();
    let token = |key: &[u8], eid: &str, cid: &str| {
        let key = meseta_agent::flags::executor_auth::JwtKey(key.to_vec());
        format!(
            "Bearer {}",
            meseta_agent::executor_auth::token(&key, VICTIM_FW, eid, cid)
        )
    };
    // The token is in the container's launch_info, which only the agent's user may read.
    let launch_info = agent.dir.path().join("run/containers").join(container);
    let meta = std::fs::metadata(launch_info.join("launch_info")).unwrap();
    assert_eq!(meta.permissions().mode() & 0o777, 0o600);
    let other_key = token(b"guessed key", VICTIM, container);
    assert_eq!(
        post(agent.addr, forged(), Some(&other_key)).await.0,
        StatusCode::UNAUTHORIZED
    );
    // Validly signed, but for another executor or another container: 403 (Mesos's claims).
    let real_key = b"the agent's executor key";
    for wrong in [
        token(real_key, "evil", container),
        token(real_key, VICTIM, "c0"),
    ] {
        let (status, _, body) = post(agent.addr, forged(), Some(&wrong)).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
        assert!(body.contains("claim"), "{body}");
    }
    // The right token from outside the container still fails the peer check.
    let right = token(real_key, VICTIM, container);
    let (status, _, body) = post(agent.addr, forged(), Some(&right)).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert!(body.contains("is not a process of container"), "{body}");

    // A command task runs to TASK_FINISHED.
    master
        .send(&command_task(
            "fw-other",
            "hello",
            "echo hello; exit 0",
            false,
            None,
        ))
        .await;
    let seen = until_state(&master, "hello", TaskState::Finished).await;
    assert!(
        seen.iter()
            .any(|u| u.status.task_id.value == "hello" && u.status.state == TaskState::Running),
        "{seen:?}"
    );
    assert!(!seen.iter().any(|u| u.status.task_id.value == VICTIM));
    assert_eq!(victim_state(agent.addr).await, "TASK_RUNNING");
    master.send(&kill(VICTIM_FW, VICTIM)).await;
    until_state(&master, VICTIM, TaskState::Killed).await;
}

/// An unmodified pymesos executor (no token, its own HTTP client threads) passes the peer
/// check on an agent without cgroups, where its container is its supervisor's process tree.
/// (With cgroups and pid namespaces: `tests/tests/pymesos_e2e.rs`.)
#[test]
fn an_unmodified_pymesos_executor_works_without_cgroups() {
    if !root_or_skip("an_unmodified_pymesos_executor_works_without_cgroups") {
        return;
    }
    let mut opts = meseta_tests::ClusterOptions::new("cpus:4;mem:4096;disk:1000");
    opts.isolation = "posix/cpu,posix/mem".into();
    let cluster = meseta_tests::Cluster::start_with(&opts);
    let (ok, out) = cluster.scenario("custom_executor", 90);
    assert!(ok, "scenario failed:\n{out}\n{}", cluster.logs());
    // Not one of its calls was refused on the way.
    let agent_log = std::fs::read_to_string(cluster.dir.path().join("agent.err")).unwrap();
    assert!(agent_log.contains("executor subscribed"), "{agent_log}");
    assert!(
        !agent_log.contains("outside the executor's container"),
        "{agent_log}"
    );
}
