//! The apps page: every app with its status, instances (running, healthy, staged of the
//! target), resources and the deployments in progress; filtered by `?q=` and paginated
//! server-side. The table refreshes itself every 5 s through htmx (`/ui/apps-table`).

use http::{Method, Response};
use maud::{html, Markup};
use serde_json::Value;

use super::page::{badge, error_page, flash, frame};
use super::{api, enc, html, Ctx};
use crate::http::{Body, Query};

/// Apps per page.
const PER_PAGE: usize = 50;

/// `GET /`.
pub async fn page(q: &Query, ctx: &Ctx) -> Response<Body> {
    let table = match table(q, ctx).await {
        Ok(t) => t,
        Err(r) => return r,
    };
    let filter = q.get("q").unwrap_or("");
    html(
        200,
        frame(
            "Apps",
            html! {
                h1 { "Applications" }
                (flash(q.get("msg")))
                form method="get" action="/" class="search" role="search" {
                    label for="q" { "Filter by id" }
                    input id="q" name="q" type="search" value=(filter);
                    button type="submit" { "Filter" }
                }
                p { a href="/ui/new" class="button" { "Create app" } }
                (table)
            },
        ),
    )
}

/// `GET /ui/apps-table`: the live fragment.
pub async fn fragment(q: &Query, ctx: &Ctx) -> Response<Body> {
    match table(q, ctx).await {
        Ok(t) => html(200, t),
        Err(r) => r,
    }
}

/// What an app is doing, as Marathon's UI words it.
pub fn status(app: &Value) -> (&'static str, &'static str) {
    let n = |k: &str| app.get(k).and_then(Value::as_u64).unwrap_or(0);
    let deploying = app
        .get("deployments")
        .and_then(Value::as_array)
        .is_some_and(|d| !d.is_empty());
    if deploying {
        ("Deploying", "warn")
    } else if n("instances") == 0 && n("tasksRunning") == 0 {
        ("Suspended", "muted")
    } else if n("tasksRunning") >= n("instances") {
        ("Running", "ok")
    } else {
        ("Waiting", "warn")
    }
}

async fn table(q: &Query, ctx: &Ctx) -> Result<Markup, Response<Body>> {
    let a = api(
        ctx,
        Method::GET,
        "/v2/apps",
        "embed=apps.counts&embed=apps.deployments",
        None,
    )
    .await;
    if !a.ok() {
        return Err(error_page("Listing apps", &a));
    }
    let filter = q.get("q").unwrap_or("").to_lowercase();
    let mut apps: Vec<&Value> = a
        .body
        .get("apps")
        .and_then(Value::as_array)
        .map(|v| v.iter().collect())
        .unwrap_or_default();
    apps.retain(|x| str_of(x, "id").to_lowercase().contains(&filter));
    apps.sort_by_key(|x| str_of(x, "id"));
    let total = apps.len();
    let pages = total.div_ceil(PER_PAGE).max(1);
    let pageno = q
        .get("page")
        .and_then(|p| p.parse::<usize>().ok())
        .unwrap_or(1)
        .clamp(1, pages);
    let shown = apps.iter().skip((pageno - 1) * PER_PAGE).take(PER_PAGE);
    let refresh = format!("/ui/apps-table?q={}&page={pageno}", enc(&filter));
    Ok(html! {
        div id="apps" hx-get=(refresh) hx-trigger="every 5s" hx-swap="outerHTML" {
            @if total == 0 {
                p class="empty" { "No apps." }
            } @else {
                table {
                    caption { (total) " apps" }
                    thead { tr {
                        th scope="col" { "ID" } th scope="col" { "Status" }
                        th scope="col" { "Running" } th scope="col" { "Healthy" }
                        th scope="col" { "Staged" } th scope="col" { "Instances" }
                        th scope="col" { "CPUs" } th scope="col" { "Memory (MiB)" }
                        th scope="col" { "Deployments" }
                    } }
                    tbody {
                        @for app in shown { (row(app)) }
                    }
                }
                @if pages > 1 {
                    nav class="pagination" aria-label="Pages" {
                        @for p in 1..=pages {
                            @if p == pageno { span aria-current="page" { (p) } }
                            @else { a href={ "/?q=" (enc(&filter)) "&page=" (p) } { (p) } }
                            " "
                        }
                    }
                }
            }
        }
    })
}

fn row(app: &Value) -> Markup {
    let id = str_of(app, "id");
    let n = |k: &str| app.get(k).and_then(Value::as_u64).unwrap_or(0);
    let (st, kind) = status(app);
    let deployments: Vec<String> = app
        .get("deployments")
        .and_then(Value::as_array)
        .map(|d| d.iter().map(|x| str_of(x, "id")).collect())
        .unwrap_or_default();
    html! {
        tr {
            td { a href={ "/ui/app?id=" (enc(&id)) } { (id) } }
            td { (badge(kind, st)) }
            td class="num" { (n("tasksRunning")) }
            td class="num" { (n("tasksHealthy")) }
            td class="num" { (n("tasksStaged")) }
            td class="num" { (n("instances")) }
            td class="num" { (app.get("cpus").and_then(Value::as_f64).unwrap_or(0.0)) }
            td class="num" { (app.get("mem").and_then(Value::as_f64).unwrap_or(0.0)) }
            td { @if deployments.is_empty() { "—" } @else { (deployments.join(", ")) } }
        }
    }
}

/// A string field (empty when absent).
pub fn str_of(v: &Value, key: &str) -> String {
    v.get(key).and_then(Value::as_str).unwrap_or("").to_owned()
}
