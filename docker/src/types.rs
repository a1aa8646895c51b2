//! Request and response bodies of the Engine API, with Docker's own (PascalCase) field
//! names. Only the fields Meseta uses are modelled; unknown response fields are ignored.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// `POST /containers/create` body: the container's config plus its `HostConfig`.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ContainerConfig {
    /// The image reference.
    pub image: String,
    /// `KEY=VALUE` pairs.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub env: Vec<String>,
    /// Arguments (after the entrypoint); `None` keeps the image's.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cmd: Option<Vec<String>>,
    /// Entrypoint; `None` keeps the image's.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub entrypoint: Option<Vec<String>>,
    /// `--workdir`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub working_dir: Option<String>,
    /// `--user`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    /// `--hostname`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hostname: Option<String>,
    /// `--label`.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: BTreeMap<String, String>,
    /// Ports the container exposes, `"80/tcp": {}`.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub exposed_ports: BTreeMap<String, Empty>,
    /// `--stop-signal`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stop_signal: Option<String>,
    /// Host-side settings.
    pub host_config: HostConfig,
}

/// `{}` in JSON.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Empty {}

/// One `HostPort` of a port binding.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct PortBinding {
    /// Host address (empty: all).
    #[serde(skip_serializing_if = "String::is_empty", default)]
    pub host_ip: String,
    /// Host port.
    pub host_port: String,
}

/// `--ulimit name=soft:hard`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Ulimit {
    /// e.g. `nofile`.
    pub name: String,
    /// Soft limit.
    pub soft: i64,
    /// Hard limit.
    pub hard: i64,
}

/// `--device host[:container[:perms]]`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct DeviceMapping {
    /// Device on the host.
    pub path_on_host: String,
    /// Path inside.
    pub path_in_container: String,
    /// `rwm`.
    pub cgroup_permissions: String,
}

/// `--log-driver` / `--log-opt`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct LogConfig {
    /// Driver name.
    #[serde(rename = "Type")]
    pub kind: String,
    /// Options.
    #[serde(rename = "Config")]
    pub config: BTreeMap<String, String>,
}

/// `HostConfig` of a create request.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct HostConfig {
    /// `bridge`, `host`, `none` or a network name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub network_mode: Option<String>,
    /// `"80/tcp": [{"HostPort": "31000"}]`.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub port_bindings: BTreeMap<String, Vec<PortBinding>>,
    /// `host:container[:ro|rw]` bind mounts and named volumes.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub binds: Vec<String>,
    /// Volume driver for named volumes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub volume_driver: Option<String>,
    /// `--privileged`.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub privileged: bool,
    /// `--memory` in bytes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub memory: Option<i64>,
    /// `--memory-swap` in bytes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub memory_swap: Option<i64>,
    /// `--cpu-shares`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cpu_shares: Option<i64>,
    /// CFS quota in µs (`--cpu-quota`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cpu_quota: Option<i64>,
    /// CFS period in µs (`--cpu-period`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cpu_period: Option<i64>,
    /// `--cpus` in units of 1e-9 CPUs.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub nano_cpus: Option<i64>,
    /// `--cap-add`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub cap_add: Vec<String>,
    /// `--cap-drop`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub cap_drop: Vec<String>,
    /// `--dns`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub dns: Vec<String>,
    /// `--dns-search`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub dns_search: Vec<String>,
    /// `--dns-option`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub dns_options: Vec<String>,
    /// `--add-host host:ip`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub extra_hosts: Vec<String>,
    /// `--read-only`.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub readonly_rootfs: bool,
    /// `--shm-size` in bytes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shm_size: Option<i64>,
    /// `--ulimit`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub ulimits: Vec<Ulimit>,
    /// `--tmpfs path[:options]`.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub tmpfs: BTreeMap<String, String>,
    /// `--device`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub devices: Vec<DeviceMapping>,
    /// `--security-opt`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub security_opt: Vec<String>,
    /// `--pid`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pid_mode: Option<String>,
    /// `--ipc`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ipc_mode: Option<String>,
    /// `--oom-kill-disable`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub oom_kill_disable: Option<bool>,
    /// `--init`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub init: Option<bool>,
    /// `--log-driver` / `--log-opt`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub log_config: Option<LogConfig>,
}

/// `POST /containers/create` answer.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Created {
    /// The new container's id.
    pub id: String,
    /// Warnings from dockerd.
    #[serde(default, deserialize_with = "null_as_empty")]
    pub warnings: Vec<String>,
}

/// `State` of an inspected container.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ContainerState {
    /// `created`, `running`, `exited`, ...
    #[serde(default)]
    pub status: String,
    /// Whether it runs.
    #[serde(default)]
    pub running: bool,
    /// Host pid of its first process (0 when not running).
    #[serde(default)]
    pub pid: i32,
    /// Exit code once exited.
    #[serde(default)]
    pub exit_code: i32,
    /// Whether the kernel OOM-killed it.
    #[serde(rename = "OOMKilled", default)]
    pub oom_killed: bool,
    /// Docker's error text, if it failed to start.
    #[serde(default)]
    pub error: String,
}

/// `NetworkSettings` of an inspected container (ports as bound).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct NetworkSettings {
    /// The container's address on the default bridge.
    #[serde(rename = "IPAddress", default)]
    pub ip_address: String,
    /// `"80/tcp": [{"HostIp": "0.0.0.0", "HostPort": "31000"}]`.
    #[serde(default, deserialize_with = "null_as_empty_map")]
    pub ports: BTreeMap<String, Option<Vec<PortBinding>>>,
}

/// `GET /containers/{id}/json` answer.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ContainerInspect {
    /// Full id.
    pub id: String,
    /// `/mesos-<container id>`.
    #[serde(default)]
    pub name: String,
    /// Runtime state.
    #[serde(default)]
    pub state: ContainerState,
    /// Network settings.
    #[serde(default)]
    pub network_settings: NetworkSettings,
}

/// One entry of `GET /containers/json`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ContainerSummary {
    /// Full id.
    pub id: String,
    /// Names, each with a leading `/`.
    #[serde(default, deserialize_with = "null_as_empty")]
    pub names: Vec<String>,
    /// `running`, `exited`, ...
    #[serde(default)]
    pub state: String,
}

impl ContainerSummary {
    /// The first name without its leading `/`.
    pub fn name(&self) -> &str {
        self.names
            .first()
            .map(|n| n.trim_start_matches('/'))
            .unwrap_or_default()
    }
}

/// `POST /containers/{id}/wait` answer.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct WaitResponse {
    /// The exit code.
    pub status_code: i64,
}

/// `GET /version` answer.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Version {
    /// e.g. `20.10.24`.
    #[serde(default)]
    pub version: String,
    /// e.g. `1.41`.
    #[serde(default)]
    pub api_version: String,
}

/// `GET /images/{name}/json` answer (the parts used).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ImageInspect {
    /// `sha256:...`.
    pub id: String,
    /// Tags.
    #[serde(default, deserialize_with = "null_as_empty")]
    pub repo_tags: Vec<String>,
}

/// One line of a pull or load progress stream.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct ProgressLine {
    /// e.g. `Downloading`, `Pull complete`.
    #[serde(default)]
    pub status: String,
    /// Layer id.
    #[serde(default)]
    pub id: String,
    /// `{"current": n, "total": m}`.
    #[serde(rename = "progressDetail", default)]
    pub progress_detail: ProgressDetail,
    /// A stream message (image load).
    #[serde(default)]
    pub stream: String,
    /// Set when the operation failed.
    #[serde(default)]
    pub error: String,
}

/// Byte counts of one layer.
#[derive(Debug, Clone, Copy, Default, Deserialize)]
pub struct ProgressDetail {
    /// Bytes done.
    #[serde(default)]
    pub current: u64,
    /// Bytes in all.
    #[serde(default)]
    pub total: u64,
}

fn null_as_empty<'de, D, T>(d: D) -> Result<Vec<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de>,
{
    Ok(Option::<Vec<T>>::deserialize(d)?.unwrap_or_default())
}

fn null_as_empty_map<'de, D, V>(d: D) -> Result<BTreeMap<String, V>, D::Error>
where
    D: serde::Deserializer<'de>,
    V: Deserialize<'de>,
{
    Ok(Option::<BTreeMap<String, V>>::deserialize(d)?.unwrap_or_default())
}
