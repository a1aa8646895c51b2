//! The replicated registry's layout in ZooKeeper, one znode per entity so no node nears
//! ZooKeeper's ~1 MB limit, under `--registry_zk_path` (default `<zk path>-meseta/registry`,
//! outside the election path where clients expect only masters):
//!
//! ```text
//! <root>/meta               {"master_id","next_agent","next_framework","weights","quotas"}
//! <root>/agents/<agent id>  {"info": AgentInfo, "reservations": [RESERVE/UNRESERVE...]}
//! <root>/frameworks/<id>    FrameworkInfo
//! <root>/unreachable/<id>   {"info": AgentInfo, "timestamp": seconds} (agents marked unreachable)
//! ```
//!
//! Writes are diffs against what the committer last wrote, applied through a
//! [`meseta_zk::Fence`], so a deposed leader's write fails as a whole.

use std::collections::BTreeMap;

use meseta_api::{AgentInfo, FrameworkInfo};
use meseta_zk::zookeeper_client::{Client, Error as ClientError};
use meseta_zk::{read_children, Write, ZkError};
use serde::{Deserialize, Serialize};

use crate::registry::{RegistryData, StoredOperation, StoredQuota, UnreachableAgent};

/// Largest total of data in one fenced multi-op (ZooKeeper's request limit is ~1 MB).
const MAX_BATCH_BYTES: usize = 512 * 1024;

/// Znode path → data, relative to the registry root.
pub type Nodes = BTreeMap<String, Vec<u8>>;

#[derive(Debug, Default, Serialize, Deserialize)]
struct Meta {
    master_id: String,
    next_agent: u64,
    next_framework: u64,
    #[serde(default)]
    weights: BTreeMap<String, f64>,
    #[serde(default)]
    quotas: BTreeMap<String, StoredQuota>,
}

#[derive(Debug, Serialize, Deserialize)]
struct StoredAgent {
    info: AgentInfo,
    #[serde(default)]
    reservations: Vec<StoredOperation>,
}

/// The znodes that represent `data`.
pub fn to_nodes(data: &RegistryData) -> Nodes {
    let mut nodes = Nodes::new();
    let meta = Meta {
        master_id: data.master_id.clone(),
        next_agent: data.next_agent,
        next_framework: data.next_framework,
        weights: data.weights.clone(),
        quotas: data.quotas.clone(),
    };
    nodes.insert("meta".into(), serde_json::to_vec(&meta).unwrap_or_default());
    for (id, info) in &data.agents {
        let agent = StoredAgent {
            info: info.clone(),
            reservations: data.reservations.get(id).cloned().unwrap_or_default(),
        };
        nodes.insert(
            format!("agents/{id}"),
            serde_json::to_vec(&agent).unwrap_or_default(),
        );
    }
    for (id, info) in &data.frameworks {
        nodes.insert(
            format!("frameworks/{id}"),
            serde_json::to_vec(info).unwrap_or_default(),
        );
    }
    for (id, agent) in &data.unreachable {
        nodes.insert(
            format!("unreachable/{id}"),
            serde_json::to_vec(agent).unwrap_or_default(),
        );
    }
    nodes
}

/// The writes that turn `old` into `new` under `root`, in batches small enough for one
/// multi-op each.
pub fn diff(root: &str, old: &Nodes, new: &Nodes) -> Vec<Vec<Write>> {
    let mut batches = vec![Vec::new()];
    let mut size = 0;
    let mut push = |write: Write, bytes: usize| {
        if size + bytes > MAX_BATCH_BYTES && batches.last().is_some_and(|b| !b.is_empty()) {
            batches.push(Vec::new());
            size = 0;
        }
        size += bytes;
        if let Some(b) = batches.last_mut() {
            b.push(write);
        }
    };
    for (path, data) in new {
        if old.get(path) != Some(data) {
            let write = Write::Put {
                path: format!("{root}/{path}"),
                data: data.clone(),
            };
            push(write, data.len() + path.len());
        }
    }
    for path in old.keys().filter(|p| !new.contains_key(*p)) {
        push(
            Write::Delete {
                path: format!("{root}/{path}"),
            },
            path.len(),
        );
    }
    batches.retain(|b| !b.is_empty());
    batches
}

/// Reads the registry under `root`: `None` when none was ever written.
pub async fn load(client: &Client, root: &str) -> Result<Option<(RegistryData, Nodes)>, ZkError> {
    let meta_path = format!("{root}/meta");
    let meta_bytes = match client.get_data(&meta_path).await {
        Ok((data, _)) => data,
        Err(ClientError::NoNode) => return Ok(None),
        Err(err) => return Err(ZkError::op("get", &meta_path)(err)),
    };
    let bad = |path: &str, err: serde_json::Error| ZkError::BadData {
        path: path.to_string(),
        reason: err.to_string(),
    };
    let meta: Meta = serde_json::from_slice(&meta_bytes).map_err(|e| bad(&meta_path, e))?;
    let mut nodes = Nodes::new();
    nodes.insert("meta".into(), meta_bytes);
    let mut data = RegistryData {
        master_id: meta.master_id,
        next_agent: meta.next_agent,
        next_framework: meta.next_framework,
        weights: meta.weights,
        quotas: meta.quotas,
        ..RegistryData::default()
    };
    for (id, bytes) in read_children(client, &format!("{root}/agents")).await? {
        let agent: StoredAgent =
            serde_json::from_slice(&bytes).map_err(|e| bad(&format!("{root}/agents/{id}"), e))?;
        if !agent.reservations.is_empty() {
            data.reservations.insert(id.clone(), agent.reservations);
        }
        data.agents.insert(id.clone(), agent.info);
        nodes.insert(format!("agents/{id}"), bytes);
    }
    for (id, bytes) in read_children(client, &format!("{root}/frameworks")).await? {
        let info: FrameworkInfo = serde_json::from_slice(&bytes)
            .map_err(|e| bad(&format!("{root}/frameworks/{id}"), e))?;
        data.frameworks.insert(id.clone(), info);
        nodes.insert(format!("frameworks/{id}"), bytes);
    }
    for (id, bytes) in read_children(client, &format!("{root}/unreachable")).await? {
        let agent: UnreachableAgent = serde_json::from_slice(&bytes)
            .map_err(|e| bad(&format!("{root}/unreachable/{id}"), e))?;
        data.unreachable.insert(id.clone(), agent);
        nodes.insert(format!("unreachable/{id}"), bytes);
    }
    Ok(Some((data, nodes)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn diffs_put_changed_and_delete_removed_nodes() {
        let mut data = RegistryData {
            master_id: "m".into(),
            ..RegistryData::default()
        };
        data.agents.insert("m-S0".into(), AgentInfo::default());
        data.weights.insert("web".into(), 2.0);
        let old = to_nodes(&data);
        assert_eq!(old.keys().collect::<Vec<_>>(), ["agents/m-S0", "meta"]);
        data.agents.remove("m-S0");
        data.agents.insert("m-S1".into(), AgentInfo::default());
        let new = to_nodes(&data);
        let batches = diff("/r", &old, &new);
        assert_eq!(batches.len(), 1);
        let paths: Vec<_> = batches[0]
            .iter()
            .map(|w| match w {
                Write::Put { path, .. } => format!("put {path}"),
                Write::Delete { path } => format!("delete {path}"),
            })
            .collect();
        assert_eq!(paths, ["put /r/agents/m-S1", "delete /r/agents/m-S0"]);
        assert!(diff("/r", &new, &new).is_empty());
    }

    #[test]
    fn an_unreachable_agent_moves_between_nodes() {
        let mut data = RegistryData::default();
        data.agents.insert("m-S0".into(), AgentInfo::default());
        let admitted = to_nodes(&data);
        let info = data.agents.remove("m-S0").unwrap();
        data.unreachable.insert(
            "m-S0".into(),
            UnreachableAgent {
                info,
                timestamp: 1.5,
            },
        );
        let unreachable = to_nodes(&data);
        assert_eq!(
            unreachable.keys().collect::<Vec<_>>(),
            ["meta", "unreachable/m-S0"]
        );
        let back: UnreachableAgent =
            serde_json::from_slice(&unreachable["unreachable/m-S0"]).unwrap();
        assert_eq!(back.timestamp, 1.5);
        let paths: Vec<_> = diff("/r", &admitted, &unreachable)[0]
            .iter()
            .map(|w| match w {
                Write::Put { path, .. } => format!("put {path}"),
                Write::Delete { path } => format!("delete {path}"),
            })
            .collect();
        assert_eq!(paths, ["put /r/unreachable/m-S0", "delete /r/agents/m-S0"]);
    }
}
