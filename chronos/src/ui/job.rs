//! One job: its trigger, next run, outcomes and counts, runs in flight, parents and children,
//! the definition as the API serves it, and the actions (run now, disable or enable, delete).

use std::sync::Arc;

use http::Response;
use maud::html;

use super::jobs::{last_state, state_badges, trigger};
use super::page::{badge, flash, frame, not_found};
use super::{enc, html, Form};
use crate::core::Core;
use crate::http::Body;

/// `GET /ui/job?name=`.
pub fn page(q: &Form, core: &Arc<Core>) -> Response<Body> {
    let name = q.get("name").unwrap_or("");
    let e = core.engine();
    let Some(j) = e.job(name) else {
        drop(e);
        return not_found(&format!("/ui/job?name={name} (no job '{name}')"));
    };
    let definition = serde_json::to_string_pretty(&j.for_display()).unwrap_or_default();
    let runs: Vec<_> = e.runs().filter(|r| r.job == name).cloned().collect();
    let children: Vec<String> = e.children(name).cloned().collect();
    let durations = e.durations(name);
    #[allow(clippy::cast_precision_loss)]
    let mean_s = if durations.is_empty() {
        0.0
    } else {
        durations.iter().sum::<f64>() / durations.len() as f64 / 1000.0
    };
    let next = e
        .next_due(name)
        .map(crate::engine::iso)
        .unwrap_or_else(|| "—".into());
    let state = e.job_state(name);
    let last = last_state(j);
    let last_kind = match last {
        "success" => "ok",
        "failure" => "bad",
        _ => "idle",
    };
    let markup = html! {
        h1 { "Job " code { (j.name) } " " (state_badges(state, j.disabled)) " " (badge(last_kind, last)) }
        (flash(q.get("msg")))
        dl class="kv" {
            dt { "Trigger" } dd { (trigger(j)) }
            dt { "Next run" } dd { (next) }
            dt { "Command" } dd { code { (j.command) } }
            dt { "Owner" } dd { (j.owner) }
            dt { "Successes" } dd { (j.success_count) " · last " (or_never(&j.last_success)) }
            dt { "Failures" } dd { (j.error_count) " · last " (or_never(&j.last_error))
                " · " (j.errors_since_last_success) " since the last success" }
            dt { "Mean run time" } dd { (format!("{mean_s:.1}")) " s over " (durations.len()) " runs" }
            dt { "Children" } dd {
                @if children.is_empty() { "none" }
                @for (i, c) in children.iter().enumerate() {
                    @if i > 0 { ", " }
                    a href={ "/ui/job?name=" (enc(c)) } { (c) }
                }
            }
        }
        section class="actions" aria-label="Actions" {
            h2 { "Actions" }
            form method="post" action="/ui/run" class="inline" {
                input type="hidden" name="name" value=(j.name);
                button type="submit" { "Run now" }
            }
            @if j.disabled {
                form method="post" action="/ui/enable" class="inline" {
                    input type="hidden" name="name" value=(j.name);
                    button type="submit" { "Enable" }
                }
            } @else {
                form method="post" action="/ui/disable" class="inline" {
                    input type="hidden" name="name" value=(j.name);
                    button type="submit" { "Disable" }
                }
            }
            form method="post" action="/ui/delete" class="inline danger" {
                input type="hidden" name="name" value=(j.name);
                input id="confirm-delete" name="confirm" type="checkbox" value="yes" required;
                label for="confirm-delete" { "I want to delete this job" }
                button type="submit" class="danger" { "Delete" }
            }
        }
        section aria-label="Runs in flight" {
            h2 { "Runs in flight (" (runs.len()) ")" }
            @if runs.is_empty() { p class="muted" { "None." } } @else {
                div class="table-wrap" { table {
                    thead { tr { th scope="col" { "Task" } th scope="col" { "State" }
                        th scope="col" { "Attempt" } th scope="col" { "Agent" } } }
                    tbody { @for r in &runs { tr {
                        td { code { (r.task_id) } }
                        td { (format!("{:?}", r.state)) }
                        td class="num" { (r.attempt) }
                        td { (r.agent_id.as_deref().unwrap_or("")) }
                    } } }
                } }
            }
        }
        section aria-label="Definition" {
            h2 { "Definition" }
            pre class="json" { (definition) }
        }
    };
    drop(e);
    html(200, frame(name, "", markup))
}

fn or_never(t: &str) -> &str {
    if t.is_empty() {
        "never"
    } else {
        t
    }
}
