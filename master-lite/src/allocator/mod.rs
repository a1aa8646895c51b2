//! The master's resource allocator: Mesos's hierarchical DRF allocator as a
//! pure library (no I/O, no async, no clock reads: time is an argument).
//!
//! Building blocks: exact resource arithmetic ([`scalar`], [`ranges`],
//! [`resources`], [`quantities`]), role names ([`roles`]), DRF and random
//! sorters ([`sorter`]), offer filters ([`filters`]), quota ([`quota`]) and
//! the allocator itself ([`hierarchical::Allocator`]).
//!
//! ```
//! use std::time::Duration;
//! use master_lite::allocator::{parse_resources, Allocator, AllocatorConfig};
//!
//! let mut alloc = Allocator::new(AllocatorConfig::default());
//! let total = parse_resources("cpus:4;mem:4096;ports:[31000-32000]").unwrap();
//! alloc.add_agent("agent-1", total, vec![], &[]).unwrap();
//! alloc.add_framework("fw-1", &["web"], &[], true).unwrap();
//!
//! let now = 0; // nanoseconds on the caller's monotonic clock
//! let offers = alloc.allocate(now);
//! assert_eq!(offers.len(), 1);
//! assert_eq!(&*offers[0].role, "web");
//!
//! // Decline for 10 s: no offer to fw-1 from agent-1 until then.
//! let o = &offers[0];
//! alloc
//!     .recover(&o.agent_id, &o.framework_id, &o.resources, Some(Duration::from_secs(10)), now)
//!     .unwrap();
//! assert!(alloc.allocate(now + 1_000_000_000).is_empty());
//! assert_eq!(alloc.allocate(now + 10_000_000_000).len(), 1);
//! ```
//!
//! Design notes: agents, frameworks, (framework, role) pairs and roles live
//! in slabs addressed by `u32` indices; sorters cache weighted dominant
//! shares in ordered sets updated incrementally; filters are indexed by
//! `(pair, agent)` with a per-agent bitset of pairs whose filters cover
//! everything the agent could offer; and an allocation cycle only walks
//! agents whose outcome may have changed since they were last walked (any
//! global change — a framework activated or revived, quota updated — makes
//! every agent eligible again). A randomised differential test checks the
//! results are identical to an exhaustive walk.

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
/// Role names: validated in `meseta-api`, which the agent's `--resources` parser shares.
pub use meseta_api::roles;
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
#[cfg(test)]
mod tests_triggered;
