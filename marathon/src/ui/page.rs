//! The page frame (the shared Meseta layout from `meseta-ui`) and the pieces every Marathon
//! page uses: the API error banner, status badges, flash messages, assets.

use http::Response;
use maud::{html, Markup};
use meseta_ui as ui;
use serde_json::Value;

use super::{html, Answer};
use crate::http::Body;

/// The header's links.
const NAV: &[(&str, &str)] = &[("Apps", "/"), ("Create app", "/ui/new")];

/// A full page titled `title`, with the header link `current` marked.
pub fn frame(title: &str, current: &str, body: Markup) -> Markup {
    ui::layout(
        ui::Product::Marathon,
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
                    "marathon runs with --http_credentials (realm \"{realm}\"): the UI needs the \
                     same user and password as the /v2 API."
                ),
            ),
        ),
    )
}
