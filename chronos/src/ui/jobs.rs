//! The jobs page: every job with its schedule (or parents), next run, last success and
//! failure, counts and state, filtered by `?q=` and paginated server-side; below it the
//! dependency graph. The table refreshes itself every 5 s through htmx (`/ui/jobs-table`).

use std::sync::Arc;

use http::Response;
use maud::{html, Markup};

use super::page::{badge, flash, frame};
use super::{enc, graph, html, Form};
use crate::core::Core;
use crate::http::Body;
use crate::job::Job;

/// Jobs per page.
const PER_PAGE: usize = 50;

/// `GET /`.
pub async fn page(q: &Form, core: &Arc<Core>) -> Response<Body> {
    let filter = q.get("q").unwrap_or("");
    let table = table(q, core);
    let graph = graph::inline_svg(core).await;
    html(
        200,
        frame(
            "Jobs",
            html! {
                h1 { "Jobs" }
                (flash(q.get("msg")))
                form method="get" action="/" class="search" role="search" {
                    label for="q" { "Filter by name or command" }
                    input id="q" name="q" type="search" value=(filter);
                    button type="submit" { "Filter" }
                }
                p { a href="/ui/new" class="button" { "Create job" } }
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
pub fn fragment(q: &Form, core: &Arc<Core>) -> Response<Body> {
    html(200, table(q, core))
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
        _ => "muted",
    };
    html! {
        (badge(kind, state))
        @if disabled { " " (badge("muted", "disabled")) }
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

fn table(q: &Form, core: &Arc<Core>) -> Markup {
    let filter = q.get("q").unwrap_or("").to_lowercase();
    let e = core.engine();
    let mut jobs: Vec<&Job> = e
        .jobs()
        .filter(|j| {
            filter.is_empty()
                || j.name.to_lowercase().contains(&filter)
                || j.command.to_lowercase().contains(&filter)
        })
        .collect();
    jobs.sort_by(|a, b| a.name.cmp(&b.name));
    let total = jobs.len();
    let pages = total.div_ceil(PER_PAGE).max(1);
    let pageno = q
        .get("page")
        .and_then(|p| p.parse::<usize>().ok())
        .unwrap_or(1)
        .clamp(1, pages);
    let refresh = format!("/ui/jobs-table?q={}&page={pageno}", enc(&filter));
    html! {
        div id="jobs" hx-get=(refresh) hx-trigger="every 5s" hx-swap="outerHTML" {
            @if total == 0 { p class="empty" { "No jobs." } } @else {
                table {
                    caption { (total) " jobs" }
                    thead { tr {
                        th scope="col" { "Name" } th scope="col" { "Schedule" }
                        th scope="col" { "Next run" } th scope="col" { "Last success" }
                        th scope="col" { "Last failure" } th scope="col" { "Successes" }
                        th scope="col" { "Failures" } th scope="col" { "State" }
                        th scope="col" { "Run" }
                    } }
                    tbody {
                        @for j in jobs.iter().skip((pageno - 1) * PER_PAGE).take(PER_PAGE) {
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
    }
}
