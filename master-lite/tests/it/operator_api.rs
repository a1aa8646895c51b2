//! The master operator API (`POST /api/v1`, `/api/v1/operator`) and the role
//! endpoints (`/weights`, `/quota`, `/roles`, `/state-summary`): response
//! shapes from `mesos.v1.master.Response`, weights and quota reaching the
//! allocator, dynamic reservations reaching offers, and agent deactivation.

use std::time::Duration;

use crate::common::operator::{cpus, op, op_raw, query, role};
use crate::common::{get_json, master, request, FakeAgent, Scheduler};
use serde_json::{json, Value};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn queries_have_master_proto_shape() {
    let m = master(|_| {}).await;
    let agent = FakeAgent::subscribe(m.addr, None).await.unwrap();
    let mut s = Scheduler::subscribe(m.addr, json!({"role": "web"}))
        .await
        .unwrap();
    let _offers = s.offers().await.unwrap();

    assert_eq!(query(m.addr, "GET_HEALTH").await["healthy"], true);
    let flags = query(m.addr, "GET_FLAGS").await;
    assert!(flags["flags"]
        .as_array()
        .unwrap()
        .iter()
        .any(|f| f["name"] == "work_dir" && f["value"].is_string()));
    let v = query(m.addr, "GET_VERSION").await;
    assert!(v["version_info"]["version"].is_string(), "{v}");
    let metrics = query(m.addr, "GET_METRICS").await;
    assert!(metrics["metrics"]
        .as_array()
        .unwrap()
        .iter()
        .any(|x| x["name"] == "master/elected" && x["value"] == 1.0));

    let agents = query(m.addr, "GET_AGENTS").await;
    let a = &agents["agents"][0];
    assert_eq!(a["agent_info"]["id"]["value"], agent.agent_id.as_str());
    assert_eq!(a["active"], true);
    assert!(a["pid"].as_str().unwrap().starts_with("slave(1)@"));
    assert!(a["registered_time"]["nanoseconds"].as_i64().unwrap() > 0);
    assert!((cpus(&a["total_resources"]) - 4.0).abs() < 1e-9, "{a}");
    assert!(cpus(&a["offered_resources"]) > 0.0, "{a}");

    let fws = query(m.addr, "GET_FRAMEWORKS").await;
    let f = &fws["frameworks"][0];
    assert_eq!(f["framework_info"]["id"]["value"], s.framework_id.as_str());
    assert_eq!(f["active"], true);
    assert_eq!(f["connected"], true);
    assert_eq!(f["recovered"], false);
    assert_eq!(f["offers"].as_array().unwrap().len(), 1);

    let state = query(m.addr, "GET_STATE").await;
    for k in ["get_tasks", "get_executors", "get_frameworks", "get_agents"] {
        assert!(state[k].is_object(), "{k} in {state}");
    }
    assert!(query(m.addr, "GET_TASKS").await.is_object());
    assert_eq!(query(m.addr, "GET_OPERATIONS").await, json!({}));
    assert_eq!(
        query(m.addr, "GET_MAINTENANCE_STATUS").await,
        json!({"status": {}})
    );
    assert_eq!(
        query(m.addr, "GET_MAINTENANCE_SCHEDULE").await,
        json!({"schedule": {}})
    );
    let master = query(m.addr, "GET_MASTER").await;
    assert!(master["master_info"]["id"].is_string(), "{master}");
    assert!(master["start_time"].as_f64().unwrap() > 0.0);
    assert!(query(m.addr, "GET_EXECUTORS").await.is_object());

    let roles = query(m.addr, "GET_ROLES").await;
    let web = roles["roles"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["name"] == "web")
        .cloned()
        .unwrap();
    assert_eq!(web["weight"], 1.0);
    assert_eq!(web["frameworks"][0]["value"], s.framework_id.as_str());
    assert!(cpus(&web["resources"]) > 0.0, "{web}");

    // The path pymesos's operator driver uses.
    let r = op_raw(m.addr, "/api/v1/operator", br#"{"type": "GET_HEALTH"}"#).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["get_health"]["healthy"], true);
    let r = op_raw(m.addr, "/master/api/v1", br#"{"type": "GET_WEIGHTS"}"#).await;
    assert_eq!(r.json(), json!({"type": "GET_WEIGHTS", "get_weights": {}}));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn update_weights_visible_in_roles_and_weights_endpoint() {
    let m = master(|_| {}).await;
    let r = op(
        m.addr,
        &json!({"type": "UPDATE_WEIGHTS", "update_weights": {"weight_infos": [
            {"role": "web", "weight": 2.5}, {"role": "batch/nightly", "weight": 0.5}]}}),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text());
    let roles = query(m.addr, "GET_ROLES").await;
    let web = roles["roles"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["name"] == "web")
        .cloned()
        .unwrap();
    assert_eq!(web["weight"], 2.5);
    let w = query(m.addr, "GET_WEIGHTS").await;
    assert_eq!(
        w["weight_infos"],
        json!([{"role": "batch/nightly", "weight": 0.5}, {"role": "web", "weight": 2.5}])
    );
    assert_eq!(
        get_json(m.addr, "/weights").await,
        json!([{"role": "batch/nightly", "weight": 0.5}, {"role": "web", "weight": 2.5}])
    );

    let r = request(
        m.addr,
        "PUT",
        "/master/weights",
        &[("Content-Type", "application/json")],
        br#"[{"role": "web", "weight": 4.0}]"#,
    )
    .await
    .unwrap();
    assert_eq!(r.status, 200, "{}", r.text());
    let roles = get_json(m.addr, "/roles.json").await;
    let web = roles["roles"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["name"] == "web")
        .cloned()
        .unwrap();
    assert_eq!(web["weight"], 4.0);
    assert!(web["resources"].is_object());
    assert_eq!(get_json(m.addr, "/roles").await, roles);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn quota_limit_caps_offers() {
    let m = master(|_| {}).await;
    let _agent = FakeAgent::subscribe(m.addr, None).await.unwrap();
    let r = op(
        m.addr,
        &json!({"type": "UPDATE_QUOTA", "update_quota": {"quota_configs": [
            {"role": "capped", "limits": {"cpus": {"value": 1.5}}}]}}),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text());
    let q = query(m.addr, "GET_QUOTA").await;
    assert_eq!(q["status"]["configs"][0]["role"], "capped");
    assert_eq!(q["status"]["configs"][0]["limits"]["cpus"]["value"], 1.5);
    let legacy = get_json(m.addr, "/quota").await;
    assert_eq!(legacy["configs"][0]["role"], "capped");

    let mut s = Scheduler::subscribe(m.addr, json!({"role": "capped"}))
        .await
        .unwrap();
    let offers = s.offers().await.unwrap();
    let offered: f64 = offers.iter().map(|o| cpus(&o["resources"])).sum();
    assert!(offered > 0.0 && offered <= 1.5 + 1e-9, "{offers:?}");
    // Declined resources come back, never beyond the limit.
    let ids: Vec<Value> = offers.iter().map(|o| o["id"].clone()).collect();
    let r = s
        .call(json!({"type": "DECLINE", "decline": {"offer_ids": ids,
            "filters": {"refuse_seconds": 0.0}}}))
        .await;
    assert_eq!(r.status, 202);
    let again = s.offers().await.unwrap();
    let offered: f64 = again.iter().map(|o| cpus(&o["resources"])).sum();
    assert!(offered <= 1.5 + 1e-9, "{again:?}");
    let roles = get_json(m.addr, "/roles.json").await;
    let capped = role(&roles, "capped");
    assert_eq!(capped["quota"]["limit"]["cpus"], 1.5, "{capped}");
    assert_eq!(capped["quota"]["role"], "capped");
    assert_eq!(capped["weight"], 1.0);
    assert!(capped["offered"]["cpus"].as_f64().unwrap() <= 1.5 + 1e-9);

    // A limit below what the role consumes needs `force`; so do guarantees
    // beyond the cluster's capacity.
    let r = s
        .launch(
            &again[0],
            vec![crate::common::command_task("t1", &again[0], 1.0, 64.0)],
        )
        .await;
    assert_eq!(r.status, 202);
    let limit = |cpus: f64, force: bool| {
        json!({"type": "UPDATE_QUOTA", "update_quota": {"force": force, "quota_configs": [
            {"role": "capped", "limits": {"cpus": {"value": cpus}}}]}})
    };
    let r = op(m.addr, &limit(0.5, false)).await;
    assert_eq!(r.status, 400, "{}", r.text());
    assert!(r.text().contains("force"), "{}", r.text());
    assert_eq!(op(m.addr, &limit(0.5, true)).await.status, 200);
    let q = query(m.addr, "GET_QUOTA").await;
    assert_eq!(q["status"]["configs"][0]["limits"]["cpus"]["value"], 0.5);
    let big = |force: bool| {
        json!({"type": "UPDATE_QUOTA", "update_quota": {"force": force, "quota_configs": [
            {"role": "big", "guarantees": {"cpus": {"value": 100.0}}}]}})
    };
    assert_eq!(op(m.addr, &big(false)).await.status, 400);
    assert_eq!(op(m.addr, &big(true)).await.status, 200);
    let remove = json!({"type": "REMOVE_QUOTA", "remove_quota": {"role": "big"}});
    assert_eq!(op(m.addr, &remove).await.status, 200);

    // Removing the quota lifts the cap.
    let r = request(m.addr, "DELETE", "/quota/capped", &[], b"")
        .await
        .unwrap();
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(query(m.addr, "GET_QUOTA").await, json!({"status": {}}));

    // The deprecated SET_QUOTA / REMOVE_QUOTA: guarantee = limit.
    let r = op(
        m.addr,
        &json!({"type": "SET_QUOTA", "set_quota": {"quota_request": {"role": "legacy",
            "guarantee": [{"name": "cpus", "type": "SCALAR", "scalar": {"value": 1.0}}]}}}),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text());
    let q = query(m.addr, "GET_QUOTA").await;
    assert_eq!(
        q["status"]["configs"][0]["guarantees"]["cpus"]["value"],
        1.0
    );
    assert_eq!(q["status"]["configs"][0]["limits"]["cpus"]["value"], 1.0);
    assert_eq!(q["status"]["infos"][0]["role"], "legacy");
    let remove = json!({"type": "REMOVE_QUOTA", "remove_quota": {"role": "legacy"}});
    assert_eq!(op(m.addr, &remove).await.status, 200);
    assert_eq!(op(m.addr, &remove).await.status, 400);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reserved_resources_reach_offers() {
    let m = master(|_| {}).await;
    let agent = FakeAgent::subscribe(m.addr, None).await.unwrap();
    let reserved = json!([{"name": "cpus", "type": "SCALAR", "scalar": {"value": 1.0},
        "reservations": [{"type": "DYNAMIC", "role": "ops", "principal": "admin"}]}]);
    let r = op(
        m.addr,
        &json!({"type": "RESERVE_RESOURCES", "reserve_resources": {
            "agent_id": {"value": agent.agent_id}, "resources": reserved}}),
    )
    .await;
    assert_eq!(r.status, 202, "{}", r.text());

    let mut s = Scheduler::subscribe(m.addr, json!({"role": "ops"}))
        .await
        .unwrap();
    let offers = s.offers().await.unwrap();
    let res = offers[0]["resources"].as_array().unwrap();
    let r_cpus: Vec<&Value> = res
        .iter()
        .filter(|r| r["name"] == "cpus" && r["reservations"][0]["role"] == "ops")
        .collect();
    assert_eq!(r_cpus.len(), 1, "{res:?}");
    assert_eq!(r_cpus[0]["scalar"]["value"], 1.0);
    assert_eq!(r_cpus[0]["reservations"][0]["type"], "DYNAMIC");
    let roles = get_json(m.addr, "/roles").await;
    let ops = role(&roles, "ops");
    assert_eq!(ops["reserved"]["cpus"], 1.0, "{ops}");
    assert_eq!(ops["frameworks"][0], s.framework_id.as_str());
    assert!(ops["offered"]["cpus"].as_f64().unwrap() >= 1.0, "{ops}");
    assert!(
        ops["quota"]["consumed"]["cpus"].as_f64().unwrap() >= 1.0,
        "{ops}"
    );

    // The reservation survives the agent re-registering (it reports only
    // its unreserved resources).
    let agent = FakeAgent::subscribe(m.addr, Some(&agent.agent_id))
        .await
        .unwrap();
    let agents = query(m.addr, "GET_AGENTS").await;
    let total = agents["agents"][0]["total_resources"].as_array().unwrap();
    assert!(
        total
            .iter()
            .any(|r| r["name"] == "cpus" && r["reservations"][0]["role"] == "ops"),
        "{total:?}"
    );
    assert!((cpus(&agents["agents"][0]["total_resources"]) - 4.0).abs() < 1e-9);

    // UNRESERVE while the reservation is offered: the offer is rescinded.
    let r = op(
        m.addr,
        &json!({"type": "UNRESERVE_RESOURCES", "unreserve_resources": {
            "agent_id": {"value": agent.agent_id}, "resources": reserved}}),
    )
    .await;
    assert_eq!(r.status, 202, "{}", r.text());
    s.events.next_of("RESCIND").await.unwrap();
    let agents = query(m.addr, "GET_AGENTS").await;
    let total = agents["agents"][0]["total_resources"].as_array().unwrap();
    assert!(
        total.iter().all(|r| r["reservations"].is_null()),
        "{total:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn agent_deactivate_reactivate_and_gone() {
    let m = master(|_| {}).await;
    let agent = FakeAgent::subscribe(m.addr, None).await.unwrap();
    // PARTITION_AWARE: MARK_AGENT_GONE gives TASK_GONE_BY_OPERATOR (others TASK_LOST).
    let pa = json!({"capabilities": [{"type": "PARTITION_AWARE"}]});
    let mut s = Scheduler::subscribe(m.addr, pa).await.unwrap();
    s.offers().await.unwrap();
    let aid = json!({"agent_id": {"value": agent.agent_id}});

    let r = op(
        m.addr,
        &json!({"type": "DEACTIVATE_AGENT", "deactivate_agent": aid}),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text());
    s.events.next_of("RESCIND").await.unwrap();
    let a = query(m.addr, "GET_AGENTS").await["agents"][0].clone();
    assert_eq!(a["active"], false);
    assert_eq!(a["deactivated"], true);
    assert!(s
        .events
        .next_within(Duration::from_millis(500))
        .await
        .map_or(true, |e| e["type"] != "OFFERS"));

    let r = op(
        m.addr,
        &json!({"type": "REACTIVATE_AGENT", "reactivate_agent": aid}),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text());
    let offer = s.offers().await.unwrap().remove(0);
    assert_eq!(
        query(m.addr, "GET_AGENTS").await["agents"][0]["active"],
        true
    );
    let r = s
        .launch(
            &offer,
            vec![crate::common::command_task("t1", &offer, 1.0, 64.0)],
        )
        .await;
    assert_eq!(r.status, 202);

    let r = op(
        m.addr,
        &json!({"type": "MARK_AGENT_GONE", "mark_agent_gone": aid}),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text());
    let st = s.update().await.unwrap();
    assert_eq!(st["state"], "TASK_GONE_BY_OPERATOR", "{st}");
    assert_eq!(st["reason"], "REASON_AGENT_REMOVED_BY_OPERATOR", "{st}");
    assert_eq!(query(m.addr, "GET_AGENTS").await, json!({}));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn state_summary_counts_tasks() {
    let m = master(|c| c.cluster = Some("test-cluster".into())).await;
    let agent = FakeAgent::subscribe(m.addr, None).await.unwrap();
    let mut s = Scheduler::subscribe(m.addr, json!({"name": "summary"}))
        .await
        .unwrap();
    let offer = s.offers().await.unwrap().remove(0);
    let r = s
        .launch(
            &offer,
            vec![crate::common::command_task("t1", &offer, 1.0, 64.0)],
        )
        .await;
    assert_eq!(r.status, 202);
    agent.update(&s.framework_id, "t1", "TASK_RUNNING").await;
    assert_eq!(s.update().await.unwrap()["state"], "TASK_RUNNING");

    let sum = get_json(m.addr, "/master/state-summary").await;
    assert_eq!(sum["cluster"], "test-cluster");
    assert!(sum["hostname"].is_string());
    let a = &sum["slaves"][0];
    assert_eq!(a["id"], agent.agent_id.as_str());
    assert!(a["pid"].is_string() && a["hostname"] == "agent1.test");
    assert_eq!(a["TASK_RUNNING"], 1);
    assert_eq!(a["TASK_FINISHED"], 0);
    assert_eq!(a["resources"]["cpus"], 4.0);
    assert_eq!(a["used_resources"]["cpus"], 1.0);
    let f = &sum["frameworks"][0];
    assert_eq!(f["id"], s.framework_id.as_str());
    assert_eq!(f["name"], "summary");
    assert_eq!(f["TASK_RUNNING"], 1);
    assert_eq!(f["resources"]["cpus"], 1.0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn weights_and_quota_survive_master_restart() {
    let m = master(|_| {}).await;
    let r = op(
        m.addr,
        &json!({"type": "UPDATE_WEIGHTS", "update_weights": {"weight_infos": [
            {"role": "web", "weight": 3.0}]}}),
    )
    .await;
    assert_eq!(r.status, 200);
    let r = op(
        m.addr,
        &json!({"type": "UPDATE_QUOTA", "update_quota": {"quota_configs": [
            {"role": "capped", "limits": {"cpus": {"value": 2.0}}}]}}),
    )
    .await;
    assert_eq!(r.status, 200);
    let (weights, quota) = (
        query(m.addr, "GET_WEIGHTS").await,
        query(m.addr, "GET_QUOTA").await,
    );
    let work_dir = m.dir.path().to_path_buf();
    m.running.shutdown();

    let mut cfg = master_lite::flags::MasterConfig::for_tests(&work_dir);
    cfg.allocation_interval = Duration::from_millis(100);
    let running = master_lite::server::start(cfg).await.unwrap();
    assert_eq!(query(running.addr, "GET_WEIGHTS").await, weights);
    assert_eq!(query(running.addr, "GET_QUOTA").await, quota);
    running.shutdown();
    drop(m.dir);
}
