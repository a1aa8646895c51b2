//! The apps page: every app with its status, instances (running, healthy, staged of the
//! target), resources and the deployments in progress; searched (`?q=`), sorted and
//! paginated server-side. The table refreshes itself every 5 s through htmx (`/ui/apps-table`).

use http::{Method, Response};
use maud::{html, Markup};
use meseta_ui::table::{self, Query as Tq};
use serde_json::Value;

use super::page::{badge, error_page, flash, frame};
use super::{api, enc, html, Ctx};
use crate::http::Body;

/// The table's query: search, sort, page, and the flash message (taken out of the extras so
/// links do not repeat it).
fn table_query(raw: &str) -> (Tq, Option<String>) {
    let mut q = Tq::parse(Some(raw), "id");
    let msg = q.get("msg").map(str::to_owned);
    q.extra.retain(|(k, _)| k != "msg");
    (q, msg)
}

/// `GET /`.
pub async fn page(raw_query: &str, ctx: &Ctx) -> Response<Body> {
    let (q, msg) = table_query(raw_query);
    let table = match table(&q, ctx).await {
        Ok(t) => t,
        Err(r) => return r,
    };
    html(
        200,
        frame(
            "Apps",
            "/",
            html! {
                h1 { "Applications" }
                (flash(msg.as_deref()))
                div class="toolbar" {
                    (table::search_form(&q, "/", "Search apps"))
                    a href="/ui/new" class="button" { "Create app" }
                }
                (table)
            },
        ),
    )
}

/// `GET /ui/apps-table`: the live fragment.
pub async fn fragment(raw_query: &str, ctx: &Ctx) -> Response<Body> {
    match table(&table_query(raw_query).0, ctx).await {
        Ok(t) => html(200, t),
        Err(r) => r,
    }
}

/// What an app is doing, as Marathon's UI words it, and its badge class.
pub fn status(app: &Value) -> (&'static str, &'static str) {
    let n = |k: &str| app.get(k).and_then(Value::as_u64).unwrap_or(0);
    let deploying = app
        .get("deployments")
        .and_then(Value::as_array)
        .is_some_and(|d| !d.is_empty());
    if deploying {
        ("Deploying", "warn")
    } else if n("instances") == 0 && n("tasksRunning") == 0 {
        ("Suspended", "idle")
    } else if n("tasksRunning") >= n("instances") {
        ("Running", "ok")
    } else {
        ("Waiting", "warn")
    }
}

fn sort_key(app: &Value, key: &str) -> (f64, String) {
    match key {
        "id" => (0.0, str_of(app, "id")),
        "status" => (0.0, status(app).0.to_owned()),
        k => (
            app.get(k).and_then(Value::as_f64).unwrap_or(0.0),
            String::new(),
        ),
    }
}

/// Refresh every 5 s, but not while the keyboard focus is inside the table (a swap would
/// drop it).
const REFRESH: &str = "every 5s [!this.contains(document.activeElement)]";

async fn table(q: &Tq, ctx: &Ctx) -> Result<Markup, Response<Body>> {
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
    let mut apps: Vec<&Value> = a
        .body
        .get("apps")
        .and_then(Value::as_array)
        .map(|v| {
            v.iter()
                .filter(|x| q.matches(&[&str_of(x, "id")]))
                .collect()
        })
        .unwrap_or_default();
    apps.sort_by(|x, y| {
        let (kx, ky) = (sort_key(x, &q.sort), sort_key(y, &q.sort));
        kx.0.total_cmp(&ky.0).then_with(|| kx.1.cmp(&ky.1))
    });
    if q.desc {
        apps.reverse();
    }
    let page = q.paginate(apps);
    let refresh = q.href("/ui/apps-table", &[]);
    let th = |key: &str, label: &str| table::sort_header(q, "/", key, label);
    Ok(html! {
        div id="apps" hx-get=(refresh) hx-trigger=(REFRESH) hx-swap="outerHTML" {
            @if page.total == 0 {
                p class="muted" { "No apps." }
            } @else {
                div class="table-wrap" { table {
                    thead { tr {
                        (th("id", "ID")) (th("status", "Status"))
                        (th("tasksRunning", "Running")) (th("tasksHealthy", "Healthy"))
                        (th("tasksStaged", "Staged")) (th("instances", "Instances"))
                        (th("cpus", "CPUs")) (th("mem", "Memory (MiB)"))
                        th scope="col" { "Deployments" }
                    } }
                    tbody {
                        @for app in &page.rows { (row(app)) }
                    }
                } }
                (table::pager(q, "/", &page))
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
