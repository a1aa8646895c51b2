//! `POST /v2/groups` of several apps is ONE deployment (one `deploymentId`, one entry in
//! `/v2/deployments` naming every app) whose steps follow `dependencies`: the app that is
//! depended on runs and is healthy before its dependent is even launched. `PUT` of the group
//! without one of its apps stops that app in a second single deployment.

#![allow(clippy::tests_outside_test_module)]

mod support;

use std::time::Duration;

use meseta_tests::{root_or_skip, wait_until, zookeeper, Cluster};
use support::{resources, zk_url, Marathon};

const GROUP: &str = r#"{"id": "/shop", "apps": [
  {"id": "web", "cmd": "sleep 1000", "cpus": 0.05, "mem": 16, "instances": 2,
   "dependencies": ["/shop/db"]},
  {"id": "db", "cmd": "sleep 1000", "cpus": 0.05, "mem": 16, "instances": 1,
   "healthChecks": [{"protocol": "COMMAND", "command": {"value": "sleep 1"},
     "delaySeconds": 0, "intervalSeconds": 1, "gracePeriodSeconds": 30}]}
]}"#;

fn started(m: &Marathon, app: &str, field: &str) -> Vec<String> {
    m.get(&format!("/v2/apps{app}/tasks"))
        .and_then(|t| t["tasks"].as_array().cloned())
        .unwrap_or_default()
        .iter()
        .filter_map(|t| t[field].as_str().map(str::to_owned))
        .collect()
}

#[test]
fn a_group_is_one_deployment_that_honours_dependencies() {
    if !root_or_skip("group_deploy") || !zookeeper::available_or_skip("group_deploy") {
        return;
    }
    let cluster = Cluster::start(&resources());
    let m = Marathon::start(
        &format!("127.0.0.1:{}", cluster.master_port),
        &[format!("--zk={}", zk_url("marathon-group"))],
        cluster.dir.path(),
    );
    m.wait_elected(Duration::from_secs(20));

    let (s, b) = m.call("POST", "/v2/groups", Some(GROUP));
    assert_eq!(s, 201, "{b}");
    let id = b["deploymentId"]
        .as_str()
        .expect("one deploymentId")
        .to_owned();
    let deployments = m.get("/v2/deployments").unwrap();
    let list = deployments.as_array().unwrap();
    assert_eq!(list.len(), 1, "{deployments}");
    assert_eq!(list[0]["id"], id.as_str());
    let mut affected: Vec<&str> = list[0]["affectedApps"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|a| a.as_str())
        .collect();
    affected.sort_unstable();
    assert_eq!(affected, ["/shop/db", "/shop/web"]);

    m.wait_running("/shop/web", 2, Duration::from_secs(90));
    assert!(
        m.get("/v2/deployments")
            .is_some_and(|d| d.as_array().is_some_and(Vec::is_empty)),
        "{}",
        m.logs()
    );
    let db_healthy = m.get("/v2/apps/shop/db").unwrap()["app"]["tasksHealthy"].clone();
    assert_eq!(db_healthy, 1);
    // ISO-8601 timestamps of one clock compare as strings.
    let db_started = started(&m, "/shop/db", "startedAt");
    let web_staged = started(&m, "/shop/web", "stagedAt");
    assert_eq!((db_started.len(), web_staged.len()), (1, 2));
    assert!(
        web_staged.iter().all(|w| *w > db_started[0]),
        "web staged {web_staged:?} before db ran ({db_started:?})"
    );

    // PUT without web: one deployment stops it; db keeps its task.
    let (s, b) = m.call(
        "PUT",
        "/v2/groups/shop",
        Some(r#"{"id": "/shop", "apps": [{"id": "db", "cmd": "sleep 1000", "cpus": 0.05, "mem": 16, "instances": 1,
          "healthChecks": [{"protocol": "COMMAND", "command": {"value": "sleep 1"},
          "delaySeconds": 0, "intervalSeconds": 1, "gracePeriodSeconds": 30}]}]}"#),
    );
    assert_eq!(s, 200, "{b}");
    assert!(b["deploymentId"].is_string(), "{b}");
    assert!(
        wait_until(Duration::from_secs(30), || m
            .call("GET", "/v2/apps/shop/web", None)
            .0
            == 404
            && started(&m, "/shop/web", "stagedAt").is_empty()),
        "{}",
        m.logs()
    );
    assert_eq!(started(&m, "/shop/db", "startedAt"), db_started);
}
