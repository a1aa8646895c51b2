//! Frameworks (list and detail), roles (weights, quota, allocation), offers and
//! maintenance (agents draining or deactivated).

use meseta_ui::table::{pager, search_form, sort_header, Query};
use meseta_ui::{self as ui, html, Markup};

use super::agents::agent_state;
use super::enc;
use super::view::{Scalars, Viewer};
use crate::http::{Ctx, HttpError};
use crate::master::{lock, Framework};

const BASE: &str = "/ui/frameworks";

/// `GET /ui/frameworks`.
pub fn list(ctx: &Ctx, v: &Viewer<'_>, raw: Option<&str>) -> Result<Markup, HttpError> {
    let q = Query::parse(raw, "name");
    let m = lock(&ctx.master);
    let mut rows: Vec<(&Framework, bool, Scalars)> = m
        .frameworks
        .values()
        .map(|f| (f, true))
        .chain(m.completed_frameworks.iter().map(|f| (f, false)))
        .filter(|(f, _)| v.framework(&f.info))
        .filter(|(f, _)| q.matches(&[&f.id, &f.info.name, &f.roles.join(","), &f.info.user]))
        .map(|(f, live)| {
            let mut s = Scalars::default();
            for t in f.tasks.values() {
                s.add(&t.task.resources);
            }
            (f, live, s)
        })
        .collect();
    rows.sort_by(|a, b| {
        let o = match q.sort.as_str() {
            "id" => a.0.id.cmp(&b.0.id),
            "tasks" => a.0.tasks.len().cmp(&b.0.tasks.len()),
            "cpus" => a.2.cpus.total_cmp(&b.2.cpus),
            "mem" => a.2.mem.total_cmp(&b.2.mem),
            "registered" => a.0.registered_time.total_cmp(&b.0.registered_time),
            _ => a.0.info.name.cmp(&b.0.info.name),
        }
        .then_with(|| a.0.id.cmp(&b.0.id));
        if q.desc {
            o.reverse()
        } else {
            o
        }
    });
    let page = q.paginate(rows);
    let body = html! {
        h1 { "Frameworks" }
        div class="toolbar" { (search_form(&q, BASE, "Search id, name, role or user")) }
        div class="table-wrap" { table {
            thead { tr {
                (sort_header(&q, BASE, "name", "Name"))
                (sort_header(&q, BASE, "id", "ID"))
                th { "State" } th { "Roles" } th { "Principal" }
                (sort_header(&q, BASE, "tasks", "Tasks"))
                (sort_header(&q, BASE, "cpus", "CPUs"))
                (sort_header(&q, BASE, "mem", "Mem"))
                (sort_header(&q, BASE, "registered", "Registered"))
            } }
            tbody { @for (f, live, s) in &page.rows { tr {
                td { a href=(format!("{BASE}/{}", enc(&f.id))) { (f.info.name) } }
                td class="mono" { (f.id) }
                td { (ui::state_badge(fw_state(f, *live))) }
                td { (f.roles.join(", ")) }
                td { (f.info.principal.clone().unwrap_or_default()) }
                td class="num" { (f.tasks.len()) }
                td class="num" { (format!("{:.1}", s.cpus)) }
                td class="num" { (ui::fmt_bytes_mb(s.mem)) }
                td { (ui::fmt_unix_time(f.registered_time)) }
            } } }
        } }
        (pager(&q, BASE, &page))
    };
    Ok(super::page("Frameworks", BASE, body))
}

fn fw_state(f: &Framework, live: bool) -> &'static str {
    match (live, f.stream.is_some()) {
        (false, _) => "COMPLETED",
        (true, true) => "ACTIVE",
        (true, false) => "INACTIVE",
    }
}

/// `GET /ui/frameworks/<id>`.
pub fn detail(ctx: &Ctx, v: &Viewer<'_>, id: &str, q: Option<&str>) -> Result<Markup, HttpError> {
    let id = percent_encoding::percent_decode_str(id)
        .decode_utf8_lossy()
        .into_owned();
    let m = lock(&ctx.master);
    let (f, live) = m
        .frameworks
        .get(&id)
        .map(|f| (f, true))
        .or_else(|| {
            m.completed_frameworks
                .iter()
                .find(|f| f.id == id)
                .map(|f| (f, false))
        })
        .filter(|(f, _)| v.framework(&f.info))
        .ok_or_else(|| HttpError::new(http::StatusCode::NOT_FOUND, format!("No framework {id}")))?;
    let mut used = Scalars::default();
    for t in f.tasks.values() {
        used.add(&t.task.resources);
    }
    let tasks_q = format!("q={}", enc(&f.id));
    let tasks =
        super::tasks::render_list(&m, v, Some(q.filter(|s| !s.is_empty()).unwrap_or(&tasks_q)));
    let body = html! {
        div class="breadcrumbs" { a href=(BASE) { "Frameworks" } " / " (f.info.name) }
        h1 { "Framework " (f.info.name) " " (ui::state_badge(fw_state(f, live))) }
        div class="card" {
            (ui::kv(&[
                ("ID", html! { code { (f.id) } }),
                ("Roles", html! { (f.roles.join(", ")) }),
                ("Principal", html! { (f.info.principal.clone().unwrap_or_default()) }),
                ("User", html! { (f.info.user) }),
                ("Hostname", html! { (f.info.hostname.clone().unwrap_or_default()) }),
                ("Registered", html! { (ui::fmt_unix_time(f.registered_time)) }),
                ("Re-registered", html! { (ui::fmt_unix_time(f.reregistered_time.unwrap_or(0.0))) }),
                ("Active tasks", html! { (f.tasks.len()) }),
                ("Completed tasks", html! { (f.completed_tasks.len()) }),
                ("Offers", html! { (f.offers.len()) }),
                ("Resources used", html! { (format!("cpus {:.2} · mem {} · disk {}", used.cpus, ui::fmt_bytes_mb(used.mem), ui::fmt_bytes_mb(used.disk))) }),
            ]))
        }
        (tasks)
    };
    Ok(super::page(
        &format!("Framework {}", f.info.name),
        BASE,
        body,
    ))
}

/// `GET /ui/roles`.
pub fn roles(ctx: &Ctx, v: &Viewer<'_>) -> Result<Markup, HttpError> {
    let mut roles = lock(&ctx.master).roles();
    roles.retain(|r| v.role(&r.name));
    let body = html! {
        h1 { "Roles" }
        div class="table-wrap" { table {
            thead { tr { th { "Role" } th class="num" { "Weight" } th { "Frameworks" } th { "Allocated" } th { "Offered" } th { "Reserved" } th { "Quota guarantee" } th { "Quota limit" } } }
            tbody { @for r in &roles { tr {
                td { (r.name) }
                td class="num" { (r.weight) }
                td { (r.frameworks.len()) }
                td class="mono" { (r.allocated.to_string()) }
                td class="mono" { (r.offered.to_string()) }
                td class="mono" { (r.reserved.to_string()) }
                td class="mono" { (r.quota.guarantees.to_string()) }
                td class="mono" { (limits(&r.quota.limits)) }
            } } }
        } }
    };
    Ok(super::page("Roles", "/ui/roles", body))
}

/// `GET /ui/offers`.
pub fn offers(ctx: &Ctx, v: &Viewer<'_>, raw: Option<&str>) -> Result<Markup, HttpError> {
    let q = Query::parse(raw, "id");
    let m = lock(&ctx.master);
    let mut rows: Vec<_> = m
        .offers
        .values()
        .filter(|o| {
            m.frameworks
                .get(&o.offer.framework_id.value)
                .is_some_and(|f| v.framework(&f.info))
        })
        .filter(|o| {
            q.matches(&[
                &o.offer.id.value,
                &o.offer.framework_id.value,
                &o.offer.agent_id.value,
                &o.offer.hostname,
            ])
        })
        .collect();
    rows.sort_by(|a, b| a.offer.id.value.cmp(&b.offer.id.value));
    if q.desc {
        rows.reverse();
    }
    let page = q.paginate(rows);
    let base = "/ui/offers";
    let body = html! {
        h1 { "Offers" }
        div class="toolbar" { (search_form(&q, base, "Search offer, framework or agent")) }
        div class="table-wrap" { table {
            thead { tr { (sort_header(&q, base, "id", "Offer")) th { "Framework" } th { "Host" } th class="num" { "CPUs" } th class="num" { "Mem" } th class="num" { "Age" } } }
            tbody { @for o in &page.rows {
                @let s = Scalars::of(&o.offer.resources);
                tr {
                    td class="mono" { (o.offer.id.value) }
                    td { a href=(format!("{BASE}/{}", enc(&o.offer.framework_id.value))) { (o.offer.framework_id.value) } }
                    td { a href=(format!("/ui/agents/{}", enc(&o.offer.agent_id.value))) { (o.offer.hostname) } }
                    td class="num" { (format!("{:.1}", s.cpus)) }
                    td class="num" { (ui::fmt_bytes_mb(s.mem)) }
                    td class="num" { (ui::fmt_duration_secs(o.created.elapsed().as_secs_f64())) }
                }
            } }
        } }
        (pager(&q, base, &page))
    };
    Ok(super::page("Offers", base, body))
}

/// `GET /ui/maintenance`: agents draining, drained or deactivated.
pub fn maintenance(ctx: &Ctx, raw: Option<&str>) -> Result<Markup, HttpError> {
    let q = Query::parse(raw, "hostname");
    let m = lock(&ctx.master);
    let mut rows: Vec<_> = m
        .agents
        .values()
        .filter(|a| a.drain.is_some() || a.deactivated)
        .collect();
    rows.sort_by(|a, b| a.info.hostname.cmp(&b.info.hostname));
    let page = q.paginate(rows);
    let base = "/ui/maintenance";
    let body = html! {
        h1 { "Maintenance" }
        p class="muted" { "Agents being drained (DRAIN_AGENT) or deactivated. Drain or deactivate an agent from its page." }
        @if page.total == 0 { p { "No agent is draining or deactivated." } }
        @else {
            div class="table-wrap" { table {
                thead { tr { th { "Host" } th { "State" } th { "Drain state" } th { "Mark gone" } th { "Grace period" } } }
                tbody { @for a in &page.rows { tr {
                    td { a href=(format!("/ui/agents/{}", enc(&a.id))) { (a.info.hostname) } }
                    td { (ui::state_badge(agent_state(a))) }
                    td { (a.drain.as_ref().map_or("", |d| super::view::drain_state(d.state))) }
                    td { (a.drain.as_ref().map_or("", |d| if d.config.mark_gone == Some(true) { "yes" } else { "no" })) }
                    td { (a.drain.as_ref().and_then(|d| d.config.max_grace_period.as_ref()).map(|g| format!("{}s", g.nanoseconds / 1_000_000_000)).unwrap_or_default()) }
                } } }
            } }
            (pager(&q, base, &page))
        }
    };
    Ok(super::page("Maintenance", base, body))
}

fn limits(l: &crate::allocator::Limits) -> String {
    l.iter()
        .map(|(n, v)| format!("{n}:{v}"))
        .collect::<Vec<_>>()
        .join(";")
}
