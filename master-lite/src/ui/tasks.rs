//! Tasks: the cluster-wide list (search, state filter, sort, pages; the table is one
//! fragment that htmx reloads) and the task detail page (status history, health, container,
//! sandbox link, kill button; its live part is a fragment too).

use meseta_ui::table::{pager, search_form, sort_header, Query};
use meseta_ui::{self as ui, html, Markup};

use super::view::{last_reason, started, visible_tasks, Scalars, Viewer};
use super::{enc, param};
use crate::http::{Ctx, HttpError};
use crate::master::{lock, Framework, Master, TaskRec};

const BASE: &str = "/ui/tasks";
const FRAGMENT: &str = "/ui/fragments/tasks";
/// Rows per page: the table is reloaded every 2 s, so it stays under 10 KB.
const PER_PAGE: usize = 25;

/// The detail page of a task.
pub fn task_href(framework: &str, task: &str) -> String {
    format!("/ui/task?framework={}&id={}", enc(framework), enc(task))
}

/// `GET /ui/tasks`.
pub fn list(ctx: &Ctx, v: &Viewer<'_>, q: Option<&str>) -> Result<Markup, HttpError> {
    let body = render_list(&lock(&ctx.master), v, q);
    Ok(super::page("Tasks", BASE, body))
}

/// The tasks page body.
pub fn render_list(m: &Master, v: &Viewer<'_>, q: Option<&str>) -> Markup {
    let query = Query::parse_with(q, "started", PER_PAGE);
    let states = [
        "",
        "TASK_STAGING",
        "TASK_STARTING",
        "TASK_RUNNING",
        "TASK_KILLING",
        "TASK_FINISHED",
        "TASK_FAILED",
        "TASK_KILLED",
        "TASK_LOST",
        "TASK_ERROR",
        "TASK_UNREACHABLE",
    ];
    let current = query.get("state").unwrap_or_default();
    html! {
        h1 { "Tasks" }
        div class="toolbar" {
            (search_form(&query, BASE, "Search id, name, agent or framework"))
            form class="inline" method="get" action=(BASE) {
                label { "State"
                    select name="state" {
                        @for s in states {
                            option value=(s) selected[s == current] { (if s.is_empty() { "any" } else { s }) }
                        }
                    }
                }
                input type="hidden" name="q" value=(query.q);
                button type="submit" class="secondary" { "Filter" }
            }
        }
        (render_table(m, v, q))
    }
}

/// `GET /ui/fragments/tasks`: the table and pager alone.
pub fn table(ctx: &Ctx, v: &Viewer<'_>, q: Option<&str>) -> Result<Markup, HttpError> {
    Ok(render_table(&lock(&ctx.master), v, q))
}

/// The live tasks table: reloads itself (same query) every 2 s.
pub fn render_table(m: &Master, v: &Viewer<'_>, raw: Option<&str>) -> Markup {
    let q = Query::parse_with(raw, "started", PER_PAGE);
    // Newest first unless a direction is asked for.
    let desc = q.desc || (q.sort == "started" && !raw.unwrap_or_default().contains("dir="));
    let state = q.get("state").unwrap_or_default();
    // The start time is computed once per row, not once per comparison.
    let rows: Vec<(&Framework, &TaskRec, f64)> = visible_tasks(m, v)
        .filter(|(_, t)| state.is_empty() || t.task.state.as_str() == state)
        .filter(|(f, t)| {
            q.matches(&[
                &t.task.task_id.value,
                &t.task.name,
                &t.task.agent_id.value,
                &f.id,
                &f.info.name,
            ])
        })
        .map(|(f, t)| (f, t, started(t)))
        .collect();
    let page = q.sorted_page(rows, |(fa, a, sa), (fb, b, sb)| {
        let o = match q.sort.as_str() {
            "id" => a.task.task_id.value.cmp(&b.task.task_id.value),
            "name" => a.task.name.cmp(&b.task.name),
            "state" => a.task.state.as_str().cmp(b.task.state.as_str()),
            "framework" => fa.info.name.cmp(&fb.info.name),
            "agent" => a.task.agent_id.value.cmp(&b.task.agent_id.value),
            _ => sa.total_cmp(sb),
        }
        .then_with(|| a.task.task_id.value.cmp(&b.task.task_id.value));
        if desc {
            o.reverse()
        } else {
            o
        }
    });
    let hosts = |id: &str| m.agents.get(id).map_or("", |a| a.info.hostname.as_str());
    let self_url = q.href(FRAGMENT, &[]);
    html! {
        div id="tasks-table" hx-get=(self_url) hx-trigger="every 2s" hx-swap="outerHTML" {
            div class="table-wrap" { table {
                thead { tr {
                    (sort_header(&q, BASE, "id", "Task"))
                    (sort_header(&q, BASE, "state", "State"))
                    th { "Reason" }
                    (sort_header(&q, BASE, "agent", "Agent"))
                    (sort_header(&q, BASE, "framework", "Framework"))
                    (sort_header(&q, BASE, "started", "Started"))
                } }
                tbody {
                    @for (f, t, start) in &page.rows {
                        @let id = &t.task.task_id.value;
                        tr data-task=(id) {
                            td { a href=(task_href(&f.id, id)) { (id) } }
                            td class="state" { (ui::state_badge(t.task.state.as_str())) }
                            td { (last_reason(t).0) }
                            td { a href=(format!("/ui/agents/{}", enc(&t.task.agent_id.value))) { (hosts(&t.task.agent_id.value)) } }
                            td { a href=(format!("/ui/frameworks/{}", enc(&f.id))) { (f.info.name) } }
                            td { (ui::fmt_unix_time(*start)) }
                        }
                    }
                }
            } }
            (pager(&q, BASE, &page))
        }
    }
}

fn find<'m>(
    m: &'m Master,
    v: &'m Viewer<'_>,
    q: Option<&str>,
) -> Result<(&'m Framework, &'m TaskRec), HttpError> {
    let fw = param(q, "framework")?;
    let id = param(q, "id")?;
    visible_tasks(m, v)
        .filter(|(f, t)| f.id == fw && t.task.task_id.value == id)
        // The live record wins over an older completed one of a reused id.
        .min_by_key(|(_, t)| u8::from(t.task.state.is_terminal()))
        .ok_or_else(|| {
            HttpError::new(
                http::StatusCode::NOT_FOUND,
                format!("No task {id} of framework {fw} (or not visible to you)"),
            )
        })
}

/// `GET /ui/task?framework=&id=`.
pub fn detail(ctx: &Ctx, v: &Viewer<'_>, q: Option<&str>) -> Result<Markup, HttpError> {
    let m = lock(&ctx.master);
    let (f, t) = find(&m, v, q)?;
    let id = &t.task.task_id.value;
    let res = Scalars::of(&t.task.resources);
    let container = t.task.container.as_ref();
    let image = container
        .and_then(|c| serde_json::to_value(c).ok())
        .map(|c| {
            c["docker"]["image"]
                .as_str()
                .or_else(|| c["mesos"]["image"]["docker"]["name"].as_str())
                .unwrap_or_default()
                .to_string()
        })
        .unwrap_or_default();
    let ctype = container
        .and_then(|c| serde_json::to_value(c.r#type).ok())
        .and_then(|v| v.as_str().map(str::to_string));
    let live_url = format!("/ui/fragments/task?framework={}&id={}", enc(&f.id), enc(id));
    let body = html! {
        div class="breadcrumbs" { a href=(BASE) { "Tasks" } " / " (id) }
        h1 { "Task " code { (id) } }
        div class="cards" {
            div class="card" {
                h2 { "Task" }
                (ui::kv(&[
                    ("Name", html! { (t.task.name) }),
                    ("Framework", html! { a href=(format!("/ui/frameworks/{}", enc(&f.id))) { (f.info.name) } " " code { (f.id) } }),
                    ("Agent", html! { a href=(format!("/ui/agents/{}", enc(&t.task.agent_id.value))) { (t.task.agent_id.value) } }),
                    ("Executor", html! { code { (t.task.executor_id.as_ref().map_or("(command executor)", |e| e.value.as_str())) } }),
                    ("Resources", html! { (format!("cpus {:.2} · mem {} · disk {}", res.cpus, ui::fmt_bytes_mb(res.mem), ui::fmt_bytes_mb(res.disk))) }),
                    ("Container", html! { (ctype.unwrap_or_else(|| "MESOS".into())) @if !image.is_empty() { " · image " code { (image) } } }),
                    ("Health check", html! { (if t.task.health_check.is_some() { "defined" } else { "none" }) }),
                ]))
            }
            div class="card" {
                h2 { "Sandbox and actions" }
                p { a class="button secondary" href=(format!("/ui/sandbox?agent={}&framework={}&task={}", enc(&t.task.agent_id.value), enc(&f.id), enc(id))) { "Open sandbox" } }
                @if !t.task.state.is_terminal() {
                    form method="post" action="/ui/actions/kill" {
                        input type="hidden" name="framework" value=(f.id);
                        input type="hidden" name="task" value=(id);
                        button type="submit" class="danger" id="kill" { "Kill task" }
                    }
                }
            }
        }
        div id="task-live" hx-get=(live_url) hx-trigger="every 2s" hx-swap="innerHTML" {
            (live(t))
        }
    };
    Ok(super::page(&format!("Task {id}"), BASE, body))
}

/// `GET /ui/fragments/task?framework=&id=`: state, health and status history.
pub fn detail_fragment(ctx: &Ctx, v: &Viewer<'_>, q: Option<&str>) -> Result<Markup, HttpError> {
    let m = lock(&ctx.master);
    let (_, t) = find(&m, v, q)?;
    Ok(live(t))
}

fn live(t: &TaskRec) -> Markup {
    let healthy = t.task.statuses.iter().rev().find_map(|s| s.healthy);
    html! {
        h2 { "State " span id="task-state" { (ui::state_badge(t.task.state.as_str())) } }
        p { "Health: " (match healthy { None => "unknown", Some(true) => "healthy", Some(false) => "unhealthy" }) }
        h2 { "Status history" }
        div class="table-wrap" { table {
            thead { tr { th { "Time" } th { "State" } th { "Source" } th { "Reason" } th { "Message" } th { "Healthy" } } }
            tbody { @for s in t.task.statuses.iter().rev() { tr {
                td { (ui::fmt_unix_time(s.timestamp.unwrap_or(0.0))) }
                td { (ui::state_badge(s.state.as_str())) }
                td { (s.source.map(|x| x.to_string()).unwrap_or_default()) }
                td { code { (s.reason.map(|x| x.to_string()).unwrap_or_default()) } }
                td { (s.message.clone().unwrap_or_default()) }
                td { (s.healthy.map_or("", |h| if h { "yes" } else { "no" })) }
            } } }
        } }
    }
}
