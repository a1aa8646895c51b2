#![allow(clippy::tests_outside_test_module)]
//! Throughput: 1000 tasks through SUBSCRIBE → OFFERS → ACCEPT → RUN_TASK →
//! RUNNING → FINISHED → ACKNOWLEDGE with a fake agent that answers at once,
//! on an agent that fits 100 tasks at a time (so recovered resources must be
//! re-offered promptly). Prints the time and the ACCEPT→TASK_RUNNING p50.

mod common;

use std::collections::HashMap;
use std::time::{Duration, Instant};

use common::{master, FakeAgent, KeepAlive, Scheduler};
use serde_json::{json, Value};

const TASKS: usize = 1000;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn thousand_tasks() {
    let m = master(|c| c.allocation_interval = Duration::from_secs(1)).await;
    let agent = FakeAgent::subscribe_with(m.addr, None, 10.0, 100_000.0)
        .await
        .unwrap();
    let agent_id = agent.agent_id.clone();
    let addr = m.addr;
    let agent_task = tokio::spawn(async move {
        let mut agent = agent;
        let mut conn = KeepAlive::connect(addr).await;
        loop {
            let Ok(e) = agent.events.next_within(Duration::from_secs(30)).await else {
                return;
            };
            if e["type"] != "RUN_TASK" {
                continue;
            }
            let fw = e["run_task"]["framework"]["id"]["value"]
                .as_str()
                .unwrap()
                .to_string();
            let tid = e["run_task"]["task"]["task_id"]["value"]
                .as_str()
                .unwrap()
                .to_string();
            for state in ["TASK_RUNNING", "TASK_FINISHED"] {
                let uuid = meseta_api::Bytes::random_uuid().to_base64();
                let call = json!({"type": "STATUS_UPDATE", "agent_id": {"value": agent.agent_id},
                    "status_update": {"framework_id": {"value": fw},
                        "status": {"task_id": {"value": tid}, "state": state, "uuid": uuid},
                        "timestamp": 1.0, "uuid": uuid}});
                assert_eq!(conn.post(meseta_api::internal::PATH, &[], &call).await, 202);
            }
        }
    });

    let mut s = Scheduler::subscribe(m.addr, json!({})).await.unwrap();
    let mut conn = KeepAlive::connect(m.addr).await;
    let sid = s.stream_id.clone();
    let fid = s.framework_id.clone();
    let t0 = Instant::now();
    let mut launched = 0usize;
    let mut finished = 0usize;
    let mut accepted_at: HashMap<String, Instant> = HashMap::new();
    let mut latencies: Vec<Duration> = Vec::new();
    while finished < TASKS {
        let e = s.events.next_within(Duration::from_secs(30)).await.unwrap();
        match e["type"].as_str() {
            Some("OFFERS") => {
                for offer in e["offers"]["offers"].as_array().unwrap() {
                    let cpus = offer["resources"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .find(|r| r["name"] == "cpus")
                        .map_or(0.0, |r| r["scalar"]["value"].as_f64().unwrap());
                    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
                    let fit = ((cpus + 1e-9) / 0.1) as usize;
                    let n = fit.min(TASKS - launched);
                    let tasks: Vec<Value> = (launched..launched + n).map(|i| json!({
                        "name": format!("t{i}"), "task_id": {"value": format!("t{i}")},
                        "agent_id": {"value": agent_id}, "command": {"value": "true"},
                        "resources": [{"name": "cpus", "type": "SCALAR", "scalar": {"value": 0.1}},
                                      {"name": "mem", "type": "SCALAR", "scalar": {"value": 32.0}}]})).collect();
                    let now = Instant::now();
                    for t in &tasks {
                        accepted_at
                            .insert(t["task_id"]["value"].as_str().unwrap().to_string(), now);
                    }
                    launched += n;
                    let call = json!({"type": "ACCEPT", "framework_id": {"value": fid}, "accept": {
                        "offer_ids": [offer["id"]],
                        "operations": [{"type": "LAUNCH", "launch": {"task_infos": tasks}}],
                        "filters": {"refuse_seconds": 0.0}}});
                    assert_eq!(
                        conn.post("/api/v1/scheduler", &[("Mesos-Stream-Id", &sid)], &call)
                            .await,
                        202
                    );
                }
            }
            Some("UPDATE") => {
                let st = &e["update"]["status"];
                let tid = st["task_id"]["value"].as_str().unwrap().to_string();
                if st["state"] == "TASK_RUNNING" {
                    if let Some(t) = accepted_at.get(&tid) {
                        latencies.push(t.elapsed());
                    }
                }
                if st["state"] == "TASK_FINISHED" {
                    finished += 1;
                }
                let call = json!({"type": "ACKNOWLEDGE", "framework_id": {"value": fid}, "acknowledge": {
                    "agent_id": st["agent_id"], "task_id": st["task_id"], "uuid": st["uuid"]}});
                assert_eq!(
                    conn.post("/api/v1/scheduler", &[("Mesos-Stream-Id", &sid)], &call)
                        .await,
                    202
                );
            }
            _ => {}
        }
    }
    let elapsed = t0.elapsed();
    latencies.sort();
    let p50 = latencies[latencies.len() / 2];
    eprintln!("{TASKS} tasks FINISHED in {elapsed:?}; ACCEPT→TASK_RUNNING p50 {p50:?}");
    // Generous: debug build on a shared 2-core machine.
    assert!(elapsed < Duration::from_secs(30), "{elapsed:?}");
    agent_task.abort();
    m.running.shutdown();
}

/// ACCEPT → TASK_RUNNING for one task at a time (fake agent answers at once).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn accept_to_running_latency() {
    let m = master(|_| {}).await;
    let mut agent = FakeAgent::subscribe(m.addr, None).await.unwrap();
    let mut s = Scheduler::subscribe(m.addr, json!({})).await.unwrap();
    let mut sched_conn = KeepAlive::connect(m.addr).await;
    let mut agent_conn = KeepAlive::connect(m.addr).await;
    let sid = s.stream_id.clone();
    let fid = s.framework_id.clone();
    let mut latencies = Vec::new();
    let mut offer = s.offers().await.unwrap().remove(0);
    for i in 0..30 {
        let tid = format!("t{i}");
        let t0 = Instant::now();
        let call = json!({"type": "ACCEPT", "framework_id": {"value": fid}, "accept": {
            "offer_ids": [offer["id"]],
            "operations": [{"type": "LAUNCH", "launch": {"task_infos": [
                common::command_task(&tid, &offer, 0.1, 32.0)]}}],
            "filters": {"refuse_seconds": 0.0}}});
        assert_eq!(
            sched_conn
                .post("/api/v1/scheduler", &[("Mesos-Stream-Id", &sid)], &call)
                .await,
            202
        );
        agent.events.next_of("RUN_TASK").await.unwrap();
        let uuid = meseta_api::Bytes::random_uuid().to_base64();
        let up = json!({"type": "STATUS_UPDATE", "agent_id": {"value": agent.agent_id},
            "status_update": {"framework_id": {"value": fid},
                "status": {"task_id": {"value": tid}, "state": "TASK_RUNNING", "uuid": uuid},
                "timestamp": 1.0, "uuid": uuid}});
        assert_eq!(
            agent_conn.post(meseta_api::internal::PATH, &[], &up).await,
            202
        );
        loop {
            let e = s.events.next().await.unwrap();
            if e["type"] == "UPDATE" && e["update"]["status"]["task_id"]["value"] == tid.as_str() {
                break;
            }
            if e["type"] == "OFFERS" {
                offer = e["offers"]["offers"][0].clone();
            }
        }
        latencies.push(t0.elapsed());
        if offer["id"] == call["accept"]["offer_ids"][0] {
            offer = s.offers().await.unwrap().remove(0);
        }
    }
    latencies.sort();
    let p50 = latencies[latencies.len() / 2];
    eprintln!("ACCEPT→TASK_RUNNING p50 {p50:?} (debug build, fake agent)");
    assert!(p50 < Duration::from_millis(100), "{p50:?}");
    m.running.shutdown();
}
