//! The page frame (the shared Meseta layout from `meseta-ui`) and the pieces every Chronos
//! page uses: the API error banner, badges, flash messages, assets.

use http::Response;
use maud::{html, Markup};
use meseta_ui as ui;

use super::{html, read};
use crate::http::Body;

/// The header's links.
const NAV: &[(&str, &str)] = &[("Jobs", "/"), ("Create job", "/ui/new")];

/// A full page titled `title`, with the header link `current` marked.
pub fn frame(title: &str, current: &str, body: Markup) -> Markup {
    ui::layout(
        ui::Product::Chronos,
        title,
        ui::Nav {
            links: NAV,
            current,
        },
        body,
    )
}

/// Serves `GET /ui/assets/*` (stylesheet, htmx) from the binary.
pub fn asset(path: &str) -> Option<Response<Body>> {
    if !path.starts_with(ui::ASSET_PREFIX) {
        return None;
    }
    Some(ui::asset_response(path).unwrap_or_else(|| not_found(path)))
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

/// A flash message after a redirect.
pub fn flash(msg: Option<&str>) -> Markup {
    html! {
        @if let Some(m) = msg.filter(|m| !m.is_empty()) { (ui::info_banner(m)) }
    }
}

/// A badge of class `kind` (`ok`, `warn`, `bad`, `idle`, `info`): the text says it, the
/// colour repeats it.
pub fn badge(kind: &str, text: &str) -> Markup {
    html! { span class={ "badge " (kind) } { (text) } }
}

/// 404 for a path the UI does not know.
pub fn not_found(path: &str) -> Response<Body> {
    html(
        404,
        frame(
            "Not found",
            "",
            ui::error_banner(404, &format!("No page at {path}")),
        ),
    )
}

/// The page a browser shows when it has no (or wrong) credentials: what happened and what to
/// do, with the `401` status (the caller adds the `WWW-Authenticate` challenge).
pub fn unauthorized(realm: &str) -> Response<Body> {
    html(
        401,
        frame(
            "Authentication required",
            "",
            ui::auth_message(
                401,
                &format!(
                    "chronos runs with --http_credentials (realm \"{realm}\"): the UI needs the \
                     same user and password as the /v1/scheduler API."
                ),
            ),
        ),
    )
}
