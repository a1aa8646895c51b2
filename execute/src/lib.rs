//! A small scheduler: a blocking v1 scheduler API client ([`client::SchedulerClient`]) used by
//! `mesos-execute` and by the benchmarks.

pub mod client;

pub use client::{offered, task, SchedulerClient};
