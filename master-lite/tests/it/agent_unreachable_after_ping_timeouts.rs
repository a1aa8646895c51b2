//! Agent health, as Mesos: the master PINGs every agent each `agent_ping_timeout`; after
//! `max_agent_ping_timeouts` unanswered PINGs — a hung agent whose connection stays open, or
//! one whose stream is gone — the agent is marked unreachable (TASK_UNREACHABLE for
//! PARTITION_AWARE frameworks, TASK_LOST for others, REASON_AGENT_REMOVED, FAILURE, listed in
//! `unreachable_slaves`) and nothing is killed; when it re-subscribes with its id it is
//! re-admitted and its tasks are reported back in their real state
//! (REASON_AGENT_REREGISTERED). Also `--offer_timeout` rescinds.

use std::time::Duration;

use crate::common::{command_task, get_json, master, EventStream, FakeAgent, Ponger, Scheduler};
use serde_json::{json, Value};

const PARTITION_AWARE: &str = "PARTITION_AWARE";

/// SUBSCRIBE as agent `id` reporting `tasks` (each `(framework id, task id, state)`).
fn resubscribe(id: &str, tasks: &[(&str, &str, &str)]) -> Value {
    let info = json!({"hostname": "agent1.test", "port": 5051, "id": {"value": id},
        "resources": [{"name": "cpus", "type": "SCALAR", "scalar": {"value": 4.0}},
                      {"name": "mem", "type": "SCALAR", "scalar": {"value": 4096.0}}]});
    let tasks: Vec<Value> = tasks
        .iter()
        .map(|(fw, t, state)| {
            json!({"name": t, "task_id": {"value": t}, "framework_id": {"value": fw},
                "agent_id": {"value": id}, "state": state,
                "resources": [{"name": "cpus", "type": "SCALAR", "scalar": {"value": 1.0}}]})
        })
        .collect();
    json!({"type": "SUBSCRIBE", "subscribe": {"agent_info": info, "tasks": tasks}})
}

/// A framework (PARTITION_AWARE if `pa`) with task `t1` RUNNING on `agent`.
async fn running_task(m: std::net::SocketAddr, agent: &mut FakeAgent, pa: bool) -> Scheduler {
    let caps = if pa {
        json!([{"type": PARTITION_AWARE}])
    } else {
        json!([])
    };
    let mut s = Scheduler::subscribe(m, json!({"capabilities": caps}))
        .await
        .unwrap();
    let offer = s.offers().await.unwrap().remove(0);
    s.launch(&offer, vec![command_task("t1", &offer, 1.0, 64.0)])
        .await;
    agent.events.next_of("RUN_TASK").await.unwrap();
    agent.update(&s.framework_id, "t1", "TASK_RUNNING").await;
    assert_eq!(s.update().await.unwrap()["state"], "TASK_RUNNING");
    s
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hung_agent_becomes_unreachable_and_its_tasks_come_back() {
    let m = master(|c| {
        c.agent_ping_timeout = Duration::from_millis(100);
        c.max_agent_ping_timeouts = 3;
    })
    .await;
    let mut agent = FakeAgent::subscribe(m.addr, None).await.unwrap();
    let mut s = running_task(m.addr, &mut agent, true).await;
    let id = agent.agent_id.clone();
    // The agent is PINGed; it never answers, but keeps its connection open (SIGSTOP).
    let ping = agent.events.next_of("PING").await.unwrap();
    assert_eq!(ping["ping"]["connected"], true);

    let st = s.update().await.unwrap();
    assert_eq!(st["state"], "TASK_UNREACHABLE", "{st}");
    assert_eq!(st["reason"], "REASON_AGENT_REMOVED");
    assert_eq!(st["source"], "SOURCE_MASTER");
    assert_eq!(st["message"], "health check timed out");
    assert_eq!(st["agent_id"]["value"], id.as_str());
    assert!(st["unreachable_time"]["nanoseconds"].as_i64().unwrap() > 0);
    let f = s.events.next_of("FAILURE").await.unwrap();
    assert_eq!(f["failure"]["agent_id"]["value"], id.as_str());
    // The master closed the hung agent's stream (no SHUTDOWN: the agent is not removed).
    let end = loop {
        match agent.events.next().await {
            Ok(e) => assert_ne!(e["type"], "SHUTDOWN", "{e}"),
            Err(err) => break err,
        }
    };
    assert!(end.to_string().contains("stream closed"), "{end}");

    let state = get_json(m.addr, "/state").await;
    assert_eq!(state["unreachable_slaves"], 1, "{state}");
    assert_eq!(state["slaves"].as_array().unwrap().len(), 0);
    let fw = &state["frameworks"][0];
    assert_eq!(fw["tasks"].as_array().unwrap().len(), 0);
    assert_eq!(fw["unreachable_tasks"][0]["id"], "t1");
    assert_eq!(fw["unreachable_tasks"][0]["state"], "TASK_UNREACHABLE");
    let metrics = get_json(m.addr, "/metrics/snapshot").await;
    assert_eq!(metrics["master/slaves_unreachable"], 1.0);
    let r = s
        .call(json!({"type": "RECONCILE", "reconcile": {"tasks": [{"task_id": {"value": "t1"}}]}}))
        .await;
    assert_eq!(r.status, 202);
    assert_eq!(s.update().await.unwrap()["state"], "TASK_UNREACHABLE");

    // The agent runs again: it re-subscribes with its id and its task still running.
    let mut ev = EventStream::open(
        m.addr,
        meseta_api::internal::PATH,
        &resubscribe(&id, &[(&s.framework_id, "t1", "TASK_RUNNING")]),
    )
    .await
    .unwrap();
    let reg = ev.next().await.unwrap();
    assert_eq!(reg["type"], "REGISTERED", "{reg}");
    assert_eq!(reg["registered"]["agent_id"]["value"], id.as_str());
    assert_eq!(
        reg["registered"]["connection"]["total_ping_timeout_seconds"],
        0.3
    );
    let _alive = Ponger::start(m.addr, &id, Duration::from_millis(30));
    let st = s.update().await.unwrap();
    assert_eq!(st["task_id"]["value"], "t1");
    assert_eq!(st["state"], "TASK_RUNNING", "{st}");
    assert_eq!(st["reason"], "REASON_AGENT_REREGISTERED");
    assert_eq!(st["message"], "Unreachable agent re-reregistered");

    let state = get_json(m.addr, "/state").await;
    assert_eq!(state["unreachable_slaves"], 0, "{state}");
    assert_eq!(state["slaves"][0]["id"], id.as_str());
    let fw = &state["frameworks"][0];
    assert_eq!(fw["tasks"][0]["id"], "t1");
    assert_eq!(fw["tasks"][0]["state"], "TASK_RUNNING");
    assert_eq!(fw["unreachable_tasks"].as_array().unwrap().len(), 0);
    // Answering PINGs, it stays registered well past the timeout.
    tokio::time::sleep(Duration::from_millis(800)).await;
    let state = get_json(m.addr, "/state").await;
    assert_eq!(state["slaves"][0]["id"], id.as_str(), "{state}");
    assert_eq!(state["unreachable_slaves"], 0);
    m.running.shutdown();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn disconnected_agent_tasks_are_lost_for_frameworks_not_partition_aware() {
    let m = master(|c| {
        c.agent_ping_timeout = Duration::from_millis(100);
        c.max_agent_ping_timeouts = 3;
    })
    .await;
    let mut agent = FakeAgent::subscribe(m.addr, None).await.unwrap();
    let mut s = running_task(m.addr, &mut agent, false).await;
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
    assert_eq!(metrics["master/slaves_unreachable"], 1.0);

    // The operator marks the unreachable agent gone: it may not come back.
    let r = crate::common::operator::op(
        m.addr,
        &json!({"type": "MARK_AGENT_GONE", "mark_agent_gone": {"agent_id": {"value": old_id}}}),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text());
    let mut ev = EventStream::open(
        m.addr,
        meseta_api::internal::PATH,
        &resubscribe(&old_id, &[]),
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
    let fw = s.framework_id.clone();
    let mut ev = EventStream::open(
        m.addr,
        meseta_api::internal::PATH,
        &resubscribe(&id, &[(&fw, "t1", "TASK_STAGING")]),
    )
    .await
    .unwrap();
    let reg = ev.next().await.unwrap();
    assert_eq!(reg["registered"]["agent_id"]["value"], id.as_str());
    let alive = Ponger::start(m.addr, &id, Duration::from_millis(50));
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let state = get_json(m.addr, "/state").await;
    assert_eq!(state["frameworks"][0]["tasks"][0]["id"], "t1");
    assert_eq!(state["slaves"][0]["id"], id.as_str());

    // Re-subscribing without the task: the master reports it lost.
    drop(ev);
    let mut ev = EventStream::open(m.addr, meseta_api::internal::PATH, &resubscribe(&id, &[]))
        .await
        .unwrap();
    ev.next().await.unwrap();
    let st = s.update().await.unwrap();
    assert_eq!(st["task_id"]["value"], "t1");
    assert_eq!(st["state"], "TASK_LOST");
    drop(alive);
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
