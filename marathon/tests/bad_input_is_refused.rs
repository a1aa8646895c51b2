//! Bad input gets Marathon's codes and a message, and leaves the app list unchanged:
//! malformed JSON 400, an invalid id / negative instances / no cmd-args-container 422 with
//! `details[{path, errors}]`, a duplicate 409, an unknown app 404, a change while a deployment
//! runs 409 unless `?force=true`. No Mesos is needed for the API (nothing gets launched).

#![allow(clippy::tests_outside_test_module)]

mod support;

use meseta_tests::free_port;
use serde_json::Value;
use support::Marathon;

fn ids(m: &Marathon) -> Vec<Value> {
    m.get("/v2/apps").unwrap()["apps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["id"].clone())
        .collect()
}

#[test]
fn bad_definitions_get_marathons_codes_and_change_nothing() {
    let dir = tempfile::tempdir().unwrap();
    // No master listens there: the API still works, nothing launches.
    let m = Marathon::start(
        &format!("127.0.0.1:{}", free_port()),
        &["--internal_store_backend=mem".into()],
        dir.path(),
    );
    let (s, b) = m.call(
        "POST",
        "/v2/apps",
        Some(r#"{"id":"/good","cmd":"sleep 100","instances":1}"#),
    );
    assert_eq!(s, 201, "{b}");
    let before = ids(&m);

    let (s, b) = m.call("POST", "/v2/apps", Some(r#"{"id": "/x", "cmd": "#));
    assert_eq!(s, 400, "{b}");
    assert_eq!(b["message"], "Invalid JSON");

    let (s, b) = m.call(
        "POST",
        "/v2/apps",
        Some(r#"{"id":"/Bad_ID","cmd":"sleep 1"}"#),
    );
    assert_eq!(s, 422, "{b}");
    assert_eq!(b["details"][0]["path"], "/id");
    assert!(
        b["details"][0]["errors"][0]
            .as_str()
            .unwrap()
            .contains("must fully match"),
        "{b}"
    );

    let (s, b) = m.call(
        "POST",
        "/v2/apps",
        Some(r#"{"id":"/neg","cmd":"sleep 1","instances":-1}"#),
    );
    assert_eq!(s, 422, "{b}");
    assert_eq!(b["details"][0]["path"], "/instances");

    let (s, b) = m.call("POST", "/v2/apps", Some(r#"{"id":"/nothing"}"#));
    assert_eq!(s, 422, "{b}");
    assert!(
        b["details"][0]["errors"][0]
            .as_str()
            .unwrap()
            .contains("'cmd' or 'args'"),
        "{b}"
    );

    let (s, b) = m.call(
        "POST",
        "/v2/apps",
        Some(r#"{"id":"/d","container":{"type":"DOCKER","docker":{"network":"BRIDGE"}}}"#),
    );
    assert_eq!(s, 422, "{b}");

    let (s, b) = m.call(
        "POST",
        "/v2/apps",
        Some(r#"{"id":"/good","cmd":"sleep 1"}"#),
    );
    assert_eq!(s, 409, "{b}");
    assert!(b["message"].as_str().unwrap().contains("already exists"));

    let (s, b) = m.call("GET", "/v2/apps/nope", None);
    assert_eq!(s, 404, "{b}");
    assert_eq!(b["message"], "App '/nope' does not exist");

    // The creation deployment of /good never finishes (no Mesos): a change is locked.
    let (s, b) = m.call("PUT", "/v2/apps/good", Some(r#"{"instances":2}"#));
    assert_eq!(s, 409, "{b}");
    assert!(b["deployments"][0]["id"].is_string(), "{b}");
    let (s, b) = m.call(
        "PUT",
        "/v2/apps/good?force=true",
        Some(r#"{"instances":2}"#),
    );
    assert_eq!(s, 200, "{b}");
    assert!(b["deploymentId"].is_string());

    assert_eq!(ids(&m), before);
    // Unknown fields are kept.
    let (s, _) = m.call(
        "POST",
        "/v2/apps",
        Some(r#"{"id":"/extra","cmd":"sleep 1","instances":0,"futureField":{"a":1}}"#),
    );
    assert_eq!(s, 201);
    assert_eq!(
        m.get("/v2/apps/extra").unwrap()["app"]["futureField"]["a"],
        1
    );
}
