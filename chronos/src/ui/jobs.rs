//! The jobs page: every job with its schedule (or parents), next run, last success and
//! failure, counts and state, searched (`?q=`), sorted and paginated server-side; below it the
//! dependency graph. The table refreshes itself every 5 s through htmx (`/ui/jobs-table`).

use std::sync::Arc;

use http::Response;
use maud::{html, Markup};
use meseta_ui::table::{self, Query as Tq};

use super::page::{badge, flash, frame};
use super::{enc, graph, html};
use crate::core::Core;
use crate::http::Body;
use crate::job::Job;

/// The table's query: search, sort, page, and the flash message (taken out of the extras so
/// links do not repeat it).
fn table_query(raw: &str) -> (Tq, Option<String>) {
    let mut q = Tq::parse(Some(raw), "name");
    let msg = q.get("msg").map(str::to_owned);
    q.extra.retain(|(k, _)| k != "msg");
    (q, msg)
}

/// `GET /`.
pub async fn page(raw_query: &str, core: &Arc<Core>) -> Response<Body> {
    let (q, msg) = table_query(raw_query);
    let table = table(&q, core);
    let graph = graph::inline_svg(core).await;
    html(
        200,
        frame(
            "Jobs",
            "/",
            html! {
                h1 { "Jobs" }
                (flash(msg.as_deref()))
                div class="toolbar" {
                    (table::search_form(&q, "/", "Search jobs (name or command)"))
                    a href="/ui/new" class="button" { "Create job" }
                }
                (table)
                section aria-label="Dependency graph" {
                    h2 { "Dependency graph" }
                    (graph)
                    p { a href="/ui/graph.svg" { "Graph as SVG" } " · "
                        a href="/v1/scheduler/graph/dot" { "as DOT" } }
                }
            },
        ),
    )
}

/// `GET /ui/jobs-table`: the live fragment.
pub fn fragment(raw_query: &str, core: &Arc<Core>) -> Response<Body> {
    html(200, table(&table_query(raw_query).0, core))
}

/// The last outcome of a job: `success`, `failure` or `fresh`.
pub fn last_state(j: &Job) -> &'static str {
    crate::http::views::last_state(j)
}

/// `idle`/`queued`/`running` (and `disabled`) as badges.
pub fn state_badges(state: &str, disabled: bool) -> Markup {
    let kind = match state {
        "running" => "ok",
        "queued" => "warn",
        _ => "idle",
    };
    html! {
        (badge(kind, state))
        @if disabled { " " (badge("idle", "disabled")) }
    }
}

/// How a job is triggered: its schedule, or "after" its parents.
pub fn trigger(j: &Job) -> Markup {
    html! {
        @if let Some(p) = j.parents.as_ref().filter(|p| !p.is_empty()) {
            "after "
            @for (i, parent) in p.iter().enumerate() {
                @if i > 0 { ", " }
                a href={ "/ui/job?name=" (enc(parent)) } { (parent) }
            }
        } @else {
            code { (j.schedule.as_deref().unwrap_or("")) }
            @if let Some(tz) = j.schedule_time_zone.as_deref().filter(|t| !t.is_empty()) { " (" (tz) ")" }
        }
    }
}

/// Refresh every 5 s, but not while the keyboard focus is inside the table (a swap would
/// drop it).
const REFRESH: &str = "every 5s [!this.contains(document.activeElement)]";

fn table(q: &Tq, core: &Arc<Core>) -> Markup {
    let e = core.engine();
    let mut jobs: Vec<&Job> = e
        .jobs()
        .filter(|j| q.matches(&[&j.name, &j.command]))
        .collect();
    match q.sort.as_str() {
        "success" => jobs.sort_by(|a, b| a.last_success.cmp(&b.last_success)),
        "failure" => jobs.sort_by(|a, b| a.last_error.cmp(&b.last_error)),
        "successes" => jobs.sort_by_key(|j| j.success_count),
        "failures" => jobs.sort_by_key(|j| j.error_count),
        "next" => jobs.sort_by_key(|j| e.next_due(&j.name)),
        _ => jobs.sort_by(|a, b| a.name.cmp(&b.name)),
    }
    if q.desc {
        jobs.reverse();
    }
    let page = q.paginate(jobs);
    let refresh = q.href("/ui/jobs-table", &[]);
    let th = |key: &str, label: &str| table::sort_header(q, "/", key, label);
    html! {
        div id="jobs" hx-get=(refresh) hx-trigger=(REFRESH) hx-swap="outerHTML" {
            @if page.total == 0 { p class="muted" { "No jobs." } } @else {
                div class="table-wrap" { table {
                    thead { tr {
                        (th("name", "Name")) th scope="col" { "Schedule" }
                        (th("next", "Next run")) (th("success", "Last success"))
                        (th("failure", "Last failure")) (th("successes", "Successes"))
                        (th("failures", "Failures")) th scope="col" { "State" }
                        th scope="col" { "Run" }
                    } }
                    tbody {
                        @for j in &page.rows {
                            tr {
                                td { a href={ "/ui/job?name=" (enc(&j.name)) } { (j.name) } }
                                td { (trigger(j)) }
                                td { (e.next_due(&j.name).map(crate::engine::iso).unwrap_or_default()) }
                                td { (j.last_success) }
                                td { (j.last_error) }
                                td class="num" { (j.success_count) }
                                td class="num" { (j.error_count) }
                                td { (state_badges(e.job_state(&j.name), j.disabled)) }
                                td {
                                    form method="post" action="/ui/run" class="inline" {
                                        input type="hidden" name="name" value=(j.name);
                                        button type="submit" aria-label={ "Run " (j.name) " now" } { "Run now" }
                                    }
                                }
                            }
                        }
                    }
                } }
                (table::pager(q, "/", &page))
            }
        }
    }
}
