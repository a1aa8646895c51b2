//! A product's page frame (the shared [`layout`] with the product's name and its header
//! links) and the pages and pieces every framework UI builds on it: the 404 and 401 pages,
//! flash messages after a redirect, and badges.

use http::{Response, StatusCode};
use maud::{html, Markup};

use crate::assets::{asset_response, ASSET_PREFIX};
use crate::layout::{layout, Nav, Product};
use crate::responses::html_response;
use crate::widgets::{auth_message, error_banner, info_banner};

/// The frame of one product's pages: its name and its header's `(label, href)` links.
#[derive(Debug, Clone, Copy)]
pub struct Frame {
    /// The product named in the header and titles.
    pub product: Product,
    /// The header's links in order (the first is home).
    pub nav: &'static [(&'static str, &'static str)],
}

impl Frame {
    /// A full page titled `title`, with the header link `current` marked.
    pub fn page(&self, title: &str, current: &str, body: Markup) -> Markup {
        let nav = Nav {
            links: self.nav,
            current,
        };
        layout(self.product, title, nav, body)
    }

    /// The page for a path the UI does not know (serve it with `404`).
    pub fn not_found(&self, path: &str) -> Markup {
        self.page(
            "Not found",
            "",
            error_banner(404, &format!("No page at {path}")),
        )
    }

    /// The answer to a request for `path` under [`ASSET_PREFIX`]: the embedded asset, or the
    /// 404 page when there is no such asset; `None` for a path outside [`ASSET_PREFIX`].
    pub fn asset<B>(&self, path: &str) -> Option<Response<B>>
    where
        B: From<&'static [u8]> + From<String>,
    {
        if !path.starts_with(ASSET_PREFIX) {
            return None;
        }
        Some(
            asset_response(path)
                .unwrap_or_else(|| html_response(StatusCode::NOT_FOUND, self.not_found(path))),
        )
    }

    /// The page a browser shows when it has no (or wrong) credentials, served with `401`
    /// (the caller adds the `WWW-Authenticate` challenge): the server runs with
    /// `--http_credentials` in `realm`, and the UI needs the same user and password as the
    /// API under `api` (e.g. `/v2`).
    pub fn unauthorized(&self, realm: &str, api: &str) -> Markup {
        let binary = self.product.name().to_lowercase();
        self.page(
            "Authentication required",
            "",
            auth_message(
                401,
                &format!(
                    "{binary} runs with --http_credentials (realm \"{realm}\"): the UI needs the \
                     same user and password as the {api} API."
                ),
            ),
        )
    }
}

/// A flash message after a redirect (nothing when `msg` is absent or empty).
pub fn flash(msg: Option<&str>) -> Markup {
    html! {
        @if let Some(m) = msg.filter(|m| !m.is_empty()) { (info_banner(m)) }
    }
}

/// A badge of class `kind` (`ok`, `warn`, `bad`, `idle`, `info`): the text says it, the
/// colour repeats it.
pub fn badge(kind: &str, text: &str) -> Markup {
    html! { span class={ "badge " (kind) } { (text) } }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FRAME: Frame = Frame {
        product: Product::Chronos,
        nav: &[("Jobs", "/"), ("Create job", "/ui/new")],
    };

    #[test]
    fn pages_carry_product_and_nav() {
        let page = FRAME.page("Jobs", "/", html! { p { "x" } }).into_string();
        assert!(page.contains("<title>Jobs · Chronos</title>"));
        assert!(page.contains(r#"<a href="/" aria-current="page">Jobs</a>"#));
        assert!(page.contains(r#"<a href="/ui/new">Create job</a>"#));

        let missing = FRAME.not_found("/ui/nope").into_string();
        assert!(missing.contains("No page at /ui/nope"));
        let denied = FRAME.unauthorized("chronos", "/v1/scheduler").into_string();
        assert!(denied.contains(
            "chronos runs with --http_credentials (realm &quot;chronos&quot;): the UI needs \
             the same user and password as the /v1/scheduler API."
        ));
    }

    #[test]
    fn assets_or_the_frames_404() {
        let css: Response<Vec<u8>> = FRAME.asset("/ui/assets/meseta.css").unwrap();
        assert_eq!(css.status(), StatusCode::OK);
        let missing: Response<Vec<u8>> = FRAME.asset("/ui/assets/nope.css").unwrap();
        assert_eq!(missing.status(), StatusCode::NOT_FOUND);
        assert!(String::from_utf8_lossy(missing.body()).contains("No page at /ui/assets/nope.css"));
        assert!(FRAME.asset::<Vec<u8>>("/ui/apps").is_none());
    }

    #[test]
    fn flash_is_empty_without_a_message() {
        assert_eq!(flash(None).into_string(), "");
        assert_eq!(flash(Some("")).into_string(), "");
        assert!(flash(Some("saved")).into_string().contains("saved"));
        assert_eq!(
            badge("ok", "running").into_string(),
            r#"<span class="badge ok">running</span>"#
        );
    }
}
