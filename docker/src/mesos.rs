//! A Mesos task with `ContainerInfo.type = DOCKER` as a container-create request, the way
//! Mesos' docker containerizer (`src/docker/docker.cpp` `Docker::run`) builds `docker run`:
//!
//! * `shell: true` (the default): entrypoint `/bin/sh`, arguments `-c <value>`;
//!   `shell: false`: the image's entrypoint, with `value` (if any) and `arguments` as its
//!   arguments.
//! * the sandbox bind-mounted at the mapped directory (`/mnt/mesos/sandbox`), which is also
//!   the working directory and `MESOS_SANDBOX`; `MESOS_CONTAINER_NAME` and `MESOS_TASK_ID` set.
//! * `cpus` → `--cpu-shares` (1024 per cpu, at least 2; plus a CFS quota with
//!   `--cgroups_enable_cfs`), `mem` → `--memory` (at least 32 MB).
//! * network `HOST` (the proto default), `BRIDGE` (with port mappings), `NONE` or `USER`.
//! * volumes (host paths, sandbox paths, docker volumes), `privileged`, then `parameters`.

use std::path::{Path, PathBuf};

use meseta_api::{DockerInfo, DockerNetwork, TaskInfo, Volume, VolumeMode, VolumeSourceType};

use crate::params;
use crate::types::{ContainerConfig, Empty, PortBinding};
use crate::DockerError;

/// Mesos' `CPU_SHARES_PER_CPU`.
pub const CPU_SHARES_PER_CPU: f64 = 1024.0;
/// Mesos' `MIN_CPU_SHARES`.
pub const MIN_CPU_SHARES: i64 = 2;
/// Mesos' `MIN_MEMORY` (32 MB).
pub const MIN_MEMORY_BYTES: i64 = 32 << 20;
/// CFS period used with `--cgroups_enable_cfs` (Mesos' 100 ms).
pub const CFS_PERIOD_US: i64 = 100_000;

/// Where the container runs, besides what the task says.
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// The sandbox on the host (`--sandbox_directory` of the docker executor).
    pub sandbox: PathBuf,
    /// Where it appears inside (`--mapped_directory`, `/mnt/mesos/sandbox`).
    pub mapped_directory: PathBuf,
    /// The container's name (`mesos-<container id>`).
    pub name: String,
    /// Extra environment (task environment flag, `CommandInfo.environment`), in order.
    pub environment: Vec<(String, String)>,
    /// Enforce the cpu limit with a CFS quota.
    pub cgroups_enable_cfs: bool,
}

/// The task's `DockerInfo`, or why it has none.
pub fn docker_info(task: &TaskInfo) -> Result<&DockerInfo, DockerError> {
    task.container
        .as_ref()
        .filter(|c| c.r#type == meseta_api::ContainerType::Docker)
        .and_then(|c| c.docker.as_ref())
        .ok_or_else(|| {
            DockerError::Invalid("the task has no ContainerInfo.docker (type DOCKER)".into())
        })
}

/// Builds the create request for `task`.
pub fn container_config(
    task: &TaskInfo,
    opts: &RunOptions,
) -> Result<ContainerConfig, DockerError> {
    let docker = docker_info(task)?;
    if docker.image.trim().is_empty() {
        return Err(DockerError::Invalid(
            "ContainerInfo.docker.image is empty".into(),
        ));
    }
    let mapped = opts.mapped_directory.display().to_string();
    let mut config = ContainerConfig {
        image: docker.image.clone(),
        working_dir: Some(mapped.clone()),
        ..ContainerConfig::default()
    };
    command(&mut config, task)?;
    config
        .env
        .extend(opts.environment.iter().map(|(k, v)| format!("{k}={v}")));
    config.env.push(format!("MESOS_SANDBOX={mapped}"));
    config
        .env
        .push(format!("MESOS_CONTAINER_NAME={}", opts.name));
    config
        .env
        .push(format!("MESOS_TASK_ID={}", task.task_id.value));
    config
        .labels
        .insert("meseta.task_id".into(), task.task_id.value.clone());
    let host = &mut config.host_config;
    host.binds
        .push(format!("{}:{mapped}", opts.sandbox.display()));
    resources(&mut config, task, opts.cgroups_enable_cfs);
    network(&mut config, task, docker)?;
    let container = task.container.as_ref();
    for volume in container.map(|c| c.volumes.as_slice()).unwrap_or_default() {
        let bind = volume_bind(volume, &opts.sandbox, &opts.mapped_directory)?;
        config.host_config.binds.push(bind);
    }
    if let Some(hostname) = container.and_then(|c| c.hostname.clone()) {
        config.hostname = Some(hostname);
    }
    config.host_config.privileged = docker.privileged.unwrap_or(false);
    if let Some(driver) = &docker.volume_driver {
        config.host_config.volume_driver = Some(driver.clone());
    }
    for p in &docker.parameters {
        params::apply(&mut config, &p.key, &p.value)?;
    }
    Ok(config)
}

fn command(config: &mut ContainerConfig, task: &TaskInfo) -> Result<(), DockerError> {
    let Some(cmd) = &task.command else {
        return Ok(()); // the image's entrypoint and cmd
    };
    if cmd.is_shell() {
        let value = cmd.value.as_deref().unwrap_or_default();
        if value.is_empty() {
            return Err(DockerError::Invalid(
                "Shell specified but no command value provided".into(),
            ));
        }
        config.entrypoint = Some(vec!["/bin/sh".into()]);
        config.cmd = Some(vec!["-c".into(), value.to_owned()]);
    } else {
        let mut args: Vec<String> = cmd
            .value
            .iter()
            .filter(|v| !v.is_empty())
            .cloned()
            .collect();
        args.extend(cmd.arguments.iter().cloned());
        if !args.is_empty() {
            config.cmd = Some(args);
        }
    }
    Ok(())
}

fn resources(config: &mut ContainerConfig, task: &TaskInfo, cfs: bool) {
    let total = |name: &str| -> f64 {
        task.resources
            .iter()
            .filter(|r| r.name == name)
            .filter_map(|r| r.scalar.as_ref().map(|s| s.value))
            .sum()
    };
    let (cpus, mem) = (total("cpus"), total("mem"));
    let host = &mut config.host_config;
    // Resource scalars are validated finite and small by the master; the clamps keep the
    // casts in range anyway.
    #[allow(clippy::cast_possible_truncation)]
    if cpus > 0.0 {
        let shares = (cpus.min(1e6) * CPU_SHARES_PER_CPU) as i64;
        host.cpu_shares = Some(shares.max(MIN_CPU_SHARES));
        if cfs {
            host.cpu_period = Some(CFS_PERIOD_US);
            host.cpu_quota = Some(((cpus.min(1e6) * 100_000.0) as i64).max(1_000));
        }
    }
    #[allow(clippy::cast_possible_truncation)]
    if mem > 0.0 {
        let bytes = (mem.min(1e9) * 1024.0 * 1024.0) as i64;
        host.memory = Some(bytes.max(MIN_MEMORY_BYTES));
    }
}

fn network(
    config: &mut ContainerConfig,
    task: &TaskInfo,
    docker: &DockerInfo,
) -> Result<(), DockerError> {
    let mode = match docker.network_or_default() {
        DockerNetwork::Host => "host".to_owned(),
        DockerNetwork::Bridge => "bridge".to_owned(),
        DockerNetwork::None => "none".to_owned(),
        DockerNetwork::User => task
            .container
            .as_ref()
            .and_then(|c| c.network_infos.first())
            .and_then(|n| n.name.clone())
            .ok_or_else(|| {
                DockerError::Invalid(
                    "network USER needs a network name in ContainerInfo.network_infos".into(),
                )
            })?,
    };
    let mappable = matches!(
        docker.network_or_default(),
        DockerNetwork::Bridge | DockerNetwork::User
    );
    if !docker.port_mappings.is_empty() && !mappable {
        return Err(DockerError::Invalid(format!(
            "port mappings are only supported for BRIDGE and USER networks, not {mode}"
        )));
    }
    for m in &docker.port_mappings {
        let protocol = m.protocol.as_deref().unwrap_or("tcp").to_ascii_lowercase();
        if protocol != "tcp" && protocol != "udp" {
            return Err(DockerError::Invalid(format!(
                "unsupported port mapping protocol '{protocol}'"
            )));
        }
        let key = format!("{}/{protocol}", m.container_port);
        config.exposed_ports.insert(key.clone(), Empty {});
        config
            .host_config
            .port_bindings
            .entry(key)
            .or_default()
            .push(PortBinding {
                host_ip: String::new(),
                host_port: m.host_port.to_string(),
            });
    }
    config.host_config.network_mode = Some(mode);
    Ok(())
}

/// One `ContainerInfo.volumes` entry as a `Binds` item (`source:target:mode`).
pub fn volume_bind(volume: &Volume, sandbox: &Path, mapped: &Path) -> Result<String, DockerError> {
    let target = if volume.container_path.starts_with('/') {
        volume.container_path.clone()
    } else {
        mapped.join(&volume.container_path).display().to_string()
    };
    let mode = match volume.mode {
        VolumeMode::Rw => "rw",
        VolumeMode::Ro => "ro",
    };
    let in_sandbox = |p: &str| -> Result<String, DockerError> {
        if Path::new(p)
            .components()
            .any(|c| matches!(c, std::path::Component::ParentDir))
        {
            return Err(DockerError::Invalid(format!(
                "sandbox volume path '{p}' must stay inside the sandbox"
            )));
        }
        Ok(sandbox
            .join(p.trim_start_matches('/'))
            .display()
            .to_string())
    };
    let source = match (&volume.source, &volume.host_path) {
        (Some(source), _) => match source.r#type {
            Some(VolumeSourceType::HostPath) => source
                .host_path
                .as_ref()
                .map(|h| h.path.clone())
                .ok_or_else(|| {
                DockerError::Invalid("HOST_PATH volume without host_path".into())
            })?,
            Some(VolumeSourceType::SandboxPath) => {
                let sp = source.sandbox_path.as_ref().ok_or_else(|| {
                    DockerError::Invalid("SANDBOX_PATH volume without sandbox_path".into())
                })?;
                if sp.r#type == Some(meseta_api::SandboxPathType::Parent) {
                    return Err(DockerError::Invalid(
                        "SANDBOX_PATH volumes of type PARENT need a parent container; docker tasks have none".into(),
                    ));
                }
                in_sandbox(&sp.path)?
            }
            Some(VolumeSourceType::DockerVolume) => source
                .docker_volume
                .as_ref()
                .map(|d| d.name.clone())
                .ok_or_else(|| {
                    DockerError::Invalid("DOCKER_VOLUME volume without docker_volume".into())
                })?,
            other => {
                return Err(DockerError::Invalid(format!(
                    "volume source {other:?} is not supported by the docker containerizer"
                )))
            }
        },
        (None, Some(host)) if host.starts_with('/') => host.clone(),
        (None, Some(host)) => in_sandbox(host)?,
        (None, None) => {
            return Err(DockerError::Invalid(format!(
                "volume {} has neither host_path nor source",
                volume.container_path
            )))
        }
    };
    Ok(format!("{source}:{target}:{mode}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn task(json: serde_json::Value) -> TaskInfo {
        let mut base = serde_json::json!({
            "name": "t", "task_id": {"value": "t1"}, "agent_id": {"value": "a"},
            "resources": [
                {"name": "cpus", "type": "SCALAR", "scalar": {"value": 0.5}},
                {"name": "mem", "type": "SCALAR", "scalar": {"value": 64}}
            ]
        });
        if let (Some(b), Some(extra)) = (base.as_object_mut(), json.as_object()) {
            b.extend(extra.clone());
        }
        serde_json::from_value(base).unwrap()
    }

    fn opts() -> RunOptions {
        RunOptions {
            sandbox: "/w/sb".into(),
            mapped_directory: "/mnt/mesos/sandbox".into(),
            name: "mesos-c1".into(),
            environment: vec![("A".into(), "1".into())],
            cgroups_enable_cfs: false,
        }
    }

    #[test]
    fn shell_command_bridge_ports_volumes_and_resources() {
        let t = task(serde_json::json!({
            "command": {"value": "echo hi"},
            "container": {"type": "DOCKER",
                "volumes": [{"mode": "RO", "container_path": "/data", "host_path": "/srv"},
                            {"mode": "RW", "container_path": "out", "source": {"type": "SANDBOX_PATH", "sandbox_path": {"type": "SELF", "path": "o"}}}],
                "docker": {"image": "busybox", "network": "BRIDGE", "privileged": true,
                    "port_mappings": [{"host_port": 31000, "container_port": 80}],
                    "parameters": [{"key": "label", "value": "x=y"}]}}
        }));
        let c = container_config(&t, &opts()).unwrap();
        assert_eq!(c.entrypoint, Some(vec!["/bin/sh".to_owned()]));
        assert_eq!(c.cmd, Some(vec!["-c".to_owned(), "echo hi".to_owned()]));
        assert!(c.env.contains(&"A=1".to_owned()));
        assert!(c
            .env
            .contains(&"MESOS_SANDBOX=/mnt/mesos/sandbox".to_owned()));
        let h = &c.host_config;
        assert_eq!(h.network_mode.as_deref(), Some("bridge"));
        assert_eq!(h.port_bindings["80/tcp"][0].host_port, "31000");
        assert_eq!(
            h.binds,
            [
                "/w/sb:/mnt/mesos/sandbox",
                "/srv:/data:ro",
                "/w/sb/o:/mnt/mesos/sandbox/out:rw"
            ]
        );
        assert!(h.privileged);
        assert_eq!(h.cpu_shares, Some(512));
        assert_eq!(h.memory, Some(64 << 20));
        assert_eq!(c.labels["x"], "y");
    }

    #[test]
    fn host_network_refuses_port_mappings_and_shell_needs_a_value() {
        let t = task(serde_json::json!({
            "command": {"value": "true"},
            "container": {"type": "DOCKER", "docker": {"image": "busybox",
                "port_mappings": [{"host_port": 1, "container_port": 2}]}}
        }));
        assert!(container_config(&t, &opts())
            .unwrap_err()
            .to_string()
            .contains("BRIDGE"));
        let t = task(serde_json::json!({
            "command": {"shell": false, "arguments": ["sleep", "1"]},
            "container": {"type": "DOCKER", "docker": {"image": "busybox"}}
        }));
        let c = container_config(&t, &opts()).unwrap();
        assert_eq!(c.entrypoint, None);
        assert_eq!(c.cmd, Some(vec!["sleep".to_owned(), "1".to_owned()]));
        assert_eq!(c.host_config.network_mode.as_deref(), Some("host"));
        let t = task(serde_json::json!({
            "command": {"shell": true},
            "container": {"type": "DOCKER", "docker": {"image": "busybox"}}
        }));
        assert!(container_config(&t, &opts()).is_err());
    }
}
