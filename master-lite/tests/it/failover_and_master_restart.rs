//! Framework failover timeout (disconnected framework removed, its tasks shut
//! down) and a master restart (same master id; the agent re-registers with
//! its tasks; the framework re-subscribes and reconciles them).

use std::time::Duration;

use crate::common::{command_task, get_json, master, EventStream, FakeAgent, Scheduler};
use master_lite::flags::MasterConfig;
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn disconnected_framework_is_removed_after_failover_timeout() {
    let m = master(|_| {}).await;
    let mut agent = FakeAgent::subscribe(m.addr, None).await.unwrap();
    let mut s = Scheduler::subscribe(m.addr, json!({"failover_timeout": 0.3}))
        .await
        .unwrap();
    let offer = s.offers().await.unwrap().remove(0);
    s.launch(&offer, vec![command_task("t1", &offer, 1.0, 64.0)])
        .await;
    agent.events.next_of("RUN_TASK").await.unwrap();
    let (fid, sid) = (s.framework_id.clone(), s.stream_id.clone());
    drop(s.events);
    let e = agent.events.next_of("SHUTDOWN_FRAMEWORK").await.unwrap();
    assert_eq!(
        e["shutdown_framework"]["framework_id"]["value"],
        fid.as_str()
    );
    let r = crate::common::post_call(
        m.addr,
        Some(&sid),
        &json!({"type": "REVIVE", "framework_id": {"value": fid}}),
    )
    .await;
    assert_eq!(r.status, 403);
    let state = get_json(m.addr, "/state").await;
    assert_eq!(state["frameworks"].as_array().unwrap().len(), 0);
    assert_eq!(state["completed_frameworks"][0]["id"], fid.as_str());
    // A removed framework cannot re-subscribe.
    let call = json!({"type": "SUBSCRIBE", "framework_id": {"value": fid}, "subscribe": {
        "framework_info": {"user": "root", "name": "x", "id": {"value": fid}}}});
    let mut ev = EventStream::open(m.addr, "/api/v1/scheduler", &call)
        .await
        .unwrap();
    let e = ev.next().await.unwrap();
    assert_eq!(e["type"], "ERROR");
    assert!(ev.next().await.is_err());
    m.running.shutdown();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restarted_master_recovers_agent_tasks() {
    let m = master(|_| {}).await;
    let mut agent = FakeAgent::subscribe(m.addr, None).await.unwrap();
    let mut s = Scheduler::subscribe(m.addr, json!({})).await.unwrap();
    let offer = s.offers().await.unwrap().remove(0);
    s.launch(&offer, vec![command_task("t1", &offer, 1.0, 64.0)])
        .await;
    let run = agent.events.next_of("RUN_TASK").await.unwrap();
    let master_id = get_json(m.addr, "/state").await["id"].clone();
    let (agent_id, fid) = (agent.agent_id.clone(), s.framework_id.clone());
    let work_dir = m.dir.path().to_path_buf();
    m.running.shutdown();
    drop((agent, s));

    let mut cfg = MasterConfig::for_tests(&work_dir);
    cfg.allocation_interval = Duration::from_millis(100);
    let running = master_lite::server::start(cfg).await.unwrap();
    let addr = running.addr;
    assert_eq!(get_json(addr, "/state").await["id"], master_id);

    let task = run["run_task"]["task"].clone();
    let sub = json!({"type": "SUBSCRIBE", "subscribe": {
        "agent_info": {"hostname": "agent1.test", "id": {"value": agent_id},
            "resources": [{"name": "cpus", "type": "SCALAR", "scalar": {"value": 4.0}},
                          {"name": "mem", "type": "SCALAR", "scalar": {"value": 4096.0}}]},
        "frameworks": [run["run_task"]["framework"]],
        "tasks": [{"name": "t1", "task_id": task["task_id"], "framework_id": {"value": fid},
            "agent_id": {"value": agent_id}, "state": "TASK_RUNNING",
            "resources": task["resources"]}]}});
    let mut ev = EventStream::open(addr, meseta_api::internal::PATH, &sub)
        .await
        .unwrap();
    let reg = ev.next().await.unwrap();
    assert_eq!(reg["registered"]["agent_id"]["value"], agent_id.as_str());

    let mut s = Scheduler::subscribe(addr, json!({"id": {"value": fid}}))
        .await
        .unwrap();
    assert_eq!(s.framework_id, fid);
    let r = s.call(json!({"type": "RECONCILE", "reconcile": {}})).await;
    assert_eq!(r.status, 202, "{}", r.text());
    let state = get_json(addr, "/state").await;
    assert_eq!(state["frameworks"][0]["tasks"][0]["id"], "t1", "{state}");
    // The reconciliation answer, and an offer of only the unused 3 cpus.
    let (mut update, mut offer) = (None, None);
    while update.is_none() || offer.is_none() {
        let e = s.events.next().await.unwrap();
        match e["type"].as_str() {
            Some("UPDATE") => update = Some(e["update"]["status"].clone()),
            Some("OFFERS") => offer = Some(e["offers"]["offers"][0].clone()),
            _ => {}
        }
    }
    let st = update.unwrap();
    assert_eq!(st["task_id"]["value"], "t1");
    assert_eq!(st["state"], "TASK_RUNNING");
    let offer = offer.unwrap();
    let cpus = offer["resources"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["name"] == "cpus")
        .unwrap()["scalar"]["value"]
        .clone();
    assert_eq!(cpus, 3.0);
    running.shutdown();
}
