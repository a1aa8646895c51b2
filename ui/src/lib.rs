//! The shared look of Meseta's web UIs (`mesos-master` on :5050, `marathon` on :8080,
//! `chronos` on :4400): one page layout with one header, one stylesheet (dark/light by the
//! browser's `prefers-color-scheme`, laptop and phone widths, visible keyboard focus), the
//! vendored htmx script for live fragments, and small server-side helpers (tables with
//! pagination/sorting/search, resource bars, state badges, error banners).
//!
//! Pages are rendered on the server with [`maud`]; everything works read-only with
//! JavaScript disabled, htmx only swaps small fragments in. Nothing is fetched from outside
//! the server (no fonts, no CDN): assets are embedded in the binary and served by
//! [`asset_response`] under [`ASSET_PREFIX`].

mod assets;
mod frame;
mod layout;
mod responses;
pub mod table;
mod widgets;

pub use assets::{asset, asset_response, Asset, ASSET_PREFIX, HTMX_PATH, STYLESHEET_PATH};
pub use frame::{badge, flash, Frame};
pub use layout::{layout, Nav, Product};
pub use maud::{html, Markup, PreEscaped, Render, DOCTYPE};
pub use responses::{html_response, see_other};
pub use widgets::{
    auth_message, error_banner, fmt_bytes_mb, fmt_duration_secs, fmt_unix_time, info_banner, kv,
    resource_bar, state_badge, StateClass,
};

/// `Content-Type` of every HTML page and fragment.
pub const HTML_CONTENT_TYPE: &str = "text/html; charset=utf-8";

/// Whether a request came from htmx (the `HX-Request: true` header): answer with the
/// fragment only, not the whole page.
pub fn is_htmx(hx_request_header: Option<&str>) -> bool {
    hx_request_header == Some("true")
}
