//! Two `chronos` processes on a real ZooKeeper: the standby answers API calls by proxying them
//! to the leader (as Chronos's `RedirectFilter`), so a job added through either is stored
//! once, by the leader, and both list it; errors come back as the leader gave them.

#![allow(clippy::tests_outside_test_module)]

mod common;

use std::time::Duration;

use common::Chronos;
use meseta_tests::zookeeper::{available_or_skip, ZooKeeper};
use meseta_tests::{get_json, http, wait_until};

fn names(port: u16) -> Vec<String> {
    let jobs = get_json(port, "/v1/scheduler/jobs");
    let mut out: Vec<String> = jobs
        .as_array()
        .unwrap()
        .iter()
        .map(|j| j["name"].as_str().unwrap().to_owned())
        .collect();
    out.sort();
    out
}

#[test]
fn the_standby_proxies_api_calls_to_the_leader() {
    if !available_or_skip("the_standby_proxies_api_calls_to_the_leader") {
        return;
    }
    let zk = ZooKeeper::shared();
    let work = tempfile::tempdir().unwrap();
    let args = vec![
        // No master needed: the API works without one.
        "--master=127.0.0.1:1".to_owned(),
        format!("--zk_hosts={}", zk.connect_string()),
        format!("--zk_path={}", ZooKeeper::unique_path("chronos-proxy")),
        "--zk_timeout=4000".into(),
    ];
    let a = Chronos::start(work.path(), "chronos-a", &args);
    assert!(
        wait_until(Duration::from_secs(20), || http(
            "GET",
            a.port,
            "/v1/scheduler/jobs",
            None
        )
        .is_ok_and(|(s, _)| s == 200)),
        "a did not lead: {}",
        a.logs()
    );
    let b = Chronos::start(work.path(), "chronos-b", &args);
    let leader = format!("127.0.0.1:{}", a.port);
    assert!(
        wait_until(Duration::from_secs(10), || http(
            "GET", b.port, "/leader", None
        )
        .is_ok_and(|(s, body)| s == 200 && body.contains(&leader))),
        "b does not know the leader: {}",
        b.logs()
    );

    let job = |name: &str| {
        serde_json::json!({
            "name": name,
            "command": "true",
            "schedule": "R/2030-01-01T00:00:00Z/P1D",
            "owner": "ops@example.com",
        })
        .to_string()
    };
    let (s, text) = http("POST", b.port, "/v1/scheduler/iso8601", Some(&job("via-b"))).unwrap();
    assert_eq!(s, 204, "{text}\n{}", b.logs());
    let (s, text) = http("POST", a.port, "/scheduler/iso8601", Some(&job("via-a"))).unwrap();
    assert_eq!(s, 204, "{text}");
    assert_eq!(names(a.port), ["via-a", "via-b"]);
    assert_eq!(names(b.port), ["via-a", "via-b"]);
    let (s, body) = http("GET", b.port, "/v1/scheduler/jobs/search?name=via-b", None).unwrap();
    assert_eq!(s, 200);
    assert!(body.contains("via-b") && !body.contains("via-a"), "{body}");

    // A refusal comes back as the leader gave it, and nothing is stored.
    let (s, text) = http(
        "POST",
        b.port,
        "/v1/scheduler/iso8601",
        Some(&job("bad/name")),
    )
    .unwrap();
    assert_eq!(s, 400, "{text}");
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(v["status"], "Bad Request", "{text}");
    assert_eq!(names(a.port), ["via-a", "via-b"]);

    // Delete through the standby.
    let (s, text) = http("DELETE", b.port, "/v1/scheduler/job/via-b", None).unwrap();
    assert_eq!(s, 204, "{text}");
    assert_eq!(names(a.port), ["via-a"]);
    // The standby's own endpoints stay its own.
    assert_eq!(get_json(b.port, "/leader")["leader"], leader);
    let (s, _) = http("GET", b.port, "/ping", None).unwrap();
    assert_eq!(s, 200);
}
