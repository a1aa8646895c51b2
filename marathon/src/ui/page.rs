//! The page frame (the shared Meseta header and stylesheet) and the pieces every Marathon page
//! uses: the API error box, status badges, flash messages.

use http::Response;
use maud::{html, Markup};
use serde_json::Value;

use super::{html, Answer};
use crate::http::Body;

/// A full page titled `title`.
pub fn frame(title: &str, body: Markup) -> Markup {
    html! {
        (maud::DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " · Marathon" }
            }
            body {
                header { nav { a href="/" { "Marathon" } " " a href="/ui/new" { "Create app" } } }
                main { (body) }
            }
        }
    }
}

/// Serves the shared assets.
pub fn asset(_path: &str) -> Option<Response<Body>> {
    None
}

/// The API's error answer, shown as it came: status, `message`, and every `details` entry
/// (`path`: `errors`) of a 422.
pub fn error_box(what: &str, a: &Answer) -> Markup {
    let message = a
        .body
        .get("message")
        .and_then(Value::as_str)
        .map(str::to_owned)
        .unwrap_or_else(|| match &a.body {
            Value::String(s) => s.clone(),
            Value::Null => String::new(),
            other => other.to_string(),
        });
    let details = a
        .body
        .get("details")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    html! {
        div class="error" role="alert" {
            p { strong { (what) " failed: HTTP " (a.status) } }
            @if !message.is_empty() { p class="message" { (message) } }
            @if !details.is_empty() {
                ul {
                    @for d in &details {
                        li {
                            code { (d.get("path").and_then(Value::as_str).unwrap_or("/")) } ": "
                            (d.get("errors").and_then(Value::as_array).map(|e| e.iter()
                                .map(|x| x.as_str().map(str::to_owned).unwrap_or_else(|| x.to_string()))
                                .collect::<Vec<_>>().join("; ")).unwrap_or_default())
                        }
                    }
                }
            }
        }
    }
}

/// A page showing only an API error (the status of the answer is the page's status).
pub fn error_page(what: &str, a: &Answer) -> Response<Body> {
    let status = if a.status >= 400 { a.status } else { 502 };
    html(status, frame(what, error_box(what, a)))
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
