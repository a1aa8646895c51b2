//! Two `marathon` processes on one ZooKeeper path: one leads, the other proxies API calls
//! to it (the leader's answer with `X-Marathon-Via` and `X-Marathon-Leader`; the event
//! stream is redirected with 307); after `kill -9` of the leader the other takes over with
//! the same apps, task ids and framework id.

#![allow(clippy::tests_outside_test_module)]

mod support;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use meseta_tests::{root_or_skip, wait_until, zookeeper, Cluster};
use support::{resources, zk_url, Marathon};

/// The status line and headers (lower-cased) of `request` (a request line plus headers).
fn raw_head(port: u16, request: &str) -> String {
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    write!(
        s,
        "{request}\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut raw = Vec::new();
    let _ = s.read_to_end(&mut raw);
    let text = String::from_utf8_lossy(&raw).to_ascii_lowercase();
    let head = text.split("\r\n\r\n").next().unwrap_or_default().to_owned();
    head.replacen("http/1.1", "HTTP/1.1", 1)
}

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
    // A POST through the standby reaches the leader.
    let (s, b) = second.call(
        "POST",
        "/v2/apps",
        Some(r#"{"id":"/ha/app","cmd":"sleep 1000","cpus":0.05,"mem":16,"instances":2}"#),
    );
    assert_eq!(s, 201, "{b}\n{}", second.logs());
    assert_eq!(b["id"], "/ha/app");
    assert!(
        first.get("/v2/apps/ha/app").is_some(),
        "the leader has the app"
    );
    let head = raw_head(second.port, "GET /v2/apps HTTP/1.1");
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    assert!(
        head.contains(&format!("x-marathon-leader: http://{leader}")),
        "{head}"
    );
    assert!(
        head.contains(&format!("x-marathon-via: 1.1 127.0.0.1:{}", second.port)),
        "{head}"
    );
    let head = raw_head(
        second.port,
        "GET /v2/events HTTP/1.1\r\nAccept: text/event-stream",
    );
    assert!(head.starts_with("HTTP/1.1 307"), "{head}");
    assert!(
        head.contains(&format!("location: http://{leader}/v2/events")),
        "{head}"
    );
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
