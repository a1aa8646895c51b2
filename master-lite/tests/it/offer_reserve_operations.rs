//! RESERVE and UNRESERVE offer operations in ACCEPT: offered resources are
//! converted on the agent and come back reserved (or unreserved) in the next
//! offer; an operation for another role or for more than was offered is
//! dropped and changes nothing.

use crate::common::operator::query;
use crate::common::{master, FakeAgent, Scheduler};
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_task_launches_on_resources_reserved_in_the_same_accept() {
    let m = master(|_| {}).await;
    let mut agent = FakeAgent::subscribe(m.addr, None).await.unwrap();
    let mut s = Scheduler::subscribe(m.addr, json!({"role": "ops"}))
        .await
        .unwrap();
    let offer = s.offers().await.unwrap().remove(0);
    let mut task_res = reserved("ops", 1.0);
    task_res
        .as_array_mut()
        .unwrap()
        .push(json!({"name": "mem", "type": "SCALAR", "scalar": {"value": 32.0}}));
    let task = json!({"name": "t", "task_id": {"value": "t"}, "agent_id": offer["agent_id"],
        "command": {"value": "sleep 1"}, "resources": task_res});
    let r = s
        .call(
            json!({"type": "ACCEPT", "accept": {"offer_ids": [offer["id"]], "operations": [
            {"type": "RESERVE", "reserve": {"resources": reserved("ops", 1.0)}},
            {"type": "LAUNCH", "launch": {"task_infos": [task]}}],
            "filters": {"refuse_seconds": 0.0}}}),
        )
        .await;
    assert_eq!(r.status, 202, "{}", r.text());
    let run = agent.events.next_of("RUN_TASK").await.unwrap();
    assert_eq!(run["run_task"]["task"]["task_id"]["value"], "t", "{run}");
    assert_eq!(reserved_cpus(&agent_total(m.addr).await, "ops"), 1.0);
    // The rest of the agent comes back, without the reserved cpu the task holds.
    let offer = s.offers().await.unwrap().remove(0);
    assert_eq!(reserved_cpus(&offer["resources"], "ops"), 0.0, "{offer}");
    // Once the task ends, its reserved cpu is offered to the role again.
    agent.update(&s.framework_id, "t", "TASK_FINISHED").await;
    let deadline = tokio::time::Instant::now() + crate::common::WAIT;
    loop {
        let offers = s.offers().await.unwrap();
        if offers
            .iter()
            .any(|o| reserved_cpus(&o["resources"], "ops") == 1.0)
        {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "reserved cpu never re-offered"
        );
    }
}
