//! Schedulers against a real cluster (`meseta_tests::Cluster`: the `mesos-master` and
//! `mesos-agent` binaries): launching long-running command tasks, waiting for states with
//! acknowledgements, reconciliation.

use std::net::SocketAddr;
use std::time::Duration;

use anyhow::{anyhow, bail, Result};
use serde_json::{json, Value};

use super::Scheduler;

/// How long a real agent may take to start a task or report a change.
pub const REAL_WAIT: Duration = Duration::from_secs(40);

/// The master of `cluster` as a socket address.
pub fn master_addr(cluster: &meseta_tests::Cluster) -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], cluster.master_port))
}

/// Subscribes a framework; `pa` adds the PARTITION_AWARE capability.
pub async fn subscribe(addr: SocketAddr, name: &str, pa: bool, extra: Value) -> Scheduler {
    let mut info = json!({"name": name, "failover_timeout": 60});
    if pa {
        info["capabilities"] = json!([{"type": "PARTITION_AWARE"}]);
    }
    if let (Some(i), Some(e)) = (info.as_object_mut(), extra.as_object()) {
        for (k, v) in e {
            i.insert(k.clone(), v.clone());
        }
    }
    Scheduler::subscribe(addr, info).await.unwrap()
}

/// Waits for an offer and launches `sleep 600` as task `id` (0.1 cpus, 32 MB); returns the
/// agent id.
pub async fn launch_sleep(s: &mut Scheduler, id: &str) -> String {
    let deadline = tokio::time::Instant::now() + REAL_WAIT;
    loop {
        let left = deadline.saturating_duration_since(tokio::time::Instant::now());
        let e = s.events.next_within(left).await.unwrap();
        if e["type"] != "OFFERS" {
            continue;
        }
        let offer = e["offers"]["offers"][0].clone();
        let task = json!({
            "name": id,
            "task_id": {"value": id},
            "agent_id": offer["agent_id"],
            "command": {"value": "sleep 600"},
            "resources": [
                {"name": "cpus", "type": "SCALAR", "scalar": {"value": 0.1}},
                {"name": "mem", "type": "SCALAR", "scalar": {"value": 32}}
            ]
        });
        let r = s.launch(&offer, vec![task]).await;
        assert_eq!(r.status, 202, "{}", r.text());
        return offer["agent_id"]["value"].as_str().unwrap().to_string();
    }
}

/// Acknowledges an update that carries a uuid.
pub async fn ack(s: &Scheduler, status: &Value) {
    if let Some(uuid) = status["uuid"].as_str() {
        let r = s
            .call(json!({
                "type": "ACKNOWLEDGE",
                "acknowledge": {
                    "agent_id": status["agent_id"],
                    "task_id": status["task_id"],
                    "uuid": uuid
                }
            }))
            .await;
        assert_eq!(r.status, 202, "{}", r.text());
    }
}

/// Waits for an UPDATE of `task` in `state` (acknowledging every update); returns its status.
pub async fn wait_state(s: &mut Scheduler, task: &str, state: &str) -> Result<Value> {
    let deadline = tokio::time::Instant::now() + REAL_WAIT;
    let mut seen = Vec::new();
    loop {
        let left = deadline.saturating_duration_since(tokio::time::Instant::now());
        let e = s
            .events
            .next_within(left)
            .await
            .map_err(|e| anyhow!("{e} waiting for {task} {state}; saw {seen:?}"))?;
        if e["type"] != "UPDATE" {
            continue;
        }
        let st = e["update"]["status"].clone();
        ack(s, &st).await;
        if st["task_id"]["value"] == task {
            if st["state"] == state {
                return Ok(st);
            }
            seen.push(st["state"].clone());
            if ["TASK_FAILED", "TASK_ERROR", "TASK_FINISHED"]
                .contains(&st["state"].as_str().unwrap_or(""))
            {
                bail!("{task} ended {st} while waiting for {state}");
            }
        }
    }
}

/// RECONCILE for `tasks` (empty: implicit); returns `task id → status` for the updates that
/// arrive within a few seconds.
pub async fn reconcile(s: &mut Scheduler, tasks: &[&str]) -> Vec<Value> {
    let list: Vec<Value> = tasks
        .iter()
        .map(|t| json!({"task_id": {"value": t}}))
        .collect();
    let r = s
        .call(json!({"type": "RECONCILE", "reconcile": {"tasks": list}}))
        .await;
    assert_eq!(r.status, 202, "{}", r.text());
    let mut out = Vec::new();
    while let Ok(e) = s.events.next_within(Duration::from_secs(2)).await {
        if e["type"] == "UPDATE" {
            let st = e["update"]["status"].clone();
            if st["reason"] == "REASON_RECONCILIATION" {
                out.push(st);
            }
        }
    }
    out
}

/// The reconciled status of `task` in `statuses`.
pub fn status_of<'a>(statuses: &'a [Value], task: &str) -> &'a Value {
    statuses
        .iter()
        .find(|s| s["task_id"]["value"] == task)
        .unwrap_or_else(|| panic!("no reconciliation update for {task}: {statuses:?}"))
}
