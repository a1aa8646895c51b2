//! The web UI served at `/` (and under `/ui/`): server-rendered HTML (maud) in the shared
//! Meseta look. Every page reads and every action writes through Marathon's own `/v2`
//! handlers, called in process ([`api`]), so the UI shows exactly what the API answers,
//! including its 4xx messages. Forms are plain `POST`s answered with `303 See Other`, so they
//! work without JavaScript; htmx only refreshes the live tables.
//!
//! Routes: `GET /` and `/ui` (apps), `/ui/apps-table` (the live fragment), `/ui/app?id=`,
//! `/ui/diff?id=&a=&b=`, `/ui/new`; `POST /ui/create`, `/ui/scale`, `/ui/restart`,
//! `/ui/suspend`, `/ui/destroy`, `/ui/kill`.

mod actions;
mod app;
mod apps;
mod diff;
mod page;
mod tasks;

use std::future::Future;
use std::pin::Pin;

use bytes::Bytes;
use http::{header, HeaderValue, Method, Response, StatusCode};
use http_body_util::BodyExt;
use meseta_ui as ui;
use serde_json::Value;

pub use page::unauthorized;

use crate::http::{Body, Ctx, Query, Req};

/// Whether `path` belongs to the UI.
pub fn owns(path: &str) -> bool {
    path.is_empty() || path == "/" || path == "/ui" || path.starts_with("/ui/")
}

/// Serves a UI request.
pub async fn route(req: &Req, ctx: &Ctx) -> Response<Body> {
    let path = req.path.trim_end_matches('/');
    if let Some(asset) = page::FRAME.asset(path) {
        return asset;
    }
    let form = || Query::parse(std::str::from_utf8(&req.body).unwrap_or(""));
    match (&req.method, path) {
        (&Method::GET | &Method::HEAD, "" | "/ui") => apps::page(&req.raw_query, ctx).await,
        (&Method::GET, "/ui/apps-table") => apps::fragment(&req.raw_query, ctx).await,
        (&Method::GET, "/ui/app") => app::page(&req.query, ctx).await,
        (&Method::GET, "/ui/diff") => diff::page(&req.query, ctx).await,
        (&Method::GET, "/ui/new") => actions::new_form(None, None),
        (&Method::POST, "/ui/create") => actions::create(&form(), ctx).await,
        (&Method::POST, "/ui/scale") => actions::scale(&form(), ctx).await,
        (&Method::POST, "/ui/suspend") => actions::suspend(&form(), ctx).await,
        (&Method::POST, "/ui/restart") => actions::restart(&form(), ctx).await,
        (&Method::POST, "/ui/destroy") => actions::destroy(&form(), ctx).await,
        (&Method::POST, "/ui/kill") => actions::kill(&form(), ctx).await,
        _ => page::not_found(path),
    }
}

/// What a `/v2` call answered: the status and the parsed JSON body (`Null` when empty).
#[derive(Debug)]
pub(crate) struct Answer {
    /// HTTP status.
    pub status: u16,
    /// The body.
    pub body: Value,
}

impl Answer {
    /// 2xx.
    pub fn ok(&self) -> bool {
        (200..300).contains(&self.status)
    }
}

/// A boxed, sendable future.
type Call<'a> = Pin<Box<dyn Future<Output = Answer> + Send + 'a>>;

/// Calls Marathon's `/v2` API in process: the same handlers, validation and status codes an
/// HTTP client gets. (A trait object, not an `async fn`: the API router also routes to the UI,
/// so the future's type would otherwise contain itself.)
pub(crate) fn api<'a>(
    ctx: &'a Ctx,
    method: Method,
    path: &str,
    query: &str,
    body: Option<Vec<u8>>,
) -> Call<'a> {
    let mut headers = http::HeaderMap::new();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    let req = Req {
        method,
        path: path.to_owned(),
        query: Query::parse(query),
        headers,
        body: body.map(Bytes::from).unwrap_or_default(),
        raw_query: query.to_owned(),
    };
    Box::pin(async move {
        let resp = crate::http::dispatch(req, ctx).await;
        let status = resp.status().as_u16();
        let bytes = match resp.into_body().collect().await {
            Ok(b) => b.to_bytes(),
            Err(never) => match never {},
        };
        let body = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes)
                .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned()))
        };
        Answer { status, body }
    })
}

/// Percent-encodes a query value.
pub(crate) fn enc(s: &str) -> String {
    percent_encoding::utf8_percent_encode(s, percent_encoding::NON_ALPHANUMERIC).to_string()
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
