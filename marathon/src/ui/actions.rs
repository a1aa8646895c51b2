//! The UI's actions. Each posts a plain form, calls the matching `/v2` endpoint in process,
//! and answers `303 See Other` back to a page on success, or the API's error (its status,
//! `message` and `details`) on failure; the create form keeps what was typed.

use http::{Method, Response};
use maud::html;
use serde_json::{json, Value};

use super::page::{error_box, frame};
use super::{api, enc, html, see_other, Answer, Ctx};
use crate::http::{Body, Query};

/// The example definition the create form starts with.
const EXAMPLE: &str = r#"{
  "id": "/hello",
  "cmd": "python3 -m http.server $PORT0",
  "cpus": 0.1,
  "mem": 32,
  "instances": 1
}"#;

/// `GET /ui/new`, or the form again with what was typed and the API's error.
pub fn new_form(typed: Option<&str>, error: Option<&Answer>) -> Response<Body> {
    let status = error.map_or(200, |a| a.status.max(400));
    html(
        status,
        frame(
            "Create app",
            "/ui/new",
            html! {
                h1 { "Create an app" }
                @if let Some(a) = error { (error_box("Creating the app", a)) }
                form method="post" action="/ui/create" class="stacked" {
                    label for="app-json" { "App definition (JSON, as for " code { "POST /v2/apps" } ")" }
                    textarea id="app-json" name="json" rows="16" cols="72" spellcheck="false" required {
                        (typed.unwrap_or(EXAMPLE))
                    }
                    button type="submit" { "Create" }
                }
            },
        ),
    )
}

/// `POST /ui/create`.
pub async fn create(form: &Query, ctx: &Ctx) -> Response<Body> {
    let typed = form.get("json").unwrap_or("");
    let a = api(
        ctx,
        Method::POST,
        "/v2/apps",
        "",
        Some(typed.as_bytes().to_vec()),
    )
    .await;
    if !a.ok() {
        return new_form(Some(typed), Some(&a));
    }
    let id = a.body.get("id").and_then(Value::as_str).unwrap_or("");
    see_other(&format!(
        "/ui/app?id={}&msg={}",
        enc(id),
        enc("Created; deployment started.")
    ))
}

/// `POST /ui/scale` (`id`, `instances`): `PUT /v2/apps/{id}` with `{"instances": n}`.
pub async fn scale(form: &Query, ctx: &Ctx) -> Response<Body> {
    let given = form.get("instances").unwrap_or("").trim();
    // Anything that is not an integer goes to the API as typed, so its message is shown.
    let n = given
        .parse::<i64>()
        .map_or_else(|_| json!(given), |n| json!(n));
    let retry = Retry::new("/ui/scale", form).with("instances", given);
    set_instances(form, n, "Scaling", retry, ctx).await
}

/// `POST /ui/suspend` (`id`): scale to 0.
pub async fn suspend(form: &Query, ctx: &Ctx) -> Response<Body> {
    let retry = Retry::new("/ui/suspend", form);
    set_instances(form, json!(0), "Suspending", retry, ctx).await
}

async fn set_instances(
    form: &Query,
    n: Value,
    what: &str,
    retry: Retry,
    ctx: &Ctx,
) -> Response<Body> {
    let id = &super::app::normalized(form.get("id").unwrap_or(""));
    let body = serde_json::to_vec(&json!({ "instances": n })).unwrap_or_default();
    let path = format!("/v2/apps{id}");
    let a = api(ctx, Method::PUT, &path, &forced(form, ""), Some(body)).await;
    done(
        id,
        what,
        &a,
        &format!("{what} to {n} instances started."),
        &retry,
    )
}

/// `POST /ui/restart` (`id`).
pub async fn restart(form: &Query, ctx: &Ctx) -> Response<Body> {
    let id = &super::app::normalized(form.get("id").unwrap_or(""));
    let path = format!("/v2/apps{id}/restart");
    let a = api(ctx, Method::POST, &path, &forced(form, ""), None).await;
    let retry = Retry::new("/ui/restart", form);
    done(id, "Restarting", &a, "Restart started.", &retry)
}

/// `POST /ui/destroy` (`id`, `confirm=yes`).
pub async fn destroy(form: &Query, ctx: &Ctx) -> Response<Body> {
    let id = &super::app::normalized(form.get("id").unwrap_or(""));
    let retry = Retry::new("/ui/destroy", form).with("confirm", "yes");
    if form.get("confirm") != Some("yes") {
        let a = Answer {
            status: 400,
            body: json!({"message": "tick the confirmation box to destroy the app"}),
        };
        return failed(id, "Destroying", &a, &retry);
    }
    let path = format!("/v2/apps{id}");
    let a = api(ctx, Method::DELETE, &path, &forced(form, ""), None).await;
    if !a.ok() {
        return failed(id, "Destroying", &a, &retry);
    }
    see_other(&format!("/?msg={}", enc(&format!("Destroying {id}."))))
}

/// `POST /ui/kill` (`id`, `task`, optional `scale=true`).
pub async fn kill(form: &Query, ctx: &Ctx) -> Response<Body> {
    let id = &super::app::normalized(form.get("id").unwrap_or(""));
    let task = form.get("task").unwrap_or("");
    let scale = form.flag("scale");
    let path = format!("/v2/apps{id}/tasks/{task}");
    let a = api(
        ctx,
        Method::DELETE,
        &path,
        &forced(form, &format!("scale={scale}")),
        None,
    )
    .await;
    let retry = Retry::new("/ui/kill", form)
        .with("task", task)
        .with("scale", &scale.to_string());
    done(
        id,
        "Killing the task",
        &a,
        &format!("Killing {task}."),
        &retry,
    )
}

/// The API query `q` plus `force=true` when the form asked for it.
fn forced(form: &Query, q: &str) -> String {
    match (form.flag("force"), q.is_empty()) {
        (false, _) => q.to_owned(),
        (true, true) => "force=true".to_owned(),
        (true, false) => format!("{q}&force=true"),
    }
}

/// The same form again with `force=true`, offered when a deployment is in the way (409).
#[derive(Debug)]
struct Retry {
    action: &'static str,
    fields: Vec<(&'static str, String)>,
}

impl Retry {
    fn new(action: &'static str, form: &Query) -> Self {
        let fields = vec![("id", form.get("id").unwrap_or("").to_owned())];
        Self { action, fields }
    }

    fn with(mut self, key: &'static str, value: &str) -> Self {
        self.fields.push((key, value.to_owned()));
        self
    }
}

fn done(id: &str, what: &str, a: &Answer, msg: &str, retry: &Retry) -> Response<Body> {
    if !a.ok() {
        return failed(id, what, a, retry);
    }
    see_other(&format!("/ui/app?id={}&msg={}", enc(id), enc(msg)))
}

fn failed(id: &str, what: &str, a: &Answer, retry: &Retry) -> Response<Body> {
    html(
        a.status.max(400),
        frame(
            what,
            "",
            html! {
                h1 { (what) " " code { (id) } }
                (error_box(what, a))
                @if a.status == 409 {
                    form method="post" action=(retry.action) class="inline" {
                        @for (k, v) in &retry.fields { input type="hidden" name=(k) value=(v); }
                        input type="hidden" name="force" value="true";
                        button type="submit" class="danger" { "Override the deployment (force)" }
                    }
                }
                p { a href={ "/ui/app?id=" (enc(id)) } { "Back to " (id) } }
            },
        ),
    )
}
