//! Agents: the list (search, sort, pages on the server), the detail page (resources,
//! attributes, reservations, tasks, drain/deactivate buttons) and its live fragment of
//! container statistics fetched from the agent's `/monitor/statistics`.

use std::collections::HashMap;

use http::Request;
use meseta_httpd::RequestBody;
use meseta_ui::table::{pager, search_form, sort_header, Query};
use meseta_ui::{self as ui, html, Markup};
use serde_json::Value as Json;

use super::view::{Scalars, Viewer};
use super::{enc, param, proxy};
use crate::http::{Ctx, HttpError};
use crate::master::{lock, Agent, Master};

const BASE: &str = "/ui/agents";

/// Per-agent use: resources of live tasks and executors, and the number of live tasks.
fn usage(m: &Master) -> HashMap<&str, (Scalars, usize)> {
    let mut u: HashMap<&str, (Scalars, usize)> = HashMap::with_capacity(m.agents.len());
    for f in m.frameworks.values() {
        for t in f.tasks.values() {
            let e = u.entry(t.task.agent_id.value.as_str()).or_default();
            e.0.add(&t.task.resources);
            e.1 += 1;
        }
        for ((agent, _), e) in &f.executors {
            u.entry(agent.as_str())
                .or_default()
                .0
                .add(&e.info.resources);
        }
    }
    u
}

/// An agent's state as a word.
pub fn agent_state(a: &Agent) -> &'static str {
    if a.drain.is_some() {
        "DRAINING"
    } else if a.deactivated {
        "DEACTIVATED"
    } else if a.sink.is_some() {
        "ACTIVE"
    } else {
        "DISCONNECTED"
    }
}

/// `GET /ui/agents`.
pub fn list(ctx: &Ctx, q: Option<&str>) -> Result<Markup, HttpError> {
    let body = render_list(&lock(&ctx.master), q);
    Ok(super::page("Agents", BASE, body))
}

/// The agents page body for `m` and the query `q`.
pub fn render_list(m: &Master, q: Option<&str>) -> Markup {
    let q = Query::parse(q, "hostname");
    let usage = usage(m);
    let zero = (Scalars::default(), 0);
    let rows: Vec<(&Agent, Scalars, (Scalars, usize))> = m
        .agents
        .values()
        .filter(|a| q.matches(&[&a.id, &a.info.hostname, agent_state(a)]))
        .map(|a| {
            let u = usage.get(a.id.as_str()).copied().unwrap_or(zero);
            (a, Scalars::of(&a.info.resources), u)
        })
        .collect();
    let key = q.sort.as_str();
    let page = q.sorted_page(rows, |x, y| {
        let o = match key {
            "id" => x.0.id.cmp(&y.0.id),
            "cpus" => x.1.cpus.total_cmp(&y.1.cpus),
            "mem" => x.1.mem.total_cmp(&y.1.mem),
            "used_cpus" => x.2 .0.cpus.total_cmp(&y.2 .0.cpus),
            "used_mem" => x.2 .0.mem.total_cmp(&y.2 .0.mem),
            "tasks" => x.2 .1.cmp(&y.2 .1),
            "registered" => x.0.registered_time.total_cmp(&y.0.registered_time),
            "state" => agent_state(x.0).cmp(agent_state(y.0)),
            _ => x.0.info.hostname.cmp(&y.0.info.hostname),
        }
        .then_with(|| x.0.id.cmp(&y.0.id));
        if q.desc {
            o.reverse()
        } else {
            o
        }
    });
    html! {
        h1 { "Agents" }
        div class="toolbar" { (search_form(&q, BASE, "Search id, hostname or state")) }
        div class="table-wrap" {
            table {
                thead { tr {
                    (sort_header(&q, BASE, "hostname", "Host"))
                    (sort_header(&q, BASE, "id", "ID"))
                    (sort_header(&q, BASE, "state", "State"))
                    (sort_header(&q, BASE, "tasks", "Tasks"))
                    (sort_header(&q, BASE, "used_cpus", "CPUs used"))
                    (sort_header(&q, BASE, "cpus", "CPUs"))
                    (sort_header(&q, BASE, "used_mem", "Mem used"))
                    (sort_header(&q, BASE, "mem", "Mem"))
                    (sort_header(&q, BASE, "registered", "Registered"))
                } }
                tbody {
                    @for (a, total, (used, tasks)) in &page.rows {
                        tr {
                            td { a href=(format!("{BASE}/{}", enc(&a.id))) { (a.info.hostname) } }
                            td class="mono" { (a.id) }
                            td { (ui::state_badge(agent_state(a))) }
                            td class="num" { (tasks) }
                            td class="num" { (format!("{:.1}", used.cpus)) }
                            td class="num" { (format!("{:.1}", total.cpus)) }
                            td class="num" { (ui::fmt_bytes_mb(used.mem)) }
                            td class="num" { (ui::fmt_bytes_mb(total.mem)) }
                            td { (ui::fmt_unix_time(a.registered_time)) }
                        }
                    }
                }
            }
        }
        (pager(&q, BASE, &page))
    }
}

/// `GET /ui/agents/<id>`.
pub fn detail(ctx: &Ctx, v: &Viewer<'_>, id: &str) -> Result<Markup, HttpError> {
    let id = percent_encoding::percent_decode_str(id)
        .decode_utf8_lossy()
        .into_owned();
    let m = lock(&ctx.master);
    let a = m
        .agents
        .get(&id)
        .ok_or_else(|| HttpError::new(http::StatusCode::NOT_FOUND, format!("No agent {id}")))?;
    let total = Scalars::of(&a.info.resources);
    let used = usage(&m).get(a.id.as_str()).copied().unwrap_or_default();
    let reserved: Vec<_> = a
        .info
        .resources
        .iter()
        .filter(|r| !r.reservations.is_empty() || r.reservation.is_some())
        .collect();
    let tasks: Vec<_> = m
        .frameworks
        .values()
        .filter(|f| v.tasks_of(&f.info))
        .flat_map(|f| f.tasks.values().map(move |t| (f, t)))
        .filter(|(_, t)| t.task.agent_id.value == a.id)
        .take(200)
        .collect();
    let num = |x: f64| format!("{x:.1}");
    let body = html! {
        div class="breadcrumbs" { a href=(BASE) { "Agents" } " / " (a.info.hostname) }
        h1 { "Agent " (a.info.hostname) " " (ui::state_badge(agent_state(a))) }
        div class="cards" {
            div class="card" {
                h2 { "Agent" }
                (ui::kv(&[
                    ("ID", html! { code { (a.id) } }),
                    ("Address", html! { code { (a.pid()) } }),
                    ("Version", html! { (a.version) }),
                    ("Registered", html! { (ui::fmt_unix_time(a.registered_time)) }),
                    ("Re-registered", html! { (ui::fmt_unix_time(a.reregistered_time.unwrap_or(0.0))) }),
                    ("Drain", html! { (a.drain.as_ref().map(|d| super::view::drain_state(d.state)).unwrap_or("—")) }),
                ]))
            }
            div class="card" {
                h2 { "Resources" }
                (ui::resource_bar("CPUs", used.0.cpus, None, total.cpus, num))
                (ui::resource_bar("Memory", used.0.mem, None, total.mem, ui::fmt_bytes_mb))
                (ui::resource_bar("Disk", used.0.disk, None, total.disk, ui::fmt_bytes_mb))
            }
            div class="card" {
                h2 { "Attributes" }
                @if a.info.attributes.is_empty() { p class="muted" { "None." } }
                dl class="kv" {
                    @for at in &a.info.attributes {
                        dt { (at.name) } dd { code { (attribute_value(at)) } }
                    }
                }
            }
            div class="card" {
                h2 { "Actions" }
                (actions(a))
            }
        }
        h2 { "Reservations" }
        @if reserved.is_empty() { p class="muted" { "No reserved resources." } }
        @else {
            div class="table-wrap" { table {
                thead { tr { th { "Resource" } th { "Amount" } th { "Role" } th { "Principal" } } }
                tbody { @for r in &reserved {
                    @let res = r.reservations.last().or(r.reservation.as_ref());
                    tr {
                        td { (r.name) }
                        td class="num" { (r.scalar.as_ref().map_or(String::new(), |s| format!("{}", s.value))) }
                        td { (res.and_then(|x| x.role.clone()).or_else(|| r.role.clone()).unwrap_or_default()) }
                        td { (res.and_then(|x| x.principal.clone()).unwrap_or_default()) }
                    }
                } }
            } }
        }
        h2 { "Running containers" }
        p class="muted" { "Live CPU and memory from the agent's /monitor/statistics." }
        div id="agent-stats" hx-get=(format!("/ui/fragments/agent-stats?agent={}", enc(&a.id)))
            hx-trigger="load, every 5s" hx-swap="innerHTML" {
            p class="muted" { "Loading statistics… (needs JavaScript)" }
        }
        h2 { "Tasks (" (tasks.len()) ")" }
        div class="table-wrap" { table {
            thead { tr { th { "Task" } th { "Framework" } th { "State" } } }
            tbody { @for (f, t) in &tasks { tr {
                td { a href=(super::tasks::task_href(&f.id, &t.task.task_id.value)) { (t.task.task_id.value) } }
                td { a href=(format!("/ui/frameworks/{}", enc(&f.id))) { (f.info.name) } }
                td { (ui::state_badge(t.task.state.as_str())) }
            } } }
        } }
    };
    Ok(super::page(
        &format!("Agent {}", a.info.hostname),
        BASE,
        body,
    ))
}

fn attribute_value(a: &meseta_api::Attribute) -> String {
    serde_json::to_value(a)
        .ok()
        .and_then(|v| {
            v.get("text")
                .and_then(|t| t.get("value"))
                .or_else(|| v.get("scalar").and_then(|s| s.get("value")))
                .map(|x| x.as_str().map_or_else(|| x.to_string(), str::to_string))
                .or_else(|| {
                    v.get("ranges")
                        .or_else(|| v.get("set"))
                        .map(Json::to_string)
                })
        })
        .unwrap_or_default()
}

fn actions(a: &Agent) -> Markup {
    let id = &a.id;
    html! {
        div class="toolbar" {
            @if a.deactivated {
                form class="inline" method="post" action="/ui/actions/agent" {
                    input type="hidden" name="agent" value=(id);
                    button type="submit" name="op" value="reactivate" class="secondary" { "Reactivate" }
                }
            } @else {
                form class="inline" method="post" action="/ui/actions/agent" {
                    input type="hidden" name="agent" value=(id);
                    button type="submit" name="op" value="deactivate" class="secondary" { "Deactivate" }
                }
            }
            form class="inline" method="post" action="/ui/actions/agent" {
                input type="hidden" name="agent" value=(id);
                label { "Grace period (s)" input type="number" name="grace" id="grace" step="1" placeholder="none"; }
                button type="submit" name="op" value="drain" class="danger" { "Drain" }
            }
        }
    }
}

/// `GET /ui/fragments/agent-stats?agent=<id>`: the agent's containers with CPU and memory.
pub async fn stats_fragment(
    req: &Request<RequestBody>,
    ctx: &Ctx,
    q: Option<&str>,
) -> Result<Markup, HttpError> {
    let id = param(q, "agent")?;
    let addr = proxy::agent_address(ctx, &id)?;
    let stats = proxy::get_json(req, &addr, "/monitor/statistics").await?;
    let mut rows: Vec<&Json> = stats.as_array().into_iter().flatten().collect();
    rows.sort_by(|a, b| {
        let mem = |x: &Json| x["statistics"]["mem_rss_bytes"].as_f64().unwrap_or(0.0);
        mem(b).total_cmp(&mem(a))
    });
    let shown = rows.len().min(100);
    Ok(html! {
        @if rows.is_empty() { p class="muted" { "No running containers." } }
        @else {
            div class="table-wrap" { table {
                thead { tr { th { "Executor" } th { "Framework" } th class="num" { "CPU time (user+sys s)" } th class="num" { "CPU limit" } th class="num" { "RSS" } th class="num" { "Mem limit" } } }
                tbody { @for s in &rows[..shown] {
                    @let st = &s["statistics"];
                    @let f = |k: &str| st[k].as_f64().unwrap_or(0.0);
                    tr {
                        td class="mono" { (s["executor_id"].as_str().unwrap_or_default()) }
                        td class="mono" { (s["framework_id"].as_str().unwrap_or_default()) }
                        td class="num" { (format!("{:.2}", f("cpus_user_time_secs") + f("cpus_system_time_secs"))) }
                        td class="num" { (format!("{:.2}", f("cpus_limit"))) }
                        td class="num" { (ui::fmt_bytes_mb(f("mem_rss_bytes") / 1_048_576.0)) }
                        td class="num" { (ui::fmt_bytes_mb(f("mem_limit_bytes") / 1_048_576.0)) }
                    }
                } }
            } }
            @if rows.len() > shown { p class="muted" { "Showing the " (shown) " largest of " (rows.len()) "." } }
        }
    })
}
