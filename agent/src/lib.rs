//! The Meseta agent: a drop-in for `mesos-slave`. [`containerizer`] runs containers;
//! [`daemon`] holds the agent's state and task lifecycle; [`master_link`] talks to the master
//! over `meseta_api::internal`; [`http`] serves the executor API, the operator API and the
//! Mesos read-only endpoints; [`sandbox_files`] opens sandbox paths for `/files` without escapes;
//! [`flags`] parses the Mesos flags.

pub mod containerizer;
pub mod daemon;
pub mod executor_auth;
pub mod flags;
pub mod http;
pub mod master_detector;
pub mod master_link;
pub mod per_task;
pub mod sandbox_files;
