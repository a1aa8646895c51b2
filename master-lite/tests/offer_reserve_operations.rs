#![allow(clippy::tests_outside_test_module)]
//! RESERVE and UNRESERVE offer operations in ACCEPT: offered resources are
//! converted on the agent and come back reserved (or unreserved) in the next
//! offer; an operation for another role or for more than was offered is
//! dropped and changes nothing.

mod common;

use common::operator::query;
use common::{master, FakeAgent, Scheduler};
use serde_json::{json, Value};

fn reserved_cpus(resources: &Value, role: &str) -> f64 {
    resources
        .as_array()
        .into_iter()
        .flatten()
        .filter(|r| r["name"] == "cpus" && r["reservations"][0]["role"] == role)
        .filter_map(|r| r["scalar"]["value"].as_f64())
        .sum()
}

fn reserved(role: &str, cpus: f64) -> Value {
    json!([{"name": "cpus", "type": "SCALAR", "scalar": {"value": cpus},
        "reservations": [{"type": "DYNAMIC", "role": role, "principal": "fw"}]}])
}

async fn accept(s: &Scheduler, offer: &Value, op: Value) {
    let r = s
        .call(json!({"type": "ACCEPT", "accept": {
            "offer_ids": [offer["id"]], "operations": [op],
            "filters": {"refuse_seconds": 0.0}}}))
        .await;
    assert_eq!(r.status, 202, "{}", r.text());
}

async fn agent_total(addr: std::net::SocketAddr) -> Value {
    query(addr, "GET_AGENTS").await["agents"][0]["total_resources"].clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reserve_and_unreserve_through_offers() {
    let m = master(|_| {}).await;
    let _agent = FakeAgent::subscribe(m.addr, None).await.unwrap();
    let mut s = Scheduler::subscribe(m.addr, json!({"role": "ops"}))
        .await
        .unwrap();

    // Refused: another role, and more than the offer holds.
    for bad in [reserved("other", 1.0), reserved("ops", 5.0)] {
        let offer = s.offers().await.unwrap().remove(0);
        accept(
            &s,
            &offer,
            json!({"type": "RESERVE", "reserve": {"resources": bad}}),
        )
        .await;
        assert_eq!(reserved_cpus(&agent_total(m.addr).await, "other"), 0.0);
        assert_eq!(reserved_cpus(&agent_total(m.addr).await, "ops"), 0.0);
    }

    let offer = s.offers().await.unwrap().remove(0);
    accept(
        &s,
        &offer,
        json!({"type": "RESERVE", "reserve": {"resources": reserved("ops", 1.5)}}),
    )
    .await;
    assert_eq!(reserved_cpus(&agent_total(m.addr).await, "ops"), 1.5);
    let offer = s.offers().await.unwrap().remove(0);
    assert_eq!(reserved_cpus(&offer["resources"], "ops"), 1.5, "{offer}");

    accept(
        &s,
        &offer,
        json!({"type": "UNRESERVE", "unreserve": {"resources": reserved("ops", 1.5)}}),
    )
    .await;
    assert_eq!(reserved_cpus(&agent_total(m.addr).await, "ops"), 0.0);
    let offer = s.offers().await.unwrap().remove(0);
    assert_eq!(reserved_cpus(&offer["resources"], "ops"), 0.0, "{offer}");
    let cpus: f64 = offer["resources"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["name"] == "cpus")
        .filter_map(|r| r["scalar"]["value"].as_f64())
        .sum();
    assert!((cpus - 4.0).abs() < 1e-9, "{offer}");
}
