//! Typed errors returned by the allocator API. Every failing call leaves the
//! allocator state unchanged.

use thiserror::Error;

use super::parse::ParseError;
use super::quota::QuotaError;
use super::roles::RoleError;

/// Errors from [`super::hierarchical::Allocator`] calls.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum AllocatorError {
    /// A role name is invalid.
    #[error("invalid role: {0}")]
    InvalidRole(#[from] RoleError),
    /// Resource text is malformed.
    #[error(transparent)]
    Parse(#[from] ParseError),
    /// A quota config is invalid.
    #[error(transparent)]
    Quota(#[from] QuotaError),
    /// A reservation operation is invalid.
    #[error(transparent)]
    Reservation(#[from] ReservationError),
    /// The framework is already registered.
    #[error("framework '{0}' already exists")]
    FrameworkExists(String),
    /// The framework is unknown.
    #[error("framework '{0}' not found")]
    UnknownFramework(String),
    /// The framework is not subscribed to the role.
    #[error("framework '{framework}' is not subscribed to role '{role}'")]
    UnknownFrameworkRole {
        /// Framework id.
        framework: String,
        /// Role.
        role: String,
    },
    /// The agent is already registered.
    #[error("agent '{0}' already exists")]
    AgentExists(String),
    /// The agent is unknown.
    #[error("agent '{0}' not found")]
    UnknownAgent(String),
    /// Used or allocated resources are not contained in the agent's total.
    #[error("agent '{agent}': resources {resources} exceed its total")]
    ExceedsTotal {
        /// Agent id.
        agent: String,
        /// The offending resources.
        resources: String,
    },
    /// Recovered resources do not carry exactly one allocation role.
    #[error("recovered resources must be allocated to exactly one role, got {0}")]
    AllocationRole(usize),
    /// Recovered resources were not allocated to the framework on the agent.
    #[error(
        "resources {resources} are not allocated to framework '{framework}' on agent '{agent}'"
    )]
    NotAllocated {
        /// Framework id.
        framework: String,
        /// Agent id.
        agent: String,
        /// The offending resources.
        resources: String,
    },
    /// A weight is not a finite positive number.
    #[error("invalid weight {weight} for role '{role}'")]
    InvalidWeight {
        /// Role.
        role: String,
        /// Weight given.
        weight: String,
    },
}

/// Reasons a RESERVE or UNRESERVE operation is rejected.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ReservationError {
    /// The operation carries no resources.
    #[error("operation has no resources")]
    Empty,
    /// A RESERVE resource has no dynamic reservation (or an UNRESERVE one
    /// is not dynamically reserved).
    #[error("resource '{0}' must carry a dynamic reservation")]
    NotDynamic(String),
    /// Resources cannot be reserved to `*`.
    #[error("cannot reserve resources to the default role '*'")]
    DefaultRole,
    /// The reservation role is invalid.
    #[error("invalid reservation role: {0}")]
    InvalidRole(RoleError),
    /// The agent lacks enough unreserved (or reserved, for UNRESERVE)
    /// available resources.
    #[error("insufficient available resources: requested {requested}, available {available}")]
    Insufficient {
        /// Requested resources.
        requested: String,
        /// What the agent had available.
        available: String,
    },
    /// Resources carrying an allocation role cannot be used in an operator operation.
    #[error("resources must not be allocated to a role")]
    Allocated,
}
