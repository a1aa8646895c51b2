//! Building a Mesos `TaskInfo` for an app instance: command or args, the environment
//! Marathon gives tasks (`docs/docs/task-environment-vars.md`: `HOST`, `PORT`, `PORT0..n`,
//! `PORTS`, `PORT_<NAME>`, `MARATHON_APP_*`), fetch URIs, the container (DOCKER with network
//! and port mappings, or MESOS with a Docker image), the kill grace period, and the first
//! Mesos-side health check (`MESOS_HTTP`, `MESOS_HTTPS`, `MESOS_TCP`, `COMMAND`).

use meseta_api::{Resource, TaskInfo};
use serde_json::{json, Map, Value};

use crate::model::{App, PathId};

fn env_name(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_uppercase()
            } else {
                '_'
            }
        })
        .collect()
}

/// The environment of a task.
fn environment(app: &App, task_id: &str, host: &str, ports: &[u16]) -> Vec<Value> {
    let mut env: Map<String, Value> = Map::new();
    let mut set = |k: String, v: String| {
        env.insert(k, json!(v));
    };
    if let Some(p) = ports.first() {
        set("PORT".into(), p.to_string());
    }
    for (i, p) in ports.iter().enumerate() {
        set(format!("PORT{i}"), p.to_string());
    }
    set(
        "PORTS".into(),
        ports
            .iter()
            .map(u16::to_string)
            .collect::<Vec<_>>()
            .join(","),
    );
    let names: Vec<Option<String>> = if app.is_bridge() {
        app.container
            .as_ref()
            .map(|c| c.port_mappings().iter().map(|m| m.name.clone()).collect())
            .unwrap_or_default()
    } else {
        app.port_defs().iter().map(|d| d.name.clone()).collect()
    };
    for (name, p) in names.iter().zip(ports) {
        if let Some(n) = name {
            set(format!("PORT_{}", env_name(n)), p.to_string());
        }
    }
    set("HOST".into(), host.to_owned());
    set("MESOS_TASK_ID".into(), task_id.to_owned());
    set("MARATHON_APP_ID".into(), app.id.clone());
    set(
        "MARATHON_APP_VERSION".into(),
        app.version.clone().unwrap_or_default(),
    );
    if let Some(img) = app.container.as_ref().and_then(|c| c.image()) {
        set("MARATHON_APP_DOCKER_IMAGE".into(), img.to_owned());
    }
    set("MARATHON_APP_RESOURCE_CPUS".into(), app.cpus.to_string());
    set("MARATHON_APP_RESOURCE_MEM".into(), app.mem.to_string());
    set("MARATHON_APP_RESOURCE_DISK".into(), app.disk.to_string());
    set("MARATHON_APP_RESOURCE_GPUS".into(), app.gpus.to_string());
    set(
        "MARATHON_APP_LABELS".into(),
        app.labels
            .keys()
            .map(|k| env_name(k))
            .collect::<Vec<_>>()
            .join(" "),
    );
    for (k, v) in &app.labels {
        if v.len() <= 512 {
            set(format!("MARATHON_APP_LABEL_{}", env_name(k)), v.clone());
        }
    }
    // The app's own variables win over Marathon's.
    for (k, v) in &app.env {
        if let Some(s) = v.as_str() {
            env.insert(k.clone(), json!(s));
        }
    }
    env.into_iter()
        .map(|(name, value)| json!({"name": name, "value": value}))
        .collect()
}

fn container(app: &App, host_ports: &[u16]) -> Option<Value> {
    let c = app.container.as_ref()?;
    let image = c.image()?;
    let d = c.docker.as_ref()?;
    if c.kind == "MESOS" {
        return Some(json!({
            "type": "MESOS",
            "mesos": {"image": {"type": "DOCKER", "docker": {"name": image}, "cached": !d.force_pull_image}},
            "volumes": c.volumes,
        }));
    }
    let network = d.network.clone().unwrap_or_else(|| "HOST".into());
    let mut host = host_ports.iter();
    let mappings: Vec<Value> = if app.is_bridge() {
        c.port_mappings()
            .iter()
            .filter(|m| m.host_port.is_some())
            .filter_map(|m| {
                let hp = host.next()?;
                Some(json!({"host_port": hp, "container_port": if m.container_port == 0 { i64::from(*hp) } else { m.container_port }, "protocol": m.protocol.split(',').next().unwrap_or("tcp")}))
            })
            .collect()
    } else {
        Vec::new()
    };
    Some(json!({
        "type": "DOCKER",
        "docker": {
            "image": image,
            "network": if network == "USER" { "USER".to_owned() } else { network },
            "port_mappings": mappings,
            "privileged": d.privileged,
            "parameters": d.parameters,
            "force_pull_image": d.force_pull_image,
        },
        "volumes": c.volumes,
    }))
}

/// The Mesos-side health check, if the app has one.
fn health_check(app: &App, host_ports: &[u16]) -> Option<Value> {
    let hc = app.health_checks.iter().find(|h| !h.marathon_side())?;
    let port = match hc.port {
        Some(p) => p,
        None => {
            let idx = usize::try_from(hc.port_index.unwrap_or(0)).ok()?;
            if app.is_bridge() {
                // Checked inside the container's network namespace: the container port.
                let m = app.container.as_ref()?.port_mappings().get(idx)?;
                if m.container_port != 0 {
                    m.container_port
                } else {
                    i64::from(*host_ports.get(idx)?)
                }
            } else {
                i64::from(*host_ports.get(idx).unwrap_or(&0))
            }
        }
    };
    let mut v = json!({
        "delay_seconds": hc.delay_seconds,
        "interval_seconds": hc.interval_seconds,
        "timeout_seconds": hc.timeout_seconds,
        "consecutive_failures": hc.max_consecutive_failures.max(0),
        "grace_period_seconds": hc.grace_period_seconds,
    });
    match hc.protocol.as_str() {
        "MESOS_HTTP" | "MESOS_HTTPS" => {
            v["type"] = json!("HTTP");
            v["http"] = json!({"port": port, "path": hc.path.clone().unwrap_or_else(|| "/".into()),
                "scheme": if hc.protocol == "MESOS_HTTPS" { "https" } else { "http" }});
        }
        "MESOS_TCP" => {
            v["type"] = json!("TCP");
            v["tcp"] = json!({"port": port});
        }
        "COMMAND" => {
            v["type"] = json!("COMMAND");
            v["command"] = json!({"value": hc.command_value()?, "shell": true});
        }
        _ => return None,
    }
    Some(v)
}

/// A task for `app` on the agent of `agent_id`.
pub fn build(
    app: &App,
    task_id: &str,
    agent_id: &str,
    host: &str,
    resources: Vec<Resource>,
    host_ports: &[u16],
    default_user: Option<&str>,
) -> Result<TaskInfo, serde_json::Error> {
    let env = environment(app, task_id, host, host_ports);
    let uris: Vec<Value> = app
        .fetch
        .iter()
        .filter_map(|f| {
            Some(json!({
                "value": f.get("uri")?.as_str()?,
                "executable": f.get("executable").and_then(Value::as_bool).unwrap_or(false),
                "extract": f.get("extract").and_then(Value::as_bool).unwrap_or(true),
                "cache": f.get("cache").and_then(Value::as_bool).unwrap_or(false),
            }))
        })
        .collect();
    let docker = app
        .container
        .as_ref()
        .is_some_and(|c| c.kind == "DOCKER" && c.image().is_some());
    let mut command = json!({"environment": {"variables": env}, "uris": uris});
    if let Some(cmd) = &app.cmd {
        command["value"] = json!(cmd);
        command["shell"] = json!(true);
    } else {
        command["shell"] = json!(false);
        let args = app.args.clone().unwrap_or_default();
        if !docker {
            command["value"] = json!(args.first().cloned().unwrap_or_default());
        }
        command["arguments"] = json!(args);
    }
    if let Some(u) = app.user.as_deref().or(default_user) {
        command["user"] = json!(u);
    }
    let name = PathId::parse(&app.id)
        .map(|p| {
            p.segments()
                .iter()
                .rev()
                .cloned()
                .collect::<Vec<_>>()
                .join(".")
        })
        .unwrap_or_default();
    let mut task = json!({
        "name": name,
        "task_id": {"value": task_id},
        "agent_id": {"value": agent_id},
        "resources": resources,
        "command": command,
        "labels": {"labels": app.labels.iter().map(|(k, v)| json!({"key": k, "value": v})).collect::<Vec<_>>()},
    });
    if let Some(c) = container(app, host_ports) {
        task["container"] = c;
    }
    if let Some(h) = health_check(app, host_ports) {
        task["health_check"] = h;
    }
    if let Some(g) = app.task_kill_grace_period_seconds {
        task["kill_policy"] =
            json!({"grace_period": {"nanoseconds": crate::model::sat_i64(g * 1e9)}});
    }
    serde_json::from_value(task)
}
