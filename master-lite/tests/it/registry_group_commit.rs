//! Registry group commit: 200 agents subscribing at once all get REGISTERED,
//! each only once its registry entry is on disk, with far fewer registry
//! writes than agents; the file ends up holding every one of them.

use crate::common::{get_json, master, FakeAgent};
use master_lite::registry::{Registry, FILE_NAME};

const AGENTS: usize = 200;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_registrations_share_registry_writes() {
    let m = master(|_| {}).await;
    let addr = m.addr;
    let tasks: Vec<_> = (0..AGENTS)
        .map(|_| tokio::spawn(async move { FakeAgent::subscribe(addr, None).await }))
        .collect();
    let mut ids = Vec::new();
    let mut agents = Vec::new();
    for t in tasks {
        let agent = t.await.unwrap().unwrap();
        // REGISTERED came only after the write: the file already holds the id.
        let on_disk = Registry::open(m.dir.path()).unwrap();
        assert!(
            on_disk.data.agents.contains_key(&agent.agent_id),
            "{} acknowledged before it was durable",
            agent.agent_id
        );
        ids.push(agent.agent_id.clone());
        agents.push(agent);
    }
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), AGENTS);

    let metrics = get_json(addr, "/metrics/snapshot").await;
    let writes = metrics["registrar/state_store_ms/count"].as_f64().unwrap();
    assert!(writes >= 1.0, "{metrics}");
    assert!(
        writes < (AGENTS / 2) as f64,
        "{writes} registry writes for {AGENTS} agents"
    );
    assert_eq!(metrics["registrar/queued_operations"], 0.0);
    assert_eq!(metrics["master/slaves_active"], AGENTS as f64);
    assert_eq!(metrics["master/slave_registrations"], AGENTS as f64);
    let text = std::fs::read_to_string(m.dir.path().join(FILE_NAME)).unwrap();
    let reg: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(reg["agents"].as_object().map(|a| a.len()), Some(AGENTS));
}
