//! The `container` of an app (`v2/types/appContainer.raml`, `network.raml`): `MESOS` with a
//! Docker image, or `DOCKER` with `image`, `network` (HOST/BRIDGE), `portMappings`,
//! `parameters`, `privileged`, `forcePullImage`. Unknown fields are kept.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// `container`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Container {
    /// `DOCKER` (the default) or `MESOS`.
    #[serde(rename = "type", default = "docker_type")]
    pub kind: String,
    /// The image and Docker options.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub docker: Option<Docker>,
    /// Volumes (passed through).
    #[serde(default)]
    pub volumes: Vec<Value>,
    /// Port mappings at the container level (Marathon 1.5+ form).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub port_mappings: Option<Vec<PortMapping>>,
    /// Fields this version does not know.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

fn docker_type() -> String {
    "DOCKER".into()
}

/// `container.docker`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Docker {
    /// Image reference.
    #[serde(default)]
    pub image: String,
    /// `HOST`, `BRIDGE`, `NONE` or `USER` (Docker containers; default HOST).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub network: Option<String>,
    /// Port mappings (legacy place, BRIDGE mode).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub port_mappings: Option<Vec<PortMapping>>,
    /// Run privileged.
    #[serde(default)]
    pub privileged: bool,
    /// `docker run` parameters.
    #[serde(default)]
    pub parameters: Vec<Parameter>,
    /// Pull the image before every launch.
    #[serde(default)]
    pub force_pull_image: bool,
    /// Fields this version does not know.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// A `docker run` parameter.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Parameter {
    /// Name without dashes (`label`).
    pub key: String,
    /// Value.
    pub value: String,
}

/// A port mapping.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PortMapping {
    /// Port inside the container.
    #[serde(default)]
    pub container_port: i64,
    /// Host port; 0 takes one from the offer; absent means none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host_port: Option<i64>,
    /// Service port (assigned by Marathon when 0).
    #[serde(default)]
    pub service_port: i64,
    /// `tcp`, `udp` or `udp,tcp`.
    #[serde(default = "tcp")]
    pub protocol: String,
    /// Name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Labels.
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
}

/// `portDefinitions[]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PortDefinition {
    /// Service port (0: assigned by Marathon).
    #[serde(default)]
    pub port: i64,
    /// Protocol.
    #[serde(default = "tcp")]
    pub protocol: String,
    /// Name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Labels.
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
}

fn tcp() -> String {
    "tcp".into()
}

impl Container {
    /// The Docker image, if any.
    pub fn image(&self) -> Option<&str> {
        self.docker
            .as_ref()
            .map(|d| d.image.as_str())
            .filter(|i| !i.is_empty())
    }

    /// Whether this is a Docker container in BRIDGE (or USER) network mode.
    pub fn is_bridge(&self) -> bool {
        self.kind == "DOCKER"
            && self
                .docker
                .as_ref()
                .and_then(|d| d.network.as_deref())
                .is_some_and(|n| n == "BRIDGE" || n == "USER")
    }

    /// The port mappings, wherever they were given.
    pub fn port_mappings(&self) -> &[PortMapping] {
        if let Some(pm) = &self.port_mappings {
            return pm;
        }
        self.docker
            .as_ref()
            .and_then(|d| d.port_mappings.as_deref())
            .unwrap_or(&[])
    }

    /// Mutable port mappings, wherever they were given.
    pub fn port_mappings_mut(&mut self) -> Option<&mut Vec<PortMapping>> {
        if self.port_mappings.is_some() {
            return self.port_mappings.as_mut();
        }
        self.docker.as_mut().and_then(|d| d.port_mappings.as_mut())
    }
}
