//! The HTTP responses every UI sends, in the server's own body type: pages and fragments
//! (never cached: they show live data) and the redirect after a form post. Assets are in
//! [`crate::asset_response`].

use http::{header, HeaderValue, Response, StatusCode};
use maud::Markup;

use crate::HTML_CONTENT_TYPE;

/// An HTML page or fragment with `status`, `Content-Type: text/html` and
/// `Cache-Control: no-store`.
pub fn html_response<B: From<String>>(status: StatusCode, markup: Markup) -> Response<B> {
    let mut r = Response::new(B::from(markup.into_string()));
    *r.status_mut() = status;
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(HTML_CONTENT_TYPE),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r
}

/// `303 See Other` to `location` (the page to show after a form post), with an empty body;
/// a `location` that is not a valid header value is left out.
pub fn see_other<B: From<&'static [u8]>>(location: &str) -> Response<B> {
    let mut r = Response::new(B::from(&[][..]));
    *r.status_mut() = StatusCode::SEE_OTHER;
    if let Ok(v) = HeaderValue::from_str(location) {
        r.headers_mut().insert(header::LOCATION, v);
    }
    r
}

#[cfg(test)]
mod tests {
    use maud::html;

    use super::*;

    #[test]
    fn pages_are_html_and_never_cached() {
        let r: Response<String> = html_response(StatusCode::NOT_FOUND, html! { p { "x" } });
        assert_eq!(r.status(), StatusCode::NOT_FOUND);
        assert_eq!(r.headers()[header::CONTENT_TYPE], HTML_CONTENT_TYPE);
        assert_eq!(r.headers()[header::CACHE_CONTROL], "no-store");
        assert_eq!(r.body(), "<p>x</p>");
    }

    #[test]
    fn redirects_after_posts() {
        let r: Response<Vec<u8>> = see_other("/ui/app?id=%2Fweb");
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
        assert_eq!(r.headers()[header::LOCATION], "/ui/app?id=%2Fweb");
        assert!(r.body().is_empty());
        let bad: Response<Vec<u8>> = see_other("/x\ny");
        assert!(bad.headers().get(header::LOCATION).is_none());
    }
}
