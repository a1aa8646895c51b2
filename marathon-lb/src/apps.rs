//! From Marathon's `GET /v2/apps?embed=apps.tasks` to the services HAProxy serves: one
//! [`Service`] per app and service port, with the app's `HAPROXY_*` labels applied and its live
//! tasks as [`Backend`]s — upstream marathon-lb's `get_apps` (marathon_lb.py) and the port and
//! address rules of its `utils.py`.
//!
//! Unlike upstream, a label that cannot be used (a non-numeric `HAPROXY_0_PORT`, a mode other
//! than http/tcp, a value with a line break where HAProxy would read it as a new directive…)
//! leaves that app out with one log line instead of failing the whole configuration.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::net::IpAddr;

use serde_json::Value;

/// A task's address for one service port.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Backend {
    /// The agent host Marathon reports.
    pub host: String,
    /// The address HAProxy connects to.
    pub ip: String,
    /// The port HAProxy connects to.
    pub port: u16,
    /// Whether the server is kept but given no new traffic.
    pub draining: bool,
}

/// The first Marathon health check of a service port, as upstream reads it.
#[derive(Debug, Clone, PartialEq)]
pub struct HealthCheck {
    /// `HTTP`, `TCP`, `MESOS_HTTP`, …
    pub protocol: String,
    /// HTTP path (`/` when unset).
    pub path: String,
    /// `portIndex`.
    pub port_index: Option<u64>,
    /// An explicit `port`.
    pub port: Option<u64>,
    /// `timeoutSeconds`.
    pub timeout_seconds: u64,
    /// `intervalSeconds`.
    pub interval_seconds: u64,
    /// `gracePeriodSeconds`.
    pub grace_period_seconds: u64,
    /// `maxConsecutiveFailures`.
    pub max_consecutive_failures: u64,
}

/// One app's service port, with its labels applied.
#[derive(Debug, Clone)]
pub struct Service {
    /// Marathon app id (`/prod/web`).
    pub app_id: String,
    /// The port's index `n` in the app (for `HAPROXY_{n}_*`).
    pub index: usize,
    /// The port HAProxy listens on.
    pub service_port: u16,
    /// Live tasks.
    pub backends: BTreeSet<Backend>,
    /// `HAPROXY_{n}_VHOST`, lower-cased (comma-separated for several).
    pub hostname: Option<String>,
    /// `HAPROXY_{n}_PATH`.
    pub path: Option<String>,
    /// `HAPROXY_{n}_AUTH` = realm:user:encrypted-password.
    pub auth: Option<(String, String, String)>,
    /// `HAPROXY_{n}_STICKY`.
    pub sticky: bool,
    /// `HAPROXY_{n}_ENABLED` (true unless `--strict-mode`).
    pub enabled: bool,
    /// `HAPROXY_{n}_REDIRECT_TO_HTTPS`.
    pub redirect_to_https: bool,
    /// `HAPROXY_{n}_USE_HSTS`.
    pub use_hsts: bool,
    /// `HAPROXY_{n}_SSL_CERT`.
    pub ssl_cert: Option<String>,
    /// `HAPROXY_{n}_BIND_OPTIONS`.
    pub bind_options: Option<String>,
    /// `HAPROXY_{n}_BIND_ADDR` (`*`).
    pub bind_addr: String,
    /// `HAPROXY_GROUP` of the app.
    pub groups: Vec<String>,
    /// `HAPROXY_{n}_GROUP`, which takes precedence.
    pub port_groups: Vec<String>,
    /// `HAPROXY_{n}_MODE`, or http for an HTTP health check / a vhost, else tcp.
    pub mode: Option<String>,
    /// `HAPROXY_{n}_BALANCE` (roundrobin).
    pub balance: String,
    /// The port's health check.
    pub health_check: Option<HealthCheck>,
    /// All of the app's labels (template overrides are read from them).
    pub labels: HashMap<String, String>,
    /// `HAPROXY_{n}_BACKEND_WEIGHT` (vhost ACL order).
    pub backend_weight: i64,
    /// `HAPROXY_{n}_BACKEND_NETWORK_ALLOWED_ACL`.
    pub network_allowed: Option<String>,
    /// `HAPROXY_{n}_BACKEND_HEALTHCHECK_PORT_INDEX`.
    pub healthcheck_port_index: Option<usize>,
    /// `HAPROXY_{n}_HTTP_BACKEND_REDIR`.
    pub redirpath: Option<String>,
}

impl Service {
    /// HAProxy's name for the service: the app id without its leading `/`, `/` → `_`, and
    /// the service port (`prod_web_10000`).
    pub fn backend_name(&self) -> String {
        format!(
            "{}_{}",
            self.app_id.trim_start_matches('/').replace('/', "_"),
            self.service_port
        )
    }
}

/// Task states whose tasks get no traffic (upstream's `EXCLUDED_TASK_STATES`).
const EXCLUDED_TASK_STATES: &[&str] = &[
    "TASK_STAGING",
    "TASK_STARTING",
    "TASK_KILLING",
    "TASK_FINISHED",
    "TASK_FAILED",
    "TASK_KILLED",
    "TASK_ERROR",
    "TASK_DROPPED",
    "TASK_GONE",
    "TASK_GONE_BY_OPERATOR",
    "TASK_UNKNOWN",
];

/// How services are read.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// `--strict-mode`: only ports with `HAPROXY_{n}_ENABLED=true`.
    pub strict_mode: bool,
    /// `--health-check`: only tasks whose Marathon health checks pass.
    pub health_check: bool,
    /// `--min-serv-port-ip-per-task` / `--max-serv-port-ip-per-task`.
    pub ip_per_task_ports: (u16, u16),
}

/// An app left out, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skipped {
    /// The app.
    pub app_id: String,
    /// One line for the log.
    pub reason: String,
}

/// Health results remembered for tasks whose latest listing carried none (upstream's LRU).
#[derive(Debug, Default)]
pub struct HealthCache(HashMap<String, bool>);

/// Reads every app of `apps` (the `apps` array) into services. `resolve` maps an agent host
/// name to an address (see [`hosts_to_resolve`]).
pub fn services(
    apps: &[Value],
    opts: &Options,
    resolve: &dyn Fn(&str) -> Option<IpAddr>,
    cache: &mut HealthCache,
) -> (Vec<Service>, Vec<Skipped>) {
    let mut out = Vec::new();
    let mut skipped = Vec::new();
    let mut seen_tasks = HashSet::new();
    let mut assigner = PortAssigner::new(opts.ip_per_task_ports);
    for app in apps {
        let id = app["id"].as_str().unwrap_or_default().to_owned();
        match app_services(app, opts, resolve, cache, &mut seen_tasks, &mut assigner) {
            Ok(mut s) => out.append(&mut s),
            Err(reason) => {
                tracing::warn!(app = %id, %reason, "app left out of the HAProxy configuration");
                skipped.push(Skipped { app_id: id, reason });
            }
        }
    }
    cache.0.retain(|k, _| seen_tasks.contains(k));
    (out, skipped)
}

/// The distinct agent hosts of `apps`' tasks that are not already addresses.
pub fn hosts_to_resolve(apps: &[Value]) -> BTreeSet<String> {
    apps.iter()
        .flat_map(|a| a["tasks"].as_array().into_iter().flatten())
        .filter_map(|t| t["host"].as_str())
        .filter(|h| !h.is_empty() && h.parse::<IpAddr>().is_err())
        .map(str::to_owned)
        .collect()
}

fn labels_of(app: &Value) -> Result<HashMap<String, String>, String> {
    let mut labels = HashMap::new();
    if let Some(map) = app["labels"].as_object() {
        for (k, v) in map {
            let v = v
                .as_str()
                .ok_or_else(|| format!("label {k} is not a string"))?;
            labels.insert(k.clone(), v.replace("\r\n", "\n"));
        }
    }
    Ok(labels)
}

fn app_services(
    app: &Value,
    opts: &Options,
    resolve: &dyn Fn(&str) -> Option<IpAddr>,
    cache: &mut HealthCache,
    seen_tasks: &mut HashSet<String>,
    assigner: &mut PortAssigner,
) -> Result<Vec<Service>, String> {
    let app_id = app["id"]
        .as_str()
        .filter(|s| s.starts_with('/'))
        .ok_or("app without an id")?
        .to_owned();
    let labels = labels_of(app)?;
    let groups = split_list(labels.get("HAPROXY_GROUP"));
    let mode = networking_mode(app);
    let ports = service_ports(app, &mode, assigner);
    let mut services = Vec::new();
    for (i, port) in ports.iter().enumerate() {
        let Some(port) = *port else {
            tracing::warn!(app = %app_id, index = i, "skipping an undefined service port");
            continue;
        };
        let mut s = Service {
            app_id: app_id.clone(),
            index: i,
            service_port: port,
            backends: BTreeSet::new(),
            hostname: None,
            path: None,
            auth: None,
            sticky: false,
            enabled: !opts.strict_mode,
            redirect_to_https: false,
            use_hsts: false,
            ssl_cert: None,
            bind_options: None,
            bind_addr: "*".into(),
            groups: groups.clone(),
            port_groups: Vec::new(),
            mode: None,
            balance: "roundrobin".into(),
            health_check: health_check(app, i),
            labels: labels.clone(),
            backend_weight: 0,
            network_allowed: None,
            healthcheck_port_index: None,
            redirpath: None,
        };
        if s.health_check
            .as_ref()
            .is_some_and(|h| h.protocol == "HTTP")
        {
            s.mode = Some("http".into());
        }
        crate::labels::apply(&mut s, &labels)?;
        if s.health_check.is_none() {
            if let Some(idx) = s.healthcheck_port_index {
                s.health_check = health_check(app, idx);
                if s.health_check.as_ref().is_some_and(|h| {
                    matches!(
                        h.protocol.as_str(),
                        "HTTP" | "HTTPS" | "MESOS_HTTP" | "MESOS_HTTPS"
                    )
                }) {
                    s.mode = Some("http".into());
                }
            }
        }
        services.push(s);
    }
    let has_checks = app["healthChecks"]
        .as_array()
        .is_some_and(|a| !a.is_empty());
    for task in app["tasks"].as_array().into_iter().flatten() {
        let task_id = task["id"].as_str().unwrap_or_default();
        seen_tasks.insert(task_id.to_owned());
        let host = task["host"].as_str().unwrap_or_default();
        if host.is_empty() {
            continue;
        }
        if task["state"]
            .as_str()
            .is_some_and(|st| EXCLUDED_TASK_STATES.contains(&st))
        {
            continue;
        }
        if opts.health_check && has_checks {
            match task["healthCheckResults"].as_array() {
                None => {
                    if !cache.0.get(task_id).copied().unwrap_or(false) {
                        continue;
                    }
                }
                Some(results) => {
                    let alive = results.iter().any(|r| r["alive"].as_bool() == Some(true));
                    cache.0.insert(task_id.to_owned(), alive);
                    if !alive {
                        continue;
                    }
                }
            }
        }
        let Some((ip, task_ports)) = task_ip_and_ports(app, task, &mode, resolve) else {
            tracing::warn!(app = %app_id, task = %task_id, "task has no resolvable address; skipped");
            continue;
        };
        let draining = task["draining"].as_bool().unwrap_or(false);
        for (task_port, service_port) in task_ports.iter().zip(ports.iter()) {
            if let Some(s) = services
                .iter_mut()
                .find(|s| Some(s.service_port) == *service_port)
            {
                s.backends.insert(Backend {
                    host: host.to_owned(),
                    ip: ip.clone(),
                    port: *task_port,
                    draining,
                });
            }
        }
    }
    Ok(services)
}

fn split_list(v: Option<&String>) -> Vec<String> {
    v.map(|s| s.split(',').map(|g| g.trim().to_owned()).collect())
        .unwrap_or_default()
}

fn health_check(app: &Value, index: usize) -> Option<HealthCheck> {
    let checks = app["healthChecks"].as_array()?;
    let c = checks.iter().find(|c| {
        c["port"].as_u64().is_some_and(|p| p > 0) || c["portIndex"].as_u64() == Some(index as u64)
    })?;
    Some(HealthCheck {
        protocol: c["protocol"].as_str().unwrap_or("HTTP").to_owned(),
        path: c["path"].as_str().unwrap_or("/").to_owned(),
        port_index: c["portIndex"].as_u64(),
        port: c["port"].as_u64(),
        timeout_seconds: c["timeoutSeconds"].as_u64().unwrap_or(20),
        interval_seconds: c["intervalSeconds"].as_u64().unwrap_or(60),
        grace_period_seconds: c["gracePeriodSeconds"].as_u64().unwrap_or(300),
        max_consecutive_failures: c["maxConsecutiveFailures"].as_u64().unwrap_or(3),
    })
}

/// `host`, `container` or `container/bridge` (utils.py `get_app_networking_mode`).
fn networking_mode(app: &Value) -> String {
    let mut mode = if app["ipAddress"].is_object() {
        "container"
    } else {
        "host"
    }
    .to_owned();
    match app["container"]["docker"]["network"].as_str() {
        Some("USER") => mode = "container".into(),
        Some("BRIDGE") => mode = "container/bridge".into(),
        _ => {}
    }
    for n in app["networks"].as_array().into_iter().flatten() {
        mode = n["mode"].as_str().unwrap_or("container").to_owned();
    }
    mode
}

fn port_mappings(app: &Value) -> Vec<Value> {
    let docker = app["container"]["docker"]["portMappings"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    if !docker.is_empty() {
        return docker;
    }
    app["container"]["portMappings"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

fn as_port(v: &Value) -> Option<u16> {
    v.as_u64()
        .and_then(|p| u16::try_from(p).ok())
        .filter(|p| *p > 0)
}

fn service_ports(app: &Value, mode: &str, assigner: &mut PortAssigner) -> Vec<Option<u16>> {
    if mode == "container" || mode == "container/bridge" {
        let ports: Vec<Option<u16>> = port_mappings(app)
            .iter()
            .filter(|p| !p["servicePort"].is_null())
            .map(|p| as_port(&p["servicePort"]))
            .collect();
        if !ports.is_empty() {
            return ports;
        }
    }
    let mut ports: Vec<Option<u16>> = match app["portDefinitions"].as_array() {
        Some(defs) => defs
            .iter()
            .filter(|p| !p["port"].is_null())
            .map(|p| as_port(&p["port"]))
            .collect(),
        None => app["ports"]
            .as_array()
            .into_iter()
            .flatten()
            .map(as_port)
            .collect(),
    };
    if ports.is_empty() && mode == "container" {
        if let Some(task) = app["tasks"].as_array().and_then(|t| t.first()) {
            let id = app["id"].as_str().unwrap_or_default();
            ports = task_ports(app, task, mode)
                .iter()
                .map(|p| assigner.assign(id, *p))
                .collect();
        }
    }
    ports
}

fn task_ports(app: &Value, task: &Value, mode: &str) -> Vec<u16> {
    let from_task: Vec<u16> = task["ports"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(as_port)
        .collect();
    let defs = || -> Vec<u16> {
        app["portDefinitions"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|p| as_port(&p["port"]))
            .collect()
    };
    let mappings = || -> Vec<u16> {
        port_mappings(app)
            .iter()
            .filter_map(|p| as_port(&p["containerPort"]))
            .collect()
    };
    match mode {
        "host" if !from_task.is_empty() => from_task,
        "host" => defs(),
        "container/bridge" if !from_task.is_empty() => from_task,
        "container/bridge" => {
            let d = defs();
            if d.is_empty() {
                mappings()
            } else {
                d
            }
        }
        _ => {
            let disc: Vec<u16> = app["ipAddress"]["discovery"]["ports"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|p| as_port(&p["number"]))
                .collect();
            if disc.is_empty() {
                mappings()
            } else {
                disc
            }
        }
    }
}

fn task_ip_and_ports(
    app: &Value,
    task: &Value,
    mode: &str,
    resolve: &dyn Fn(&str) -> Option<IpAddr>,
) -> Option<(String, Vec<u16>)> {
    let ip = if mode == "container" {
        task["ipAddresses"][0]["ipAddress"]
            .as_str()
            .filter(|s| !s.is_empty())?
            .to_owned()
    } else {
        let host = task["host"].as_str().filter(|s| !s.is_empty())?;
        match host.parse::<IpAddr>() {
            Ok(ip) => ip.to_string(),
            Err(_) => resolve(host)?.to_string(),
        }
    };
    let ports = task_ports(app, task, mode);
    (!ports.is_empty()).then_some((ip, ports))
}

/// Service ports for IP-per-task apps without any (utils.py `ServicePortAssigner`): a hash of
/// app id and task port into the configured range, deterministic across marathon-lb instances.
#[derive(Debug)]
struct PortAssigner {
    range: (u16, u16),
    by_app: HashMap<(String, u16), u16>,
}

impl PortAssigner {
    fn new(range: (u16, u16)) -> PortAssigner {
        PortAssigner {
            range,
            by_app: HashMap::new(),
        }
    }

    fn assign(&mut self, app_id: &str, task_port: u16) -> Option<u16> {
        use sha1::Digest;
        let key = (app_id.to_owned(), task_port);
        if let Some(p) = self.by_app.get(&key) {
            return Some(*p);
        }
        let (min, max) = self.range;
        if min == 0 || max < min {
            return None;
        }
        let span = u32::from(max - min) + 1;
        if self.by_app.len() >= span as usize {
            tracing::warn!("service ports for IP-per-task apps are exhausted");
            return None;
        }
        let taken: HashSet<u16> = self.by_app.values().copied().collect();
        let mut port = None;
        for i in 0..span.min(100) {
            let h = sha1::Sha1::digest(format!("{app_id}-{task_port}-{i}").as_bytes());
            let n = u32::from_str_radix(&hex8(&h), 16).unwrap_or(0);
            let trial = u16::try_from(u32::from(min) + n % span).ok()?;
            if !taken.contains(&trial) {
                port = Some(trial);
                break;
            }
        }
        let port = port.or_else(|| (min..=max).find(|p| !taken.contains(p)))?;
        self.by_app.insert(key, port);
        Some(port)
    }
}

fn hex8(bytes: &[u8]) -> String {
    bytes.iter().take(4).map(|b| format!("{b:02x}")).collect()
}
