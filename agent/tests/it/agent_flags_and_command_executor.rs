//! `mesos-agent` as a binary: flags from an /etc/mesos-slave style directory and MESOS_
//! variables, one-line errors with exit 1; and a command task run through
//! `<launcher_dir>/mesos-executor`, then SHUTDOWN_FRAMEWORK.

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::Duration;

use crate::daemon_harness::{get_json, root_or_skip, send, EventReader, FakeMaster, TestAgent};
use hyper::StatusCode;
use meseta_api::internal::{CallType, Event, EventType, ShutdownFramework};
use meseta_api::FrameworkId;
use serde_json::json;

fn agent_bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_mesos-agent"))
}

fn free_port() -> u16 {
    meseta_tests::free_port()
}

#[test]
fn bad_flags_exit_1_with_one_readable_line() {
    let d = tempfile::tempdir().unwrap();
    let wd = format!("--work_dir={}", d.path().display());
    let cases: &[(&[&str], &str)] = &[
        (&[wd.as_str()], "--master"),
        (&["--master=h:5050"], "--work_dir"),
        (
            &["--master=zk://h:port/mesos", wd.as_str()],
            "--master: invalid ZooKeeper URL",
        ),
        (
            &[
                "--master=h:5050",
                wd.as_str(),
                "--executor_registration_timeout=soon",
            ],
            "--executor_registration_timeout",
        ),
        (
            &[
                "--master=h:5050",
                wd.as_str(),
                "--containerizers=docker,lxc",
            ],
            "--containerizers",
        ),
        (
            &["--master=h:5050", wd.as_str(), "--resources=cpus:x;;"],
            "--resources",
        ),
        (&["--master=h:5050", wd.as_str(), "--port=99999"], "--port"),
        (
            &["--master=h:5050", wd.as_str(), "--isolation=posix/nope"],
            "--isolation",
        ),
    ];
    for (args, needle) in cases {
        let out = Command::new(agent_bin())
            .args(*args)
            .env("MESETA_AGENT_CONF_DIR", d.path().join("none"))
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {err}");
        assert_eq!(err.trim_end().lines().count(), 1, "{args:?}: {err}");
        assert!(err.contains(needle), "{args:?}: {err}");
    }
    let help = Command::new(agent_bin()).arg("--help").output().unwrap();
    assert!(help.status.success());
    let text = String::from_utf8_lossy(&help.stdout);
    // Every flag files and MESOS_ variables may set is explained by --help.
    for flag in meseta_agent::flags::known_flags().known {
        if flag == "executor_secret_key" {
            continue; // the deprecated alias of --jwt_secret_key
        }
        assert!(text.contains(&format!("--{flag}")), "--help lacks --{flag}");
    }
}

#[tokio::test(flavor = "current_thread")]
async fn flags_come_from_conf_dir_and_env() {
    let d = tempfile::tempdir().unwrap();
    let conf = d.path().join("conf");
    std::fs::create_dir_all(conf.join("attributes")).unwrap();
    std::fs::create_dir_all(conf.join("resources")).unwrap();
    std::fs::write(conf.join("master"), "127.0.0.1:1\n").unwrap();
    std::fs::write(
        conf.join("work_dir"),
        d.path().join("work").display().to_string(),
    )
    .unwrap();
    std::fs::write(
        conf.join("runtime_dir"),
        d.path().join("run").display().to_string(),
    )
    .unwrap();
    std::fs::write(conf.join("?no-switch_user"), "").unwrap();
    std::fs::write(conf.join("attributes/rack"), "r7\n").unwrap();
    std::fs::write(conf.join("resources/cpus"), "3").unwrap();
    std::fs::write(conf.join("resources/mem"), "2048").unwrap();
    let port = free_port();
    let launcher = agent_bin().parent().unwrap().to_owned();
    let mut child = Command::new(agent_bin())
        .env("MESETA_AGENT_CONF_DIR", &conf)
        .env("MESOS_PORT", port.to_string())
        .env("MESOS_HTTP_HEARTBEAT_INTERVAL", "7secs")
        .arg("--ip=127.0.0.1")
        .arg(format!("--launcher_dir={}", launcher.display()))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let addr: std::net::SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
    let mut flags = None;
    for _ in 0..100 {
        if tokio::net::TcpStream::connect(addr).await.is_ok() {
            flags = Some(get_json(addr, "/flags").await);
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let state = get_json(addr, "/state.json").await;
    let _ = child.kill();
    let _ = child.wait();
    let flags = flags.expect("the agent did not start");
    assert_eq!(flags["flags"]["master"], "127.0.0.1:1");
    assert_eq!(flags["flags"]["switch_user"], "false");
    assert_eq!(flags["flags"]["http_heartbeat_interval"], "7secs");
    assert_eq!(flags["flags"]["port"], port.to_string());
    assert_eq!(state["attributes"]["rack"], "r7");
    assert_eq!(state["resources"]["cpus"], 3.0);
    assert_eq!(state["resources"]["mem"], 2048.0);
    assert_eq!(state["resources"]["ports"], "[31000-32000]");
}

#[tokio::test(flavor = "current_thread")]
async fn command_task_runs_mesos_executor_and_framework_shutdown_ends_it() {
    if !root_or_skip("command_task_runs_mesos_executor_and_framework_shutdown_ends_it") {
        return;
    }
    // A launcher dir with the real supervisor and a stand-in command executor.
    let launcher = tempfile::tempdir().unwrap();
    let real = meseta_tests::bin("mesos-containerizer");
    std::os::unix::fs::symlink(&real, launcher.path().join("mesos-containerizer")).unwrap();
    let exe = launcher.path().join("mesos-executor");
    std::fs::write(
        &exe,
        "#!/bin/sh\nenv > \"$MESOS_SANDBOX/env.txt\"\nexec sleep 60\n",
    )
    .unwrap();
    std::fs::set_permissions(&exe, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let master = FakeMaster::start().await;
    let ld = format!("--launcher_dir={}", launcher.path().display());
    let agent = TestAgent::start(
        master.addr,
        // The test process plays the executor from outside its container.
        &[
            ld.as_str(),
            "--executor_shutdown_grace_period=1secs",
            "--executor_peer_check=false",
        ],
    )
    .await;
    let run: Event = serde_json::from_value(json!({
        "type": "RUN_TASK",
        "run_task": {
            "framework": {"user": "root", "name": "fw", "id": {"value": "fw-1"}, "checkpoint": true},
            "task": {
                "name": "cmd", "task_id": {"value": "cmd-task"}, "agent_id": {"value": "m1-S0"},
                "resources": [{"name": "cpus", "type": "SCALAR", "scalar": {"value": 0.1}}],
                "command": {"value": "echo hello; exit 0",
                            "environment": {"variables": [{"name": "FOO", "value": "bar"}]}}
            }
        }
    }))
    .unwrap();
    master.send(&run).await;
    let sandbox_latest = agent
        .dir
        .path()
        .join("work/slaves/m1-S0/frameworks/fw-1/executors/cmd-task/runs/latest");
    let mut env = String::new();
    for _ in 0..200 {
        env = std::fs::read_to_string(sandbox_latest.join("env.txt")).unwrap_or_default();
        if !env.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    for expected in [
        "MESOS_EXECUTOR_ID=cmd-task",
        "MESOS_FRAMEWORK_ID=fw-1",
        "MESOS_CHECKPOINT=1",
        "MESOS_RECOVERY_TIMEOUT=15mins",
        "MESOS_SUBSCRIPTION_BACKOFF_MAX=2secs",
        "MESOS_EXECUTOR_SHUTDOWN_GRACE_PERIOD=1secs",
        "FOO=bar",
    ] {
        assert!(
            env.lines().any(|l| l == expected),
            "missing {expected} in\n{env}"
        );
    }
    let body = json!({"type": "SUBSCRIBE", "framework_id": {"value": "fw-1"},
                      "executor_id": {"value": "cmd-task"}, "subscribe": {}});
    let resp = send(
        agent.addr,
        "POST",
        "/api/v1/executor",
        serde_json::to_vec(&body).unwrap(),
    )
    .await;
    assert_eq!(resp.status(), StatusCode::OK);
    let mut events = EventReader::new(resp);
    let sub = events.next(5).await;
    let info = &sub["subscribed"]["executor_info"];
    assert_eq!(info["executor_id"], json!({"value": "cmd-task"}));
    assert_eq!(
        info["command"]["value"],
        exe.display().to_string(),
        "the command executor is <launcher_dir>/mesos-executor"
    );
    let launch = events.next_non_heartbeat(5).await;
    assert_eq!(
        launch["launch"]["task"]["command"]["value"],
        "echo hello; exit 0"
    );
    let containers = get_json(agent.addr, "/containers").await;
    let limits = &containers[0]["meseta"]["limits"];
    assert_eq!(limits["cpus"], 0.2, "task + command executor allowance");
    assert_eq!(limits["mem_bytes"], 32 << 20);

    master
        .send(&Event {
            r#type: EventType::ShutdownFramework,
            shutdown_framework: Some(ShutdownFramework {
                framework_id: FrameworkId::new("fw-1"),
            }),
            ..Event::default()
        })
        .await;
    assert_eq!(events.next_non_heartbeat(5).await["type"], "SHUTDOWN");
    master
        .next_call(10, |c| c.r#type == CallType::ExitedExecutor)
        .await;
    let containers = get_json(agent.addr, "/containers").await;
    assert_eq!(containers, json!([]));
}

/// The real command executor: `MESETA_COMMAND_EXECUTOR`, else `mesos-executor` next to the
/// agent binary (present when the whole workspace was built).
fn real_command_executor() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("MESETA_COMMAND_EXECUTOR") {
        return Some(PathBuf::from(p));
    }
    let p = agent_bin().parent()?.join("mesos-executor");
    p.is_file().then_some(p)
}

#[tokio::test(flavor = "current_thread")]
async fn command_task_finishes_with_the_real_command_executor() {
    if !root_or_skip("command_task_finishes_with_the_real_command_executor") {
        return;
    }
    let Some(executor) = real_command_executor() else {
        eprintln!(
            "SKIPPED command_task_finishes_with_the_real_command_executor: no mesos-executor \
             built (cargo build -p meseta-executor, or set MESETA_COMMAND_EXECUTOR)"
        );
        return;
    };
    let launcher = tempfile::tempdir().unwrap();
    let real = meseta_tests::bin("mesos-containerizer");
    std::os::unix::fs::symlink(&real, launcher.path().join("mesos-containerizer")).unwrap();
    std::os::unix::fs::symlink(&executor, launcher.path().join("mesos-executor")).unwrap();
    let master = FakeMaster::start().await;
    let ld = format!("--launcher_dir={}", launcher.path().display());
    let agent = TestAgent::start(master.addr, &[ld.as_str()]).await;
    let run: Event = serde_json::from_value(json!({
        "type": "RUN_TASK",
        "run_task": {
            "framework": {"user": "root", "name": "fw", "id": {"value": "fw-2"}},
            "task": {
                "name": "hello", "task_id": {"value": "hello-1"}, "agent_id": {"value": "m1-S0"},
                "resources": [{"name": "cpus", "type": "SCALAR", "scalar": {"value": 0.1}},
                              {"name": "mem", "type": "SCALAR", "scalar": {"value": 32}}],
                "command": {"value": "echo hello; exit 0"}
            }
        }
    }))
    .unwrap();
    master.send(&run).await;
    let mut states = Vec::new();
    while !states.contains(&meseta_api::TaskState::Finished) {
        let u = master
            .next_call(30, |c| c.r#type == CallType::StatusUpdate)
            .await
            .status_update
            .unwrap();
        assert_eq!(u.status.agent_id.as_ref().unwrap().value, "m1-S0");
        assert_eq!(u.status.executor_id.as_ref().unwrap().value, "hello-1");
        if !states.contains(&u.status.state) {
            states.push(u.status.state);
        }
        master
            .send(&Event {
                r#type: EventType::Acknowledge,
                acknowledge: Some(meseta_api::internal::Acknowledge {
                    framework_id: FrameworkId::new("fw-2"),
                    task_id: u.status.task_id.clone(),
                    uuid: u.uuid.clone(),
                }),
                ..Event::default()
            })
            .await;
    }
    assert!(
        states.contains(&meseta_api::TaskState::Running),
        "{states:?}"
    );
    let stdout = agent
        .dir
        .path()
        .join("work/slaves/m1-S0/frameworks/fw-2/executors/hello-1/runs/latest/stdout");
    let text = std::fs::read_to_string(stdout).unwrap();
    assert!(text.contains("hello"), "{text}");
    master
        .next_call(30, |c| c.r#type == CallType::ExitedExecutor)
        .await;
}
