//! Custom executors (their resources are charged once and recovered when
//! EXITED_EXECUTOR arrives, with a FAILURE event) and ACCEPT of offers from
//! two agents (refused: offers must belong to one agent).

use crate::common::{command_task, master, request, FakeAgent, Scheduler};
use serde_json::json;

fn cpus(offer: &serde_json::Value) -> f64 {
    offer["resources"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["name"] == "cpus")
        .map(|r| r["scalar"]["value"].as_f64().unwrap())
        .sum()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn custom_executor_resources_and_exit() {
    let m = master(|_| {}).await;
    let mut agent = FakeAgent::subscribe(m.addr, None).await.unwrap();
    let mut s = Scheduler::subscribe(m.addr, json!({})).await.unwrap();
    let offer = s.offers().await.unwrap().remove(0);
    let executor = json!({"executor_id": {"value": "ex1"}, "name": "ex1",
        "command": {"value": "python -m pymesos.executor"},
        "resources": [{"name": "cpus", "type": "SCALAR", "scalar": {"value": 0.5}},
                      {"name": "mem", "type": "SCALAR", "scalar": {"value": 32.0}}]});
    let mut tasks = Vec::new();
    for id in ["a", "b"] {
        let mut t = command_task(id, &offer, 1.0, 64.0);
        t.as_object_mut().unwrap().remove("command");
        t["executor"] = executor.clone();
        tasks.push(t);
    }
    let r = s.launch(&offer, tasks).await;
    assert_eq!(r.status, 202);
    for _ in 0..2 {
        let run = agent.events.next_of("RUN_TASK").await.unwrap();
        let ex = &run["run_task"]["task"]["executor"];
        assert_eq!(ex["executor_id"]["value"], "ex1");
        assert_eq!(ex["framework_id"]["value"], s.framework_id.as_str());
    }
    // 4 - 2 tasks - one executor (0.5) = 1.5 cpus left.
    let rest = s.offers().await.unwrap().remove(0);
    assert!((cpus(&rest) - 1.5).abs() < 1e-9, "{rest}");
    assert_eq!(rest["executor_ids"][0]["value"], "ex1");

    for id in ["a", "b"] {
        agent.update(&s.framework_id, id, "TASK_FINISHED").await;
        assert_eq!(s.update().await.unwrap()["state"], "TASK_FINISHED");
    }
    let call = json!({"type": "EXITED_EXECUTOR", "agent_id": {"value": agent.agent_id},
        "exited_executor": {"framework_id": {"value": s.framework_id},
            "executor_id": {"value": "ex1"}, "status": 0}});
    let r = request(
        m.addr,
        "POST",
        meseta_api::internal::PATH,
        &[("Content-Type", "application/json")],
        call.to_string().as_bytes(),
    )
    .await
    .unwrap();
    assert_eq!(r.status, 202);
    let f = s.events.next_of("FAILURE").await.unwrap();
    assert_eq!(f["failure"]["executor_id"]["value"], "ex1");
    assert_eq!(f["failure"]["agent_id"]["value"], agent.agent_id.as_str());
    let state = crate::common::get_json(m.addr, "/state").await;
    assert_eq!(state["frameworks"][0]["used_resources"]["cpus"], 0.0);
    m.running.shutdown();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn offers_from_two_agents_cannot_be_combined() {
    let m = master(|_| {}).await;
    let _a1 = FakeAgent::subscribe(m.addr, None).await.unwrap();
    let _a2 = FakeAgent::subscribe(m.addr, None).await.unwrap();
    let mut s = Scheduler::subscribe(m.addr, json!({})).await.unwrap();
    let mut offers = Vec::new();
    while offers.len() < 2 {
        offers.extend(s.offers().await.unwrap());
    }
    assert_ne!(offers[0]["agent_id"], offers[1]["agent_id"]);
    let r = s
        .call(json!({"type": "ACCEPT", "accept": {
            "offer_ids": [offers[0]["id"], offers[1]["id"]],
            "operations": [{"type": "LAUNCH", "launch": {"task_infos": [
                command_task("x", &offers[0], 0.1, 32.0)]}}]}}))
        .await;
    assert_eq!(r.status, 202);
    let st = s.update().await.unwrap();
    assert_eq!(st["state"], "TASK_LOST");
    assert_eq!(st["reason"], "REASON_INVALID_OFFERS");
    assert!(
        st["message"].as_str().unwrap().contains("single agent"),
        "{st}"
    );
    m.running.shutdown();
}
