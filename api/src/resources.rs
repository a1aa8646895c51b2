//! `mesos.v1.Resource` and its nested messages (allocation, reservations, disk, revocable,
//! shared), with constructors and predicates the master and agent use.
//!
//! Text parsing (`--resources`) lives in [`crate::resource_parse`], `/state` rendering in
//! [`crate::resource_format`].

use serde::{Deserialize, Serialize};

use crate::common::Labels;
use crate::encoding::{lenient_enum, null_as_default};
use crate::ids::ResourceProviderId;
use crate::value::{Range, Ranges, Scalar, Set, ValueType};
use crate::volume::Volume;

/// A resource (`mesos.v1.Resource`): `cpus`, `mem`, `disk`, `gpus`, `ports`, or custom.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Resource {
    /// Set for resources owned by a resource provider.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provider_id: Option<ResourceProviderId>,
    /// Resource name.
    pub name: String,
    /// Which value field is meaningful (`TEXT` is invalid for resources).
    pub r#type: ValueType,
    /// Value for `SCALAR` resources.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scalar: Option<Scalar>,
    /// Value for `RANGES` resources.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ranges: Option<Ranges>,
    /// Value for `SET` resources.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub set: Option<Set>,
    /// Deprecated pre-refinement role (proto default `"*"`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
    /// The role the resource is allocated to (in offers and tasks of MULTI_ROLE frameworks).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allocation_info: Option<AllocationInfo>,
    /// Deprecated pre-refinement reservation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reservation: Option<ReservationInfo>,
    /// Reservation stack, outermost first ("post-reservation-refinement" format).
    #[serde(default, deserialize_with = "null_as_default")]
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub reservations: Vec<ReservationInfo>,
    /// Disk specifics (persistent volumes, disk sources).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disk: Option<DiskInfo>,
    /// Present (as `{}`) for revocable resources.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revocable: Option<RevocableInfo>,
    /// Present (as `{}`) for shared resources.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shared: Option<SharedInfo>,
}

impl Resource {
    /// An unreserved scalar resource, e.g. `Resource::scalar("cpus", 2.0)`.
    pub fn scalar(name: impl Into<String>, value: f64) -> Self {
        Self {
            name: name.into(),
            r#type: ValueType::Scalar,
            scalar: Some(Scalar::new(value)),
            ..Self::default()
        }
    }

    /// An unreserved ranges resource, e.g. `Resource::ranges("ports", [(31000, 32000)])`.
    pub fn ranges(name: impl Into<String>, ranges: impl IntoIterator<Item = (u64, u64)>) -> Self {
        Self {
            name: name.into(),
            r#type: ValueType::Ranges,
            ranges: Some(Ranges::new(ranges)),
            ..Self::default()
        }
    }

    /// An unreserved set resource.
    pub fn set<S: Into<String>>(
        name: impl Into<String>,
        items: impl IntoIterator<Item = S>,
    ) -> Self {
        Self {
            name: name.into(),
            r#type: ValueType::Set,
            set: Some(Set {
                item: items.into_iter().map(Into::into).collect(),
            }),
            ..Self::default()
        }
    }

    /// Adds a static reservation for `role` on top of the current reservation stack.
    pub fn reserved_static(mut self, role: impl Into<String>) -> Self {
        self.reservations.push(ReservationInfo {
            r#type: Some(ReservationType::Static),
            role: Some(role.into()),
            ..ReservationInfo::default()
        });
        self
    }

    /// The scalar value, or 0 if this is not a scalar resource.
    pub fn scalar_value(&self) -> f64 {
        match (self.r#type, self.scalar) {
            (ValueType::Scalar, Some(s)) => s.value,
            _ => 0.0,
        }
    }

    /// The ranges, or an empty slice.
    pub fn range_slice(&self) -> &[Range] {
        self.ranges.as_ref().map_or(&[], |r| r.range.as_slice())
    }

    /// Whether the resource is revocable.
    pub fn is_revocable(&self) -> bool {
        self.revocable.is_some()
    }

    /// Whether the resource is a persistent volume.
    pub fn is_persistent_volume(&self) -> bool {
        self.disk.as_ref().is_some_and(|d| d.persistence.is_some())
    }

    /// The role the resource is reserved for: the innermost reservation's role, else the
    /// deprecated `role` field unless it is `"*"`. `None` means unreserved.
    pub fn reservation_role(&self) -> Option<&str> {
        if let Some(last) = self.reservations.last() {
            return last.role.as_deref();
        }
        self.role.as_deref().filter(|r| *r != "*")
    }

    /// Whether the resource is reserved (statically or dynamically).
    pub fn is_reserved(&self) -> bool {
        self.reservation_role().is_some()
    }

    /// Whether the innermost reservation is dynamic.
    pub fn is_dynamically_reserved(&self) -> bool {
        match self.reservations.last() {
            Some(r) => r.r#type == Some(ReservationType::Dynamic),
            None => self.reservation.is_some(),
        }
    }

    /// Whether `other` differs from `self` only in its value, so the two can be summed
    /// (same name, type, reservations, allocation, provider, disk, revocable, shared).
    pub fn is_addable_with(&self, other: &Resource) -> bool {
        self.name == other.name
            && self.r#type == other.r#type
            && self.reservations == other.reservations
            && self.role == other.role
            && self.reservation == other.reservation
            && self.allocation_info == other.allocation_info
            && self.provider_id == other.provider_id
            && self.disk == other.disk
            && self.revocable == other.revocable
            && self.shared.is_none()
            && other.shared.is_none()
            && self.disk.as_ref().is_none_or(|d| d.persistence.is_none())
    }
}

/// `Resource.AllocationInfo`: the role an allocated resource belongs to.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AllocationInfo {
    /// The allocation role.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
}

/// `Resource.ReservationInfo.Type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ReservationType {
    /// Unset/unrecognised.
    Unknown,
    /// Reserved by agent configuration (`--resources=cpus(role):2`).
    Static,
    /// Reserved through the RESERVE operation or `/reserve`.
    Dynamic,
}

/// `Resource.ReservationInfo`: one level of a reservation.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReservationInfo {
    /// Static or dynamic.
    #[serde(default, deserialize_with = "lenient_enum")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub r#type: Option<ReservationType>,
    /// Role reserved for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
    /// Principal that made a dynamic reservation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub principal: Option<String>,
    /// Free-form labels.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub labels: Option<Labels>,
}

/// `Resource.DiskInfo`: persistent volume and disk source details.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct DiskInfo {
    /// Persistent volume identity.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub persistence: Option<Persistence>,
    /// Where the volume is mounted in the container.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub volume: Option<Volume>,
    /// The disk's source (PATH, MOUNT, BLOCK, RAW).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<DiskSource>,
}

/// `Resource.DiskInfo.Persistence`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Persistence {
    /// Volume ID, unique per role.
    pub id: String,
    /// Principal that created the volume.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub principal: Option<String>,
}

/// `Resource.DiskInfo.Source.Type`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum DiskSourceType {
    /// Unknown.
    #[default]
    Unknown,
    /// A directory on the agent's root disk or another volume.
    Path,
    /// A dedicated mounted filesystem.
    Mount,
    /// A block device (resource providers).
    Block,
    /// Raw storage (resource providers).
    Raw,
}

/// `Resource.DiskInfo.Source`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct DiskSource {
    /// Kind of source (required).
    pub r#type: DiskSourceType,
    /// For `PATH` sources.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<DiskRoot>,
    /// For `MOUNT` sources.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mount: Option<DiskRoot>,
    /// CSI vendor (experimental).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vendor: Option<String>,
    /// CSI volume id (experimental).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// CSI metadata (experimental).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<Labels>,
    /// Storage profile (experimental).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub profile: Option<String>,
}

/// `DiskInfo.Source.Path` / `DiskInfo.Source.Mount`: `{"root": "/mnt/disk1"}`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DiskRoot {
    /// Root directory of the source.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub root: Option<String>,
}

/// `Resource.RevocableInfo`: an empty marker message, `{}` on the wire.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RevocableInfo {}

/// `Resource.SharedInfo`: an empty marker message, `{}` on the wire.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SharedInfo {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documented_offer_resources_parse() {
        let json = r#"[{"allocation_info":{"role":"engineering"},"name":"cpus","type":"SCALAR",
            "scalar":{"value":2},"role":"*"},
            {"name":"ports","type":"RANGES","ranges":{"range":[{"begin":31000,"end":32000}]},
             "role":"*","revocable":{}}]"#;
        let r: Vec<Resource> = serde_json::from_str(json).unwrap();
        assert_eq!(r[0].scalar_value(), 2.0);
        assert!(!r[0].is_reserved());
        assert_eq!(
            r[1].range_slice(),
            &[Range {
                begin: 31000,
                end: 32000
            }]
        );
        assert!(r[1].is_revocable());
        let out = serde_json::to_value(&r[1]).unwrap();
        assert_eq!(out["revocable"], serde_json::json!({}));
    }

    #[test]
    fn proto3_json_style_integers() {
        // protobuf's JsonFormat writes uint64 as strings; stout (and we) accept them.
        let r: Resource = serde_json::from_str(
            r#"{"name":"ports","type":"RANGES","ranges":{"range":[{"begin":"31000","end":"31005"}]}}"#,
        )
        .unwrap();
        assert_eq!(
            r.range_slice(),
            &[Range {
                begin: 31000,
                end: 31005
            }]
        );
        let out = serde_json::to_value(&r).unwrap();
        assert_eq!(out["ranges"]["range"][0]["begin"], 31000);
    }

    #[test]
    fn name_and_type_are_required() {
        assert!(serde_json::from_str::<Resource>(r#"{"type":"SCALAR"}"#).is_err());
        assert!(serde_json::from_str::<Resource>(r#"{"name":"cpus"}"#).is_err());
    }

    #[test]
    fn reservations() {
        let r = Resource::scalar("cpus", 1.0).reserved_static("web");
        assert_eq!(r.reservation_role(), Some("web"));
        assert!(!r.is_dynamically_reserved());
        let json = serde_json::to_value(&r).unwrap();
        assert_eq!(json["reservations"][0]["type"], "STATIC");
        let unknown: ReservationInfo = serde_json::from_str(r#"{"type":"WEIRD"}"#).unwrap();
        assert_eq!(unknown.r#type, None);
    }
}
