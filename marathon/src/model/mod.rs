//! Marathon's data model: path ids, app definitions and their validation, instances
//! (tasks) and deployment plans.

pub mod app;
pub mod container;
pub mod deployment;
pub mod health;
pub mod instance;
pub mod pathid;
pub mod validate;

pub use app::App;
pub use deployment::{Action, ActionKind, Deployment};
pub use instance::Instance;
pub use pathid::PathId;

/// Now as Marathon writes timestamps: `2026-12-06T12:00:00.000Z`.
pub fn timestamp() -> String {
    chrono::Utc::now()
        .format("%Y-%m-%dT%H:%M:%S%.3fZ")
        .to_string()
}

/// Milliseconds since the epoch.
pub fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}
