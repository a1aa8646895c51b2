//! meseta-bench: measurement helpers shared by its subcommands.

pub mod allocator;
pub mod chronos;
pub mod chronos_cluster;
pub mod chronos_fake_master;
pub mod e2e;
pub mod failover;
pub mod image;
pub mod launch;
pub mod lb;
pub mod marathon;
pub mod master_scale;
pub mod recovery;
pub mod report;
pub mod rss;
pub mod sched;
pub mod ui;
