//! The UI's actions. Each posts a plain form and calls the API endpoint's own handler; on
//! success it answers `303 See Other` back to a page, on refusal the API's status and message
//! (the create form keeps what was typed).

use std::sync::Arc;

use http::Response;
use maud::html;

use super::page::{error_box, frame};
use super::{enc, html, read, see_other, Form};
use crate::core::Core;
use crate::http::{jobs, Body};

/// The example the create form starts with.
const EXAMPLE: &str = r#"{
  "name": "hello",
  "command": "echo hello",
  "schedule": "R/2030-01-01T00:00:00Z/PT24H",
  "owner": "ops@example.com",
  "disabled": false,
  "cpus": 0.1,
  "mem": 32
}"#;

/// `GET /ui/new`, or the form again with what was typed and the API's refusal.
pub fn new_form(typed: Option<&str>, error: Option<(u16, &str)>) -> Response<Body> {
    let status = error.map_or(200, |(s, _)| s.max(400));
    html(
        status,
        frame(
            "Create job",
            "/ui/new",
            html! {
                h1 { "Create a job" }
                @if let Some((s, body)) = error { (error_box("Creating the job", s, body)) }
                p { "A job with " code { "parents" } " is dependent (" code { "POST /dependency" }
                    "); otherwise it needs a " code { "schedule" } " (" code { "POST /iso8601" } ")." }
                form method="post" action="/ui/create" class="stacked" {
                    label for="job-json" { "Job definition (JSON)" }
                    textarea id="job-json" name="json" rows="14" cols="72" spellcheck="false" required {
                        (typed.unwrap_or(EXAMPLE))
                    }
                    button type="submit" { "Create" }
                }
            },
        ),
    )
}

/// `POST /ui/create`: `/dependency` when the job has parents, else `/iso8601` (as
/// chronos-python chooses).
pub async fn create(form: &Form, core: &Arc<Core>) -> Response<Body> {
    let typed = form.get("json").unwrap_or("");
    let parsed: Option<serde_json::Value> = serde_json::from_str(typed).ok();
    let dependent = parsed
        .as_ref()
        .and_then(|v| v.get("parents"))
        .and_then(|p| p.as_array())
        .is_some_and(|p| !p.is_empty());
    let name = parsed
        .as_ref()
        .and_then(|v| v.get("name"))
        .and_then(|n| n.as_str())
        .unwrap_or("")
        .to_owned();
    match jobs::add_json(core, typed.as_bytes(), dependent).await {
        Ok(_) => see_other(&format!(
            "/ui/job?name={}&msg={}",
            enc(&name),
            enc("Job saved.")
        )),
        Err(e) => {
            let (status, body) = read(e.into_response()).await;
            new_form(Some(typed), Some((status, &body)))
        }
    }
}

/// `POST /ui/run` (`name`): `PUT /job/{name}`.
pub async fn run(form: &Form, core: &Arc<Core>) -> Response<Body> {
    let name = form.get("name").unwrap_or("");
    let r = jobs::run(core, name, None).await;
    done(name, "Running the job", r, "Run queued.").await
}

/// `POST /ui/disable` / `/ui/enable` (`name`): the job as `GET /job/{name}` shows it, with
/// `disabled` changed, stored again through `POST /iso8601` or `/dependency` (what Chronos's
/// own UI does).
pub async fn set_disabled(form: &Form, core: &Arc<Core>, disabled: bool) -> Response<Body> {
    let name = form.get("name").unwrap_or("");
    let what = if disabled { "Disabling" } else { "Enabling" };
    let job = core.engine().job(name).map(crate::job::Job::for_display);
    let Some(mut job) = job else {
        let e = crate::http::ApiError::BadRequest(format!("Job '{name}' not found"));
        return done(name, what, Err(e), "").await;
    };
    job.disabled = disabled;
    let dependent = job.parents.as_ref().is_some_and(|p| !p.is_empty());
    let body = serde_json::to_vec(&job).unwrap_or_default();
    let r = jobs::add_json(core, &body, dependent).await;
    let msg = if disabled {
        "Job disabled."
    } else {
        "Job enabled."
    };
    done(name, what, r, msg).await
}

/// `POST /ui/delete` (`name`, `confirm=yes`): `DELETE /job/{name}`.
pub async fn delete(form: &Form, core: &Arc<Core>) -> Response<Body> {
    let name = form.get("name").unwrap_or("");
    if form.get("confirm") != Some("yes") {
        let e =
            crate::http::ApiError::BadRequest("tick the confirmation box to delete the job".into());
        return done(name, "Deleting", Err(e), "").await;
    }
    match jobs::delete(core, name).await {
        Ok(_) => see_other(&format!("/?msg={}", enc(&format!("Deleted {name}.")))),
        Err(e) => done(name, "Deleting", Err(e), "").await,
    }
}

async fn done(name: &str, what: &str, r: crate::http::ApiResult, msg: &str) -> Response<Body> {
    match r {
        Ok(_) => see_other(&format!("/ui/job?name={}&msg={}", enc(name), enc(msg))),
        Err(e) => {
            let (status, body) = read(e.into_response()).await;
            html(
                status.max(400),
                frame(
                    what,
                    "",
                    html! {
                        h1 { (what) " " code { (name) } }
                        (error_box(what, status, &body))
                        p { a href={ "/ui/job?name=" (enc(name)) } { "Back to " (name) } " · " a href="/" { "All jobs" } }
                    },
                ),
            )
        }
    }
}
