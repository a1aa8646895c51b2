//! Marathon-side HTTP health checks: a healthy task shows `healthCheckResults[].alive` in
//! `/v2/apps?embed=apps.tasks` and a `health_status_changed_event` on the event stream; a
//! task whose check fails `maxConsecutiveFailures` times is killed and replaced.

#![allow(clippy::tests_outside_test_module)]

mod support;

use std::io::{BufRead, BufReader, Write};
use std::net::TcpStream;
use std::sync::mpsc;
use std::time::Duration;

use meseta_tests::{root_or_skip, wait_until, zookeeper, Cluster, ClusterOptions};
use serde_json::Value;
use support::{resources, zk_url, Marathon};

fn events(port: u16) -> mpsc::Receiver<Value> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    write!(
        s,
        "GET /v2/events HTTP/1.1\r\nHost: x\r\nAccept: text/event-stream\r\n\r\n"
    )
    .unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(s).lines().map_while(Result::ok) {
            if let Some(d) = line.strip_prefix("data: ") {
                if tx
                    .send(serde_json::from_str(d.trim()).unwrap_or(Value::Null))
                    .is_err()
                {
                    return;
                }
            }
        }
    });
    rx
}

fn app(id: &str, path: &str, grace: u32) -> String {
    format!(
        r#"{{"id":"{id}","cmd":"exec python3 -m http.server $PORT0 --bind 127.0.0.1","cpus":0.05,"mem":64,"instances":1,
        "healthChecks":[{{"protocol":"HTTP","path":"{path}","portIndex":0,"gracePeriodSeconds":{grace},
        "intervalSeconds":1,"timeoutSeconds":2,"maxConsecutiveFailures":3}}]}}"#
    )
}

#[test]
fn healthy_tasks_are_reported_and_failing_ones_replaced() {
    if !root_or_skip("health_checks") || !zookeeper::available_or_skip("health_checks") {
        return;
    }
    let mut opts = ClusterOptions::new(&resources());
    // Probes go to the agent's hostname: keep them on loopback.
    opts.agent_args.push("--hostname=127.0.0.1".into());
    let cluster = Cluster::start_with(&opts);
    let m = Marathon::start(
        &format!("127.0.0.1:{}", cluster.master_port),
        &[format!("--zk={}", zk_url("marathon-health"))],
        cluster.dir.path(),
    );
    m.wait_elected(Duration::from_secs(20));
    let ev = events(m.port);

    let (s, b) = m.call("POST", "/v2/apps", Some(&app("/hc/good", "/", 30)));
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
    let seen = std::iter::from_fn(|| ev.recv_timeout(Duration::from_secs(5)).ok())
        .take(1000)
        .find(|e| {
            e["eventType"] == "health_status_changed_event"
                && e["appId"] == "/hc/good"
                && e["alive"] == true
        });
    assert!(
        seen.is_some(),
        "no health_status_changed_event with alive=true"
    );

    let (s, b) = m.call(
        "POST",
        "/v2/apps",
        Some(&app("/hc/bad", "/no-such-page", 0)),
    );
    assert_eq!(s, 201, "{b}");
    let first = wait_until(Duration::from_secs(30), || {
        m.get("/v2/apps/hc/bad")
            .is_some_and(|a| a["app"]["tasks"].as_array().is_some_and(|t| !t.is_empty()))
    });
    assert!(first);
    let victim = m.get("/v2/apps/hc/bad").unwrap()["app"]["tasks"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let replaced = wait_until(Duration::from_secs(60), || {
        m.get("/v2/apps/hc/bad").is_some_and(|a| {
            let t = a["app"]["tasks"].as_array().cloned().unwrap_or_default();
            !t.is_empty() && t.iter().all(|t| t["id"] != victim.as_str())
        })
    });
    assert!(replaced, "{:?}\n{}", m.get("/v2/apps/hc/bad"), m.logs());
    // Replacements keep failing too, so events keep coming: read what is queued, bounded.
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    let kills: Vec<Value> = std::iter::from_fn(|| {
        let left = deadline.saturating_duration_since(std::time::Instant::now());
        ev.recv_timeout(left.max(Duration::from_millis(1))).ok()
    })
    .filter(|e| e["taskId"] == victim.as_str())
    .collect();
    let stderr = std::process::Command::new("sh")
        .arg("-c")
        .arg(format!(
            "cat $(find {} -path '*{victim}*' -name stderr | head -1)",
            cluster.dir.path().display()
        ))
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
        .unwrap_or_default();
    assert!(
        kills
            .iter()
            .any(|e| e["eventType"] == "failed_health_check_event"),
        "{kills:?}\n{:?}\nstderr: {stderr}",
        m.get("/v2/tasks")
    );
    assert!(
        kills
            .iter()
            .any(|e| e["eventType"] == "unhealthy_instance_kill_event"),
        "{kills:?}"
    );
    // The good one was never touched.
    assert_eq!(m.get("/v2/apps/hc/good").unwrap()["app"]["tasksHealthy"], 1);
}
