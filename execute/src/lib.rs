//! `mesos-execute`: launches one task through the v1 scheduler API (on the
//! [`meseta_scheduler`] driver) and follows it to a terminal state, printing each status
//! update as Mesos' tool of the same name does. [`flags::Cli`] holds the flags,
//! [`run::run`] the scheduler.

pub mod flags;
pub mod run;
mod task;

pub use flags::Cli;
pub use run::run;
