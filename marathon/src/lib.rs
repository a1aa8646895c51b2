//! `marathon`: a Marathon-compatible scheduler for long-running services on Meseta.
//!
//! The parts: [`flags`] (Marathon's flags and `MARATHON_*` variables), [`model`] (path ids,
//! app definitions and validation, instances, deployment plans), [`state`] (the synchronous
//! state machine and its persistence order), [`store`] (ZooKeeper or memory), [`sched`]
//! (offers, constraints, `TaskInfo`s, the driver loop), [`health`] (Marathon-side checks),
//! [`events`] (the SSE bus), [`http`] (the `/v2` REST API), [`leader`] (leadership and
//! redirects to the leader), [`ui`] (the web UI at `/`) and [`run`] (wiring them together).

pub mod error;
pub mod events;
pub mod flags;
pub mod health;
pub mod http;
pub mod leader;
pub mod model;
pub mod run;
pub mod sched;
pub mod state;
pub mod store;
pub mod ui;
pub mod zkha;
