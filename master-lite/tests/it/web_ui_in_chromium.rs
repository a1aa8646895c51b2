//! The master's web UI in a real headless Chromium against a real cluster (`mesos-master`,
//! `mesos-agent`, `mesos-execute`): the overview; a task appears in the task list and turns
//! RUNNING without a reload; its sandbox lists files; a line the task prints after the log
//! page opened shows up in the live tail; the kill button ends it as TASK_KILLED; every page
//! is valid HTML with labelled form controls, renders without JavaScript, and bad input shows
//! the operator API's own message. Screenshots go to `target/ui-screenshots/master-*.png`.
//! Needs root (the agent).

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use meseta_tests::browser::{html_problems, Browser};
use meseta_tests::{bin, http, root_or_skip, wait_until, Cluster, ClusterOptions};
use serde_json::{json, Value};

const WAIT: Duration = Duration::from_secs(30);

/// The raw HTML of `path` on the master; asserts 200 and validity.
fn valid_page(port: u16, path: &str) -> String {
    let (status, body) = http("GET", port, path, None).expect("GET");
    assert_eq!(status, 200, "GET {path}: {body}");
    let problems = html_problems(&body);
    assert!(
        problems.is_empty(),
        "{path} is not valid HTML: {problems:#?}"
    );
    body
}

/// Kills `mesos-execute` on drop.
struct Execute(Child);

impl Drop for Execute {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn sandbox_dir(agent_port: u16, task: &str) -> Option<String> {
    let (_, body) = http("GET", agent_port, "/state", None).ok()?;
    let state: Value = serde_json::from_str(&body).ok()?;
    state["frameworks"]
        .as_array()?
        .iter()
        .flat_map(|f| f["executors"].as_array().into_iter().flatten())
        .find(|e| {
            e["tasks"]
                .as_array()
                .is_some_and(|ts| ts.iter().any(|t| t["id"] == task))
        })
        .and_then(|e| e["directory"].as_str().map(str::to_string))
}

#[test]
fn master_ui_follows_a_task_from_launch_to_kill() {
    if !root_or_skip("master_ui_follows_a_task_from_launch_to_kill") {
        return;
    }
    let mut opts = ClusterOptions::new("cpus:2;mem:1024;disk:1024");
    // The master reaches the agent at the hostname the agent registers with.
    opts.agent_args.push("--hostname=127.0.0.1".into());
    let cluster = Cluster::start_with(&opts);
    let port = cluster.master_port;
    let base = format!("http://127.0.0.1:{port}");
    let b = Browser::start();

    b.open(&format!("{base}/"));
    b.wait_for_text("h1", "Cluster overview", WAIT);
    b.wait_for_text("#overview", "Registered", WAIT);
    b.screenshot("master-overview");
    valid_page(port, "/");

    // The task list is open before the task exists; a marker shows the page never reloads.
    b.open(&format!("{base}/ui/tasks"));
    b.eval("window.__noReload = 42;", vec![]);
    let task = "ui-tail-task";
    let cmd = "echo first-line; while [ ! -f go ]; do sleep 0.2; done; echo late-line-after-open; sleep 600";
    let _exec = Execute(
        Command::new(bin("mesos-execute"))
            .arg(format!("--master=127.0.0.1:{port}"))
            .arg(format!("--name={task}"))
            .arg(format!("--command={cmd}"))
            .arg("--resources=cpus:0.5;mem:64")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start mesos-execute"),
    );
    let row = format!("tr[data-task='{task}'] td.state");
    b.wait_for_text(&row, "TASK_RUNNING", WAIT);
    assert_eq!(
        b.eval("return window.__noReload;", vec![]),
        json!(42),
        "the page reloaded"
    );
    b.screenshot("master-tasks");
    valid_page(port, "/ui/tasks");

    // Task detail, then its sandbox, then the stdout tail.
    b.click(&format!("tr[data-task='{task}'] td a"));
    b.wait_for_text("#task-state", "TASK_RUNNING", WAIT);
    b.screenshot("master-task");
    let task_url = b.url();
    valid_page(port, task_url.trim_start_matches(&base));
    b.click("a.button[href^='/ui/sandbox']");
    b.wait_for_text("main", "stdout", WAIT);
    b.screenshot("master-sandbox");
    valid_page(port, b.url().trim_start_matches(&base));
    b.click("a[href$='file=stdout']");
    b.wait_for_text("#log", "first-line", WAIT);
    b.eval("window.__noReload = 7;", vec![]);
    let dir = sandbox_dir(cluster.agent_port, task).expect("sandbox directory in agent /state");
    std::fs::write(format!("{dir}/go"), "").expect("signal the task");
    b.wait_for_text("#log", "late-line-after-open", WAIT);
    assert_eq!(
        b.eval("return window.__noReload;", vec![]),
        json!(7),
        "the log page reloaded"
    );
    b.screenshot("master-log-tail");

    // The other pages, with the task and agent on them.
    for (path, name) in [
        ("/ui/agents", "master-agents"),
        ("/ui/frameworks", "master-frameworks"),
        ("/ui/roles", "master-roles"),
        ("/ui/offers", "master-offers"),
        ("/ui/maintenance", "master-maintenance"),
    ] {
        valid_page(port, path);
        b.open(&format!("{base}{path}"));
        b.screenshot(name);
    }
    b.open(&format!("{base}/ui/agents"));
    b.click("tbody a[href^='/ui/agents/']");
    b.wait_for_text("#agent-stats", "Executor", WAIT);
    b.screenshot("master-agent");
    valid_page(port, b.url().trim_start_matches(&base));
    b.open(&format!("{base}/ui/frameworks"));
    b.click("tbody a[href^='/ui/frameworks/']");
    b.wait_for_text("main", task, WAIT);
    b.screenshot("master-framework");

    // A phone-width window: the same pages, laid out narrow.
    b.resize(390, 844);
    b.open(&format!("{base}/ui/tasks"));
    b.wait_for_text(&row, "TASK_RUNNING", WAIT);
    b.screenshot("master-tasks-phone");
    b.resize(1280, 900);

    // Without JavaScript the pages still show the data (read-only).
    let nojs = Browser::start_without_js();
    nojs.open(&format!("{base}/"));
    nojs.wait_for_text("#overview", "Registered", WAIT);
    nojs.open(&format!("{base}/ui/tasks"));
    nojs.wait_for_text(&row, "TASK_RUNNING", WAIT);
    nojs.screenshot("master-tasks-nojs");

    // Kill from the UI: the task page follows it to TASK_KILLED.
    b.open(&task_url);
    b.click("#kill");
    b.wait_for_text("#task-state", "TASK_KILLED", WAIT);
    b.screenshot("master-task-killed");

    // Bad input: a negative drain grace period shows the operator API's message.
    b.open(&format!("{base}/ui/agents"));
    b.click("tbody a[href^='/ui/agents/']");
    b.type_into("#grace", "-5");
    let typed = b.eval("return document.getElementById('grace').value;", vec![]);
    assert_eq!(typed, json!("-5"));
    b.click("button[value='drain']");
    let text = b.wait_for_text(".banner", "400", WAIT);
    assert!(
        text.contains("DrainAgent.max_grace_period cannot be negative"),
        "banner: {text}"
    );
    b.screenshot("master-bad-input");
    assert!(
        wait_until(WAIT, || !http("GET", port, "/ui/maintenance", None)
            .is_ok_and(|(_, b)| b.contains("DRAINING"))),
        "a refused drain must not start draining"
    );
}
