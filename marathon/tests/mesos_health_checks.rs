//! `MESOS_HTTP` health checks are handed to the executor as `TaskInfo.health_check`: its
//! `healthy` flips show in `/v2/apps?embed=apps.tasks`, and a task whose check keeps failing is
//! killed by the executor and replaced by marathon.

#![allow(clippy::tests_outside_test_module)]

mod support;

use std::time::Duration;

use meseta_tests::{root_or_skip, wait_until, zookeeper, Cluster, ClusterOptions};
use support::{resources, zk_url, Marathon};

fn app(id: &str, path: &str) -> String {
    format!(
        r#"{{"id":"{id}","cmd":"exec python3 -m http.server $PORT0 --bind 127.0.0.1","cpus":0.05,"mem":64,"instances":1,
        "healthChecks":[{{"protocol":"MESOS_HTTP","path":"{path}","portIndex":0,"gracePeriodSeconds":5,
        "intervalSeconds":1,"timeoutSeconds":2,"maxConsecutiveFailures":3,"delaySeconds":0}}]}}"#
    )
}

#[test]
fn mesos_http_checks_report_health_and_failing_tasks_are_replaced() {
    if !root_or_skip("mesos_http_checks") || !zookeeper::available_or_skip("mesos_http_checks") {
        return;
    }
    let mut opts = ClusterOptions::new(&resources());
    opts.agent_args.push("--hostname=127.0.0.1".into());
    let cluster = Cluster::start_with(&opts);
    let m = Marathon::start(
        &format!("127.0.0.1:{}", cluster.master_port),
        &[format!("--zk={}", zk_url("marathon-mesos-hc"))],
        cluster.dir.path(),
    );
    m.wait_elected(Duration::from_secs(20));
    let (s, b) = m.call("POST", "/v2/apps", Some(&app("/mhc/good", "/")));
    assert_eq!(s, 201, "{b}");
    let healthy = wait_until(Duration::from_secs(40), || {
        m.get("/v2/apps?embed=apps.tasks").is_some_and(|a| {
            let a = &a["apps"][0];
            a["tasksHealthy"] == 1 && a["tasks"][0]["healthCheckResults"][0]["alive"] == true
        })
    });
    assert!(
        healthy,
        "{:?}\n{}",
        m.get("/v2/apps?embed=apps.tasks"),
        m.logs()
    );

    let (s, b) = m.call("POST", "/v2/apps", Some(&app("/mhc/bad", "/no-such-page")));
    assert_eq!(s, 201, "{b}");
    assert!(wait_until(Duration::from_secs(30), || m
        .get("/v2/apps/mhc/bad")
        .is_some_and(|a| a["app"]["tasks"][0]["id"].is_string())));
    let victim = m.get("/v2/apps/mhc/bad").unwrap()["app"]["tasks"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let replaced = wait_until(Duration::from_secs(60), || {
        m.get("/v2/apps/mhc/bad").is_some_and(|a| {
            let t = a["app"]["tasks"].as_array().cloned().unwrap_or_default();
            !t.is_empty() && t.iter().all(|t| t["id"] != victim.as_str())
        })
    });
    assert!(replaced, "{:?}\n{}", m.get("/v2/apps/mhc/bad"), m.logs());
    assert_eq!(
        m.get("/v2/apps/mhc/good").unwrap()["app"]["tasksHealthy"],
        1
    );
}
