//! `chronos`: a Chronos-compatible periodic job scheduler running on Mesos.
//!
//! Layout: [`period`] and [`schedule`] parse ISO 8601 schedules; [`job`] is the REST job model;
//! [`engine`] is the pure scheduling state machine (timer heap, retries, dependencies, runs in
//! flight) driven by an explicit clock; [`store`] persists it; [`http`] serves the
//! `/v1/scheduler` API; [`mesos`] turns runs into Mesos tasks.

pub mod engine;
pub mod job;
pub mod period;
pub mod schedule;
