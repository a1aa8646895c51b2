#![allow(clippy::tests_outside_test_module)]
//! `agentctl` as an operator meets it, against an in-test fake agent serving canned
//! `/containers` (with the `meseta` extension), `/state` and `/files/read`.

use std::collections::HashMap;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::process::{Output, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use serde_json::{json, Value};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::net::TcpListener;

const C1: &str = "3f2a9c1e-0000-4000-8000-000000000001";
const C2: &str = "7b44d0aa-0000-4000-8000-000000000002";
const SANDBOX1: &str = "/var/lib/mesos/slaves/S0/frameworks/fw-1/executors/ex-1/runs/3f2a9c1e";
const SANDBOX2: &str = "/var/lib/mesos/slaves/S0/frameworks/fw-1/executors/ex-2/runs/7b44d0aa";

fn containers_json() -> Value {
    json!([
        {
            "container_id": C1,
            "executor_id": "ex-1",
            "executor_name": "Command Executor (Task: task-1) (Command: sh -c 'sleep 100')",
            "framework_id": "fw-1",
            "source": "task-1",
            "statistics": {
                "timestamp": 1700000000.5,
                "processes": 2, "threads": 2,
                "cpus_user_time_secs": 0.25, "cpus_system_time_secs": 0.125,
                "cpus_limit": 1.0,
                "mem_rss_bytes": 3_145_728u64, "mem_total_bytes": 4_194_304u64,
                "mem_limit_bytes": 134_217_728u64
            },
            "status": {"executor_pid": 4242},
            "meseta": {
                "pid": 4242, "supervisor_pid": 4240, "task_ids": ["task-1"],
                "cgroups": ["/sys/fs/cgroup/mesos/3f2a9c1e-0000-4000-8000-000000000001"],
                "sandbox": SANDBOX1,
                "limits": {"cpus": 1.0, "mem_bytes": 134_217_728u64}
            }
        },
        {
            "container_id": C2,
            "executor_id": "ex-2",
            "executor_name": "",
            "framework_id": "fw-1",
            "source": "task-2",
            "statistics": {"timestamp": 1700000000.5},
            "status": {"executor_pid": 5151}
        }
    ])
}

fn state_json() -> Value {
    json!({
        "id": "S0", "hostname": "localhost",
        "frameworks": [{
            "id": "fw-1", "name": "my-framework",
            "executors": [
                {"id": "ex-1", "name": "Command Executor", "container": C1, "directory": SANDBOX1,
                 "tasks": [{"id": "task-1", "name": "sleeper", "state": "TASK_RUNNING"}],
                 "queued_tasks": [], "completed_tasks": []},
                {"id": "ex-2", "name": "", "container": C2, "directory": SANDBOX2,
                 "tasks": [], "queued_tasks": [],
                 "completed_tasks": [{"id": "task-2", "name": "done", "state": "TASK_FINISHED"}]}
            ],
            "completed_executors": []
        }],
        "completed_frameworks": []
    })
}

type Files = Arc<Mutex<HashMap<String, String>>>;

/// Serves the canned agent API; `files` maps absolute paths to their contents.
async fn fake_agent(files: Files) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                return;
            };
            let files = files.clone();
            tokio::spawn(async move {
                let service = service_fn(move |req| {
                    let files = files.clone();
                    async move { Ok::<_, Infallible>(respond(&req, &files)) }
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    addr
}

fn respond(req: &Request<Incoming>, files: &Files) -> Response<Full<Bytes>> {
    let json_response = |status: StatusCode, value: Value| {
        Response::builder()
            .status(status)
            .header("Content-Type", "application/json")
            .body(Full::new(Bytes::from(value.to_string())))
            .expect("response")
    };
    match req.uri().path() {
        "/containers" => json_response(StatusCode::OK, containers_json()),
        "/state" => json_response(StatusCode::OK, state_json()),
        "/files/read" => {
            let query: HashMap<String, String> = req
                .uri()
                .query()
                .unwrap_or_default()
                .split('&')
                .filter_map(|kv| kv.split_once('='))
                .map(|(k, v)| (k.to_owned(), percent_decode(v)))
                .collect();
            let path = query.get("path").cloned().unwrap_or_default();
            let offset: usize = query
                .get("offset")
                .and_then(|o| o.parse().ok())
                .unwrap_or(0);
            let length: usize = query
                .get("length")
                .and_then(|l| l.parse().ok())
                .unwrap_or(usize::MAX);
            let files = files.lock().unwrap();
            let Some(content) = files.get(&path) else {
                return Response::builder()
                    .status(StatusCode::NOT_FOUND)
                    .body(Full::new(Bytes::from("File not found")))
                    .expect("response");
            };
            let start = offset.min(content.len());
            let end = start.saturating_add(length).min(content.len());
            json_response(
                StatusCode::OK,
                json!({"data": &content[start..end], "offset": start}),
            )
        }
        _ => Response::builder()
            .status(StatusCode::NOT_FOUND)
            .body(Full::new(Bytes::new()))
            .expect("response"),
    }
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() + 1 {
            if let Ok(b) = u8::from_str_radix(&text[i + 1..i + 3], 16) {
                out.push(b);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8(out).expect("utf8")
}

fn default_files() -> Files {
    let mut files = HashMap::new();
    files.insert(
        format!("{SANDBOX1}/stdout"),
        "hello from task-1\nsecond line\n".to_owned(),
    );
    files.insert(format!("{SANDBOX1}/stderr"), "an error line\n".to_owned());
    Arc::new(Mutex::new(files))
}

async fn agentctl(addr: SocketAddr, args: &[&str]) -> Output {
    tokio::process::Command::new(env!("CARGO_BIN_EXE_agentctl"))
        .arg(format!("--agent={addr}"))
        .args(args)
        .output()
        .await
        .expect("run agentctl")
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn assert_success(out: &Output) {
    assert!(
        out.status.success(),
        "exit {:?}; stderr: {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
}

#[tokio::test]
async fn ps_prints_one_line_per_container() {
    let addr = fake_agent(default_files()).await;
    let out = agentctl(addr, &["ps"]).await;
    assert_success(&out);
    let text = stdout(&out);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 3, "{text}");
    assert!(lines[0].starts_with("CONTAINER"), "{text}");
    for field in [
        C1,
        "my-framework",
        "ex-1/task-1",
        "4242",
        "TASK_RUNNING",
        "0.38s/1cpus",
        "3.0 MiB/128.0 MiB",
    ] {
        assert!(
            lines[1].contains(field),
            "{field:?} missing in {:?}",
            lines[1]
        );
    }
    for field in [C2, "ex-2/task-2", "5151", "TASK_FINISHED"] {
        assert!(
            lines[2].contains(field),
            "{field:?} missing in {:?}",
            lines[2]
        );
    }
}

#[tokio::test]
async fn inspect_prints_readable_sections() {
    let addr = fake_agent(default_files()).await;
    let out = agentctl(addr, &["inspect", "3f2a"]).await;
    assert_success(&out);
    let text = stdout(&out);
    for expected in [
        format!("Container:   {C1}"),
        "Framework:   my-framework (fw-1)".to_owned(),
        "task-1 (sleeper)  TASK_RUNNING".to_owned(),
        "PID:         4242 (supervisor 4240)".to_owned(),
        format!("Sandbox:     {SANDBOX1}"),
        format!("Cgroups:     /sys/fs/cgroup/mesos/{C1}"),
        "Limits:      cpus 1, mem 128.0 MiB".to_owned(),
        "cpu user 0.25s, system 0.12s".to_owned(),
        "mem rss 3.0 MiB, total 4.0 MiB".to_owned(),
        "processes 2, threads 2".to_owned(),
    ] {
        assert!(text.contains(&expected), "{expected:?} missing in:\n{text}");
    }
    assert!(!text.contains(C2), "only the selected container:\n{text}");

    let all = stdout(&agentctl(addr, &["inspect"]).await);
    assert!(all.contains(C1) && all.contains(C2), "{all}");
    assert!(
        all.contains(&format!("Sandbox:     {SANDBOX2}")),
        "sandbox from /state: {all}"
    );
}

#[tokio::test]
async fn inspect_json_is_for_scripts() {
    let addr = fake_agent(default_files()).await;
    let out = agentctl(addr, &["inspect", C1, "--json"]).await;
    assert_success(&out);
    let value: Value = serde_json::from_slice(&out.stdout).expect("JSON output");
    let c = &value.as_array().expect("array")[0];
    assert_eq!(c["container_id"], C1);
    assert_eq!(c["framework_id"], "fw-1");
    assert_eq!(c["framework_name"], "my-framework");
    assert_eq!(c["executor_id"], "ex-1");
    assert_eq!(c["tasks"][0]["id"], "task-1");
    assert_eq!(c["tasks"][0]["state"], "TASK_RUNNING");
    assert_eq!(c["pid"], 4242);
    assert_eq!(c["supervisor_pid"], 4240);
    assert_eq!(c["cgroups"][0], format!("/sys/fs/cgroup/mesos/{C1}"));
    assert_eq!(c["sandbox"], SANDBOX1);
    assert_eq!(c["limits"]["mem_bytes"], 134_217_728u64);
    assert_eq!(c["statistics"]["mem_rss_bytes"], 3_145_728u64);

    let all: Value =
        serde_json::from_slice(&agentctl(addr, &["inspect", "--json=true"]).await.stdout)
            .expect("JSON output");
    assert_eq!(all.as_array().map(Vec::len), Some(2));
}

#[tokio::test]
async fn logs_prints_sandbox_stdout_and_stderr() {
    let addr = fake_agent(default_files()).await;
    let out = agentctl(addr, &["logs", C1]).await;
    assert_success(&out);
    assert_eq!(stdout(&out), "hello from task-1\nsecond line\n");
    let out = agentctl(addr, &["logs", "3f2a", "--stderr"]).await;
    assert_success(&out);
    assert_eq!(stdout(&out), "an error line\n");
}

#[tokio::test]
async fn logs_follow_prints_appended_output() {
    let files = default_files();
    let addr = fake_agent(files.clone()).await;
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_agentctl"))
        .arg(format!("--agent={addr}"))
        .args(["logs", C1, "--follow", "--poll_interval_ms=50"])
        .stdout(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("spawn agentctl");
    let mut lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
    let mut next = async || {
        tokio::time::timeout(Duration::from_secs(10), lines.next_line())
            .await
            .expect("output in time")
            .expect("read")
            .expect("a line")
    };
    assert_eq!(next().await, "hello from task-1");
    assert_eq!(next().await, "second line");
    files
        .lock()
        .unwrap()
        .entry(format!("{SANDBOX1}/stdout"))
        .and_modify(|c| c.push_str("appended later\n"));
    assert_eq!(next().await, "appended later");
    child.kill().await.expect("kill");
}

fn assert_one_line_error(out: &Output, needle: &str) {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "stderr: {stderr}");
    assert_eq!(stderr.lines().count(), 1, "stderr: {stderr}");
    assert!(stderr.starts_with("agentctl: "), "stderr: {stderr}");
    assert!(stderr.contains(needle), "{needle:?} not in {stderr}");
}

#[tokio::test]
async fn unknown_container_is_one_line_and_exit_1() {
    let addr = fake_agent(default_files()).await;
    assert_one_line_error(
        &agentctl(addr, &["inspect", "nope"]).await,
        "no container \"nope\"",
    );
    assert_one_line_error(
        &agentctl(addr, &["logs", "nope"]).await,
        "no container \"nope\"",
    );
}

#[tokio::test]
async fn missing_log_file_is_one_line_and_exit_1() {
    let addr = fake_agent(default_files()).await;
    assert_one_line_error(&agentctl(addr, &["logs", C2]).await, "404");
}

#[tokio::test]
async fn unreachable_agent_is_one_line_and_exit_1() {
    // A port that was free a moment ago: nothing listens there now.
    let addr = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        listener.local_addr().expect("addr")
    };
    let out = agentctl(addr, &["ps"]).await;
    assert_one_line_error(&out, &format!("cannot reach the agent at {addr}"));
}

#[tokio::test]
async fn help_explains_every_command() {
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_agentctl"))
        .arg("--help")
        .output()
        .await
        .expect("run agentctl");
    assert_success(&out);
    let text = stdout(&out);
    for word in [
        "ps",
        "inspect",
        "logs",
        "--agent",
        "127.0.0.1:5051",
        "/containers",
        "/state",
    ] {
        assert!(text.contains(word), "{word:?} missing in --help:\n{text}");
    }
    let logs_help = tokio::process::Command::new(env!("CARGO_BIN_EXE_agentctl"))
        .args(["logs", "--help"])
        .output()
        .await
        .expect("run agentctl");
    let text = stdout(&logs_help);
    for word in ["--stderr", "--follow", "--poll_interval_ms"] {
        assert!(
            text.contains(word),
            "{word:?} missing in logs --help:\n{text}"
        );
    }
}
