//! An agent resends an unacknowledged update until it is acknowledged. When TASK_STARTING's
//! acknowledgement is late, the agent resends it after TASK_RUNNING has gone out; as in Mesos,
//! the resent update carries the task's `latest_state`, the framework receives the update
//! again, and the master keeps the task RUNNING (it once showed STARTING for good, and
//! Marathon's scale-up waited 300 s on it).

use crate::common::{command_task, get_json, master, FakeAgent, Scheduler};
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_resent_starting_after_running_keeps_the_task_running() {
    let m = master(|_| {}).await;
    let mut agent = FakeAgent::subscribe(m.addr, None).await.unwrap();
    let mut s = Scheduler::subscribe(m.addr, json!({})).await.unwrap();
    let offers = s.offers().await.unwrap();
    let task = command_task("t1", &offers[0], 1.0, 128.0);
    assert_eq!(s.launch(&offers[0], vec![task]).await.status, 202);
    agent.events.next_of("RUN_TASK").await.unwrap();

    let fw = s.framework_id.clone();
    let starting = meseta_api::Bytes::random_uuid().to_base64();
    agent
        .send_update(&fw, "t1", "TASK_STARTING", &starting, Some("TASK_STARTING"))
        .await;
    assert_eq!(s.update().await.unwrap()["state"], "TASK_STARTING");
    agent.update(&fw, "t1", "TASK_RUNNING").await;
    assert_eq!(s.update().await.unwrap()["state"], "TASK_RUNNING");

    // The retry of TASK_STARTING, after TASK_RUNNING.
    agent
        .send_update(&fw, "t1", "TASK_STARTING", &starting, Some("TASK_RUNNING"))
        .await;
    let again = s.update().await.unwrap();
    assert_eq!(
        again["state"], "TASK_STARTING",
        "the framework gets the retry"
    );
    assert_eq!(again["uuid"], starting.as_str());

    let state = get_json(m.addr, "/master/state").await;
    let t = &state["frameworks"][0]["tasks"][0];
    assert_eq!(t["state"], "TASK_RUNNING", "{t}");
    let recorded: Vec<_> = t["statuses"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["state"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(
        recorded,
        ["TASK_STARTING", "TASK_RUNNING"],
        "applied once each"
    );
    let tasks = get_json(m.addr, "/tasks").await;
    assert_eq!(tasks["tasks"][0]["state"], "TASK_RUNNING");
}
