//! Two versions of an app side by side: a line diff (`similar`) of their definitions as
//! pretty-printed JSON, without `version`/`versionInfo` (which always differ), in hunks with
//! three lines of context.

use http::{Method, Response};
use maud::html;
use serde_json::Value;
use similar::{ChangeTag, TextDiff};

use super::page::{error_page, frame};
use super::{api, enc, html, Ctx};
use crate::http::{Body, Query};

/// `GET /ui/diff?id=&a=&b=`.
pub async fn page(q: &Query, ctx: &Ctx) -> Response<Body> {
    let id = &super::app::normalized(q.get("id").unwrap_or(""));
    let (va, vb) = (q.get("a").unwrap_or(""), q.get("b").unwrap_or(""));
    let mut texts = Vec::new();
    for v in [va, vb] {
        let a = api(
            ctx,
            Method::GET,
            &format!("/v2/apps{id}/versions/{v}"),
            "",
            None,
        )
        .await;
        if !a.ok() {
            return error_page(&format!("Reading version {v} of {id}"), &a);
        }
        texts.push(definition_text(a.body));
    }
    let diff = TextDiff::from_lines(&texts[0], &texts[1]);
    let changed = diff
        .ops()
        .iter()
        .any(|o| o.tag() != similar::DiffTag::Equal);
    html(
        200,
        frame(
            &format!("{id} diff"),
            "",
            html! {
                h1 { "App " a href={ "/ui/app?id=" (enc(id)) } { code { (id) } } }
                p { "From " code { (va) } " to " code { (vb) } }
                @if !changed { p class="muted" { "The definitions are the same." } }
                @for (i, group) in diff.grouped_ops(3).iter().enumerate() {
                    @if i > 0 { hr; }
                    pre class="diff" {
                        @for op in group { @for c in diff.iter_changes(op) {
                            @match c.tag() {
                                ChangeTag::Delete => del { "- " (c.value()) },
                                ChangeTag::Insert => ins { "+ " (c.value()) },
                                ChangeTag::Equal => span { "  " (c.value()) },
                            }
                        } }
                    }
                }
            },
        ),
    )
}

fn definition_text(mut v: Value) -> String {
    if let Some(o) = v.as_object_mut() {
        o.remove("version");
        o.remove("versionInfo");
    }
    let mut s = serde_json::to_string_pretty(&v).unwrap_or_default();
    s.push('\n');
    s
}
