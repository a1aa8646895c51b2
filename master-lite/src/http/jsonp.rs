//! `?jsonp=<callback>` on the JSON endpoints, as libprocess's `OK(json, jsonp)`
//! (`3rdparty/libprocess/src/http.cpp`): the body becomes `callback(<json>);` with
//! `Content-Type: text/javascript`. The callback must be a JavaScript identifier path
//! (`cb`, `jQuery123_456`, `a.b`), else 400: a free-form name would let any page inject
//! script into a response served from the master's origin.

use http::{header, HeaderValue, Response, StatusCode};

use super::{Body, HttpError};

/// Longest callback name accepted.
const MAX_LEN: usize = 128;

/// The raw `jsonp` query parameter, if any.
pub fn callback(query: Option<&str>) -> Option<String> {
    form_urlencoded::parse(query?.as_bytes())
        .find(|(k, _)| k == "jsonp")
        .map(|(_, v)| v.into_owned())
}

fn valid(cb: &str) -> bool {
    let ident = |s: &str| {
        let mut cs = s.chars();
        cs.next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '_' || c == '$')
            && cs.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '$')
    };
    !cb.is_empty() && cb.len() <= MAX_LEN && cb.split('.').all(ident)
}

/// Wraps a `200` JSON answer in `cb(...)`; other answers pass unchanged.
pub fn wrap(resp: Response<Body>, cb: &str) -> Result<Response<Body>, HttpError> {
    let is_json = resp
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"application/json"));
    if resp.status() != StatusCode::OK || !is_json {
        return Ok(resp);
    }
    if !valid(cb) {
        return Err(HttpError::bad_request(format!(
            "Invalid 'jsonp' callback name '{}'",
            cb.chars().take(MAX_LEN).collect::<String>()
        )));
    }
    let (mut parts, body) = resp.into_parts();
    let Body::Full(json) = body else {
        // A stream (operator SUBSCRIBE) is not wrapped.
        return Ok(Response::from_parts(parts, body));
    };
    let mut out = Vec::with_capacity(json.as_ref().map_or(0, |b| b.len()) + cb.len() + 3);
    out.extend_from_slice(cb.as_bytes());
    out.push(b'(');
    out.extend_from_slice(json.as_deref().unwrap_or_default());
    out.extend_from_slice(b");");
    parts.headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/javascript"),
    );
    parts.headers.remove(header::CONTENT_LENGTH);
    Ok(Response::from_parts(parts, Body::full(out)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wraps_json_with_valid_callbacks_only() {
        assert_eq!(callback(Some("a=1&jsonp=cb")).as_deref(), Some("cb"));
        assert!(valid("jQuery1_2") && valid("a.b.$c"));
        assert!(!valid("alert(1)//") && !valid("") && !valid("a..b") && !valid("1a"));
        let r = super::super::json_response(&serde_json::json!({"x": 1}));
        let w = wrap(r, "cb").unwrap();
        assert_eq!(w.headers()[header::CONTENT_TYPE], "text/javascript");
        let Body::Full(Some(b)) = w.into_body() else {
            panic!("empty body")
        };
        assert_eq!(&b[..], br#"cb({"x":1});"#);
        let bad = wrap(
            super::super::json_response(&serde_json::json!(1)),
            "x;alert(1)",
        );
        assert_eq!(bad.unwrap_err().status, StatusCode::BAD_REQUEST);
    }
}
