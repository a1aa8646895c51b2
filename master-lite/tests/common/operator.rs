//! Operator API helpers: POST a `master::Call`, query with a shape check,
//! and snapshot what refused calls must leave unchanged.

use std::net::SocketAddr;

use serde_json::{json, Value};

use super::{get_json, request, Resp};

/// POSTs `body` to `/api/v1`.
pub async fn op(addr: SocketAddr, body: &Value) -> Resp {
    op_raw(addr, "/api/v1", body.to_string().as_bytes()).await
}

/// POSTs raw bytes to `path` as JSON.
pub async fn op_raw(addr: SocketAddr, path: &str, body: &[u8]) -> Resp {
    request(
        addr,
        "POST",
        path,
        &[("Content-Type", "application/json")],
        body,
    )
    .await
    .unwrap()
}

/// Sends a query call `kind`; checks `200` and `type`, returns its body.
pub async fn query(addr: SocketAddr, kind: &str) -> Value {
    let r = op(addr, &json!({ "type": kind })).await;
    assert_eq!(r.status, 200, "{kind}: {}", r.text());
    let v = r.json();
    assert_eq!(v["type"], kind);
    v[kind.to_lowercase()].clone()
}

/// Sum of the `cpus` scalars of a resource list.
pub fn cpus(resources: &Value) -> f64 {
    resources
        .as_array()
        .into_iter()
        .flatten()
        .filter(|r| r["name"] == "cpus")
        .map(|r| r["scalar"]["value"].as_f64().unwrap_or(0.0))
        .sum()
}

/// A role of a `/roles` document.
pub fn role(doc: &Value, name: &str) -> Value {
    doc["roles"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|r| r["name"] == name)
        .cloned()
        .unwrap_or_else(|| panic!("no role {name} in {doc}"))
}

/// What bad calls must leave unchanged.
pub async fn snapshot(addr: SocketAddr) -> Value {
    let agents = query(addr, "GET_AGENTS").await;
    let totals: Vec<Value> = agents["agents"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|a| json!([a["agent_info"]["id"], a["total_resources"], a["active"]]))
        .collect();
    json!({
        "roles": query(addr, "GET_ROLES").await,
        "weights": query(addr, "GET_WEIGHTS").await,
        "quota": query(addr, "GET_QUOTA").await,
        "agents": totals,
        "http_weights": get_json(addr, "/weights").await,
        "http_roles": get_json(addr, "/roles").await,
        "http_quota": get_json(addr, "/quota").await,
    })
}
