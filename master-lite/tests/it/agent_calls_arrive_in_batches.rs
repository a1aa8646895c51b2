//! An agent may send the calls it has queued as one JSON array: the master applies them in
//! order under one lock, and refuses a batch it cannot apply whole (a SUBSCRIBE in it,
//! calls of two agents, a missing field) without applying any of it.

use std::time::Duration;

use crate::common::{command_task, master, request, FakeAgent, Resp, Scheduler};
use serde_json::{json, Value};

fn update(agent_id: &str, framework_id: &str, task_id: &str, state: &str) -> (Value, String) {
    let uuid = meseta_api::Bytes::random_uuid().to_base64();
    let call = json!({
        "type": "STATUS_UPDATE",
        "agent_id": {"value": agent_id},
        "status_update": {
            "framework_id": {"value": framework_id},
            "status": {
                "task_id": {"value": task_id},
                "state": state,
                "source": "SOURCE_EXECUTOR",
                "uuid": uuid,
                "agent_id": {"value": agent_id},
            },
            "timestamp": 1.0,
            "uuid": uuid,
        }
    });
    (call, uuid)
}

async fn post(addr: std::net::SocketAddr, body: &Value) -> Resp {
    request(
        addr,
        "POST",
        meseta_api::internal::PATH,
        &[("Content-Type", "application/json")],
        body.to_string().as_bytes(),
    )
    .await
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_is_applied_in_order_or_not_at_all() {
    let m = master(|_| {}).await;
    let mut agent = FakeAgent::subscribe(m.addr, None).await.unwrap();
    let mut s = Scheduler::subscribe(m.addr, json!({})).await.unwrap();
    let offers = s.offers().await.unwrap();
    let tasks = vec![
        command_task("a", &offers[0], 0.5, 64.0),
        command_task("b", &offers[0], 0.5, 64.0),
    ];
    let r = s.launch(&offers[0], tasks).await;
    assert_eq!(r.status, 202, "{}", r.text());
    for _ in 0..2 {
        agent.events.next_of("RUN_TASK").await.unwrap();
    }
    let (aid, fid) = (agent.agent_id.clone(), s.framework_id.clone());

    // Refused whole: a SUBSCRIBE inside, two agents, a call without its body, a ghost agent.
    let (good, _) = update(&aid, &fid, "a", "TASK_RUNNING");
    let subscribe = json!({"type": "SUBSCRIBE", "agent_id": {"value": aid},
                           "subscribe": {"agent_info": {"hostname": "x"}, "version": "test"}});
    let (other_agent, _) = update("someone-else", &fid, "b", "TASK_RUNNING");
    let no_body = json!({"type": "EXITED_EXECUTOR", "agent_id": {"value": aid}});
    for (bad, status) in [
        (json!([good, subscribe]), 400),
        (json!([good, other_agent]), 400),
        (json!([good, no_body]), 400),
        (json!([update("ghost", &fid, "a", "TASK_RUNNING").0]), 403),
        (json!([]), 400),
    ] {
        let r = post(m.addr, &bad).await;
        assert_eq!(r.status, status, "{bad}: {}", r.text());
    }
    // None of the refused batches reached the scheduler.
    let state = crate::common::get_json(m.addr, "/master/state").await;
    let states: Vec<&Value> = state["frameworks"][0]["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| &t["state"])
        .collect();
    assert_eq!(states, [&json!("TASK_STAGING"), &json!("TASK_STAGING")]);

    // Accepted: four updates of two tasks, forwarded in the order sent.
    let batch: Vec<(Value, String)> = vec![
        update(&aid, &fid, "a", "TASK_RUNNING"),
        update(&aid, &fid, "b", "TASK_RUNNING"),
        update(&aid, &fid, "a", "TASK_FINISHED"),
        update(&aid, &fid, "b", "TASK_FAILED"),
    ];
    let body = Value::Array(batch.iter().map(|(c, _)| c.clone()).collect());
    let r = post(m.addr, &body).await;
    assert_eq!(r.status, 202, "{}", r.text());
    for (call, uuid) in &batch {
        let st = tokio::time::timeout(Duration::from_secs(10), s.update())
            .await
            .expect("an UPDATE within 10s")
            .unwrap();
        let sent = &call["status_update"]["status"];
        assert_eq!(st["task_id"], sent["task_id"]);
        assert_eq!(st["state"], sent["state"]);
        assert_eq!(st["uuid"], uuid.as_str());
        assert_eq!(st["agent_id"]["value"], aid.as_str());
    }
    let metrics = crate::common::get_json(m.addr, "/metrics/snapshot").await;
    assert_eq!(metrics["master/tasks_finished"], 1.0);
    assert_eq!(metrics["master/tasks_failed"], 1.0);
    m.running.shutdown();
}
