//! An app's tasks: id, `host:port` links, state, health check results, start time, version,
//! and a kill button each (optionally scaling the app down).

use maud::{html, Markup};
use serde_json::Value;

use super::apps::str_of;
use super::enc;
use super::page::badge;

/// The tasks section of an app's page.
pub fn table(id: &str, app: &Value) -> Markup {
    let tasks = app
        .get("tasks")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    html! {
        section aria-label="Tasks" {
            h2 { "Tasks (" (tasks.len()) ")" }
            @if tasks.is_empty() { p class="muted" { "No tasks." } } @else {
                div class="table-wrap" { table {
                    thead { tr {
                        th scope="col" { "Task" } th scope="col" { "Endpoints" } th scope="col" { "State" }
                        th scope="col" { "Health" } th scope="col" { "Started" } th scope="col" { "Version" }
                        th scope="col" { "Kill" }
                    } }
                    tbody { @for t in &tasks { (task_row(id, t)) } }
                } }
            }
        }
    }
}

fn task_row(app_id: &str, t: &Value) -> Markup {
    let task = str_of(t, "id");
    let host = str_of(t, "host");
    let ports: Vec<u64> = t
        .get("ports")
        .and_then(Value::as_array)
        .map(|p| p.iter().filter_map(Value::as_u64).collect())
        .unwrap_or_default();
    let state = str_of(t, "state");
    let state_kind = match state.as_str() {
        "TASK_RUNNING" => "ok",
        "TASK_STAGING" | "TASK_STARTING" | "TASK_KILLING" => "warn",
        _ => "bad",
    };
    let health = t.get("healthCheckResults").and_then(Value::as_array);
    let kill_id = format!("kill-scale-{}", enc(&task));
    html! {
        tr {
            td { code { (task) } }
            td {
                @if ports.is_empty() { (host) }
                @for p in &ports { a href={ "http://" (host) ":" (p) "/" } { (host) ":" (p) } " " }
            }
            td { (badge(state_kind, &state)) }
            td { (health_cell(health)) }
            td { (str_of(t, "startedAt")) }
            td { (str_of(t, "version")) }
            td {
                form method="post" action="/ui/kill" class="inline" {
                    input type="hidden" name="id" value=(app_id);
                    input type="hidden" name="task" value=(task);
                    input id=(kill_id) name="scale" type="checkbox" value="true";
                    label for=(kill_id) { "and scale down" }
                    button type="submit" aria-label={ "Kill task " (task) } { "Kill" }
                }
            }
        }
    }
}

fn health_cell(results: Option<&Vec<Value>>) -> Markup {
    let Some(results) = results.filter(|r| !r.is_empty()) else {
        return html! { span class="muted" { "no checks" } };
    };
    html! {
        @for r in results {
            @match r.get("alive").and_then(Value::as_bool) {
                Some(true) => (badge("ok", "healthy")),
                Some(false) => (badge("bad", "unhealthy")),
                None => (badge("idle", "unknown")),
            }
            @let cause = str_of(r, "lastFailureCause");
            @if !cause.is_empty() { " " span class="muted" { (cause) } }
        }
    }
}
