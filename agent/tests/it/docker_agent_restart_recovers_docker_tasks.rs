//! Agent restart with a running DOCKER task of a checkpointing framework: the agent is
//! `kill -9`'ed and restarted; the task keeps running in the same Docker container, is still
//! RUNNING in the agent's state, and a later kill works. A `mesos-*` container that no
//! checkpointed executor owns is removed on recovery (`--docker_kill_orphans`). Needs root,
//! dockerd and `cargo build --workspace --bins`.

use std::io::{BufRead, BufReader, Write};
use std::process::Stdio;

use crate::docker_common::*;
use meseta_docker::types::{ContainerConfig, HostConfig};
use meseta_tests::{http, Cluster};

/// The task's state in the agent's `/state`; `None` while the agent is not serving.
fn task_state(agent_port: u16, task: &str) -> Option<String> {
    let (status, body) = http("GET", agent_port, "/state", None).ok()?;
    if status != 200 {
        return None;
    }
    let state: serde_json::Value = serde_json::from_str(&body).ok()?;
    for fw in state["frameworks"].as_array().into_iter().flatten() {
        for e in fw["executors"].as_array().into_iter().flatten() {
            for t in e["tasks"].as_array().into_iter().flatten() {
                if t["id"] == task {
                    return t["state"].as_str().map(str::to_owned);
                }
            }
        }
    }
    None
}

#[test]
fn agent_restart_recovers_a_running_docker_task_and_removes_orphans() {
    let _serial = one_at_a_time();
    let test = "agent_restart_recovers_a_running_docker_task_and_removes_orphans";
    let Some(docker) = docker_or_skip(test) else {
        return;
    };
    let opts = options(RESOURCES, &["--executor_reregistration_timeout=10secs"]);
    let cluster = Cluster::start_with(&opts);
    let _cleanup = RemoveContainersUnder(cluster.dir.path().to_owned());
    let mut sched = scenario(&cluster, "docker_recovery", 120, &[])
        .stdin(Stdio::piped())
        .spawn()
        .expect("scenario");
    let mut lines = BufReader::new(sched.stdout.take().expect("stdout"))
        .lines()
        .map_while(Result::ok);
    assert!(
        lines.by_ref().any(|l| l.contains("\"all_running\"")),
        "drec never ran\n{}",
        cluster.logs()
    );
    let (container_id, sandbox) = executor(cluster.agent_port, "drec");
    let name = format!("mesos-{container_id}");
    let before = inspect_json(&name).expect("task container");
    assert_eq!(before["State"]["Running"], true);

    // An orphan: named like the agent's containers, owned by no checkpointed executor.
    let orphan = format!("mesos-orphan-{}", std::process::id());
    let rt = rt();
    let config = ContainerConfig {
        image: IMAGE.into(),
        cmd: Some(vec!["sleep".into(), "600".into()]),
        labels: [(
            "meseta.test".to_owned(),
            cluster.dir.path().display().to_string(),
        )]
        .into(),
        host_config: HostConfig {
            binds: vec![format!("{}:/owner:ro", cluster.dir.path().display())],
            ..HostConfig::default()
        },
        ..ContainerConfig::default()
    };
    rt.block_on(docker.create(&orphan, &config))
        .expect("create orphan");
    rt.block_on(docker.start(&orphan)).expect("start orphan");

    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(i32::try_from(cluster.agent_pid).expect("pid")),
        nix::sys::signal::SIGKILL,
    )
    .expect("kill -9 the agent");
    std::thread::sleep(std::time::Duration::from_millis(500));
    assert!(
        running(&docker, &name),
        "the task's container died with the agent"
    );

    let agent = restart_agent(&cluster, &opts, 2);
    // Recovered: the task is RUNNING again, its executor re-subscribed (a kill before that
    // finds no executor to deliver it to and destroys the container), the orphan is gone.
    let log = cluster.dir.path().join("agent2.err");
    let resubscribed = || {
        std::fs::read_to_string(&log)
            .unwrap_or_default()
            .contains("executor subscribed executor_id=drec")
    };
    let recovered = eventually(40, || {
        task_state(cluster.agent_port, "drec").as_deref() == Some("TASK_RUNNING")
            && resubscribed()
            && inspect_json(&orphan).is_none()
    });
    let logs = std::fs::read_to_string(cluster.dir.path().join("agent2.err")).unwrap_or_default();
    assert!(
        recovered,
        "not recovered: drec {:?}, orphan present {}\n{logs}",
        task_state(cluster.agent_port, "drec"),
        inspect_json(&orphan).is_some()
    );
    let after = inspect_json(&name).expect("task container after restart");
    assert_eq!(after["Id"], before["Id"], "the container was replaced");
    assert_eq!(after["State"]["Running"], true);
    assert_eq!(after["State"]["StartedAt"], before["State"]["StartedAt"]);

    // A later kill goes through the recovered executor.
    let mut stdin = sched.stdin.take().expect("stdin");
    let _ = stdin.write_all(b"kill\n");
    drop(stdin);
    let rest: Vec<String> = lines.collect();
    let status = sched.wait().expect("scenario exit");
    drop(agent);
    assert!(status.success(), "{rest:#?}\n{logs}\n{}", cluster.logs());
    assert!(!running(&docker, &name), "{name} still runs after the kill");
    // The re-subscribed executor stopped the container gracefully (SIGTERM, trap ran).
    let out = std::fs::read_to_string(format!("{sandbox}/stdout")).unwrap_or_default();
    assert!(
        out.contains("rec-start") && out.contains("rec-term"),
        "{out}"
    );
}

#[test]
fn the_agent_stops_a_docker_container_whose_executor_died() {
    let _serial = one_at_a_time();
    let test = "the_agent_stops_a_docker_container_whose_executor_died";
    let Some(docker) = docker_or_skip(test) else {
        return;
    };
    let cluster = Cluster::start_with(&options(RESOURCES, &[]));
    let _cleanup = RemoveContainersUnder(cluster.dir.path().to_owned());
    let env = [("MESETA_EXPECT_FINAL", "TASK_FAILED".to_owned())];
    let mut sched = scenario(&cluster, "docker_recovery", 60, &env)
        .stdin(Stdio::piped())
        .spawn()
        .expect("scenario");
    let mut lines = BufReader::new(sched.stdout.take().expect("stdout"))
        .lines()
        .map_while(Result::ok);
    assert!(
        lines.by_ref().any(|l| l.contains("\"all_running\"")),
        "{}",
        cluster.logs()
    );
    let (container_id, _) = executor(cluster.agent_port, "drec");
    let name = format!("mesos-{container_id}");
    assert!(running(&docker, &name));
    let containers = meseta_tests::get_json(cluster.agent_port, "/containers");
    let pid = containers
        .as_array()
        .into_iter()
        .flatten()
        .find(|c| c["executor_id"] == "drec")
        .and_then(|c| c["meseta"]["pid"].as_i64())
        .expect("executor pid in /containers");
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(i32::try_from(pid).expect("pid")),
        nix::sys::signal::SIGKILL,
    )
    .expect("kill -9 the docker executor");
    assert!(
        eventually(20, || !running(&docker, &name)),
        "{name} still runs without its executor\n{}",
        cluster.logs()
    );
    drop(sched.stdin.take());
    let rest: Vec<String> = lines.collect();
    assert!(sched.wait().expect("exit").success(), "{rest:#?}");
}
