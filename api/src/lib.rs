//! Mesos v1 wire types, serialised as Mesos does in JSON: `.proto` field names, enums by
//! their proto names, `bytes` as base64, unset optional fields omitted, unknown fields
//! ignored, missing required fields rejected.
//!
//! The truth is apache/mesos `include/mesos/v1/{mesos,scheduler/scheduler,executor/executor,
//! agent/agent,master/master}.proto` and stout's JSON <-> protobuf rules
//! (`3rdparty/stout/include/stout/protobuf.hpp`). Messages of `mesos.proto` are re-exported at the crate root (Rust
//! names: `FrameworkID` → [`FrameworkId`], `URL` → [`Url`], ...); the API-specific
//! `Call`/`Event`/`Response` messages live in [`scheduler`], [`executor`], [`agent`] and
//! [`master`].
//!
//! Conventions:
//! * a proto field named `type` is the Rust field `r#type`;
//! * proto `optional` fields are `Option<_>` (defaults are *not* filled in, so what is
//!   parsed re-serialises unchanged; helper methods apply the proto defaults);
//! * an unknown name in an optional enum field parses as `None` (proto2 / stout
//!   behaviour), while required enums and every `Call.type` are strict, so a bad call type
//!   is a parse error a server reports as `400`;
//! * `Call.type` / `Event.type` are required here although `optional` in the proto, since
//!   Mesos rejects calls without one; `Call::validate` performs Mesos' remaining checks
//!   (body present for the type, UUIDs 16 bytes, ...) with Mesos' error texts;
//! * like stout, JSON `null` means "not set" (also for repeated fields), doubles in
//!   `Value.Scalar` may be strings (`"Infinity"`), base64 padding is optional.
//!
//! Where Mesos' own documentation examples disagree with the `.proto` (e.g. the flattened
//! `"offers": [...]` of the OFFERS event, `"message"` at the top level of ERROR), the proto
//! form is the one accepted; see the `wire_tests` module for each case.
//!
//! Helpers: [`resource_parse`] (agent `--resources` / `--attributes`), [`resource_format`]
//! (`/state` rendering), [`recordio`] (stream framing), [`encoding`] (base64, JSON).

#![warn(missing_docs)]

#[macro_use]
mod macros;

pub mod agent;
mod checks;
mod cluster;
mod command;
mod common;
mod container;
pub mod docker_config;
pub mod encoding;
mod error;
pub mod executor;
pub mod flags;
mod framework;
mod ids;
pub mod internal;
mod linux;
pub mod master;
mod offer;
pub mod recordio;
pub mod resource_format;
pub mod resource_parse;
mod resources;
pub mod roles;
pub mod scheduler;
mod statistics;
mod status;
mod task;
mod value;
mod volume;
#[cfg(test)]
mod wire_tests;

pub use checks::*;
pub use cluster::*;
pub use command::*;
pub use common::*;
pub use container::*;
pub use encoding::{from_json, Bytes, DecodeError};
pub use error::ValidationError;
pub use framework::*;
pub use ids::*;
pub use linux::*;
pub use offer::*;
pub use resources::*;
pub use statistics::ResourceStatistics;
pub use status::*;
pub use task::*;
pub use value::*;
pub use volume::*;
