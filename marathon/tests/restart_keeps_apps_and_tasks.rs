//! `kill -9` of `marathon` and a restart lose nothing and kill nothing: the same apps, the same
//! task ids (still running on the agent, never restarted), the same framework id, all read
//! back from ZooKeeper.

#![allow(clippy::tests_outside_test_module)]

mod support;

use std::time::Duration;

use meseta_tests::zookeeper;
use meseta_tests::{get_json, root_or_skip, Cluster};
use support::{resources, zk_url, Marathon};

#[test]
fn kill_9_and_restart_keeps_apps_task_ids_and_framework_id() {
    if !root_or_skip("kill_9_and_restart") || !zookeeper::available_or_skip("kill_9_and_restart") {
        return;
    }
    let cluster = Cluster::start(&resources());
    let mut m = Marathon::start(
        &format!("127.0.0.1:{}", cluster.master_port),
        &[
            format!("--zk={}", zk_url("marathon-restart")),
            "--zk_session_timeout=4000".into(),
        ],
        cluster.dir.path(),
    );
    m.wait_elected(Duration::from_secs(20));
    let (s, b) = m.call(
        "POST",
        "/v2/apps",
        Some(r#"{"id":"/keep/me","cmd":"sleep 1000","cpus":0.05,"mem":16,"instances":2}"#),
    );
    assert_eq!(s, 201, "{b}");
    m.wait_running("/keep/me", 2, Duration::from_secs(30));
    let tasks = m.tasks();
    let fw = m.get("/v2/info").unwrap()["frameworkId"].clone();
    assert!(fw.is_string(), "{fw}");
    let apps_before = m.get("/v2/apps").unwrap()["apps"].as_array().unwrap().len();

    m.restart();
    m.wait_elected(Duration::from_secs(30));
    m.wait_running("/keep/me", 2, Duration::from_secs(30));
    // Give reconciliation time to act, then check nothing was replaced.
    std::thread::sleep(Duration::from_secs(3));
    assert_eq!(m.tasks(), tasks, "{}", m.logs());
    assert_eq!(m.get("/v2/info").unwrap()["frameworkId"], fw);
    assert_eq!(
        m.get("/v2/apps").unwrap()["apps"].as_array().unwrap().len(),
        apps_before
    );
    // The master agrees: the same two tasks running for the same framework, none killed.
    let state = get_json(cluster.master_port, "/state");
    let fws = state["frameworks"].as_array().unwrap();
    let ours = fws
        .iter()
        .find(|f| f["id"] == fw)
        .expect("framework at the master");
    let mut at_master: Vec<(String, String)> = ours["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            (
                t["id"].as_str().unwrap().to_owned(),
                t["state"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    at_master.sort();
    assert_eq!(at_master, tasks);
    assert!(
        ours["completed_tasks"].as_array().is_none_or(Vec::is_empty),
        "{ours}"
    );
}

/// `kill -9` in the middle of a deployment: every task marathon had launched was stored
/// before its ACCEPT left, so the restarted marathon knows them all and kills none (an
/// unknown task would be killed by reconciliation and show up as completed at the master).
#[test]
fn kill_9_mid_deployment_kills_no_launched_task() {
    if !root_or_skip("kill_9_mid_deployment") || !zookeeper::available_or_skip("kill_9_mid") {
        return;
    }
    let cluster = Cluster::start(&resources());
    let mut m = Marathon::start(
        &format!("127.0.0.1:{}", cluster.master_port),
        &[
            format!("--zk={}", zk_url("marathon-restart-mid")),
            "--zk_session_timeout=4000".into(),
        ],
        cluster.dir.path(),
    );
    m.wait_elected(Duration::from_secs(20));
    let n = 60;
    let (s, b) = m.call(
        "POST",
        "/v2/apps",
        Some(&format!(
            r#"{{"id":"/mid/deploy","cmd":"sleep 1000","cpus":0.05,"mem":16,"instances":{n}}}"#
        )),
    );
    assert_eq!(s, 201, "{b}");
    assert!(
        meseta_tests::wait_until(Duration::from_secs(60), || m.tasks().len() >= 5),
        "no task launched: {}",
        m.logs()
    );
    let seen = m.tasks().len();
    m.kill9();
    assert!(
        seen < n,
        "the deployment was over before the kill ({seen} tasks)"
    );
    m.restart();
    m.wait_elected(Duration::from_secs(30));
    m.wait_running("/mid/deploy", n, Duration::from_secs(120));
    std::thread::sleep(Duration::from_secs(3));
    let fw = m.get("/v2/info").unwrap()["frameworkId"].clone();
    let state = get_json(cluster.master_port, "/state");
    let ours = state["frameworks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["id"] == fw)
        .expect("framework at the master")
        .clone();
    assert!(
        ours["completed_tasks"].as_array().is_none_or(Vec::is_empty),
        "a launched task was unknown after the restart and killed: {ours}\n{}",
        m.logs()
    );
    let mut at_master: Vec<String> = ours["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["id"].as_str().unwrap().to_owned())
        .collect();
    at_master.sort();
    let known: Vec<String> = m.tasks().into_iter().map(|(id, _)| id).collect();
    assert_eq!(at_master, known);
    assert_eq!(known.len(), n);
}
