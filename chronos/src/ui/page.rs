//! Chronos's page frame (`meseta_ui::Frame` with Chronos's header links) and the pieces every
//! Chronos page uses: the API error banner, the 404 and 401 pages, assets.

use http::Response;
use maud::{html, Markup};
use meseta_ui as ui;
pub use meseta_ui::{badge, flash};

use super::{html, read};
use crate::http::Body;

/// Every Chronos page's frame: the shared layout with Chronos's name and header links.
pub const FRAME: ui::Frame = ui::Frame {
    product: ui::Product::Chronos,
    nav: &[("Jobs", "/"), ("Create job", "/ui/new")],
};

/// A full page titled `title`, with the header link `current` marked.
pub fn frame(title: &str, current: &str, body: Markup) -> Markup {
    FRAME.page(title, current, body)
}

/// The API's refusal as it came: status and `message` (Chronos's `{"status", "message"}`
/// body); 401 and 403 get the explanation of what to do.
pub fn error_box(what: &str, status: u16, body: &str) -> Markup {
    let message = serde_json::from_str::<serde_json::Value>(body)
        .ok()
        .and_then(|v| v.get("message").and_then(|m| m.as_str()).map(str::to_owned))
        .unwrap_or_else(|| body.to_owned());
    html! {
        p { strong { (what) " failed." } }
        @if status == 401 || status == 403 { (ui::auth_message(status, &message)) }
        @else { (ui::error_banner(status, &message)) }
    }
}

/// A page showing only an API error response.
pub async fn api_error_page(what: &str, resp: Response<Body>) -> Response<Body> {
    let (status, body) = read(resp).await;
    html(
        status.max(400),
        frame(what, "", error_box(what, status, &body)),
    )
}

/// 404 for a path the UI does not know.
pub fn not_found(path: &str) -> Response<Body> {
    html(404, FRAME.not_found(path))
}

/// The page a browser shows when it has no (or wrong) credentials, with the `401` status
/// (the caller adds the `WWW-Authenticate` challenge).
pub fn unauthorized(realm: &str) -> Response<Body> {
    html(401, FRAME.unauthorized(realm, "/v1/scheduler"))
}
