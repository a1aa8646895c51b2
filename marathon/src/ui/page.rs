//! Marathon's page frame (`meseta_ui::Frame` with Marathon's header links) and the pieces every
//! Marathon page uses: the API error banner, the 404 and 401 pages, assets.

use http::Response;
use maud::{html, Markup};
use meseta_ui as ui;
pub use meseta_ui::{badge, flash};
use serde_json::Value;

use super::{html, Answer};
use crate::http::Body;

/// Every Marathon page's frame: the shared layout with Marathon's name and header links.
pub const FRAME: ui::Frame = ui::Frame {
    product: ui::Product::Marathon,
    nav: &[("Apps", "/"), ("Create app", "/ui/new")],
};

/// A full page titled `title`, with the header link `current` marked.
pub fn frame(title: &str, current: &str, body: Markup) -> Markup {
    FRAME.page(title, current, body)
}

/// The API's answer as text: its `message` and every `details` entry (`path: errors`) of a
/// 422.
pub fn api_message(a: &Answer) -> String {
    let mut out = a
        .body
        .get("message")
        .and_then(Value::as_str)
        .map(str::to_owned)
        .unwrap_or_else(|| match &a.body {
            Value::String(s) => s.clone(),
            Value::Null => String::new(),
            other => other.to_string(),
        });
    for d in a
        .body
        .get("details")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let path = d.get("path").and_then(Value::as_str).unwrap_or("/");
        let errors: Vec<String> = d
            .get("errors")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .map(|e| e.as_str().map_or_else(|| e.to_string(), str::to_owned))
            .collect();
        out.push_str(&format!("\n{path}: {}", errors.join("; ")));
    }
    out
}

/// The banner for a refused call (401 and 403 get the explanation of what to do).
pub fn error_box(what: &str, a: &Answer) -> Markup {
    let message = api_message(a);
    html! {
        p { strong { (what) " failed." } }
        @if a.status == 401 || a.status == 403 { (ui::auth_message(a.status, &message)) }
        @else { (ui::error_banner(a.status, &message)) }
    }
}

/// A page showing only an API error (the answer's status is the page's status).
pub fn error_page(what: &str, a: &Answer) -> Response<Body> {
    let status = if a.status >= 400 { a.status } else { 502 };
    html(status, frame(what, "", error_box(what, a)))
}

/// 404 for a path the UI does not know.
pub fn not_found(path: &str) -> Response<Body> {
    html(404, FRAME.not_found(path))
}

/// The page a browser shows when it has no (or wrong) credentials, with the `401` status
/// (the caller adds the `WWW-Authenticate` challenge).
pub fn unauthorized(realm: &str) -> Response<Body> {
    html(401, FRAME.unauthorized(realm, "/v2"))
}
