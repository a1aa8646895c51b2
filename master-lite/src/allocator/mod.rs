//! The master's resource allocator: Mesos's hierarchical DRF allocator as a
//! pure library (no I/O, no async, no clock reads: time is an argument).
//!
//! Building blocks: exact resource arithmetic ([`scalar`], [`ranges`],
//! [`resources`], [`quantities`]), role names ([`roles`]), DRF and random
//! sorters ([`sorter`]), offer filters ([`filters`]), quota ([`quota`]) and
//! the allocator itself ([`hierarchical::Allocator`]).

mod agents;
pub mod bench;
mod cycle;
pub mod errors;
mod fasthash;
pub mod filters;
mod frameworks;
pub mod hierarchical;
pub mod ops;
pub mod parse;
pub mod quantities;
pub mod quota;
pub mod ranges;
pub mod resources;
pub mod roles;
pub mod scalar;
pub mod sorter;
mod state;

pub use errors::{AllocatorError, ReservationError};
pub use filters::{refuse_duration, Time};
pub use hierarchical::{parse_min_allocatable, Allocator, AllocatorConfig, Offer};
pub use ops::{dynamic_reservation, Operation};
pub use parse::{parse as parse_resources, ParseError};
pub use quantities::{Limits, Quantities};
pub use quota::{QuotaConfig, QuotaError};
pub use ranges::Ranges;
pub use resources::{Reservation, ReservationKind, Resource, Resources, Value};
pub use roles::RoleError;
pub use scalar::Scalar;
pub use sorter::SorterKind;

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_random;
