//! The happy path: SUBSCRIBE → OFFERS → ACCEPT → RUN_TASK at the agent →
//! STATUS_UPDATEs → UPDATE (with agent_id + uuid) → ACKNOWLEDGE at the agent;
//! KILL, DECLINE with a filter, RECONCILE, re-SUBSCRIBE takeover, endpoints.

use std::time::Duration;

use crate::common::{command_task, get_json, master, request, FakeAgent, Scheduler};
use serde_json::json;

/// The total scalar `name` across `offers`.
fn offered(offers: &[serde_json::Value], name: &str) -> f64 {
    offers
        .iter()
        .flat_map(|o| o["resources"].as_array().into_iter().flatten())
        .filter(|r| r["name"] == name)
        .filter_map(|r| r["scalar"]["value"].as_f64())
        .sum()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn launch_update_acknowledge_kill() {
    let m = master(|_| {}).await;
    let mut agent = FakeAgent::subscribe(m.addr, None).await.unwrap();
    let master_id = get_json(m.addr, "/state").await["id"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(agent.agent_id, format!("{master_id}-S0"));

    let mut s = Scheduler::subscribe(m.addr, json!({})).await.unwrap();
    assert_eq!(s.framework_id, format!("{master_id}-0000"));

    let offers = s.offers().await.unwrap();
    assert_eq!(offers.len(), 1);
    let offer = &offers[0];
    assert!(offer["id"]["value"]
        .as_str()
        .unwrap()
        .starts_with(&format!("{master_id}-O")));
    assert_eq!(offer["agent_id"]["value"], agent.agent_id.as_str());
    assert_eq!(offer["framework_id"]["value"], s.framework_id.as_str());
    assert_eq!(offer["hostname"], "agent1.test");
    let res = offer["resources"].as_array().unwrap();
    let find = |n: &str| res.iter().find(|r| r["name"] == n).cloned().unwrap();
    assert_eq!(find("cpus")["scalar"]["value"], 4.0);
    assert_eq!(find("mem")["scalar"]["value"], 4096.0);
    assert_eq!(find("disk")["scalar"]["value"], 1000.0);
    assert_eq!(find("ports")["ranges"]["range"][0]["begin"], 31000);
    assert_eq!(offer["attributes"][0]["name"], "rack");

    let mut task = command_task("t1", offer, 1.0, 128.0);
    task["resources"].as_array_mut().unwrap().push(json!(
        {"name": "ports", "type": "RANGES", "ranges": {"range": [{"begin": 31000, "end": 31000}]}}
    ));
    let r = s.launch(offer, vec![task]).await;
    assert_eq!(r.status, 202, "{}", r.text());
    // What the task did not take is offered at the next allocation; take
    // that offer now, before `update()` (which skips OFFERS) can pass it, so
    // that the offer after the KILL below holds exactly the task's resources.
    let rest = s.offers().await.unwrap();
    assert_eq!(offered(&rest, "cpus"), 3.0);

    let run = agent.events.next_of("RUN_TASK").await.unwrap();
    assert_eq!(run["run_task"]["task"]["task_id"]["value"], "t1");
    assert_eq!(
        run["run_task"]["framework"]["id"]["value"],
        s.framework_id.as_str()
    );

    let state = get_json(m.addr, "/master/state").await;
    assert_eq!(state["frameworks"][0]["tasks"][0]["state"], "TASK_STAGING");

    let uuid = agent.update(&s.framework_id, "t1", "TASK_RUNNING").await;
    let st = s.update().await.unwrap();
    assert_eq!(st["state"], "TASK_RUNNING");
    assert_eq!(st["uuid"], uuid.as_str());
    assert_eq!(st["agent_id"]["value"], agent.agent_id.as_str());

    let r = s
        .call(json!({"type": "ACKNOWLEDGE", "acknowledge": {
            "agent_id": {"value": agent.agent_id}, "task_id": {"value": "t1"}, "uuid": uuid}}))
        .await;
    assert_eq!(r.status, 202, "{}", r.text());
    let ack = agent.events.next_of("ACKNOWLEDGE").await.unwrap();
    assert_eq!(ack["acknowledge"]["uuid"], uuid.as_str());
    assert_eq!(ack["acknowledge"]["task_id"]["value"], "t1");

    let metrics = get_json(m.addr, "/metrics/snapshot").await;
    assert_eq!(metrics["master/tasks_running"], 1.0);
    assert_eq!(metrics["master/slaves_active"], 1.0);
    assert_eq!(metrics["master/frameworks_active"], 1.0);

    // Explicit reconciliation: known task → latest state, unknown → TASK_LOST; no uuid.
    let r = s
        .call(json!({"type": "RECONCILE", "reconcile": {"tasks": [
            {"task_id": {"value": "t1"}}, {"task_id": {"value": "nope"}}]}}))
        .await;
    assert_eq!(r.status, 202);
    let a = s.update().await.unwrap();
    let b = s.update().await.unwrap();
    assert_eq!(
        (a["task_id"]["value"].clone(), a["state"].clone()),
        (json!("t1"), json!("TASK_RUNNING"))
    );
    assert_eq!(a["reason"], "REASON_RECONCILIATION");
    assert!(a.get("uuid").is_none());
    assert_eq!(
        (b["task_id"]["value"].clone(), b["state"].clone()),
        (json!("nope"), json!("TASK_LOST"))
    );
    // Implicit reconciliation.
    s.call(json!({"type": "RECONCILE", "reconcile": {}})).await;
    let a = s.update().await.unwrap();
    assert_eq!(a["task_id"]["value"], "t1");

    // KILL reaches the agent; the agent reports TASK_KILLED.
    let r = s
        .call(json!({"type": "KILL", "kill": {"task_id": {"value": "t1"}}}))
        .await;
    assert_eq!(r.status, 202);
    let kill = agent.events.next_of("KILL_TASK").await.unwrap();
    assert_eq!(kill["kill_task"]["task_id"]["value"], "t1");
    agent.update(&s.framework_id, "t1", "TASK_KILLED").await;
    let st = s.update().await.unwrap();
    assert_eq!(st["state"], "TASK_KILLED");
    let metrics = get_json(m.addr, "/metrics/snapshot").await;
    assert_eq!(metrics["master/tasks_killed"], 1.0);
    assert_eq!(metrics["master/tasks_running"], 0.0);

    // The task's resources come back (the other 3 cpus are still on offer).
    let offers = s.offers().await.unwrap();
    assert_eq!(offered(&offers, "cpus"), 1.0);

    // TEARDOWN → SHUTDOWN_FRAMEWORK at the agent.
    let r = s.call(json!({"type": "TEARDOWN"})).await;
    assert_eq!(r.status, 202);
    let sd = agent.events.next_of("SHUTDOWN_FRAMEWORK").await.unwrap();
    assert_eq!(
        sd["shutdown_framework"]["framework_id"]["value"],
        s.framework_id.as_str()
    );
    m.running.shutdown();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn finished_task_and_decline_filter() {
    let m = master(|_| {}).await;
    let mut agent = FakeAgent::subscribe(m.addr, None).await.unwrap();
    let mut s = Scheduler::subscribe(m.addr, json!({})).await.unwrap();
    let offer = s.offers().await.unwrap().remove(0);
    s.launch(&offer, vec![command_task("t1", &offer, 0.5, 64.0)])
        .await;
    agent.events.next_of("RUN_TASK").await.unwrap();
    agent.update(&s.framework_id, "t1", "TASK_RUNNING").await;
    assert_eq!(s.update().await.unwrap()["state"], "TASK_RUNNING");
    let uuid = agent.update(&s.framework_id, "t1", "TASK_FINISHED").await;
    let st = s.update().await.unwrap();
    assert_eq!(st["state"], "TASK_FINISHED");
    assert_eq!(st["uuid"], uuid.as_str());
    let metrics = get_json(m.addr, "/metrics/snapshot").await;
    assert_eq!(metrics["master/tasks_finished"], 1.0);

    // Decline with a 2 s filter: no offer within 1 s, one after the filter.
    let offer = s.offers().await.unwrap().remove(0);
    let r = s
        .call(json!({"type": "DECLINE", "decline": {
            "offer_ids": [offer["id"]], "filters": {"refuse_seconds": 2.0}}}))
        .await;
    assert_eq!(r.status, 202);
    let t0 = std::time::Instant::now();
    let e = s.events.next_of("OFFERS").await.unwrap();
    assert!(
        t0.elapsed() >= Duration::from_millis(1500),
        "offer came back too soon: {e}"
    );

    // REVIVE clears filters; SUPPRESS stops offers.
    let r = s.call(json!({"type": "SUPPRESS"})).await;
    assert_eq!(r.status, 202);
    let r = s.call(json!({"type": "REVIVE"})).await;
    assert_eq!(r.status, 202);

    let state = get_json(m.addr, "/state.json").await;
    assert_eq!(
        state["frameworks"][0]["completed_tasks"][0]["state"],
        "TASK_FINISHED"
    );
    assert_eq!(state["slaves"][0]["resources"]["cpus"], 4.0);
    assert_eq!(state["slaves"][0]["resources"]["ports"], "[31000-31009]");
    assert_eq!(state["activated_slaves"], 1);
    assert!(state["pid"]
        .as_str()
        .unwrap()
        .starts_with("master@127.0.0.1:"));
    m.running.shutdown();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resubscribe_takes_over_and_messages_flow() {
    let m = master(|_| {}).await;
    let mut agent = FakeAgent::subscribe(m.addr, None).await.unwrap();
    let mut s1 = Scheduler::subscribe(m.addr, json!({})).await.unwrap();
    let id = s1.framework_id.clone();
    let mut s2 = Scheduler::subscribe(m.addr, json!({"id": {"value": id}}))
        .await
        .unwrap();
    assert_eq!(s2.framework_id, id);
    let e = s1.events.next_of("ERROR").await.unwrap();
    assert!(e["error"]["message"]
        .as_str()
        .unwrap()
        .contains("failed over"));
    assert!(s1.events.next().await.is_err(), "old stream must be closed");
    // The old stream id is refused.
    let r = s1.call(json!({"type": "REVIVE"})).await;
    assert_eq!(r.status, 403);

    // MESSAGE → FRAMEWORK_TO_EXECUTOR; EXECUTOR_TO_FRAMEWORK → MESSAGE.
    let r = s2
        .call(
            json!({"type": "MESSAGE", "message": {"agent_id": {"value": agent.agent_id},
            "executor_id": {"value": "ex"}, "data": "aGk="}}),
        )
        .await;
    assert_eq!(r.status, 202);
    let e = agent.events.next_of("FRAMEWORK_TO_EXECUTOR").await.unwrap();
    assert_eq!(e["framework_to_executor"]["data"], "aGk=");
    let call = json!({"type": "EXECUTOR_TO_FRAMEWORK", "agent_id": {"value": agent.agent_id},
        "executor_to_framework": {"framework_id": {"value": id}, "executor_id": {"value": "ex"}, "data": "aGk="}});
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
    let e = s2.events.next_of("MESSAGE").await.unwrap();
    assert_eq!(e["message"]["executor_id"]["value"], "ex");
    assert_eq!(e["message"]["agent_id"]["value"], agent.agent_id.as_str());

    // SHUTDOWN of an executor → SHUTDOWN_EXECUTOR at the agent.
    let r = s2
        .call(
            json!({"type": "SHUTDOWN", "shutdown": {"agent_id": {"value": agent.agent_id},
            "executor_id": {"value": "ex"}}}),
        )
        .await;
    assert_eq!(r.status, 202);
    agent.events.next_of("SHUTDOWN_EXECUTOR").await.unwrap();
    m.running.shutdown();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn read_only_endpoints() {
    let m = master(|_| {}).await;
    let v = get_json(m.addr, "/version").await;
    assert_eq!(v["version"], "1.11.0");
    assert!(v["build_date"].is_string() && v["build_user"].is_string());
    let h = request(m.addr, "GET", "/health", &[], b"").await.unwrap();
    assert_eq!((h.status, h.body.len()), (200, 0));
    let h = request(m.addr, "GET", "/master/health", &[], b"")
        .await
        .unwrap();
    assert_eq!(h.status, 200);
    for p in ["/redirect", "/master/redirect"] {
        let r = request(m.addr, "GET", p, &[], b"").await.unwrap();
        assert_eq!(r.status, 307);
        assert_eq!(
            r.header("Location").unwrap(),
            format!("//localhost:{}", m.addr.port())
        );
    }
    let metrics = get_json(m.addr, "/metrics/snapshot").await;
    assert_eq!(metrics["master/elected"], 1.0);
    assert!(metrics.as_object().unwrap().values().all(|v| v.is_number()));
    let state = get_json(m.addr, "/master/state/").await;
    assert_eq!(state["version"], "1.11.0");
    assert_eq!(state["leader"], state["pid"]);
    let r = request(m.addr, "GET", "/nope", &[], b"").await.unwrap();
    assert_eq!(r.status, 404);
    m.running.shutdown();
}

/// pymesos subscribes with `Connection: close` and insists on a chunked body.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn subscribe_with_connection_close_is_chunked() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let m = master(|_| {}).await;
    let body = json!({"type": "SUBSCRIBE", "subscribe": {"framework_info":
        {"user": "root", "name": "pymesos-like", "failover_timeout": 100.0,
         "capabilities": [{"type": "GPU_RESOURCES"}]}}})
    .to_string();
    let req = format!(
        "POST /api/v1/scheduler HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n\
         Accept: application/json\r\nConnection: close\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    let mut sock = tokio::net::TcpStream::connect(m.addr).await.unwrap();
    sock.write_all(req.as_bytes()).await.unwrap();
    let mut buf = vec![0u8; 4096];
    let mut got = Vec::new();
    while !String::from_utf8_lossy(&got).contains("SUBSCRIBED") {
        let n = tokio::time::timeout(Duration::from_secs(5), sock.read(&mut buf))
            .await
            .unwrap()
            .unwrap();
        assert!(n > 0);
        got.extend_from_slice(&buf[..n]);
    }
    let text = String::from_utf8_lossy(&got).to_ascii_lowercase();
    assert!(text.starts_with("http/1.1 200"), "{text}");
    assert!(text.contains("transfer-encoding: chunked"), "{text}");
    assert!(text.contains("mesos-stream-id:"), "{text}");
    assert!(text.contains("content-type: application/json"), "{text}");
    m.running.shutdown();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn update_framework_changes_roles() {
    let m = master(|_| {}).await;
    let s = Scheduler::subscribe(m.addr, json!({})).await.unwrap();
    let info = json!({"user": "root", "name": "renamed", "failover_timeout": 100.0,
        "id": {"value": s.framework_id}, "roles": ["web"],
        "capabilities": [{"type": "MULTI_ROLE"}]});
    let r = s
        .call(json!({"type": "UPDATE_FRAMEWORK", "update_framework": {"framework_info": info}}))
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    let state = get_json(m.addr, "/state").await;
    assert_eq!(state["frameworks"][0]["name"], "renamed");
    assert_eq!(state["frameworks"][0]["roles"][0], "web");
    let mut bad = info.clone();
    bad["user"] = json!("someone-else");
    let r = s
        .call(json!({"type": "UPDATE_FRAMEWORK", "update_framework": {"framework_info": bad}}))
        .await;
    assert_eq!(r.status, 400);
    m.running.shutdown();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn heartbeats_flow_to_schedulers() {
    let m = master(|c| c.heartbeat_interval = Duration::from_millis(200)).await;
    let mut s = Scheduler::subscribe(m.addr, json!({})).await.unwrap();
    s.events.next_of("HEARTBEAT").await.unwrap();
    s.events.next_of("HEARTBEAT").await.unwrap();
    m.running.shutdown();
}
