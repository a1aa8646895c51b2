//! The `mesos` containerizer: runs commands inside cgroups and namespaces, one supervisor
//! process per container.
//!
//! The agent side ([`MesosContainerizer`]) is async and never clones: it writes
//! `launch_info`, starts `mesos-containerizer launch` (the supervisor, crate `meseta-supervisor`,
//! a separate single-threaded program) with `setsid`, reads its one-line launch report, and
//! learns of the end by the supervisor's exit plus the `termination` record it leaves in the
//! runtime dir. The files both sides read and write ([`launch_info`], [`termination`],
//! [`paths`]) are defined once, in `meseta-containerizer-api`.

pub mod docker;
pub mod mesos;

pub use meseta_containerizer_api::{launch_info, paths, termination};

pub use launch_info::{CgroupSpec, Command, LaunchInfo, RootfsSpec};
pub use mesos::{ContainerConfig, ContainerizerError, Launched, MesosContainerizer};
pub use termination::Termination;
