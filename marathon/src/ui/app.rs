//! One app: its definition at a glance, the actions (scale, suspend, restart, destroy), its
//! tasks with `host:port` links, health check results and a kill button each, its health
//! checks, the last task failure, and its versions with a form to compare two.

use http::{Method, Response};
use maud::{html, Markup};
use serde_json::Value;

use super::apps::{status, str_of};
use super::page::{badge, error_page, flash, frame};
use super::{api, html, Ctx};
use crate::http::{Body, Query};

/// `GET /ui/app?id=`.
pub async fn page(q: &Query, ctx: &Ctx) -> Response<Body> {
    let id = normalized(q.get("id").unwrap_or(""));
    let a = api(ctx, Method::GET, &format!("/v2/apps{id}"), "", None).await;
    if !a.ok() {
        return error_page(&format!("Showing app {id}"), &a);
    }
    let app = a.body.get("app").cloned().unwrap_or_default();
    let v = api(
        ctx,
        Method::GET,
        &format!("/v2/apps{id}/versions"),
        "",
        None,
    )
    .await;
    let versions: Vec<String> = v
        .body
        .get("versions")
        .and_then(Value::as_array)
        .map(|l| {
            l.iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default();
    let (st, kind) = status(&app);
    html(
        200,
        frame(
            &id,
            "",
            html! {
                h1 { "App " code { (id) } " " (badge(kind, st)) }
                (flash(q.get("msg")))
                (summary(&app))
                (actions(&id, &app))
                (super::tasks::table(&id, &app))
                (health_checks(&app))
                (last_failure(&app))
                (versions_form(&id, &versions))
            },
        ),
    )
}

fn summary(app: &Value) -> Markup {
    let n = |k: &str| app.get(k).and_then(Value::as_u64).unwrap_or(0);
    let f = |k: &str| app.get(k).and_then(Value::as_f64).unwrap_or(0.0);
    let cmd = str_of(app, "cmd");
    let image = app
        .pointer("/container/docker/image")
        .and_then(Value::as_str)
        .unwrap_or("");
    let deployments: Vec<String> = app
        .get("deployments")
        .and_then(Value::as_array)
        .map(|d| d.iter().map(|x| str_of(x, "id")).collect())
        .unwrap_or_default();
    html! {
        dl class="kv" {
            dt { "Instances" } dd { (n("instances")) " wanted · " (n("tasksRunning")) " running · "
                (n("tasksHealthy")) " healthy · " (n("tasksStaged")) " staged · "
                (n("tasksUnhealthy")) " unhealthy" }
            dt { "Resources" } dd { (f("cpus")) " CPUs · " (f("mem")) " MiB · " (f("disk")) " MiB disk" }
            @if !cmd.is_empty() { dt { "Command" } dd { code { (cmd) } } }
            @if !image.is_empty() { dt { "Image" } dd { code { (image) } } }
            dt { "Version" } dd { (str_of(app, "version")) }
            dt { "Deployments" } dd { @if deployments.is_empty() { "none in progress" } @else { (deployments.join(", ")) } }
        }
    }
}

fn actions(id: &str, app: &Value) -> Markup {
    let instances = app.get("instances").and_then(Value::as_u64).unwrap_or(0);
    html! {
        section class="actions" aria-label="Actions" {
            h2 { "Actions" }
            form method="post" action="/ui/scale" class="inline" {
                input type="hidden" name="id" value=(id);
                label for="instances" { "Instances" }
                input id="instances" name="instances" type="number" value=(instances) required;
                button type="submit" { "Scale" }
            }
            form method="post" action="/ui/suspend" class="inline" {
                input type="hidden" name="id" value=(id);
                button type="submit" { "Suspend" }
            }
            form method="post" action="/ui/restart" class="inline" {
                input type="hidden" name="id" value=(id);
                button type="submit" { "Restart" }
            }
            form method="post" action="/ui/destroy" class="inline danger" {
                input type="hidden" name="id" value=(id);
                input id="confirm-destroy" name="confirm" type="checkbox" value="yes" required;
                label for="confirm-destroy" { "I want to destroy this app" }
                button type="submit" class="danger" { "Destroy" }
            }
        }
    }
}

fn health_checks(app: &Value) -> Markup {
    let checks = app
        .get("healthChecks")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    html! {
        section aria-label="Health checks" {
            h2 { "Health checks" }
            @if checks.is_empty() { p class="muted" { "None defined." } } @else {
                ul { @for c in &checks {
                    li { code { (str_of(c, "protocol")) } " " (str_of(c, "path"))
                        " · every " (c.get("intervalSeconds").and_then(Value::as_u64).unwrap_or(60)) " s"
                        " · grace " (c.get("gracePeriodSeconds").and_then(Value::as_u64).unwrap_or(300)) " s"
                        " · max failures " (c.get("maxConsecutiveFailures").and_then(Value::as_u64).unwrap_or(3)) }
                } }
            }
        }
    }
}

fn last_failure(app: &Value) -> Markup {
    let Some(f) = app.get("lastTaskFailure") else {
        return html! {};
    };
    html! {
        section aria-label="Last task failure" {
            h2 { "Last task failure" }
            p { code { (str_of(f, "taskId")) } " " (str_of(f, "state")) " at " (str_of(f, "timestamp"))
                " on " (str_of(f, "host")) ": " (str_of(f, "message")) }
        }
    }
}

fn versions_form(id: &str, versions: &[String]) -> Markup {
    html! {
        section aria-label="Versions" {
            h2 { "Versions (" (versions.len()) ")" }
            @if versions.len() < 2 { p { "Only one version so far." } }
            @else {
                form method="get" action="/ui/diff" {
                    input type="hidden" name="id" value=(id);
                    label for="diff-a" { "Compare" }
                    select id="diff-a" name="a" { @for (i, v) in versions.iter().enumerate() {
                        option value=(v) selected[i == 1] { (v) } } }
                    label for="diff-b" { "with" }
                    select id="diff-b" name="b" { @for (i, v) in versions.iter().enumerate() {
                        option value=(v) selected[i == 0] { (v) } } }
                    button type="submit" { "Show diff" }
                }
            }
            ul class="versions" { @for v in versions { li { code { (v) } } } }
        }
    }
}

/// An app id as the API paths want it: with its leading `/`.
pub fn normalized(id: &str) -> String {
    if id.starts_with('/') {
        id.to_owned()
    } else {
        format!("/{id}")
    }
}
