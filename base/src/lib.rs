//! The base layer every Meseta binary shares: [`units`] parses and prints durations and byte
//! sizes the way Mesos flags and environment variables spell them (stout's `Duration` and
//! `Bytes`); [`beneath`] is `openat2(2)` retried on the `EAGAIN` a host-wide rename causes;
//! [`exec`] runs the program behind an fd. Deliberately tiny, so that the per-container
//! supervisor and the executors can link it without growing.

pub mod beneath;
pub mod exec;
pub mod units;

pub use units::{format_duration, parse_bytes, parse_duration, UnitError};
