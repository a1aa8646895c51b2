//! Bad operator input — malformed JSON, unknown call types, invalid role
//! names, negative/zero/NaN weights and quota, oversized reservations,
//! unknown agents — is refused with 400 and a message, and changes nothing
//! (roles, weights, quota and agent resources compared before and after).

use crate::common::operator::{op, op_raw, snapshot};
use crate::common::{master, request, FakeAgent};
use serde_json::{json, Value};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_is_400_and_changes_nothing() {
    let m = master(|_| {}).await;
    let agent = FakeAgent::subscribe(m.addr, None).await.unwrap();
    let aid = json!({"value": agent.agent_id});
    let ok = op(
        m.addr,
        &json!({"type": "UPDATE_WEIGHTS", "update_weights": {"weight_infos": [
            {"role": "web", "weight": 2.0}]}}),
    )
    .await;
    assert_eq!(ok.status, 200);
    let before = snapshot(m.addr).await;

    let weights = |role: &str, w: Value| {
        json!({"type": "UPDATE_WEIGHTS", "update_weights": {"weight_infos": [
            {"role": "ok", "weight": 3.0}, {"role": role, "weight": w}]}})
    };
    let quota = |role: &str, cpus: Value| {
        json!({"type": "UPDATE_QUOTA", "update_quota": {"quota_configs": [
            {"role": "fine", "limits": {"cpus": {"value": 1.0}}},
            {"role": role, "guarantees": {"cpus": {"value": cpus}}}]}})
    };
    let reserve = |agent: Value, role: &str, cpus: f64| {
        json!({"type": "RESERVE_RESOURCES", "reserve_resources": {"agent_id": agent,
            "resources": [{"name": "cpus", "type": "SCALAR", "scalar": {"value": cpus},
                "reservations": [{"type": "DYNAMIC", "role": role}]}]}})
    };
    let mut cases: Vec<(&str, Vec<u8>)> = vec![
        ("malformed json", b"{\"type\": ".to_vec()),
        ("not an object", b"[1, 2]".to_vec()),
        ("unknown type", br#"{"type": "FROBNICATE"}"#.to_vec()),
        ("UNKNOWN type", br#"{"type": "UNKNOWN"}"#.to_vec()),
        ("missing body", br#"{"type": "UPDATE_WEIGHTS"}"#.to_vec()),
        ("NaN literal", br#"{"type": "UPDATE_WEIGHTS", "update_weights": {"weight_infos": [{"role": "a", "weight": NaN}]}}"#.to_vec()),
    ];
    let json_cases = vec![
        ("weight role ..", weights("..", json!(1.0))),
        ("weight role .", weights(".", json!(1.0))),
        ("weight role -x", weights("-x", json!(1.0))),
        ("negative weight", weights("neg", json!(-1.0))),
        ("zero weight", weights("zero", json!(0.0))),
        ("NaN weight", weights("nan", json!("NaN"))),
        ("quota role ..", quota("..", json!(1.0))),
        ("quota role -x", quota("-x", json!(1.0))),
        ("negative quota", quota("neg", json!(-2.0))),
        ("NaN quota", quota("nan", json!("NaN"))),
        ("quota on *", quota("*", json!(1.0))),
        ("guarantee above capacity", quota("huge", json!(100.0))),
        ("reserve too much", reserve(aid.clone(), "ops", 100.0)),
        ("reserve role ..", reserve(aid.clone(), "..", 1.0)),
        ("reserve role *", reserve(aid.clone(), "*", 1.0)),
        (
            "reserve unknown agent",
            reserve(json!({"value": "nope"}), "ops", 1.0),
        ),
        (
            "unreserve what is not reserved",
            json!({"type": "UNRESERVE_RESOURCES", "unreserve_resources": {"agent_id": aid,
                "resources": [{"name": "cpus", "type": "SCALAR", "scalar": {"value": 1.0},
                    "reservations": [{"type": "DYNAMIC", "role": "ops"}]}]}}),
        ),
        (
            "deactivate unknown agent",
            json!({"type": "DEACTIVATE_AGENT", "deactivate_agent": {"agent_id": {"value": "nope"}}}),
        ),
        (
            "reactivate unknown agent",
            json!({"type": "REACTIVATE_AGENT", "reactivate_agent": {"agent_id": {"value": "nope"}}}),
        ),
        (
            "gone unknown agent",
            json!({"type": "MARK_AGENT_GONE", "mark_agent_gone": {"agent_id": {"value": "nope"}}}),
        ),
    ];
    cases.extend(
        json_cases
            .into_iter()
            .map(|(n, v)| (n, v.to_string().into_bytes())),
    );
    for (name, body) in &cases {
        let r = op_raw(m.addr, "/api/v1", body).await;
        assert_eq!(r.status, 400, "{name}: {} {}", r.status, r.text());
        assert!(!r.text().is_empty(), "{name}: no message");
    }
    for body in [
        r#"[{"role": "..", "weight": 2.0}]"#,
        r#"[{"role": "a", "weight": -2.0}]"#,
        r#"{"role": "a"}"#,
    ] {
        let r = request(m.addr, "PUT", "/weights", &[], body.as_bytes())
            .await
            .unwrap();
        assert_eq!(r.status, 400, "{body}: {}", r.text());
    }
    let r = request(
        m.addr,
        "POST",
        "/quota",
        &[],
        br#"{"role": "-x", "guarantee": [{"name": "cpus", "type": "SCALAR", "scalar": {"value": 1}}]}"#,
    )
    .await
    .unwrap();
    assert_eq!(r.status, 400, "{}", r.text());
    // Protobuf is not spoken: 415 for the body, 406 for the answer.
    let r = request(
        m.addr,
        "POST",
        "/api/v1",
        &[("Content-Type", "application/x-protobuf")],
        b"\x08\x01",
    )
    .await
    .unwrap();
    assert_eq!(r.status, 415);
    let r = request(
        m.addr,
        "POST",
        "/api/v1",
        &[
            ("Content-Type", "application/json"),
            ("Accept", "application/x-protobuf"),
        ],
        br#"{"type": "GET_HEALTH"}"#,
    )
    .await
    .unwrap();
    assert_eq!(r.status, 406);
    let r = request(m.addr, "GET", "/api/v1", &[], b"").await.unwrap();
    assert_eq!(r.status, 405);
    assert_eq!(snapshot(m.addr).await, before);
}
