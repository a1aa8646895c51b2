#![allow(clippy::tests_outside_test_module)]
//! Agent health: an agent whose stream is gone for agent_ping_timeout ×
//! max_agent_ping_timeouts is removed (TASK_LOST / REASON_AGENT_REMOVED,
//! FAILURE, offers rescinded); one that comes back in time keeps its id.
//! Also `--offer_timeout` rescinds.

mod common;

use std::time::Duration;

use common::{command_task, get_json, master, FakeAgent, Scheduler};
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lost_agent_tasks_become_task_lost() {
    let m = master(|c| {
        c.agent_ping_timeout = Duration::from_millis(100);
        c.max_agent_ping_timeouts = 3;
    })
    .await;
    let mut agent = FakeAgent::subscribe(m.addr, None).await.unwrap();
    let mut s = Scheduler::subscribe(m.addr, json!({})).await.unwrap();
    let offer = s.offers().await.unwrap().remove(0);
    s.launch(&offer, vec![command_task("t1", &offer, 1.0, 64.0)])
        .await;
    agent.events.next_of("RUN_TASK").await.unwrap();
    agent.update(&s.framework_id, "t1", "TASK_RUNNING").await;
    assert_eq!(s.update().await.unwrap()["state"], "TASK_RUNNING");
    // Heartbeats arrive on the agent stream.
    agent.events.next_of("HEARTBEAT").await.unwrap();

    let old_id = agent.agent_id.clone();
    drop(agent);
    let st = s.update().await.unwrap();
    assert_eq!(st["state"], "TASK_LOST");
    assert_eq!(st["reason"], "REASON_AGENT_REMOVED");
    assert_eq!(st["agent_id"]["value"], old_id.as_str());
    let f = s.events.next_of("FAILURE").await.unwrap();
    assert_eq!(f["failure"]["agent_id"]["value"], old_id.as_str());
    let metrics = get_json(m.addr, "/metrics/snapshot").await;
    assert_eq!(metrics["master/tasks_lost"], 1.0);
    assert_eq!(metrics["master/slaves_active"], 0.0);

    // A removed agent may not come back with its old id.
    let info = json!({"hostname": "h", "id": {"value": old_id},
        "resources": [{"name": "cpus", "type": "SCALAR", "scalar": {"value": 1.0}}]});
    let mut ev = common::EventStream::open(
        m.addr,
        meseta_api::internal::PATH,
        &json!({"type": "SUBSCRIBE", "subscribe": {"agent_info": info}}),
    )
    .await
    .unwrap();
    assert_eq!(ev.next().await.unwrap()["type"], "SHUTDOWN");
    m.running.shutdown();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn agent_reconnecting_in_time_keeps_its_id_and_tasks() {
    let m = master(|c| {
        c.agent_ping_timeout = Duration::from_millis(200);
        c.max_agent_ping_timeouts = 5;
    })
    .await;
    let mut agent = FakeAgent::subscribe(m.addr, None).await.unwrap();
    let mut s = Scheduler::subscribe(m.addr, json!({})).await.unwrap();
    let offer = s.offers().await.unwrap().remove(0);
    s.launch(&offer, vec![command_task("t1", &offer, 1.0, 64.0)])
        .await;
    agent.events.next_of("RUN_TASK").await.unwrap();
    let id = agent.agent_id.clone();
    drop(agent);
    // Its outstanding offer (the rest of the agent) is rescinded.
    s.events.next_of("RESCIND").await.unwrap();
    let info = json!({"hostname": "agent1.test", "id": {"value": id},
        "resources": [{"name": "cpus", "type": "SCALAR", "scalar": {"value": 4.0}},
                      {"name": "mem", "type": "SCALAR", "scalar": {"value": 4096.0}}]});
    let task = json!({"name": "t1", "task_id": {"value": "t1"},
        "framework_id": {"value": s.framework_id}, "agent_id": {"value": id},
        "state": "TASK_STAGING"});
    let sub = |tasks: Vec<serde_json::Value>| {
        json!({"type": "SUBSCRIBE", "subscribe": {
        "agent_info": info.clone(), "tasks": tasks}})
    };
    let mut ev = common::EventStream::open(m.addr, meseta_api::internal::PATH, &sub(vec![task]))
        .await
        .unwrap();
    let reg = ev.next().await.unwrap();
    assert_eq!(reg["registered"]["agent_id"]["value"], id.as_str());
    tokio::time::sleep(Duration::from_millis(1200)).await;
    let state = get_json(m.addr, "/state").await;
    assert_eq!(state["frameworks"][0]["tasks"][0]["id"], "t1");
    assert_eq!(state["slaves"][0]["id"], id.as_str());

    // Re-subscribing without the task: the master reports it lost.
    drop(ev);
    let mut ev = common::EventStream::open(m.addr, meseta_api::internal::PATH, &sub(vec![]))
        .await
        .unwrap();
    ev.next().await.unwrap();
    let st = s.update().await.unwrap();
    assert_eq!(st["task_id"]["value"], "t1");
    assert_eq!(st["state"], "TASK_LOST");
    m.running.shutdown();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn offers_time_out() {
    let m = master(|c| c.offer_timeout = Some(Duration::from_millis(300))).await;
    let _agent = FakeAgent::subscribe(m.addr, None).await.unwrap();
    let mut s = Scheduler::subscribe(m.addr, json!({})).await.unwrap();
    let offer = s.offers().await.unwrap().remove(0);
    let r = s.events.next_of("RESCIND").await.unwrap();
    assert_eq!(r["rescind"]["offer_id"], offer["id"]);
    let again = s.offers().await.unwrap().remove(0);
    assert_ne!(again["id"], offer["id"]);
    m.running.shutdown();
}
