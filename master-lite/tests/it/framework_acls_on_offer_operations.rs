//! ACLs on what a framework does with its offers, checked with its `FrameworkInfo.principal`
//! as Mesos's framework object approvers do: `run_tasks` refuses a task's user with
//! TASK_ERROR / REASON_TASK_UNAUTHORIZED (the task never reaches the agent), and
//! `reserve_resources` drops a RESERVE operation, leaving the agent unreserved.

use crate::common::operator::query;
use crate::common::{command_task, master, FakeAgent, Scheduler};
use meseta_auth::{Acls, Authorizer, HttpAuth};
use serde_json::{json, Value};

const ACLS: &str = r#"{
  "reserve_resources": [
    {"principals": {"values": ["fw-ok"]}, "roles": {"type": "ANY"}},
    {"principals": {"type": "ANY"}, "roles": {"type": "NONE"}}],
  "run_tasks": [
    {"principals": {"type": "ANY"}, "users": {"values": ["root"]}},
    {"principals": {"type": "ANY"}, "users": {"type": "NONE"}}]
}"#;

fn reserved_cpus(resources: &Value) -> f64 {
    resources
        .as_array()
        .into_iter()
        .flatten()
        .filter(|r| r["name"] == "cpus" && r["reservations"][0]["role"] == "ops")
        .filter_map(|r| r["scalar"]["value"].as_f64())
        .sum()
}

async fn reserve(s: &mut Scheduler) {
    let offer = s.offers().await.unwrap().remove(0);
    let resources = json!([{"name": "cpus", "type": "SCALAR", "scalar": {"value": 1.0},
        "reservations": [{"type": "DYNAMIC", "role": "ops"}]}]);
    let r = s
        .call(json!({"type": "ACCEPT", "accept": {
            "offer_ids": [offer["id"]],
            "operations": [{"type": "RESERVE", "reserve": {"resources": resources}}],
            "filters": {"refuse_seconds": 0.0}}}))
        .await;
    assert_eq!(r.status, 202, "{}", r.text());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn run_tasks_and_reserve_resources_follow_the_framework_principal() {
    let m = master(|c| {
        let authorizer = Authorizer::new(Acls::parse(ACLS).unwrap());
        c.auth = HttpAuth::new(None, None, None, Some(authorizer));
    })
    .await;
    let _agent = FakeAgent::subscribe(m.addr, None).await.unwrap();
    let agent_total =
        || async { query(m.addr, "GET_AGENTS").await["agents"][0]["total_resources"].clone() };

    // A task as nobody is refused by the master itself.
    let mut bad = Scheduler::subscribe(m.addr, json!({"principal": "fw-bad", "role": "ops"}))
        .await
        .unwrap();
    let offer = bad.offers().await.unwrap().remove(0);
    let mut task = command_task("as-nobody", &offer, 0.1, 32.0);
    task["command"]["user"] = json!("nobody");
    let r = bad.launch(&offer, vec![task]).await;
    assert_eq!(r.status, 202, "{}", r.text());
    let status = bad.update().await.unwrap();
    assert_eq!(status["state"], "TASK_ERROR", "{status}");
    assert_eq!(status["reason"], "REASON_TASK_UNAUTHORIZED", "{status}");
    assert_eq!(
        status["message"],
        format!(
            "Not authorized to launch task as-nobody of framework {} under user 'nobody'",
            bad.framework_id
        )
    );
    let tasks = query(m.addr, "GET_TASKS").await;
    assert!(tasks["tasks"].is_null(), "{tasks}");

    // fw-bad may not reserve: the operation is dropped.
    reserve(&mut bad).await;
    assert_eq!(reserved_cpus(&agent_total().await), 0.0);
    drop(bad);

    let mut ok = Scheduler::subscribe(m.addr, json!({"principal": "fw-ok", "role": "ops"}))
        .await
        .unwrap();
    reserve(&mut ok).await;
    assert_eq!(reserved_cpus(&agent_total().await), 1.0);
}
