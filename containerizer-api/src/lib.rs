//! What the agent daemon (`mesos-agent`) and its per-container supervisor
//! (`mesos-containerizer`) agree on, and nothing else: the [`launch_info`] the agent writes, the
//! [`termination`] record the supervisor leaves, and the runtime directory layout ([`paths`]).
//!
//! The two programs are separate processes built from separate crates, and a supervisor can
//! outlive the agent that started it (and the agent binary that is upgraded under it), so
//! these files are a compatibility surface: fields are only ever added, with serde defaults.

pub mod launch_info;
pub mod paths;
pub mod termination;

pub use launch_info::{CgroupSpec, Command, LaunchInfo, RootfsSpec, TaskLaunchInfo};
pub use termination::Termination;
