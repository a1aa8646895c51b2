//! The base layer every Meseta binary shares: [`units`] parses and prints durations and byte
//! sizes the way Mesos flags and environment variables spell them (stout's `Duration` and
//! `Bytes`). Deliberately tiny, so that the per-container supervisor and the executors can
//! link it without growing.

pub mod units;

pub use units::{format_duration, parse_bytes, parse_duration, UnitError};
