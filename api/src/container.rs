//! Container description: `ContainerInfo` (MESOS or DOCKER), `DockerInfo`, `MesosInfo`,
//! `Image`, `NetworkInfo`, and the runtime `ContainerStatus` / `CgroupInfo`.
//!
//! Volumes are in [`crate::volume`], Linux-specific settings in [`crate::linux`].

use serde::{Deserialize, Serialize};

use crate::command::Secret;
use crate::common::{Labels, Parameter};
use crate::encoding::{lenient_enum, null_as_default};
use crate::ids::ContainerId;
use crate::linux::{LinuxInfo, RLimitInfo, TtyInfo};
use crate::volume::Volume;

/// `ContainerInfo.Type`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ContainerType {
    /// Docker containerizer.
    Docker,
    /// Mesos (universal) containerizer.
    #[default]
    Mesos,
}

/// How a task's or executor's container is set up (`mesos.v1.ContainerInfo`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ContainerInfo {
    /// Which containerizer (required).
    pub r#type: ContainerType,
    /// Volumes to mount.
    #[serde(default, deserialize_with = "null_as_default")]
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub volumes: Vec<Volume>,
    /// Container hostname.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hostname: Option<String>,
    /// Docker settings when `type` is `DOCKER`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub docker: Option<DockerInfo>,
    /// Mesos containerizer settings when `type` is `MESOS`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mesos: Option<MesosInfo>,
    /// Networks to join (CNI etc.).
    #[serde(default, deserialize_with = "null_as_default")]
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub network_infos: Vec<NetworkInfo>,
    /// Linux capabilities, seccomp, namespaces.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub linux_info: Option<LinuxInfo>,
    /// Resource limits (`setrlimit`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rlimit_info: Option<RLimitInfo>,
    /// Allocate a TTY.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tty_info: Option<TtyInfo>,
}

/// `ContainerInfo.DockerInfo.Network`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum DockerNetwork {
    /// `--net=host` (the proto default).
    Host,
    /// `--net=bridge`.
    Bridge,
    /// `--net=none`.
    None,
    /// A user-defined network named in `network_infos`.
    User,
}

/// `ContainerInfo.DockerInfo.PortMapping`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DockerPortMapping {
    /// Port on the host.
    pub host_port: u32,
    /// Port inside the container.
    pub container_port: u32,
    /// `tcp` (default) or `udp`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub protocol: Option<String>,
}

/// Docker containerizer settings (`ContainerInfo.DockerInfo`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DockerInfo {
    /// Image reference, e.g. `library/busybox:latest` (required).
    pub image: String,
    /// Network mode (proto default `HOST`).
    #[serde(default, deserialize_with = "lenient_enum")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub network: Option<DockerNetwork>,
    /// Published ports (bridge/user networks).
    #[serde(default, deserialize_with = "null_as_default")]
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub port_mappings: Vec<DockerPortMapping>,
    /// `--privileged` (default false).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub privileged: Option<bool>,
    /// Extra `docker run --key=value` parameters.
    #[serde(default, deserialize_with = "null_as_default")]
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub parameters: Vec<Parameter>,
    /// Always pull the image.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub force_pull_image: Option<bool>,
    /// Deprecated volume driver.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub volume_driver: Option<String>,
}

impl DockerInfo {
    /// `network` with the proto default (`HOST`) applied.
    pub fn network_or_default(&self) -> DockerNetwork {
        self.network.unwrap_or(DockerNetwork::Host)
    }
}

/// Mesos containerizer settings (`ContainerInfo.MesosInfo`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MesosInfo {
    /// Root filesystem image.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image: Option<Image>,
}

/// `Image.Type`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ImageType {
    /// An AppC image.
    Appc,
    /// A Docker image.
    #[default]
    Docker,
}

/// A container image for the Mesos containerizer (`mesos.v1.Image`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Image {
    /// Image format (required).
    pub r#type: ImageType,
    /// For `APPC`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub appc: Option<AppcImage>,
    /// For `DOCKER`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub docker: Option<DockerImage>,
    /// Use a cached copy if present (proto default `true`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cached: Option<bool>,
}

impl Image {
    /// A Docker image by name.
    pub fn docker(name: impl Into<String>) -> Self {
        Self {
            r#type: ImageType::Docker,
            docker: Some(DockerImage {
                name: name.into(),
                ..DockerImage::default()
            }),
            ..Self::default()
        }
    }
}

/// `Image.Appc`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AppcImage {
    /// Image name.
    pub name: String,
    /// Image ID (`sha512-...`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// Labels to match.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub labels: Option<Labels>,
}

/// `Image.Docker`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DockerImage {
    /// Image reference, e.g. `busybox:latest`.
    pub name: String,
    /// Deprecated registry credential.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credential: Option<Credential>,
    /// Docker config (auth) secret.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub config: Option<Secret>,
}

/// `mesos.v1.Credential`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Credential {
    /// Principal (user name).
    pub principal: String,
    /// Secret (password).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret: Option<String>,
}

/// `NetworkInfo.Protocol`; note the mixed-case proto names `IPv4` / `IPv6`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum IpProtocol {
    /// IPv4 (proto default).
    IPv4,
    /// IPv6.
    IPv6,
}

/// `NetworkInfo.IPAddress`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct IpAddress {
    /// Address family (proto default `IPv4`).
    #[serde(default, deserialize_with = "lenient_enum")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub protocol: Option<IpProtocol>,
    /// The address; requested IP in `ContainerInfo`, assigned IP in `ContainerStatus`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ip_address: Option<String>,
}

/// `NetworkInfo.PortMapping`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NetworkPortMapping {
    /// Port on the host.
    pub host_port: u32,
    /// Port inside the container.
    pub container_port: u32,
    /// `tcp` or `udp`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub protocol: Option<String>,
}

/// A network to join, or the addresses a container got (`mesos.v1.NetworkInfo`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NetworkInfo {
    /// Requested or assigned IP addresses.
    #[serde(default, deserialize_with = "null_as_default")]
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub ip_addresses: Vec<IpAddress>,
    /// Network name (CNI network).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Network groups.
    #[serde(default, deserialize_with = "null_as_default")]
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub groups: Vec<String>,
    /// Labels passed to the network plugin.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub labels: Option<Labels>,
    /// Port mappings.
    #[serde(default, deserialize_with = "null_as_default")]
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub port_mappings: Vec<NetworkPortMapping>,
}

/// Runtime state of a container (`mesos.v1.ContainerStatus`), carried in `TaskStatus`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContainerStatus {
    /// The container.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub container_id: Option<ContainerId>,
    /// Assigned addresses.
    #[serde(default, deserialize_with = "null_as_default")]
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub network_infos: Vec<NetworkInfo>,
    /// cgroup details.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cgroup_info: Option<CgroupInfo>,
    /// PID of the executor (or command task) process.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub executor_pid: Option<u32>,
}

/// `mesos.v1.CgroupInfo` (only `net_cls` is a field; the rest are statistics types).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CgroupInfo {
    /// `net_cls` classid.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub net_cls: Option<NetCls>,
}

/// `CgroupInfo.NetCls`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NetCls {
    /// The classid.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub classid: Option<u32>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn docker_container_round_trip() {
        let json = r#"{"type":"DOCKER","docker":{"image":"nginx:1.25","network":"BRIDGE",
            "port_mappings":[{"host_port":31001,"container_port":80,"protocol":"tcp"}],
            "privileged":false,"parameters":[{"key":"label","value":"a=b"}],
            "force_pull_image":true},
            "network_infos":[{"name":"cni0","ip_addresses":[{"protocol":"IPv4"}]}]}"#;
        let c: ContainerInfo = serde_json::from_str(json).unwrap();
        let docker = c.docker.as_ref().unwrap();
        assert_eq!(docker.network_or_default(), DockerNetwork::Bridge);
        assert_eq!(docker.port_mappings[0].container_port, 80);
        let back = serde_json::to_value(&c).unwrap();
        assert_eq!(
            back,
            serde_json::from_str::<serde_json::Value>(json).unwrap()
        );
    }

    #[test]
    fn mesos_container_with_image() {
        let json =
            r#"{"type":"MESOS","mesos":{"image":{"type":"DOCKER","docker":{"name":"busybox"}}}}"#;
        let c: ContainerInfo = serde_json::from_str(json).unwrap();
        assert_eq!(c.mesos.unwrap().image.unwrap(), Image::docker("busybox"));
        assert!(serde_json::from_str::<ContainerInfo>(r#"{"docker":{"image":"x"}}"#).is_err());
        assert!(serde_json::from_str::<ContainerInfo>(r#"{"type":"RKT"}"#).is_err());
    }
}
