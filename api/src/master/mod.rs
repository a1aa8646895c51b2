//! The v1 master operator API (`mesos/v1/master/master.proto`, plus the maintenance and
//! quota messages it uses): [`Call`]s POSTed to the master's `/api/v1`, synchronous
//! [`Response`]s, and the [`Event`] stream of SUBSCRIBE. Bodies shared with the agent API
//! (metrics, files, logging level, health, flags, version) are the [`crate::agent`] types.

mod call;
mod event;
mod maintenance;
pub mod response;

pub use call::*;
pub use event::*;
pub use maintenance::*;
pub use response::{
    Agent, Executor, Framework, GetAgents, GetExecutors, GetFrameworks, GetMaintenanceSchedule,
    GetMaintenanceStatus, GetMaster, GetQuota, GetRoles, GetState, GetTasks, GetWeights, Response,
    ResponseType,
};
