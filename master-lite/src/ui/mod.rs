//! The master's web UI at `/` and under `/ui/`: server-rendered pages (maud, the shared
//! `meseta-ui` look) with small htmx fragments that poll for live data. Nothing here polls
//! or renders the whole state: every list is filtered, sorted and cut into pages on the
//! server, under the master lock, and only the rows shown are rendered.
//!
//! * [`overview`]: leader, counts, resource bars, recent failures (and its live fragment);
//! * [`agents`]: agent list and detail (live container statistics from the agent);
//! * [`frameworks`]: framework list and detail, roles, offers, maintenance;
//! * [`tasks`]: task list and task detail;
//! * [`sandbox`]: sandbox browser and live log tail through the agent's `/files/*`;
//! * [`actions`]: kill a task, drain/deactivate/reactivate an agent (POST forms);
//! * [`proxy`]: the master's HTTP client to agents;
//! * [`view`]: who may see what (`--acls`), shared by all pages.

pub mod actions;
pub mod agents;
pub mod frameworks;
pub mod overview;
pub mod proxy;
pub mod sandbox;
pub mod tasks;
pub mod view;

use http::{Method, Request, Response, StatusCode};
use meseta_httpd::RequestBody;
use meseta_ui::{self as ui, html, Markup, Nav, Product};

use crate::http::{Body, Ctx, HttpError, HttpResult};

/// The header links of every master page.
pub const NAV: &[(&str, &str)] = &[
    ("Overview", "/"),
    ("Agents", "/ui/agents"),
    ("Frameworks", "/ui/frameworks"),
    ("Tasks", "/ui/tasks"),
    ("Roles", "/ui/roles"),
    ("Offers", "/ui/offers"),
    ("Maintenance", "/ui/maintenance"),
];

/// A whole master page.
pub fn page(title: &str, current: &str, body: Markup) -> Markup {
    ui::layout(
        Product::Mesos,
        title,
        Nav {
            links: NAV,
            current,
        },
        body,
    )
}

/// Serves a request under `/` or `/ui/`.
pub async fn handle(req: Request<RequestBody>, ctx: &Ctx) -> HttpResult {
    let path = req.uri().path().trim_end_matches('/').to_string();
    let path = path.strip_prefix("/master").unwrap_or(&path).to_string();
    if req.method() == Method::POST {
        return actions::handle(&path, req, ctx).await;
    }
    if req.method() != Method::GET && req.method() != Method::HEAD {
        return Err(HttpError::new(
            StatusCode::METHOD_NOT_ALLOWED,
            format!("Expecting a 'GET' request, received '{}'", req.method()),
        ));
    }
    if let Some(name) = path.strip_prefix("/ui/assets/") {
        return asset(name);
    }
    let v = view::Viewer::of(&req, ctx);
    let q = req.uri().query();
    let markup = match path.as_str() {
        "" | "/ui" => overview::page(ctx, &v),
        "/ui/fragments/overview" => overview::fragment(ctx, &v),
        "/ui/agents" => agents::list(ctx, q),
        "/ui/fragments/agent-stats" => agents::stats_fragment(&req, ctx, q).await,
        "/ui/frameworks" => frameworks::list(ctx, &v, q),
        "/ui/roles" => frameworks::roles(ctx, &v),
        "/ui/offers" => frameworks::offers(ctx, &v, q),
        "/ui/maintenance" => frameworks::maintenance(ctx, q),
        "/ui/tasks" => tasks::list(ctx, &v, q),
        "/ui/fragments/tasks" => tasks::table(ctx, &v, q),
        "/ui/task" => tasks::detail(ctx, &v, q),
        "/ui/fragments/task" => tasks::detail_fragment(ctx, &v, q),
        "/ui/sandbox" => sandbox::page(&req, ctx, &v, q).await,
        "/ui/fragments/tail" => sandbox::tail(&req, ctx, &v, q).await,
        p => {
            if let Some(id) = p.strip_prefix("/ui/agents/") {
                agents::detail(ctx, &v, id)
            } else if let Some(id) = p.strip_prefix("/ui/frameworks/") {
                frameworks::detail(ctx, &v, id, q)
            } else {
                return Err(HttpError::new(StatusCode::NOT_FOUND, "No such page"));
            }
        }
    }?;
    Ok(html_response(StatusCode::OK, markup))
}

/// An HTML response that browsers must not cache (live data).
pub fn html_response(status: StatusCode, markup: Markup) -> Response<Body> {
    ui::html_response(status, markup)
}

fn asset(name: &str) -> HttpResult {
    ui::asset_response(name).ok_or_else(|| HttpError::new(StatusCode::NOT_FOUND, "No such asset"))
}

/// The UI's error page for `e` (used by the HTTP layer's one error mapping): the API's own
/// message, and for 401/403 what to do about it. htmx fragment requests get just the banner.
pub fn error_page(e: &HttpError, fragment: bool) -> Markup {
    let status = e.status.as_u16();
    let banner = if status == 401 || status == 403 {
        ui::auth_message(status, &e.message)
    } else {
        ui::error_banner(status, &e.message)
    };
    if fragment {
        return banner;
    }
    let title = e.status.canonical_reason().unwrap_or("Error");
    page(
        title,
        "",
        html! { h1 { (title) } (banner) p { a href="/" { "Back to the overview" } } },
    )
}

/// A required query parameter (400 naming it otherwise).
pub fn param(q: Option<&str>, name: &str) -> Result<String, HttpError> {
    form_urlencoded::parse(q.unwrap_or_default().as_bytes())
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
        .filter(|v| !v.is_empty())
        .ok_or_else(|| HttpError::bad_request(format!("Missing '{name}' query parameter")))
}

/// An optional query parameter.
pub fn opt_param(q: Option<&str>, name: &str) -> Option<String> {
    param(q, name).ok()
}

/// Percent-encodes a query value.
pub fn enc(v: &str) -> String {
    form_urlencoded::byte_serialize(v.as_bytes()).collect()
}
