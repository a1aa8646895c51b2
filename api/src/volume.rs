//! `mesos.v1.Volume`: volumes mounted into containers (host paths, sandbox paths, images,
//! docker volumes, secrets, CSI), plus `MountPropagation`.

use serde::{Deserialize, Serialize};

use crate::command::Secret;
use crate::common::Parameters;
use crate::container::Image;
use crate::encoding::lenient_enum;

/// `Volume.Mode`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum VolumeMode {
    /// Read-write.
    #[default]
    Rw,
    /// Read-only.
    Ro,
}

/// A volume mounted into a container (`mesos.v1.Volume`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Volume {
    /// Read-write or read-only (required).
    pub mode: VolumeMode,
    /// Mount point inside the container (required); relative paths are under the sandbox.
    pub container_path: String,
    /// Legacy host path form.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host_path: Option<String>,
    /// Legacy image volume form.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image: Option<Image>,
    /// Where the volume comes from (preferred form).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<VolumeSource>,
}

/// `Volume.Source.Type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum VolumeSourceType {
    /// Unrecognised.
    Unknown,
    /// A docker volume driver volume.
    DockerVolume,
    /// A path on the host.
    HostPath,
    /// A path in this or the parent container's sandbox.
    SandboxPath,
    /// A secret written to a file.
    Secret,
    /// A CSI volume.
    CsiVolume,
}

/// `Volume.Source`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct VolumeSource {
    /// Which field below is meaningful.
    #[serde(default, deserialize_with = "lenient_enum")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub r#type: Option<VolumeSourceType>,
    /// For `DOCKER_VOLUME`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub docker_volume: Option<DockerVolume>,
    /// For `HOST_PATH`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host_path: Option<HostPath>,
    /// For `SANDBOX_PATH`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sandbox_path: Option<SandboxPath>,
    /// For `SECRET`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret: Option<Secret>,
    /// For `CSI_VOLUME`; kept as raw JSON (`Volume.Source.CSIVolume`), not interpreted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub csi_volume: Option<serde_json::Value>,
}

/// `Volume.Source.DockerVolume`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DockerVolume {
    /// Volume driver (default `local`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub driver: Option<String>,
    /// Volume name (required).
    pub name: String,
    /// Driver options.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub driver_options: Option<Parameters>,
}

/// `Volume.Source.HostPath`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct HostPath {
    /// Absolute host path (required).
    pub path: String,
    /// Mount propagation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mount_propagation: Option<MountPropagation>,
}

/// `Volume.Source.SandboxPath.Type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum SandboxPathType {
    /// Unrecognised.
    Unknown,
    /// This container's sandbox.
    #[serde(rename = "SELF")]
    SelfSandbox,
    /// The parent container's sandbox.
    Parent,
}

/// `Volume.Source.SandboxPath`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SandboxPath {
    /// Whose sandbox.
    #[serde(default, deserialize_with = "lenient_enum")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub r#type: Option<SandboxPathType>,
    /// Path relative to that sandbox (required).
    pub path: String,
}

/// `MountPropagation.Mode`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum MountPropagationMode {
    /// Unrecognised.
    Unknown,
    /// `rslave`.
    HostToContainer,
    /// `rshared`.
    Bidirectional,
}

/// `mesos.v1.MountPropagation`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MountPropagation {
    /// Propagation mode.
    #[serde(default, deserialize_with = "lenient_enum")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mode: Option<MountPropagationMode>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn volume_forms() {
        let json = r#"[{"mode":"RW","container_path":"/data","host_path":"/srv/data"},
            {"mode":"RO","container_path":"cfg","source":{"type":"SANDBOX_PATH",
             "sandbox_path":{"type":"SELF","path":"conf"}}}]"#;
        let v: Vec<Volume> = serde_json::from_str(json).unwrap();
        assert_eq!(v[0].mode, VolumeMode::Rw);
        let sp = v[1].source.as_ref().unwrap().sandbox_path.as_ref().unwrap();
        assert_eq!(sp.r#type, Some(SandboxPathType::SelfSandbox));
        let back = serde_json::to_value(&v).unwrap();
        assert_eq!(
            back,
            serde_json::from_str::<serde_json::Value>(json).unwrap()
        );
        assert!(serde_json::from_str::<Volume>(r#"{"container_path":"/x"}"#).is_err());
    }
}
