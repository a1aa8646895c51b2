#![allow(clippy::tests_outside_test_module)]
//! A quota limit set while a role holds offers beyond it: the offers are
//! rescinded and the role is re-offered at most its limit; removing the
//! limit brings the rest back.

mod common;

use common::operator::{cpus, op};
use common::{master, FakeAgent, Scheduler};
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn limit_rescinds_outstanding_offers() {
    let m = master(|_| {}).await;
    let _agent = FakeAgent::subscribe(m.addr, None).await.unwrap();
    let mut s = Scheduler::subscribe(m.addr, json!({"role": "late"}))
        .await
        .unwrap();
    let offers = s.offers().await.unwrap();
    let all: f64 = offers.iter().map(|o| cpus(&o["resources"])).sum();
    assert!((all - 4.0).abs() < 1e-9, "{offers:?}");

    let r = op(
        m.addr,
        &json!({"type": "UPDATE_QUOTA", "update_quota": {"quota_configs": [
            {"role": "late", "limits": {"cpus": {"value": 1.0}}}]}}),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text());
    let rescind = s.events.next_of("RESCIND").await.unwrap();
    assert_eq!(rescind["rescind"]["offer_id"], offers[0]["id"]);
    let capped = s.offers().await.unwrap();
    let got: f64 = capped.iter().map(|o| cpus(&o["resources"])).sum();
    assert!(got > 0.0 && got <= 1.0 + 1e-9, "{capped:?}");

    // Lifting the limit: the remaining 3 cpus are offered too.
    let r = op(
        m.addr,
        &json!({"type": "REMOVE_QUOTA", "remove_quota": {"role": "late"}}),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text());
    let more = s.offers().await.unwrap();
    let got: f64 = more.iter().map(|o| cpus(&o["resources"])).sum();
    assert!((got - 3.0).abs() < 1e-9, "{more:?}");
}
