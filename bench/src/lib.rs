//! meseta-bench: measurement helpers shared by its subcommands.

pub mod launch;
pub mod report;
