//! Offers and what schedulers do with them: `Offer`, `Offer.Operation` (LAUNCH,
//! LAUNCH_GROUP, RESERVE, UNRESERVE, CREATE, DESTROY, ...), `InverseOffer`, `Request`.

use serde::{Deserialize, Serialize};

use crate::common::{DomainInfo, Unavailability, Url};
use crate::encoding::{lenient_enum, null_as_default};
use crate::ids::{AgentId, ExecutorId, FrameworkId, OfferId, OperationId};
use crate::resources::{AllocationInfo, DiskSourceType, Resource};
use crate::task::{ExecutorInfo, TaskGroupInfo, TaskInfo};
use crate::value::{Attribute, Scalar};

/// Resources on one agent offered to a framework (`mesos.v1.Offer`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Offer {
    /// Offer ID (required).
    pub id: OfferId,
    /// Framework (required).
    pub framework_id: FrameworkId,
    /// Agent (required).
    pub agent_id: AgentId,
    /// Agent host name (required).
    pub hostname: String,
    /// Agent URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<Url>,
    /// Agent fault domain.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub domain: Option<DomainInfo>,
    /// Offered resources.
    #[serde(default, deserialize_with = "null_as_default")]
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub resources: Vec<Resource>,
    /// Agent attributes.
    #[serde(default, deserialize_with = "null_as_default")]
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub attributes: Vec<Attribute>,
    /// Executors of this framework already running on the agent.
    #[serde(default, deserialize_with = "null_as_default")]
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub executor_ids: Vec<ExecutorId>,
    /// Upcoming maintenance.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unavailability: Option<Unavailability>,
    /// Role the offer is allocated to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allocation_info: Option<AllocationInfo>,
}

/// `Offer.Operation.Type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum OfferOperationType {
    /// Unrecognised.
    Unknown,
    /// Launch tasks.
    Launch,
    /// Launch a task group with an executor.
    LaunchGroup,
    /// Dynamically reserve.
    Reserve,
    /// Unreserve.
    Unreserve,
    /// Create persistent volumes.
    Create,
    /// Destroy persistent volumes.
    Destroy,
    /// Grow a persistent volume.
    GrowVolume,
    /// Shrink a persistent volume.
    ShrinkVolume,
    /// Create a disk from raw storage.
    CreateDisk,
    /// Destroy such a disk.
    DestroyDisk,
}

/// One operation in an ACCEPT call (`mesos.v1.Offer.Operation`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct OfferOperation {
    /// Which operation; an unrecognised name parses as `None` (validation rejects it).
    #[serde(default, deserialize_with = "lenient_enum")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub r#type: Option<OfferOperationType>,
    /// Asks for operation feedback.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<OperationId>,
    /// For `LAUNCH`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub launch: Option<Launch>,
    /// For `LAUNCH_GROUP`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub launch_group: Option<LaunchGroup>,
    /// For `RESERVE`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reserve: Option<Reserve>,
    /// For `UNRESERVE`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unreserve: Option<Unreserve>,
    /// For `CREATE`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub create: Option<Create>,
    /// For `DESTROY`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub destroy: Option<Destroy>,
    /// For `GROW_VOLUME`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grow_volume: Option<GrowVolume>,
    /// For `SHRINK_VOLUME`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shrink_volume: Option<ShrinkVolume>,
    /// For `CREATE_DISK`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub create_disk: Option<CreateDisk>,
    /// For `DESTROY_DISK`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub destroy_disk: Option<DestroyDisk>,
}

impl OfferOperation {
    /// A LAUNCH operation for `tasks`.
    pub fn launch(tasks: Vec<TaskInfo>) -> Self {
        Self {
            r#type: Some(OfferOperationType::Launch),
            launch: Some(Launch { task_infos: tasks }),
            ..Self::default()
        }
    }
}

/// `Offer.Operation.Launch`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Launch {
    /// Tasks to launch.
    #[serde(default, deserialize_with = "null_as_default")]
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub task_infos: Vec<TaskInfo>,
}

/// `Offer.Operation.LaunchGroup`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct LaunchGroup {
    /// Executor (required; usually type DEFAULT).
    pub executor: ExecutorInfo,
    /// Tasks (required).
    pub task_group: TaskGroupInfo,
}

/// `Offer.Operation.Reserve`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Reserve {
    /// Resources before (reservation refinement).
    #[serde(default, deserialize_with = "null_as_default")]
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub source: Vec<Resource>,
    /// Resources with the new reservation.
    #[serde(default, deserialize_with = "null_as_default")]
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub resources: Vec<Resource>,
}

/// `Offer.Operation.Unreserve`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Unreserve {
    /// Reserved resources to release.
    #[serde(default, deserialize_with = "null_as_default")]
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub resources: Vec<Resource>,
}

/// `Offer.Operation.Create`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Create {
    /// Persistent volumes to create.
    #[serde(default, deserialize_with = "null_as_default")]
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub volumes: Vec<Resource>,
}

/// `Offer.Operation.Destroy`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Destroy {
    /// Persistent volumes to destroy.
    #[serde(default, deserialize_with = "null_as_default")]
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub volumes: Vec<Resource>,
}

/// `Offer.Operation.GrowVolume`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct GrowVolume {
    /// The volume (required).
    pub volume: Resource,
    /// Disk to add (required).
    pub addition: Resource,
}

/// `Offer.Operation.ShrinkVolume`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ShrinkVolume {
    /// The volume (required).
    pub volume: Resource,
    /// Amount to remove (required).
    pub subtract: Scalar,
}

/// `Offer.Operation.CreateDisk`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CreateDisk {
    /// Raw disk (required).
    pub source: Resource,
    /// `MOUNT` or `BLOCK` (required).
    pub target_type: DiskSourceType,
    /// Storage profile.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_profile: Option<String>,
}

/// `Offer.Operation.DestroyDisk`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct DestroyDisk {
    /// The disk (required).
    pub source: Resource,
}

/// A request to give resources back for maintenance (`mesos.v1.InverseOffer`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct InverseOffer {
    /// Inverse offer ID (required).
    pub id: OfferId,
    /// Agent URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<Url>,
    /// Framework (required).
    pub framework_id: FrameworkId,
    /// Agent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent_id: Option<AgentId>,
    /// When (required).
    pub unavailability: Unavailability,
    /// Specific resources wanted back.
    #[serde(default, deserialize_with = "null_as_default")]
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub resources: Vec<Resource>,
}

/// A resource request (`mesos.v1.Request`), ignored by the built-in allocator.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Request {
    /// Agent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent_id: Option<AgentId>,
    /// Resources wanted.
    #[serde(default, deserialize_with = "null_as_default")]
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub resources: Vec<Resource>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offer_requires_hostname() {
        let json = r#"{"id":{"value":"o"},"framework_id":{"value":"f"},"agent_id":{"value":"a"}}"#;
        let err = serde_json::from_str::<Offer>(json).unwrap_err();
        assert!(err.to_string().contains("hostname"), "{err}");
    }

    #[test]
    fn launch_group_operation() {
        let json = r#"{"type":"LAUNCH_GROUP","launch_group":{
            "executor":{"type":"DEFAULT","executor_id":{"value":"e"}},
            "task_group":{"tasks":[{"name":"t","task_id":{"value":"t"},"agent_id":{"value":"a"}}]}}}"#;
        let op: OfferOperation = serde_json::from_str(json).unwrap();
        assert_eq!(op.r#type, Some(OfferOperationType::LaunchGroup));
        assert_eq!(op.launch_group.unwrap().task_group.tasks.len(), 1);
    }

    #[test]
    fn reserve_and_unknown_operation() {
        let json = r#"{"type":"RESERVE","reserve":{"resources":[{"name":"cpus","type":"SCALAR",
            "scalar":{"value":1},"reservations":[{"type":"DYNAMIC","role":"r","principal":"p"}]}]}}"#;
        let op: OfferOperation = serde_json::from_str(json).unwrap();
        assert!(op.reserve.unwrap().resources[0].is_dynamically_reserved());
        let op: OfferOperation = serde_json::from_str(r#"{"type":"TELEPORT"}"#).unwrap();
        assert_eq!(op.r#type, None);
    }
}
