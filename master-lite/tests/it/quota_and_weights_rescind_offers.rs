//! A quota limit set while a role holds offers beyond it: the offers are
//! rescinded and the role is re-offered at most its limit; removing the
//! limit brings the rest back. A weight update of a role with frameworks
//! rescinds outstanding offers too (Mesos `WeightsHandler::rescindOffers`).

use crate::common::operator::{cpus, op};
use crate::common::{master, FakeAgent, Scheduler};
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn weight_update_of_an_active_role_rescinds_offers() {
    let m = master(|_| {}).await;
    let _agent = FakeAgent::subscribe(m.addr, None).await.unwrap();
    let mut s = Scheduler::subscribe(m.addr, json!({"role": "web"}))
        .await
        .unwrap();
    let offer = s.offers().await.unwrap().remove(0);
    // A role without frameworks: offers stay.
    let w = |role: &str| {
        json!({"type": "UPDATE_WEIGHTS", "update_weights": {"weight_infos": [
            {"role": role, "weight": 2.0}]}})
    };
    assert_eq!(op(m.addr, &w("idle")).await.status, 200);
    let r = crate::common::get_json(m.addr, "/state").await;
    assert_eq!(
        r["frameworks"][0]["offers"].as_array().map(Vec::len),
        Some(1)
    );
    // The framework's role: rescinded, then re-offered.
    assert_eq!(op(m.addr, &w("web")).await.status, 200);
    let rescind = s.events.next_of("RESCIND").await.unwrap();
    assert_eq!(rescind["rescind"]["offer_id"], offer["id"]);
    let again = s.offers().await.unwrap();
    assert!((cpus(&again[0]["resources"]) - 4.0).abs() < 1e-9);
}
