//! The Meseta agent: a drop-in for `mesos-slave`. This crate holds its containerizers; the
//! daemon, its HTTP API and `agentctl` arrive with the vertical slice.

pub mod agentctl;
pub mod containerizer;
