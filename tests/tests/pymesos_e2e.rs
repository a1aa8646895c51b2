//! An unmodified pymesos 0.3.15 scheduler against a real single-node Meseta cluster
//! (`mesos-master` + `mesos-agent` + `mesos-executor` + `mesos-containerizer`): offers, shell
//! tasks to FINISHED/FAILED/KILLED, a pymesos `MesosExecutorDriver` custom executor, the memory
//! limit, sandbox output through `/files/read`, and `agentctl` on a running task. Needs root.

// An integration test file is its own crate: its tests belong at the top level.
#![allow(clippy::tests_outside_test_module)]

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::Mutex;
use std::time::Duration;

use meseta_tests::{bin, get_json, http, root_or_skip, Cluster};

/// One cluster at a time: the machine has two cores.
static SERIAL: Mutex<()> = Mutex::new(());

const RESOURCES: &str = "cpus:2;mem:2048;disk:10240;ports:[31000-32000]";

/// Executors (current and completed) of every framework in the agent's `/state`.
fn executors(agent_port: u16) -> Vec<serde_json::Value> {
    let state = get_json(agent_port, "/state");
    let mut out = Vec::new();
    for key in ["frameworks", "completed_frameworks"] {
        for fw in state[key].as_array().into_iter().flatten() {
            for ek in ["executors", "completed_executors"] {
                out.extend(fw[ek].as_array().into_iter().flatten().cloned());
            }
        }
    }
    out
}

fn read_sandbox_file(agent_port: u16, path: &str) -> String {
    let v = get_json(
        agent_port,
        &format!("/files/read?path={path}&offset=0&length=65536"),
    );
    v["data"].as_str().unwrap_or_default().to_owned()
}

#[test]
fn shell_tasks_finish_fail_and_get_killed() {
    let _serial = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    if !root_or_skip("shell_tasks_finish_fail_and_get_killed") {
        return;
    }
    let cluster = Cluster::start(RESOURCES);
    let (ok, out) = cluster.scenario("shell_tasks", 60);
    assert!(ok, "scenario failed:\n{out}\n{}", cluster.logs());
    // The finished task's output, at the sandbox path the agent's /state names.
    let ex = executors(cluster.agent_port);
    let finish = ex
        .iter()
        .find(|e| e["id"] == "finish")
        .unwrap_or_else(|| panic!("no executor 'finish' in /state: {ex:?}"));
    let dir = finish["directory"].as_str().expect("directory");
    assert!(
        dir.contains("/slaves/") && dir.contains("/frameworks/") && dir.contains("/runs/"),
        "{dir}"
    );
    assert_eq!(
        read_sandbox_file(cluster.agent_port, &format!("{dir}/stdout")).trim(),
        "hello-from-meseta"
    );
    assert!(read_sandbox_file(cluster.agent_port, &format!("{dir}/stderr")).contains("to-stderr"));
}

#[test]
fn pymesos_executor_driver_runs_as_a_custom_executor() {
    let _serial = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    if !root_or_skip("pymesos_executor_driver_runs_as_a_custom_executor") {
        return;
    }
    let cluster = Cluster::start(RESOURCES);
    let (ok, out) = cluster.scenario("custom_executor", 90);
    assert!(ok, "scenario failed:\n{out}\n{}", cluster.logs());
}

#[test]
fn task_over_its_memory_is_failed_with_the_memory_limitation_reason() {
    let _serial = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    if !root_or_skip("task_over_its_memory_is_failed_with_the_memory_limitation_reason") {
        return;
    }
    let cluster = Cluster::start(RESOURCES);
    let (ok, out) = cluster.scenario("memory_limit", 60);
    assert!(ok, "scenario failed:\n{out}\n{}", cluster.logs());
}

#[test]
fn agentctl_inspects_a_running_task() {
    let _serial = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    if !root_or_skip("agentctl_inspects_a_running_task") {
        return;
    }
    let cluster = Cluster::start(RESOURCES);
    let mut sched = cluster
        .scenario_command("long_running", 60)
        .stdin(Stdio::piped())
        .spawn()
        .expect("scenario");
    let mut lines = BufReader::new(sched.stdout.take().expect("stdout")).lines();
    let running = lines
        .by_ref()
        .map_while(Result::ok)
        .find(|l| l.contains("\"event\": \"running\""));
    assert!(running.is_some(), "task never ran: {}", cluster.logs());

    let agent = format!("127.0.0.1:{}", cluster.agent_port);
    let agentctl = |args: &[&str]| {
        let out = Command::new(bin("agentctl"))
            .arg(format!("--agent={agent}"))
            .args(args)
            .output()
            .expect("agentctl");
        assert!(
            out.status.success(),
            "agentctl {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let table = agentctl(&["inspect"]);
    assert!(table.contains("long"), "{table}");
    let json: serde_json::Value =
        serde_json::from_str(&agentctl(&["inspect", "--json"])).expect("inspect --json");
    let text = json.to_string();
    assert!(
        text.contains(&cluster.cgroups_root),
        "no cgroup path in {text}"
    );
    let containers = get_json(cluster.agent_port, "/containers");
    let c = &containers[0];
    // Mesos renders `container_id` in /containers as a plain string.
    let id = c["container_id"].as_str().expect("container id");
    assert!(c["meseta"]["pid"].as_i64().unwrap_or(0) > 0, "{c}");
    wait_for(|| agentctl(&["logs", id]).contains("long-running-output"));
    assert!(agentctl(&["ps"]).contains(id));

    // Output through /files/read at the sandbox path in the agent's /state.
    let ex = executors(cluster.agent_port);
    let dir = ex
        .iter()
        .find(|e| e["id"] == "long")
        .and_then(|e| e["directory"].as_str())
        .expect("directory")
        .to_owned();
    assert!(
        read_sandbox_file(cluster.agent_port, &format!("{dir}/stdout"))
            .contains("long-running-output")
    );
    // Nothing outside the sandboxes is served.
    let (status, _) = http(
        "GET",
        cluster.agent_port,
        "/files/read?path=/etc/shadow&offset=0",
        None,
    )
    .unwrap();
    assert!(
        status == 403 || status == 404,
        "served /etc/shadow with {status}"
    );

    drop(sched.stdin.take());
    let rest: Vec<String> = lines.map_while(Result::ok).collect();
    let status = sched.wait().expect("scenario exit");
    assert!(status.success(), "{rest:?}\n{}", cluster.logs());
}

fn wait_for(mut cond: impl FnMut() -> bool) {
    assert!(
        meseta_tests::wait_until(Duration::from_secs(10), &mut cond),
        "condition not met in 10s"
    );
}
