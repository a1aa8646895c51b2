//! The embedded static assets (stylesheet, htmx) and how every server serves them.

use http::{header, HeaderValue, Response};

/// URL prefix under which [`asset`] paths are served (`/ui/assets/<name>`).
pub const ASSET_PREFIX: &str = "/ui/assets/";
/// URL of the stylesheet.
pub const STYLESHEET_PATH: &str = "/ui/assets/meseta.css";
/// URL of the vendored htmx script.
pub const HTMX_PATH: &str = "/ui/assets/htmx.min.js";

/// One embedded asset, ready to send.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Asset {
    /// `Content-Type` header.
    pub content_type: &'static str,
    /// `Cache-Control` header.
    pub cache_control: &'static str,
    /// The bytes.
    pub body: &'static [u8],
}

const CSS: &[u8] = include_bytes!("../assets/meseta.css");
const HTMX: &[u8] = include_bytes!("../assets/htmx.min.js");
const HTMX_LICENSE: &[u8] = include_bytes!("../assets/htmx.LICENSE");

/// Assets change only with the binary; browsers revalidate after an hour so an upgrade
/// shows within one (the URLs carry no version hash).
const CACHE: &str = "public, max-age=3600";

/// The asset at request path `path` (with or without [`ASSET_PREFIX`]), if any.
pub fn asset(path: &str) -> Option<Asset> {
    let name = path.strip_prefix(ASSET_PREFIX).unwrap_or(path);
    let (content_type, body) = match name {
        "meseta.css" => ("text/css; charset=utf-8", CSS),
        "htmx.min.js" => ("text/javascript; charset=utf-8", HTMX),
        "htmx.LICENSE" => ("text/plain; charset=utf-8", HTMX_LICENSE),
        _ => return None,
    };
    Some(Asset {
        content_type,
        cache_control: CACHE,
        body,
    })
}

/// The `200 OK` response for the asset at request path `path` (with or without
/// [`ASSET_PREFIX`]), with its `Content-Type` and `Cache-Control`, in the server's own body
/// type `B`; `None` when there is no such asset (each server answers that in its own way).
pub fn asset_response<B: From<&'static [u8]>>(path: &str) -> Option<Response<B>> {
    let a = asset(path)?;
    let mut r = Response::new(B::from(a.body));
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(a.content_type),
    );
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static(a.cache_control),
    );
    Some(r)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serves_embedded_assets_only() {
        let css = asset(STYLESHEET_PATH).unwrap();
        assert!(css.content_type.starts_with("text/css"));
        assert!(std::str::from_utf8(css.body)
            .unwrap()
            .contains("prefers-color-scheme"));
        assert!(asset(HTMX_PATH).unwrap().body.len() > 10_000);
        assert!(asset("htmx.LICENSE").is_some());
        assert_eq!(asset("/ui/assets/../Cargo.toml"), None);
        assert_eq!(asset("/ui/assets/"), None);
    }

    #[test]
    fn asset_responses_carry_type_and_cache_headers() {
        let r: Response<Vec<u8>> = asset_response(STYLESHEET_PATH).unwrap();
        assert_eq!(r.status(), http::StatusCode::OK);
        assert_eq!(r.headers()[header::CONTENT_TYPE], "text/css; charset=utf-8");
        assert_eq!(r.headers()[header::CACHE_CONTROL], "public, max-age=3600");
        assert_eq!(r.body().as_slice(), CSS);
        assert!(asset_response::<Vec<u8>>("/ui/assets/nope.js").is_none());
    }
}
