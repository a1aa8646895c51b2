//! mesos-master: registry, DRF allocator, offers, scheduler and operator APIs.
//!
//! * [`flags`]: the `mesos-master` flags and [`flags::MasterConfig`];
//! * [`registry`]: master id, agents and frameworks persisted in `--work_dir`;
//! * [`ha`]: with `--zk`, leader election among masters and the registry kept in ZooKeeper;
//! * [`master`]: the state machine (frameworks, agents, tasks, offers);
//! * [`http`]: `/api/v1/scheduler`, the operator API (`/api/v1`), the agent
//!   channel, role endpoints (`/weights`, `/quota`, `/roles`) and read-only
//!   endpoints;
//! * [`server`]: binds and runs it all ([`server::start`]);
//! * [`allocator`]: the hierarchical DRF allocator;
//! * [`ui`]: the web UI at `/` and `/ui/`.

pub mod allocator;
pub mod convert;
pub mod flags;
pub mod ha;
pub mod http;
pub mod master;
pub mod registry;
pub mod server;
pub mod ui;
