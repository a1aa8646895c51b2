//! The Mesos side: matching offers to the launch queue ([`offers`]), placement constraints
//! ([`constraints`]), building `TaskInfo`s ([`taskinfo`]), and the loop that connects the
//! state machine to the v1 scheduler driver ([`driver`]).

pub mod constraints;
pub mod driver;
pub mod offers;
pub mod taskinfo;
