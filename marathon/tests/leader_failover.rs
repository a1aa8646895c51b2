//! Two `marathon` processes on one ZooKeeper path: one leads, the other redirects API calls
//! to it (307 with the leader's address); after `kill -9` of the leader the other takes
//! over with the same apps, task ids and framework id.

#![allow(clippy::tests_outside_test_module)]

mod support;

use std::time::Duration;

use meseta_tests::{http, root_or_skip, wait_until, zookeeper, Cluster};
use support::{resources, zk_url, Marathon};

#[test]
fn the_standby_takes_over_when_the_leader_dies() {
    if !root_or_skip("leader_failover") || !zookeeper::available_or_skip("leader_failover") {
        return;
    }
    let cluster = Cluster::start(&resources());
    let master = format!("127.0.0.1:{}", cluster.master_port);
    let args = [
        format!("--zk={}", zk_url("marathon-ha")),
        "--zk_session_timeout=4000".into(),
    ];
    let mut first = Marathon::start(&master, &args, cluster.dir.path());
    first.wait_elected(Duration::from_secs(20));
    let second = Marathon::start(&master, &args, cluster.dir.path());
    let leader = format!("127.0.0.1:{}", first.port);
    assert!(wait_until(Duration::from_secs(10), || second
        .get("/v2/leader")
        .is_some_and(|l| l["leader"] == leader.as_str())));
    assert!(!second.elected());
    let (status, _) = http("GET", second.port, "/v2/apps", None).unwrap();
    assert_eq!(status, 307, "a standby redirects to the leader");

    let (s, b) = first.call(
        "POST",
        "/v2/apps",
        Some(r#"{"id":"/ha/app","cmd":"sleep 1000","cpus":0.05,"mem":16,"instances":2}"#),
    );
    assert_eq!(s, 201, "{b}");
    first.wait_running("/ha/app", 2, Duration::from_secs(30));
    let tasks = first.tasks();
    let fw = first.get("/v2/info").unwrap()["frameworkId"].clone();

    first.kill9();
    second.wait_elected(Duration::from_secs(30));
    second.wait_running("/ha/app", 2, Duration::from_secs(30));
    assert_eq!(second.tasks(), tasks, "{}", second.logs());
    assert_eq!(second.get("/v2/info").unwrap()["frameworkId"], fw);
    assert_eq!(
        second.get("/v2/leader").unwrap()["leader"],
        format!("127.0.0.1:{}", second.port)
    );
}
