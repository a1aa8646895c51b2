//! The v1 agent operator API (`mesos/v1/agent/agent.proto`): [`Call`]s POSTed to the
//! agent's `/api/v1` and the synchronous [`Response`]s (`{"type": "X", "x": {...}}`).
//!
//! Every call and response message of the proto is modelled; the agent serves
//! GET_HEALTH, GET_FLAGS, GET_VERSION, GET_METRICS, GET_STATE, GET_CONTAINERS,
//! LIST_FILES and READ_FILE first. Response bodies whose names clash with call bodies
//! (`GetMetrics`, `ListFiles`, `ReadFile`, `GetContainers`) are reached as
//! `agent::response::X`. [`ResourceProviderInfo`] keeps its CSI `storage`
//! section as raw JSON.

mod call;
mod process_io;
pub mod response;

pub use call::*;
pub use process_io::*;
pub use response::{
    Container, Executor, Framework, GetAgent, GetExecutors, GetFlags, GetFrameworks, GetHealth,
    GetLoggingLevel, GetOperations, GetResourceProviders, GetState, GetTasks, GetVersion,
    ResourceProvider, Response, ResponseType, WaitContainer,
};
