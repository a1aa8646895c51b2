//! The page frame (the shared Meseta header and stylesheet) and the pieces every Chronos page
//! uses: the API error box, badges, flash messages.

use http::Response;
use maud::{html, Markup};

use super::{html, read};
use crate::http::Body;

/// A full page titled `title`.
pub fn frame(title: &str, body: Markup) -> Markup {
    html! {
        (maud::DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " · Chronos" }
            }
            body {
                header { nav { a href="/" { "Chronos" } " " a href="/ui/new" { "Create job" } } }
                main { (body) }
            }
        }
    }
}

/// Serves the shared assets.
pub fn asset(_path: &str) -> Option<Response<Body>> {
    None
}

/// The API's refusal as it came: status and `message` (Chronos's
/// `{"status", "message"}` body).
pub fn error_box(what: &str, status: u16, body: &str) -> Markup {
    let message = serde_json::from_str::<serde_json::Value>(body)
        .ok()
        .and_then(|v| v.get("message").and_then(|m| m.as_str()).map(str::to_owned))
        .unwrap_or_else(|| body.to_owned());
    html! {
        div class="error" role="alert" {
            p { strong { (what) " failed: HTTP " (status) } }
            @if !message.is_empty() { p class="message" { (message) } }
        }
    }
}

/// A page showing only an API error response.
pub async fn api_error_page(what: &str, resp: Response<Body>) -> Response<Body> {
    let (status, body) = read(resp).await;
    html(status.max(400), frame(what, error_box(what, status, &body)))
}

/// A flash message after a redirect.
pub fn flash(msg: Option<&str>) -> Markup {
    html! {
        @if let Some(m) = msg.filter(|m| !m.is_empty()) {
            p class="flash" role="status" { (m) }
        }
    }
}

/// A badge.
pub fn badge(kind: &str, text: &str) -> Markup {
    html! { span class={ "badge badge-" (kind) } { (text) } }
}

/// 404 for a path the UI does not know.
pub fn not_found(path: &str) -> Response<Body> {
    html(
        404,
        frame(
            "Not found",
            html! { div class="error" role="alert" { p { "No page at " code { (path) } "." } } },
        ),
    )
}
