//! The sandbox browser: a task's sandbox directory listing, file download, and a live log
//! tail that follows a growing file through the agent's `/files/read` offsets, as Mesos's
//! pailer does. The master fetches everything from the agent ([`super::proxy`]), so the
//! browser needs no access to agents, no CORS, and the task's agent may be any host. Only
//! the download link goes to the agent directly (a file may be larger than the proxy's
//! answer bound).
//!
//! The tail is a `<span id="tail">` at the end of `<pre id="log">` that htmx replaces every
//! second by the new bytes and a new span carrying the next offset, unless "Pause" is ticked.

use http::{Request, StatusCode};
use meseta_httpd::RequestBody;
use meseta_ui::{self as ui, html, Markup};
use serde_json::Value as Json;

use super::view::{visible_tasks, Viewer};
use super::{enc, opt_param, param, proxy};
use crate::http::{Ctx, HttpError};
use crate::master::lock;

/// Bytes shown when a file is opened (its end).
const INITIAL: i64 = 32 * 1024;
/// Bytes fetched per tail poll at most; a faster-growing file is caught up over polls.
const PAGE: i64 = 64 * 1024;

/// Where a task's sandbox is: the agent's address and the executor's directory there.
async fn locate(
    req: &Request<RequestBody>,
    ctx: &Ctx,
    v: &Viewer<'_>,
    agent: &str,
    fw: &str,
    task: &str,
) -> Result<(String, String), HttpError> {
    {
        let m = lock(&ctx.master);
        let visible = visible_tasks(&m, v).any(|(f, t)| f.id == fw && t.task.task_id.value == task);
        if !visible {
            return Err(HttpError::new(
                StatusCode::NOT_FOUND,
                format!("No task {task} of framework {fw} (or not visible to you)"),
            ));
        }
    }
    let addr = proxy::agent_address(ctx, agent)?;
    let state = proxy::get_json(req, &addr, "/state").await?;
    let dir = find_directory(&state, fw, task).ok_or_else(|| {
        HttpError::new(
            StatusCode::NOT_FOUND,
            format!("Agent {addr} does not know a sandbox for task {task}"),
        )
    })?;
    Ok((addr, dir))
}

/// The `directory` of the executor that ran `task` of framework `fw` in an agent's `/state`.
pub fn find_directory(state: &Json, fw: &str, task: &str) -> Option<String> {
    let frameworks = ["frameworks", "completed_frameworks"]
        .iter()
        .flat_map(|k| state[*k].as_array().into_iter().flatten())
        .filter(|f| f["id"] == fw);
    for f in frameworks {
        let executors = ["executors", "completed_executors"]
            .iter()
            .flat_map(|k| f[*k].as_array().into_iter().flatten());
        for e in executors {
            let has = ["tasks", "completed_tasks", "queued_tasks"]
                .iter()
                .flat_map(|k| e[*k].as_array().into_iter().flatten())
                .any(|t| t["id"] == task);
            if has || e["id"] == task {
                return e["directory"].as_str().map(str::to_string);
            }
        }
    }
    None
}

/// A path inside the sandbox: no `..`, no leading `/`.
fn relative(p: &str) -> Result<String, HttpError> {
    let p = p.trim_matches('/');
    if p.split('/').any(|c| c == ".." || c == ".") {
        return Err(HttpError::bad_request(format!("Bad sandbox path '{p}'")));
    }
    Ok(p.to_string())
}

/// `GET /ui/sandbox?agent=&framework=&task=[&path=dir][&file=name]`.
pub async fn page(
    req: &Request<RequestBody>,
    ctx: &Ctx,
    v: &Viewer<'_>,
    q: Option<&str>,
) -> Result<Markup, HttpError> {
    let (agent, fw, task) = (
        param(q, "agent")?,
        param(q, "framework")?,
        param(q, "task")?,
    );
    let sub = relative(&opt_param(q, "path").unwrap_or_default())?;
    let file = opt_param(q, "file").map(|f| relative(&f)).transpose()?;
    let (addr, dir) = locate(req, ctx, v, &agent, &fw, &task).await?;
    let here = |path: &str| {
        format!(
            "/ui/sandbox?agent={}&framework={}&task={}&path={}",
            enc(&agent),
            enc(&fw),
            enc(&task),
            enc(path)
        )
    };
    let crumbs = html! {
        div class="breadcrumbs" {
            a href=(super::tasks::task_href(&fw, &task)) { "Task " (task) } " / "
            a href=(here("")) { "sandbox" }
            @for (i, part) in sub.split('/').filter(|s| !s.is_empty()).enumerate() {
                " / " a href=(here(&sub.split('/').take(i + 1).collect::<Vec<_>>().join("/"))) { (part) }
            }
        }
    };
    let body = match file {
        Some(file) => {
            let full = join(&dir, &file);
            let size = read(req, &addr, &full, -1, 0).await?.1;
            let start = (size - INITIAL).max(0);
            let (text, at) = read(req, &addr, &full, start, INITIAL).await?;
            let end = at + len(&text);
            html! {
                (crumbs)
                h1 { "Log " code { (file) } }
                div class="toolbar" {
                    label class="check" { input type="checkbox" id="pause"; "Pause" }
                    a class="button secondary" href=(download_url(&addr, &full)) { "Download" }
                    a class="button secondary" href=(format!("{}&file={}", here(&sub), enc(&file))) { "Reload" }
                }
                @if start > 0 { p class="muted" { "Showing from byte " (start) " of " (size) "." } }
                pre id="log" class="log" aria-live="polite" { (text) (tail_span(&agent, &dir, &file, end)) }
            }
        }
        None => {
            let list = proxy::get_json(
                req,
                &addr,
                &format!("/files/browse?path={}", enc(&join(&dir, &sub))),
            )
            .await?;
            let mut entries: Vec<&Json> = list.as_array().into_iter().flatten().collect();
            entries.sort_by_key(|e| {
                (
                    e["nlink"].as_i64().unwrap_or(0) <= 1,
                    e["path"].as_str().unwrap_or_default().to_string(),
                )
            });
            html! {
                (crumbs)
                h1 { "Sandbox of " code { (task) } }
                p class="muted" { "On agent " code { (addr) } ", directory " code { (join(&dir, &sub)) } }
                div class="table-wrap" { table {
                    thead { tr { th { "Name" } th class="num" { "Size" } th class="hide-narrow" { "Mode" } th { "Modified" } th { "" } } }
                    tbody { @for e in &entries {
                        @let path = e["path"].as_str().unwrap_or_default();
                        @let name = path.rsplit('/').next().unwrap_or(path);
                        @let rel = if sub.is_empty() { name.to_string() } else { format!("{sub}/{name}") };
                        @let is_dir = e["mode"].as_str().unwrap_or_default().starts_with('d');
                        tr {
                            td { @if is_dir { a href=(here(&rel)) { (name) "/" } }
                                 @else { a href=(format!("{}&file={}", here(&sub), enc(&rel))) { (name) } } }
                            td class="num" { (e["size"].as_i64().unwrap_or(0)) }
                            td class="hide-narrow mono" { (e["mode"].as_str().unwrap_or_default()) }
                            td { (ui::fmt_unix_time(e["mtime"].as_f64().unwrap_or(0.0))) }
                            td { @if !is_dir { a href=(download_url(&addr, path)) { "Download" } } }
                        }
                    } }
                } }
            }
        }
    };
    Ok(super::page(&format!("Sandbox {task}"), "/ui/tasks", body))
}

fn join(dir: &str, rel: &str) -> String {
    if rel.is_empty() {
        dir.to_string()
    } else {
        format!("{}/{rel}", dir.trim_end_matches('/'))
    }
}

fn len(s: &str) -> i64 {
    i64::try_from(s.len()).unwrap_or(i64::MAX)
}

fn download_url(addr: &str, path: &str) -> String {
    format!("http://{addr}/files/download?path={}", enc(path))
}

/// `/files/read` of `length` bytes at `offset` (-1: just the size); the text and its offset.
async fn read(
    req: &Request<RequestBody>,
    addr: &str,
    path: &str,
    offset: i64,
    length: i64,
) -> Result<(String, i64), HttpError> {
    let mut url = format!("/files/read?path={}&offset={offset}", enc(path));
    if offset >= 0 {
        url.push_str(&format!("&length={length}"));
    }
    let v = proxy::get_json(req, addr, &url).await?;
    Ok((
        v["data"].as_str().unwrap_or_default().to_string(),
        v["offset"].as_i64().unwrap_or(0),
    ))
}

fn tail_span(agent: &str, dir: &str, file: &str, offset: i64) -> Markup {
    let url = format!(
        "/ui/fragments/tail?agent={}&dir={}&file={}&offset={offset}",
        enc(agent),
        enc(dir),
        enc(file)
    );
    html! {
        span id="tail" hx-get=(url)
            hx-trigger="every 1s [!document.getElementById('pause').checked]"
            hx-swap="outerHTML" {}
    }
}

/// `GET /ui/fragments/tail?agent=&dir=&file=&offset=`: the bytes after `offset` (up to one
/// page) followed by the next poller.
pub async fn tail(
    req: &Request<RequestBody>,
    ctx: &Ctx,
    q: Option<&str>,
) -> Result<Markup, HttpError> {
    let (agent, dir, file) = (
        param(q, "agent")?,
        param(q, "dir")?,
        relative(&param(q, "file")?)?,
    );
    let offset: i64 = param(q, "offset")?
        .parse()
        .map_err(|_| HttpError::bad_request("'offset' must be a number"))?;
    if !dir.starts_with('/') || dir.split('/').any(|c| c == "..") {
        return Err(HttpError::bad_request(format!(
            "Bad sandbox directory '{dir}'"
        )));
    }
    let addr = proxy::agent_address(ctx, &agent)?;
    let (text, at) = read(req, &addr, &join(&dir, &file), offset.max(0), PAGE).await?;
    Ok(html! { (text) (tail_span(&agent, &dir, &file, at + len(&text))) })
}
