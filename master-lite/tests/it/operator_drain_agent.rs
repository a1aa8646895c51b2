//! DRAIN_AGENT: the agent is deactivated, its tasks are killed with the
//! grace period capped, it becomes DRAINED once they are gone (and is removed
//! with `mark_gone`); REACTIVATE_AGENT ends a drain.

use crate::common::operator::{op, query};
use crate::common::{command_task, master, FakeAgent, Scheduler};
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn drain_kills_tasks_then_marks_gone() {
    let m = master(|_| {}).await;
    let mut agent = FakeAgent::subscribe(m.addr, None).await.unwrap();
    let mut s = Scheduler::subscribe(m.addr, json!({})).await.unwrap();
    let offer = s.offers().await.unwrap().remove(0);
    let r = s
        .launch(&offer, vec![command_task("t1", &offer, 1.0, 64.0)])
        .await;
    assert_eq!(r.status, 202);
    agent.events.next_of("RUN_TASK").await.unwrap();
    agent.update(&s.framework_id, "t1", "TASK_RUNNING").await;
    assert_eq!(s.update().await.unwrap()["state"], "TASK_RUNNING");

    let r = op(
        m.addr,
        &json!({"type": "DRAIN_AGENT", "drain_agent": {"agent_id": {"value": agent.agent_id},
            "max_grace_period": {"seconds": 2}, "mark_gone": true}}),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text());
    let kill = agent.events.next_of("KILL_TASK").await.unwrap();
    assert_eq!(kill["kill_task"]["task_id"]["value"], "t1");
    assert_eq!(
        kill["kill_task"]["kill_policy"]["grace_period"]["nanoseconds"],
        2_000_000_000_i64
    );
    let a = query(m.addr, "GET_AGENTS").await["agents"][0].clone();
    assert_eq!(a["drain_info"]["state"], "DRAINING", "{a}");
    assert_eq!(a["deactivated"], true);

    agent.update(&s.framework_id, "t1", "TASK_KILLED").await;
    assert_eq!(s.update().await.unwrap()["state"], "TASK_KILLED");
    assert_eq!(query(m.addr, "GET_AGENTS").await, json!({}));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_agent_drains_at_once_and_reactivates() {
    let m = master(|_| {}).await;
    let agent = FakeAgent::subscribe(m.addr, None).await.unwrap();
    let aid = json!({"agent_id": {"value": agent.agent_id}});
    let r = op(m.addr, &json!({"type": "DRAIN_AGENT", "drain_agent": aid})).await;
    assert_eq!(r.status, 200, "{}", r.text());
    let a = query(m.addr, "GET_AGENTS").await["agents"][0].clone();
    assert_eq!(a["drain_info"]["state"], "DRAINED", "{a}");
    assert_eq!(a["active"], false);

    let bad = json!({"type": "DRAIN_AGENT", "drain_agent": {"agent_id": {"value": "nope"}}});
    assert_eq!(op(m.addr, &bad).await.status, 400);

    let r = op(
        m.addr,
        &json!({"type": "REACTIVATE_AGENT", "reactivate_agent": aid}),
    )
    .await;
    assert_eq!(r.status, 200);
    let a = query(m.addr, "GET_AGENTS").await["agents"][0].clone();
    assert!(a["drain_info"].is_null(), "{a}");
    assert_eq!(a["active"], true);
}
