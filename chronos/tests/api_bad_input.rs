//! Bad input to the REST API answers 400 with Chronos's `{"status", "message"}` body and
//! stores nothing (a `chronos` with a local state dir and no master).

#![allow(clippy::tests_outside_test_module)]

mod common;

use common::Chronos;
use meseta_tests::{get_json, http};

#[test]
fn bad_jobs_are_refused_with_a_message_and_nothing_is_stored() {
    let work = tempfile::tempdir().unwrap();
    let state = work.path().join("state");
    let c = Chronos::start(
        work.path(),
        "chronos",
        &[
            "--master=127.0.0.1:1".into(),
            format!("--state_dir={}", state.display()),
        ],
    );
    let ok =
        r#"{"name":"a","command":"true","owner":"o","schedule":"R/2030-01-01T00:00:00Z/PT1H"}"#;
    assert_eq!(
        http("POST", c.port, "/v1/scheduler/iso8601", Some(ok))
            .unwrap()
            .0,
        204
    );
    let dep = r#"{"name":"b","command":"true","owner":"o","parents":["a"]}"#;
    assert_eq!(
        http("POST", c.port, "/scheduler/dependency", Some(dep))
            .unwrap()
            .0,
        204
    );
    let before = get_json(c.port, "/v1/scheduler/jobs");
    let stored = || std::fs::read_dir(state.join("jobs")).unwrap().count();
    assert_eq!(stored(), 2);
    for (path, body, needle) in [
        (
            "/v1/scheduler/iso8601",
            r#"{"name":"x","command":"true","schedule":"R/nope/PT1H"}"#,
            "start",
        ),
        (
            "/v1/scheduler/iso8601",
            r#"{"name":"x","command":"true","schedule":"R5/2030-01-01T00:00:00Z/PT"}"#,
            "duration",
        ),
        (
            "/v1/scheduler/iso8601",
            r#"{"name":"x","command":"true","schedule":"every day"}"#,
            "schedule",
        ),
        (
            "/v1/scheduler/iso8601",
            r#"{"name":"x","command":"true","schedule":"R//PT1H","scheduleTimeZone":"Nowhere/City"}"#,
            "scheduleTimeZone",
        ),
        (
            "/v1/scheduler/iso8601",
            r#"{"name":"x","command":"true"}"#,
            "schedule",
        ),
        (
            "/v1/scheduler/iso8601",
            r#"{"name":"a;rm -rf","command":"true","schedule":"R//PT1H"}"#,
            "name",
        ),
        (
            "/v1/scheduler/iso8601",
            r#"{"name":"x","command":"true","schedule":"R//PT1H","cpus":-1}"#,
            "resources",
        ),
        ("/v1/scheduler/iso8601", r#"{"name":"x","command":"#, "JSON"),
        (
            "/v1/scheduler/dependency",
            r#"{"name":"x","command":"true","parents":["ghost"]}"#,
            "ghost",
        ),
        (
            "/v1/scheduler/dependency",
            r#"{"name":"a","command":"true","parents":["b"]}"#,
            "cycle",
        ),
        (
            "/v1/scheduler/dependency",
            r#"{"name":"x","command":"true","parents":[]}"#,
            "parent",
        ),
    ] {
        let (status, text) = http("POST", c.port, path, Some(body)).unwrap();
        assert_eq!(status, 400, "{body}: {text}");
        let v: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(v["status"], "Bad Request", "{text}");
        assert!(
            v["message"].as_str().unwrap().contains(needle),
            "{body}: {text}"
        );
    }
    let (status, text) = http("PUT", c.port, "/v1/scheduler/job/ghost", None).unwrap();
    assert_eq!(status, 400, "{text}");
    let (status, text) = http("DELETE", c.port, "/v1/scheduler/job/ghost", None).unwrap();
    assert_eq!(status, 400, "{text}");
    assert_eq!(get_json(c.port, "/v1/scheduler/jobs"), before);
    assert_eq!(stored(), 2);
    let big = format!(r#"{{"name":"x","command":"{}"}}"#, "y".repeat(2 << 20));
    assert_eq!(
        http("POST", c.port, "/v1/scheduler/iso8601", Some(&big))
            .unwrap()
            .0,
        413
    );
}
