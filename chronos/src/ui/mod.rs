//! The web UI served at `/` (and under `/ui/`): server-rendered HTML (maud) in the shared
//! Meseta look. Pages read the scheduler's state the way the `/v1/scheduler` views do, and
//! every action calls the same handler as its API endpoint (`POST /iso8601` or
//! `/dependency`, `PUT /job/{name}`, `DELETE /job/{name}`), so refusals carry the API's
//! status and message. Forms are plain `POST`s answered with `303 See Other`; htmx only
//! refreshes the jobs table.
//!
//! Routes: `GET /` and `/ui` (jobs and the dependency graph), `/ui/jobs-table` (the live
//! fragment), `/ui/job?name=`, `/ui/graph.svg`, `/ui/new`; `POST /ui/create`, `/ui/run`,
//! `/ui/disable`, `/ui/enable`, `/ui/delete`.

mod actions;
mod graph;
mod job;
mod jobs;
mod page;

use std::sync::Arc;

use bytes::Bytes;
use http::{header, HeaderValue, Method, Response, StatusCode};
use http_body_util::{BodyExt, Full};
use meseta_ui as ui;

pub use page::unauthorized;

use crate::core::Core;
use crate::http::{ApiError, Body};

/// Whether `path` (percent-decoded, without a trailing `/`) belongs to the UI.
pub fn owns(path: &str) -> bool {
    path.is_empty() || path == "/" || path == "/ui" || path.starts_with("/ui/")
}

/// A UI request, as the router hands it over.
#[derive(Debug)]
pub struct UiRequest<'a> {
    /// Method.
    pub method: &'a Method,
    /// Path, percent-decoded, without a trailing `/`.
    pub path: &'a str,
    /// The raw query string.
    pub query: &'a str,
    /// The body (a form for `POST`s).
    pub body: &'a [u8],
}

/// Serves a UI request; `core` is the scheduler when this process leads.
pub async fn route(req: UiRequest<'_>, core: Result<&Arc<Core>, ApiError>) -> Response<Body> {
    if let Some(asset) = page::FRAME.asset(req.path) {
        return asset;
    }
    let core = match core {
        Ok(c) => c,
        Err(e) => return page::api_error_page("Reading jobs", e.into_response()).await,
    };
    let q = Form::parse(req.query);
    let form = Form::parse(std::str::from_utf8(req.body).unwrap_or(""));
    match (req.method, req.path) {
        (&Method::GET | &Method::HEAD, "" | "/" | "/ui") => jobs::page(req.query, core).await,
        (&Method::GET, "/ui/jobs-table") => jobs::fragment(req.query, core),
        (&Method::GET, "/ui/job") => job::page(&q, core),
        (&Method::GET, "/ui/graph.svg") => graph::svg_response(core).await,
        (&Method::GET, "/ui/new") => actions::new_form(None, None),
        (&Method::POST, "/ui/create") => actions::create(&form, core).await,
        (&Method::POST, "/ui/run") => actions::run(&form, core).await,
        (&Method::POST, "/ui/disable") => actions::set_disabled(&form, core, true).await,
        (&Method::POST, "/ui/enable") => actions::set_disabled(&form, core, false).await,
        (&Method::POST, "/ui/delete") => actions::delete(&form, core).await,
        _ => page::not_found(req.path),
    }
}

/// A parsed `application/x-www-form-urlencoded` body or query string.
#[derive(Debug, Default)]
pub(crate) struct Form(Vec<(String, String)>);

impl Form {
    /// Parses `a=1&b=2`.
    pub fn parse(s: &str) -> Self {
        Self(
            s.split('&')
                .filter(|p| !p.is_empty())
                .map(|p| {
                    let (k, v) = p.split_once('=').unwrap_or((p, ""));
                    (dec(k), dec(v))
                })
                .collect(),
        )
    }

    /// The first value of `key`.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }
}

fn dec(s: &str) -> String {
    percent_encoding::percent_decode_str(&s.replace('+', " "))
        .decode_utf8_lossy()
        .into_owned()
}

/// Percent-encodes a query value.
pub(crate) fn enc(s: &str) -> String {
    percent_encoding::utf8_percent_encode(s, percent_encoding::NON_ALPHANUMERIC).to_string()
}

/// A response's status and body text (the API's answers are complete buffers).
pub(crate) async fn read(resp: Response<Body>) -> (u16, String) {
    let status = resp.status().as_u16();
    let bytes = match resp.into_body().collect().await {
        Ok(b) => b.to_bytes(),
        Err(never) => match never {},
    };
    (status, String::from_utf8_lossy(&bytes).into_owned())
}

/// A response with a content type.
pub(crate) fn typed(status: u16, body: String, ctype: &'static str) -> Response<Body> {
    let mut r = Response::new(Full::new(Bytes::from(body)));
    *r.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::OK);
    r.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(ctype));
    r.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r
}

/// An HTML response (never cached).
pub(crate) fn html(status: u16, markup: maud::Markup) -> Response<Body> {
    ui::html_response(
        StatusCode::from_u16(status).unwrap_or(StatusCode::OK),
        markup,
    )
}

/// `303 See Other` to `location` (after a successful form post).
pub(crate) fn see_other(location: &str) -> Response<Body> {
    ui::see_other(location)
}
