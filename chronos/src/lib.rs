//! `chronos`: a Chronos-compatible periodic job scheduler running on Mesos.
//!
//! Layout: [`period`] and [`schedule`] parse ISO 8601 schedules; [`job`] is the REST job model;
//! [`engine`] is the pure scheduling state machine (timer heap, retries, dependencies, runs in
//! flight) driven by an explicit clock; [`store`] persists it; [`core`] shares it between the
//! REST server ([`http`]), the timer loop and the Mesos side ([`mesos`] builds the tasks);
//! [`ui`] is the web UI at `/`.

pub mod core;
pub mod engine;
pub mod flags;
pub mod framework;
pub mod http;
pub mod job;
pub mod mesos;
pub mod period;
pub mod run;
pub mod schedule;
pub mod store;
pub mod ui;
pub mod zk_run;
pub mod zk_store;
