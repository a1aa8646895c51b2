//! A raw Server-Sent Events reader of `/v2/events` sees the events of a deployment in order
//! (`api_post_event`, `deployment_info`, the task's `status_update_event`s,
//! `deployment_step_success`, `deployment_success`) as `event:`/`data:` frames, and a reader
//! with `event_type=` sees only that type.

#![allow(clippy::tests_outside_test_module)]

mod support;

use std::io::{BufRead, BufReader, Write};
use std::net::TcpStream;
use std::sync::mpsc;
use std::time::Duration;

use meseta_tests::{root_or_skip, zookeeper, Cluster};
use serde_json::Value;
use support::{resources, zk_url, Marathon};

/// Opens `/v2/events?<query>` and sends every `(event, data)` frame to the channel.
fn reader(port: u16, query: &str) -> mpsc::Receiver<(String, Value)> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    write!(
        s,
        "GET /v2/events?{query} HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n\r\n"
    )
    .unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut event = String::new();
        for line in BufReader::new(s).lines() {
            let Ok(line) = line else { return };
            if let Some(e) = line.strip_prefix("event: ") {
                event = e.trim().to_owned();
            } else if let Some(d) = line.strip_prefix("data: ") {
                let v: Value = serde_json::from_str(d.trim()).expect("data is JSON");
                assert_eq!(v["eventType"], event.as_str(), "event and eventType agree");
                if tx.send((event.clone(), v)).is_err() {
                    return;
                }
            }
        }
    });
    rx
}

#[test]
fn a_raw_reader_sees_a_deployment_in_order() {
    if !root_or_skip("sse_deployment") || !zookeeper::available_or_skip("sse_deployment") {
        return;
    }
    let cluster = Cluster::start(&resources());
    let m = Marathon::start(
        &format!("127.0.0.1:{}", cluster.master_port),
        &[format!("--zk={}", zk_url("marathon-sse"))],
        cluster.dir.path(),
    );
    m.wait_elected(Duration::from_secs(20));
    let all = reader(m.port, "plan-format=light");
    let only = reader(m.port, "event_type=deployment_success");
    let (first, _) = all.recv_timeout(Duration::from_secs(5)).unwrap();
    assert_eq!(first, "event_stream_attached");
    // Without the header the stream is refused.
    assert_eq!(
        meseta_tests::http("GET", m.port, "/v2/events", None)
            .unwrap()
            .0,
        405
    );

    let (s, b) = m.call(
        "POST",
        "/v2/apps",
        Some(r#"{"id":"/sse/app","cmd":"sleep 1000","cpus":0.05,"mem":16,"instances":1}"#),
    );
    assert_eq!(s, 201, "{b}");
    let deployment = b["deployments"][0]["id"].as_str().unwrap().to_owned();
    let mut seen = Vec::new();
    loop {
        let (kind, data) = all
            .recv_timeout(Duration::from_secs(30))
            .unwrap_or_else(|_| panic!("stream stalled after {seen:?}\n{}", m.logs()));
        let done = kind == "deployment_success" && data["id"] == deployment.as_str();
        let label = if kind == "status_update_event" {
            format!("status:{}", data["taskStatus"].as_str().unwrap())
        } else {
            kind
        };
        seen.push(label);
        if done {
            break;
        }
    }
    let pos = |k: &str| {
        seen.iter()
            .position(|s| s == k)
            .unwrap_or_else(|| panic!("no {k} in {seen:?}"))
    };
    assert!(pos("api_post_event") < pos("deployment_info"), "{seen:?}");
    assert!(
        pos("deployment_info") < pos("status:TASK_RUNNING"),
        "{seen:?}"
    );
    assert!(
        pos("status:TASK_RUNNING")
            < seen
                .iter()
                .rposition(|s| s == "deployment_step_success")
                .unwrap(),
        "{seen:?}"
    );
    assert_eq!(seen.last().unwrap(), "deployment_success");
    let (kind, data) = only.recv_timeout(Duration::from_secs(5)).unwrap();
    assert_eq!(
        (kind.as_str(), data["id"].as_str()),
        ("deployment_success", Some(deployment.as_str()))
    );
    assert!(
        only.try_recv().is_err(),
        "the filtered stream carries nothing else"
    );
}
