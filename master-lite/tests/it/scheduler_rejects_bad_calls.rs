//! Bad input on the scheduler API: 400 (malformed JSON, unknown call type,
//! missing Mesos-Stream-Id), 403 (not subscribed, wrong stream), 413 (body
//! too large), 415; ACCEPT of invalid offers → TASK_LOST/REASON_INVALID_OFFERS;
//! invalid tasks → TASK_ERROR/REASON_TASK_INVALID.

use crate::common::{command_task, master, post_call, request, FakeAgent, Scheduler};
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http_errors() {
    let m = master(|c| c.max_body_bytes = 4096).await;
    let s = Scheduler::subscribe(m.addr, json!({})).await.unwrap();

    let r = request(
        m.addr,
        "POST",
        "/api/v1/scheduler",
        &[("Content-Type", "application/json")],
        b"{not json",
    )
    .await
    .unwrap();
    assert_eq!(r.status, 400);
    assert!(r.text().contains("scheduler::Call"), "{}", r.text());

    let r = post_call(
        m.addr,
        Some(&s.stream_id),
        &json!({"type": "FROBNICATE", "framework_id": {"value": s.framework_id}}),
    )
    .await;
    assert_eq!(r.status, 400, "{}", r.text());

    let r = post_call(
        m.addr,
        None,
        &json!({"type": "REVIVE", "framework_id": {"value": s.framework_id}}),
    )
    .await;
    assert_eq!(r.status, 400);
    assert!(r.text().contains("Mesos-Stream-Id"), "{}", r.text());

    // Missing body for the type.
    let r = s.call(json!({"type": "ACCEPT"})).await;
    assert_eq!(r.status, 400);

    // Not subscribed / wrong stream.
    let r = post_call(
        m.addr,
        Some("abc"),
        &json!({"type": "REVIVE", "framework_id": {"value": "no-such-framework"}}),
    )
    .await;
    assert_eq!(r.status, 403, "{}", r.text());
    let r = post_call(
        m.addr,
        Some("wrong-stream"),
        &json!({"type": "REVIVE", "framework_id": {"value": s.framework_id}}),
    )
    .await;
    assert_eq!(r.status, 403);

    // SUBSCRIBE must not carry a stream id.
    let r = post_call(
        m.addr,
        Some(&s.stream_id),
        &json!({"type": "SUBSCRIBE", "subscribe": {"framework_info": {"user": "u", "name": "n"}}}),
    )
    .await;
    assert_eq!(r.status, 400);

    // Too large.
    let big = json!({"type": "REVIVE", "framework_id": {"value": s.framework_id},
        "pad": "x".repeat(10_000)});
    let r = post_call(m.addr, Some(&s.stream_id), &big).await;
    assert_eq!(r.status, 413);

    // Content types.
    let r = request(
        m.addr,
        "POST",
        "/api/v1/scheduler",
        &[("Content-Type", "text/plain")],
        b"{}",
    )
    .await
    .unwrap();
    assert_eq!(r.status, 415);
    let r = request(m.addr, "POST", "/api/v1/scheduler", &[], b"{}")
        .await
        .unwrap();
    assert_eq!(r.status, 400);
    let r = request(m.addr, "GET", "/api/v1/scheduler", &[], b"")
        .await
        .unwrap();
    assert_eq!(r.status, 405);

    // Agent channel: unknown agent → 403, bad JSON → 400.
    let call = json!({"type": "STATUS_UPDATE", "agent_id": {"value": "ghost"},
        "status_update": {"framework_id": {"value": "f"}, "status": {"task_id": {"value": "t"},
        "state": "TASK_RUNNING"}, "timestamp": 1.0, "uuid": "AAAAAAAAAAAAAAAAAAAAAA=="}});
    let r = request(
        m.addr,
        "POST",
        meseta_api::internal::PATH,
        &[("Content-Type", "application/json")],
        call.to_string().as_bytes(),
    )
    .await
    .unwrap();
    assert_eq!(r.status, 403);
    let r = request(
        m.addr,
        "POST",
        meseta_api::internal::PATH,
        &[("Content-Type", "application/json")],
        b"[]",
    )
    .await
    .unwrap();
    assert_eq!(r.status, 400);
    m.running.shutdown();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invalid_offers_and_tasks() {
    let m = master(|_| {}).await;
    let mut agent = FakeAgent::subscribe(m.addr, None).await.unwrap();
    let mut s = Scheduler::subscribe(m.addr, json!({})).await.unwrap();
    let offer = s.offers().await.unwrap().remove(0);

    // Unknown offer → TASK_LOST / REASON_INVALID_OFFERS, no uuid.
    let mut bogus = offer.clone();
    bogus["id"] = json!({"value": "no-such-offer"});
    let r = s
        .launch(&bogus, vec![command_task("x1", &offer, 0.1, 32.0)])
        .await;
    assert_eq!(r.status, 202);
    let st = s.update().await.unwrap();
    assert_eq!(st["task_id"]["value"], "x1");
    assert_eq!(st["state"], "TASK_LOST");
    assert_eq!(st["reason"], "REASON_INVALID_OFFERS");
    assert_eq!(st["source"], "SOURCE_MASTER");
    assert!(st.get("uuid").is_none());

    // One valid ACCEPT (the real offer is still outstanding) with several
    // invalid tasks and one good one.
    let too_big = command_task("big", &offer, 64.0, 32.0);
    let mut both = command_task("both", &offer, 0.1, 32.0);
    both["executor"] = json!({"executor_id": {"value": "e"}, "command": {"value": "x"}});
    let mut neither = command_task("neither", &offer, 0.1, 32.0);
    neither.as_object_mut().unwrap().remove("command");
    let mut nores = command_task("nores", &offer, 0.1, 32.0);
    nores.as_object_mut().unwrap().remove("resources");
    let mut wrong_agent = command_task("wrongagent", &offer, 0.1, 32.0);
    wrong_agent["agent_id"] = json!({"value": "other"});
    let good = command_task("good", &offer, 0.1, 32.0);
    let dup = command_task("good", &offer, 0.1, 32.0);
    let r = s
        .launch(
            &offer,
            vec![too_big, both, neither, nores, wrong_agent, good, dup],
        )
        .await;
    assert_eq!(r.status, 202);
    let mut errors = Vec::new();
    for _ in 0..6 {
        let st = s.update().await.unwrap();
        assert_eq!(st["state"], "TASK_ERROR", "{st}");
        assert_eq!(st["reason"], "REASON_TASK_INVALID");
        assert!(st["message"].as_str().is_some_and(|m| !m.is_empty()));
        errors.push(st["task_id"]["value"].as_str().unwrap().to_string());
    }
    errors.sort();
    assert_eq!(
        errors,
        ["big", "both", "good", "neither", "nores", "wrongagent"]
    );
    let run = agent.events.next_of("RUN_TASK").await.unwrap();
    assert_eq!(run["run_task"]["task"]["task_id"]["value"], "good");

    // The used offer is gone now: ACCEPTing it again → TASK_LOST.
    let r = s
        .launch(&offer, vec![command_task("again", &offer, 0.1, 32.0)])
        .await;
    assert_eq!(r.status, 202);
    let st = s.update().await.unwrap();
    assert_eq!(st["state"], "TASK_LOST");
    assert_eq!(st["reason"], "REASON_INVALID_OFFERS");

    // KILL of an unknown task is answered by reconciliation (TASK_LOST).
    s.call(json!({"type": "KILL", "kill": {"task_id": {"value": "ghost"}}}))
        .await;
    let st = s.update().await.unwrap();
    assert_eq!(
        (st["task_id"]["value"].clone(), st["state"].clone()),
        (json!("ghost"), json!("TASK_LOST"))
    );
    m.running.shutdown();
}
