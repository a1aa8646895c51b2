//! Mesos v1 wire types, serialised as Mesos does in JSON: `.proto` field names, enums by name.

mod statistics;

pub use statistics::ResourceStatistics;
