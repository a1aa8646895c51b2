//! Dynamic reservations are kept in the registry: after a master restart, an
//! agent re-registering with only its unreserved resources gets them back
//! (RESERVE then UNRESERVE replayed in order), and they reach the role's offers.

use std::time::Duration;

use crate::common::operator::{cpus, op, query};
use crate::common::{master, FakeAgent, Scheduler};
use serde_json::{json, Value};

fn reserved_cpus(total: &Value, role: &str) -> f64 {
    total
        .as_array()
        .into_iter()
        .flatten()
        .filter(|r| r["name"] == "cpus" && r["reservations"][0]["role"] == role)
        .filter_map(|r| r["scalar"]["value"].as_f64())
        .sum()
}

fn cpus_for(role: &str, value: f64) -> Value {
    json!([{"name": "cpus", "type": "SCALAR", "scalar": {"value": value},
        "reservations": [{"type": "DYNAMIC", "role": role, "principal": "admin"}]}])
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reservations_survive_master_restart() {
    let m = master(|_| {}).await;
    let agent = FakeAgent::subscribe(m.addr, None).await.unwrap();
    let aid = json!({"value": agent.agent_id});
    let call = |kind: &str, res: Value| {
        let key = kind.to_ascii_lowercase();
        let mut c = json!({"type": kind});
        c[key] = json!({"agent_id": aid, "resources": res});
        c
    };
    for c in [
        call("RESERVE_RESOURCES", cpus_for("ops", 2.0)),
        call("UNRESERVE_RESOURCES", cpus_for("ops", 0.5)),
    ] {
        let r = op(m.addr, &c).await;
        assert_eq!(r.status, 202, "{}", r.text());
    }
    let before = query(m.addr, "GET_AGENTS").await["agents"][0]["total_resources"].clone();
    assert!(
        (reserved_cpus(&before, "ops") - 1.5).abs() < 1e-9,
        "{before}"
    );

    let work_dir = m.dir.path().to_path_buf();
    m.running.shutdown();
    drop(agent);
    let mut cfg = master_lite::flags::MasterConfig::for_tests(&work_dir);
    cfg.allocation_interval = Duration::from_millis(100);
    let running = master_lite::server::start(cfg).await.unwrap();
    let addr = running.addr;

    // The agent knows nothing of reservations: it reports 4 unreserved cpus.
    let agent = FakeAgent::subscribe(addr, aid["value"].as_str())
        .await
        .unwrap();
    let after = query(addr, "GET_AGENTS").await["agents"][0]["total_resources"].clone();
    assert!((reserved_cpus(&after, "ops") - 1.5).abs() < 1e-9, "{after}");
    assert!((cpus(&after) - 4.0).abs() < 1e-9, "{after}");

    let mut s = Scheduler::subscribe(addr, json!({"role": "ops"}))
        .await
        .unwrap();
    let offers = s.offers().await.unwrap();
    let offered = Value::Array(
        offers
            .iter()
            .flat_map(|o| o["resources"].as_array().cloned().unwrap_or_default())
            .collect(),
    );
    assert!(
        (reserved_cpus(&offered, "ops") - 1.5).abs() < 1e-9,
        "{offered}"
    );
    drop(agent);
    running.shutdown();
    drop(m.dir);
}
