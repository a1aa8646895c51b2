//! `/state` (Mesos `readonly_handler.cpp` shape) and `/metrics/snapshot`
//! (Mesos metric names, all numbers).

use std::collections::BTreeMap;

use meseta_api::resource_format::{
    attributes_to_state_json, reserved_and_unreserved_state_json, resources_to_state_json,
};
use meseta_api::{Resource, TaskState};
use serde_json::{json, Map, Value as Json};

use super::{Framework, Master, TaskRec, MESOS_VERSION};
use crate::convert::to_wire;

/// Build information for `/version` and `/state`.
pub fn version_json() -> Json {
    json!({
        "version": MESOS_VERSION,
        "build_date": "2026-01-01 00:00:00",
        "build_time": 1_767_225_600.0,
        "build_user": "meseta",
    })
}

/// Drops `null` members: Mesos omits unset optional fields.
fn without_nulls(mut v: Json) -> Json {
    if let Some(o) = v.as_object_mut() {
        o.retain(|_, x| !x.is_null());
    }
    v
}

fn task_json(t: &TaskRec) -> Json {
    let task = &t.task;
    let mut v = json!({
        "id": task.task_id.value,
        "name": task.name,
        "framework_id": task.framework_id.value,
        "executor_id": task.executor_id.as_ref().map(|e| e.value.clone()).unwrap_or_default(),
        "slave_id": task.agent_id.value,
        "state": task.state,
        "resources": resources_to_state_json(&task.resources),
        "statuses": task.statuses.iter().map(|s| json!({
            "state": s.state,
            "timestamp": s.timestamp.unwrap_or(0.0),
        })).collect::<Vec<_>>(),
    });
    if let (Some(obj), Some(labels)) = (v.as_object_mut(), &task.labels) {
        obj.insert(
            "labels".into(),
            serde_json::to_value(&labels.labels).unwrap_or_default(),
        );
    }
    if let (Some(obj), Some(user)) = (v.as_object_mut(), &task.user) {
        obj.insert("user".into(), json!(user));
    }
    v
}

impl Master {
    fn framework_json(&self, f: &Framework, active: bool) -> Json {
        let mut used: Vec<Resource> = Vec::new();
        for t in f.tasks.values() {
            used.extend(to_wire(&t.alloc));
        }
        for e in f.executors.values() {
            used.extend(to_wire(&e.alloc));
        }
        let mut offered: Vec<Resource> = Vec::new();
        let offers: Vec<Json> = f
            .offers
            .iter()
            .filter_map(|id| self.offers.get(id))
            .map(|o| {
                offered.extend(o.offer.resources.iter().cloned());
                json!({
                    "id": o.offer.id.value,
                    "framework_id": f.id,
                    "slave_id": o.offer.agent_id.value,
                    "allocation_info": o.offer.allocation_info,
                    "resources": resources_to_state_json(&o.offer.resources),
                })
            })
            .collect();
        let executors: Vec<Json> = f
            .executors
            .iter()
            .map(|((agent, _), e)| {
                json!({
                    "executor_id": e.info.executor_id.value,
                    "name": e.info.name.clone().unwrap_or_default(),
                    "framework_id": f.id,
                    "slave_id": agent,
                    "command": e.info.command,
                    "resources": resources_to_state_json(&e.info.resources),
                })
            })
            .collect();
        let capabilities: Vec<Json> = f
            .info
            .capabilities
            .iter()
            .filter_map(|c| c.r#type.map(|t| json!(t)))
            .collect();
        without_nulls(json!({
            "id": f.id,
            "name": f.info.name,
            "user": f.info.user,
            "hostname": f.info.hostname.clone().unwrap_or_default(),
            "webui_url": f.info.webui_url.clone().unwrap_or_default(),
            "principal": f.info.principal,
            "role": f.info.role.clone().unwrap_or_else(|| "*".into()),
            "roles": f.roles,
            "capabilities": capabilities,
            "failover_timeout": f.info.failover_timeout_secs(),
            "checkpoint": f.info.is_checkpointing(),
            "active": active && f.stream.is_some(),
            "connected": f.stream.is_some(),
            "recovered": f.recovered,
            "registered_time": f.registered_time,
            "reregistered_time": f.reregistered_time,
            "unregistered_time": 0,
            "used_resources": resources_to_state_json(&used),
            "offered_resources": resources_to_state_json(&offered),
            "resources": resources_to_state_json(&used),
            "tasks": f.tasks.values().map(task_json).collect::<Vec<_>>(),
            "unreachable_tasks": f.unreachable_tasks.values().map(task_json).collect::<Vec<_>>(),
            "completed_tasks": f.completed_tasks.iter().map(task_json).collect::<Vec<_>>(),
            "offers": offers,
            "executors": executors,
            "labels": f.info.labels.as_ref().map(|l| l.labels.clone()).unwrap_or_default(),
        }))
    }

    fn agent_json(&self, a: &super::Agent) -> Json {
        let mut used: Vec<Resource> = Vec::new();
        let mut offered: Vec<Resource> = Vec::new();
        for f in self.frameworks.values() {
            for t in f.tasks.values().filter(|t| t.task.agent_id.value == a.id) {
                used.extend(to_wire(&t.alloc));
            }
            for ((agent, _), e) in &f.executors {
                if *agent == a.id {
                    used.extend(to_wire(&e.alloc));
                }
            }
        }
        for o in self
            .offers
            .values()
            .filter(|o| o.offer.agent_id.value == a.id)
        {
            offered.extend(o.offer.resources.iter().cloned());
        }
        let (reserved, unreserved) = reserved_and_unreserved_state_json(&a.info.resources);
        without_nulls(json!({
            "id": a.id,
            "hostname": a.info.hostname,
            "port": a.info.port.unwrap_or(5051),
            "pid": a.pid(),
            "attributes": attributes_to_state_json(&a.info.attributes),
            "registered_time": a.registered_time,
            "reregistered_time": a.reregistered_time,
            "resources": resources_to_state_json(&a.info.resources),
            "used_resources": resources_to_state_json(&used),
            "offered_resources": resources_to_state_json(&offered),
            "reserved_resources": reserved,
            "unreserved_resources": unreserved,
            "active": a.sink.is_some(),
            "deactivated": a.sink.is_none(),
            "version": a.version,
            "capabilities": [],
        }))
    }

    /// The `/state` document.
    pub fn state_json(&self) -> Json {
        let mut v = version_json();
        let leader_info = json!({
            "id": self.info.id,
            "pid": self.pid(),
            "port": self.info.port,
            "hostname": self.config.hostname,
            "ip": self.info.ip,
            "address": self.info.address,
            "version": MESOS_VERSION,
        });
        let mut frameworks: Vec<&Framework> = self.frameworks.values().collect();
        frameworks.sort_by(|a, b| a.id.cmp(&b.id));
        let mut agents: Vec<&super::Agent> = self.agents.values().collect();
        agents.sort_by(|a, b| a.id.cmp(&b.id));
        let fields = json!({
            "start_time": self.start_time,
            "elected_time": self.start_time,
            "id": self.info.id,
            "pid": self.pid(),
            "hostname": self.config.hostname,
            "capabilities": ["AGENT_UPDATE"],
            "activated_slaves": self.agents.values().filter(|a| a.sink.is_some()).count(),
            "deactivated_slaves": self.agents.values().filter(|a| a.sink.is_none()).count(),
            "unreachable_slaves": self.unreachable_count(),
            "leader": self.pid(),
            "leader_info": leader_info,
            "cluster": self.config.cluster,
            "flags": self.flags_json(),
            "slaves": agents.iter().map(|a| self.agent_json(a)).collect::<Vec<_>>(),
            "recovered_slaves": [],
            "frameworks": frameworks.iter().map(|f| self.framework_json(f, true)).collect::<Vec<_>>(),
            "completed_frameworks": self.completed_frameworks.iter().map(|f| self.framework_json(f, false)).collect::<Vec<_>>(),
            "orphan_tasks": [],
            "unregistered_frameworks": [],
        });
        if let (Some(obj), Json::Object(extra)) = (v.as_object_mut(), without_nulls(fields)) {
            obj.extend(extra);
        }
        v
    }

    /// `/flags`-style map of the effective configuration.
    pub fn flags_json(&self) -> Map<String, Json> {
        use crate::flags::format_duration;
        let c = &self.config;
        let mut m = Map::new();
        let mut put = |k: &str, v: String| {
            m.insert(k.into(), Json::String(v));
        };
        put("ip", c.bind_ip.to_string());
        put("port", self.info.port.to_string());
        put("work_dir", c.work_dir.display().to_string());
        put("hostname", c.hostname.clone());
        put(
            "allocation_interval",
            format_duration(c.allocation_interval),
        );
        put("agent_ping_timeout", format_duration(c.agent_ping_timeout));
        put(
            "max_agent_ping_timeouts",
            c.max_agent_ping_timeouts.to_string(),
        );
        if let Some(t) = c.offer_timeout {
            put("offer_timeout", format_duration(t));
        }
        put("max_request_body_bytes", c.max_body_bytes.to_string());
        if let Some(cl) = &c.cluster {
            put("cluster", cl.clone());
        }
        let sorter = |k: crate::allocator::SorterKind| match k {
            crate::allocator::SorterKind::Drf => "drf".to_string(),
            crate::allocator::SorterKind::Random => "random".to_string(),
        };
        put("role_sorter", sorter(c.role_sorter));
        put("framework_sorter", sorter(c.framework_sorter));
        put(
            "min_allocatable_resources",
            c.min_allocatable_resources.clone(),
        );
        if !c.fair_sharing_excluded_resource_names.is_empty() {
            put(
                "fair_sharing_excluded_resource_names",
                c.fair_sharing_excluded_resource_names.join(","),
            );
        }
        m
    }

    /// The `/metrics/snapshot` document.
    pub fn metrics_json(&self) -> Json {
        let mut m: BTreeMap<String, f64> = BTreeMap::new();
        let mut put = |k: &str, v: f64| {
            m.insert(k.to_string(), v);
        };
        #[allow(clippy::cast_precision_loss)]
        let n = |x: usize| x as f64;
        #[allow(clippy::cast_precision_loss)]
        let c = |x: u64| x as f64;
        put("master/elected", 1.0);
        put("master/uptime_secs", super::now_secs() - self.start_time);
        let connected = self
            .frameworks
            .values()
            .filter(|f| f.stream.is_some())
            .count();
        put("master/frameworks_active", n(connected));
        put("master/frameworks_connected", n(connected));
        put(
            "master/frameworks_disconnected",
            n(self.frameworks.len() - connected),
        );
        put(
            "master/frameworks_inactive",
            n(self.frameworks.len() - connected),
        );
        let active = self.agents.values().filter(|a| a.sink.is_some()).count();
        put("master/slaves_active", n(active));
        put("master/slaves_connected", n(active));
        put("master/slaves_disconnected", n(self.agents.len() - active));
        put("master/slaves_inactive", n(self.agents.len() - active));
        put("master/slaves_unreachable", n(self.unreachable_count()));
        put("master/slave_removals", c(self.counters.agents_removed));
        put("master/outstanding_offers", n(self.offers.len()));
        let mut live: BTreeMap<&str, usize> = BTreeMap::new();
        for t in self.frameworks.values().flat_map(|f| f.tasks.values()) {
            let k = match t.task.state {
                TaskState::Staging => "staging",
                TaskState::Starting => "starting",
                TaskState::Running => "running",
                TaskState::Killing => "killing",
                TaskState::Unreachable => "unreachable",
                _ => continue,
            };
            *live.entry(k).or_insert(0) += 1;
        }
        for k in ["staging", "starting", "running", "killing"] {
            put(
                &format!("master/tasks_{k}"),
                n(live.get(k).copied().unwrap_or(0)),
            );
        }
        for k in [
            "finished",
            "failed",
            "killed",
            "lost",
            "error",
            "dropped",
            "gone",
            "unreachable",
        ] {
            let done = self.counters.terminal.get(k).copied().unwrap_or(0);
            put(&format!("master/tasks_{k}"), c(done));
        }
        for (k, v) in &self.counters.messages {
            put(&format!("master/{k}"), c(*v));
        }
        for k in [
            "messages_launch_tasks",
            "messages_decline_offers",
            "messages_kill_task",
            "messages_status_update",
            "messages_register_framework",
            "messages_register_slave",
        ] {
            m.entry(format!("master/{k}")).or_insert(0.0);
        }
        let mut put = |k: &str, v: f64| {
            m.insert(k.to_string(), v);
        };
        put(
            "master/valid_status_updates",
            c(self.counters.valid_status_updates),
        );
        put(
            "master/invalid_status_updates",
            c(self.counters.invalid_status_updates),
        );
        put(
            "allocator/mesos/allocation_runs",
            c(self.counters.allocation_runs),
        );
        put(
            "allocator/mesos/allocation_run_ms",
            self.counters.last_allocation_ms,
        );
        put(
            "allocator/mesos/allocation_run_ms/count",
            c(self.counters.allocation_runs),
        );
        self.allocator_share_metrics(&mut put);
        for (name, key) in [
            ("master/slave_registrations", "messages_register_slave"),
            ("master/slave_reregistrations", "messages_reregister_slave"),
        ] {
            put(
                name,
                c(self.counters.messages.get(key).copied().unwrap_or(0)),
            );
        }
        // Mesos registrar metrics (group-committed agent registrations).
        put(
            "registrar/queued_operations",
            n(self.pending_registrations()),
        );
        let (writes, ms) = self.commit_stats();
        put("registrar/state_store_ms/count", c(writes));
        put(
            "registrar/state_store_ms",
            if writes > 0 { ms / c(writes) } else { 0.0 },
        );
        let mut totals: BTreeMap<&str, (f64, f64)> = ["cpus", "mem", "disk", "gpus"]
            .into_iter()
            .map(|n| (n, (0.0, 0.0)))
            .collect();
        for a in self.agents.values() {
            for name in ["cpus", "mem", "disk", "gpus"] {
                totals.entry(name).or_default().0 +=
                    meseta_api::resource_format::scalar_total(&a.info.resources, name);
            }
        }
        for f in self.frameworks.values() {
            let allocs = f
                .tasks
                .values()
                .map(|t| &t.alloc)
                .chain(f.executors.values().map(|e| &e.alloc));
            for a in allocs {
                for name in ["cpus", "mem", "disk", "gpus"] {
                    totals.entry(name).or_default().1 += a.scalar(name).as_f64();
                }
            }
        }
        for (name, (total, used)) in totals {
            put(&format!("master/{name}_total"), total);
            put(&format!("master/{name}_used"), used);
            put(
                &format!("master/{name}_percent"),
                if total > 0.0 { used / total } else { 0.0 },
            );
        }
        Json::Object(m.into_iter().map(|(k, v)| (k, json!(v))).collect())
    }

    /// `allocator/mesos/resources/<name>/{total,offered_or_allocated}` and
    /// `allocator/mesos/roles/<role>/shares/dominant`.
    fn allocator_share_metrics(&self, put: &mut impl FnMut(&str, f64)) {
        let total = self.allocator.cluster_total();
        let mut used = crate::allocator::Quantities::new();
        for r in self.roles() {
            let mut held = r.allocated.clone();
            held.add(&r.offered);
            let dominant = held
                .iter()
                .filter_map(|(name, v)| {
                    let t = total.get(name).as_f64();
                    (t > 0.0).then(|| v.as_f64() / t)
                })
                .fold(0.0, f64::max);
            put(
                &format!("allocator/mesos/roles/{}/shares/dominant", r.name),
                dominant,
            );
            // Top-level roles only, so nested roles are not counted twice.
            if !r.name.contains('/') {
                used.add(&held);
            }
        }
        for (name, t) in total.iter() {
            put(
                &format!("allocator/mesos/resources/{name}/total"),
                t.as_f64(),
            );
            put(
                &format!("allocator/mesos/resources/{name}/offered_or_allocated"),
                used.get(name).as_f64(),
            );
        }
    }
}
