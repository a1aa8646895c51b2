//! Marathon's data model: path ids, app definitions and their validation, instances
//! (tasks) and deployment plans.

pub mod app;
pub mod checks;
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

/// A float to integer conversion for values validated as finite and small: Rust's `as`
/// saturates at the bounds and maps NaN to 0, which is the wanted clamp.
#[allow(clippy::cast_possible_truncation)]
pub fn sat_i64(x: f64) -> i64 {
    x as i64
}

/// As [`sat_i64`], for counts (negative becomes 0).
pub fn sat_usize(x: f64) -> usize {
    usize::try_from(sat_i64(x)).unwrap_or(0)
}
