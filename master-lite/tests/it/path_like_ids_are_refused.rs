//! The real `mesos-master` refuses IDs that would become path components on an agent
//! (`..`, `a/b`, empty, NUL, over 255 characters) with a 400 and Mesos' `validateID` text,
//! instead of accepting them and leaving the agent to refuse them later.

use std::process::{Command, Stdio};
use std::time::Duration;

use meseta_tests::{bin, free_port, http, wait_until};

fn subscribe(framework_id: &str) -> String {
    let id = serde_json::json!({ "value": framework_id });
    serde_json::json!({
        "type": "SUBSCRIBE",
        "framework_id": id,
        "subscribe": {"framework_info": {"user": "root", "name": "t", "id": id}},
    })
    .to_string()
}

#[test]
fn framework_ids_that_are_paths_get_400() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let mut master = Command::new(bin("mesos-master"))
        .arg("--ip=127.0.0.1")
        .arg(format!("--port={port}"))
        .arg(format!("--work_dir={}", dir.path().join("m").display()))
        .env("MESETA_MASTER_CONF_DIR", dir.path().join("no-etc"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    assert!(wait_until(Duration::from_secs(20), || {
        http("GET", port, "/health", None).is_ok_and(|(s, _)| s == 200)
    }));
    let long = "x".repeat(256);
    let cases = [
        ("..", "'..' is disallowed"),
        (".", "'.' is disallowed"),
        ("a/b", "contains invalid characters"),
        ("a\\b", "contains invalid characters"),
        ("a\u{0}b", "contains invalid characters"),
        ("", "ID must not be empty"),
        (long.as_str(), "must not be greater than 255 characters"),
    ];
    for (id, message) in cases {
        let (status, body) = http("POST", port, "/api/v1/scheduler", Some(&subscribe(id))).unwrap();
        assert_eq!(status, 400, "{id:?}: {body}");
        assert!(body.contains("Framework ID"), "{id:?}: {body}");
        assert!(body.contains(message), "{id:?}: {body}");
    }
    // A failing-over framework with a well-formed unknown id is still accepted.
    let ok = subscribe("0a1b2c-0001");
    let stream = std::thread::spawn(move || http("POST", port, "/api/v1/scheduler", Some(&ok)));
    std::thread::sleep(Duration::from_millis(500));
    let state: serde_json::Value =
        serde_json::from_str(&http("GET", port, "/state", None).unwrap().1).unwrap();
    assert_eq!(state["frameworks"][0]["id"], "0a1b2c-0001", "{state}");
    let _ = master.kill();
    let _ = master.wait();
    drop(stream);
}
