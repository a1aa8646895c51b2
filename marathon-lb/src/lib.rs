//! marathon-lb: HAProxy service discovery and load balancing for Marathon apps, compatible
//! with upstream marathon-lb's flags, labels and templates (mesosphere/marathon-lb).
//!
//! The path of a change: Marathon (`marathon`: SSE or polling) → services (`apps`, `labels`)
//! → configuration text (`config`, `templates`, `format`) → live (`lb`, `live`, `haproxy`):
//! through HAProxy's runtime API when only servers changed, otherwise a checked, archived
//! configuration and a master-worker reload that refuses no connection.

pub mod apps;
pub mod config;
pub mod control;
pub mod flags;
pub mod format;
pub mod haproxy;
pub mod labels;
pub mod lb;
pub mod live;
pub mod logging;
pub mod marathon;
pub mod run;
pub mod templates;
