//! Isolation for Meseta containers: the `--isolation` flag, per-container cgroups on v1 and v2,
//! namespaces, resource limits with Mesos's arithmetic, usage statistics, and discovery of the
//! resources an agent advertises.
//!
//! Nothing here forks or clones: the container's processes are created by the supervisor
//! (`mesos-containerizer launch` in the `supervisor` crate), which calls into this crate.

pub mod cgroups;
pub mod discovery;
pub mod disk;
pub mod isolation;
pub mod limits;
pub mod namespaces;
pub mod posix;

pub use cgroups::{CgroupError, CgroupVersion, Cgroups, ContainerCgroup, Controllers};
pub use isolation::{Isolation, IsolationError};
pub use limits::{LimitError, Limits};
pub use namespaces::Namespaces;
