//! The `mesos` containerizer: runs commands inside cgroups and namespaces, one supervisor
//! process per container.
//!
//! The agent side ([`MesosContainerizer`]) is async and never clones: it writes
//! `launch_info`, starts `mesos-containerizer launch` (the [`supervisor`]) with `setsid`, reads
//! its one-line launch report, and learns of the end by the supervisor's exit plus the
//! `termination` record it leaves in the runtime dir.

pub mod docker;
pub mod launch_info;
pub mod mesos;
pub mod paths;
pub mod supervisor;
pub mod termination;

pub use launch_info::{CgroupSpec, Command, LaunchInfo, RootfsSpec};
pub use mesos::{ContainerConfig, ContainerizerError, Launched, MesosContainerizer};
pub use termination::Termination;
