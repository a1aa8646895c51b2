//! The overview: leader, version, uptime, agents, frameworks, tasks per state, cluster
//! resources as bars and the latest task failures. The page embeds one fragment
//! (`/ui/fragments/overview`) that htmx reloads every few seconds; its size does not grow
//! with the cluster (counts and the last ten failures only).

use std::collections::BTreeMap;

use meseta_api::TaskState;
use meseta_ui::{self as ui, html, Markup};

use super::view::{last_reason, visible_tasks, Scalars, Viewer};
use crate::http::{Ctx, HttpError};
use crate::master::{lock, now_secs, Master, MESOS_VERSION};

/// Failures listed on the overview.
const RECENT_FAILURES: usize = 10;

/// `GET /`.
pub fn page(ctx: &Ctx, v: &Viewer<'_>) -> Result<Markup, HttpError> {
    let live = fragment(ctx, v)?;
    Ok(super::page(
        "Overview",
        "/",
        html! {
            h1 { "Cluster overview" }
            div id="overview" hx-get="/ui/fragments/overview" hx-trigger="every 3s"
                hx-swap="innerHTML" { (live) }
        },
    ))
}

/// `GET /ui/fragments/overview`.
pub fn fragment(ctx: &Ctx, v: &Viewer<'_>) -> Result<Markup, HttpError> {
    let ha = ctx.ha.as_deref().map(|h| h.leading());
    Ok(render(&lock(&ctx.master), v, ha))
}

/// The overview's live part for `m` (`leading`: `None` without `--zk`).
pub fn render(m: &Master, v: &Viewer<'_>, leading: Option<bool>) -> Markup {
    let now = now_secs();
    let agents = m.agents.len();
    let connected = m.agents.values().filter(|a| a.sink.is_some()).count();
    let deactivated = m.agents.values().filter(|a| a.deactivated).count();
    let draining = m.agents.values().filter(|a| a.drain.is_some()).count();
    let fw_active = m.frameworks.values().filter(|f| f.stream.is_some()).count();
    let mut states: BTreeMap<&'static str, usize> = BTreeMap::new();
    let mut failures = Vec::new();
    let mut used = Scalars::default();
    for (f, t) in visible_tasks(m, v) {
        *states.entry(t.task.state.as_str()).or_insert(0) += 1;
        if is_failure(t.task.state) {
            let when = t
                .task
                .statuses
                .last()
                .and_then(|s| s.timestamp)
                .unwrap_or(0.0);
            failures.push((when, f, t));
        }
    }
    for f in m.frameworks.values() {
        for t in f.tasks.values() {
            used.add(&t.task.resources);
        }
        for e in f.executors.values() {
            used.add(&e.info.resources);
        }
    }
    failures.sort_by(|a, b| b.0.total_cmp(&a.0));
    failures.truncate(RECENT_FAILURES);
    let mut total = Scalars::default();
    for a in m.agents.values() {
        total.add(&a.info.resources);
    }
    let mut offered = Scalars::default();
    for o in m.offers.values() {
        offered.add(&o.offer.resources);
    }
    let num = |x: f64| format!("{x:.1}");
    html! {
        div class="cards" {
            div class="card" {
                h2 { "Master" }
                (ui::kv(&[
                    ("Leader", html! { code { (m.pid()) } }),
                    ("Role", html! { @match leading {
                        None => "single master",
                        Some(true) => "elected leader",
                        Some(false) => "not leading",
                    } }),
                    ("Version", html! { (MESOS_VERSION) }),
                    ("Started", html! { (ui::fmt_unix_time(m.start_time)) }),
                    ("Uptime", html! { (ui::fmt_duration_secs(now - m.start_time)) }),
                    ("Elected", html! { (ui::fmt_unix_time(m.start_time)) }),
                    ("Cluster", html! { (m.config.cluster.clone().unwrap_or_default()) }),
                ]))
            }
            div class="card" {
                h2 { a href="/ui/agents" { "Agents" } }
                (ui::kv(&[
                    ("Registered", html! { (agents) }),
                    ("Active", html! { (connected.saturating_sub(deactivated)) }),
                    ("Disconnected", html! { (agents - connected) }),
                    ("Deactivated", html! { (deactivated) }),
                    ("Draining", html! { a href="/ui/maintenance" { (draining) } }),
                    ("Unreachable", html! { (m.unreachable_count()) }),
                ]))
            }
            div class="card" {
                h2 { a href="/ui/frameworks" { "Frameworks" } }
                (ui::kv(&[
                    ("Active", html! { (fw_active) }),
                    ("Inactive", html! { (m.frameworks.len() - fw_active) }),
                    ("Completed", html! { (m.completed_frameworks.len()) }),
                    ("Offers", html! { a href="/ui/offers" { (m.offers.len()) } }),
                ]))
            }
            div class="card" {
                h2 { a href="/ui/tasks" { "Tasks" } }
                @if states.is_empty() { p class="muted" { "No tasks." } }
                dl class="kv" {
                    @for (s, n) in &states {
                        dt { a href=(format!("/ui/tasks?state={s}")) { (ui::state_badge(s)) } }
                        dd { (n) }
                    }
                }
            }
        }
        h2 { "Resources" }
        div class="card" {
            (ui::resource_bar("CPUs", used.cpus, Some(offered.cpus), total.cpus, num))
            (ui::resource_bar("Memory", used.mem, Some(offered.mem), total.mem, ui::fmt_bytes_mb))
            (ui::resource_bar("Disk", used.disk, Some(offered.disk), total.disk, ui::fmt_bytes_mb))
            @if total.gpus > 0.0 {
                (ui::resource_bar("GPUs", used.gpus, Some(offered.gpus), total.gpus, num))
            }
        }
        h2 { "Recent task failures" }
        @if failures.is_empty() {
            p class="muted" { "No failed tasks." }
        } @else {
            div class="table-wrap" {
                table {
                    thead { tr { th { "Task" } th { "State" } th { "Reason" } th class="hide-narrow" { "Message" } th { "When" } } }
                    tbody {
                        @for (when, f, t) in &failures {
                            @let (reason, message) = last_reason(t);
                            tr {
                                td { a href=(super::tasks::task_href(&f.id, &t.task.task_id.value)) { (t.task.task_id.value) } }
                                td { (ui::state_badge(t.task.state.as_str())) }
                                td { code { (reason) } }
                                td class="hide-narrow" { (message) }
                                td { (ui::fmt_unix_time(*when)) }
                            }
                        }
                    }
                }
            }
        }
    }
}

fn is_failure(s: TaskState) -> bool {
    matches!(
        s,
        TaskState::Failed
            | TaskState::Lost
            | TaskState::Error
            | TaskState::Dropped
            | TaskState::Gone
            | TaskState::GoneByOperator
            | TaskState::Unreachable
    )
}
