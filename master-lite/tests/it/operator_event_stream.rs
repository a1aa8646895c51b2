//! The operator event stream (SUBSCRIBE on `/api/v1`): SUBSCRIBED with the
//! state, HEARTBEAT, then AGENT_ADDED, TASK_ADDED, TASK_UPDATED,
//! FRAMEWORK_ADDED, FRAMEWORK_REMOVED and AGENT_REMOVED as they happen.

use crate::common::operator::op;
use crate::common::{command_task, master, EventStream, FakeAgent, Scheduler};
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn operator_stream_sees_cluster_changes() {
    let m = master(|_| {}).await;
    let mut ops = EventStream::open(m.addr, "/api/v1", &json!({"type": "SUBSCRIBE"}))
        .await
        .unwrap();
    assert_eq!(ops.status, 200);
    let sub = ops.next().await.unwrap();
    assert_eq!(sub["type"], "SUBSCRIBED", "{sub}");
    assert!(sub["subscribed"]["get_state"].is_object(), "{sub}");
    assert!(
        sub["subscribed"]["heartbeat_interval_seconds"]
            .as_f64()
            .unwrap()
            > 0.0
    );
    assert_eq!(ops.next().await.unwrap()["type"], "HEARTBEAT");

    let agent = FakeAgent::subscribe(m.addr, None).await.unwrap();
    let added = ops.next_of("AGENT_ADDED").await.unwrap();
    assert_eq!(
        added["agent_added"]["agent"]["agent_info"]["id"]["value"],
        agent.agent_id.as_str()
    );

    let mut s = Scheduler::subscribe(m.addr, json!({})).await.unwrap();
    let fa = ops.next_of("FRAMEWORK_ADDED").await.unwrap();
    assert_eq!(
        fa["framework_added"]["framework"]["framework_info"]["id"]["value"],
        s.framework_id.as_str()
    );
    assert_eq!(fa["framework_added"]["framework"]["connected"], true);
    let offer = s.offers().await.unwrap().remove(0);
    let r = s
        .launch(&offer, vec![command_task("t1", &offer, 1.0, 64.0)])
        .await;
    assert_eq!(r.status, 202);
    let t = ops.next_of("TASK_ADDED").await.unwrap();
    assert_eq!(t["task_added"]["task"]["task_id"]["value"], "t1");
    assert_eq!(t["task_added"]["task"]["state"], "TASK_STAGING");
    agent.update(&s.framework_id, "t1", "TASK_RUNNING").await;
    let u = ops.next_of("TASK_UPDATED").await.unwrap();
    assert_eq!(u["task_updated"]["state"], "TASK_RUNNING", "{u}");
    assert_eq!(
        u["task_updated"]["framework_id"]["value"],
        s.framework_id.as_str()
    );
    assert_eq!(u["task_updated"]["status"]["task_id"]["value"], "t1");

    // The operator's TEARDOWN (an unknown framework is a 400).
    let teardown =
        |id: &str| json!({"type": "TEARDOWN", "teardown": {"framework_id": {"value": id}}});
    assert_eq!(op(m.addr, &teardown("nope")).await.status, 400);
    let r = op(m.addr, &teardown(&s.framework_id)).await;
    assert_eq!(r.status, 200, "{}", r.text());
    let f = ops.next_of("FRAMEWORK_REMOVED").await.unwrap();
    assert_eq!(
        f["framework_removed"]["framework_info"]["id"]["value"],
        s.framework_id.as_str()
    );

    let r = op(
        m.addr,
        &json!({"type": "MARK_AGENT_GONE",
            "mark_agent_gone": {"agent_id": {"value": agent.agent_id}}}),
    )
    .await;
    assert_eq!(r.status, 200);
    let gone = ops.next_of("AGENT_REMOVED").await.unwrap();
    assert_eq!(
        gone["agent_removed"]["agent_id"]["value"],
        agent.agent_id.as_str()
    );
}
