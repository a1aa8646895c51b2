//! The v1 scheduler API (`mesos/v1/scheduler/scheduler.proto`): [`Call`]s POSTed to
//! `/api/v1/scheduler` and the [`Event`]s streamed back (RecordIO, see
//! [`crate::recordio`]).

mod call;
mod constraints;
mod event;

pub use call::*;
pub use constraints::*;
pub use event::*;
