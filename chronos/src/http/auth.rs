//! HTTP Basic authentication of the API and the web UI, as Chronos's
//! `--http_credentials user:password` and `--http_realm` switch it on: every request but
//! `/ping` needs `Authorization: Basic`; anything else gets `401` with
//! `WWW-Authenticate: Basic realm="<realm>"` (Chronos's `{"status", "message"}` for the API,
//! an explanation page for the UI, whose browser then asks for the same credentials).

use http::{header, HeaderMap, HeaderValue, Response, StatusCode};
use meseta_auth::BasicAuthenticator;

use super::{json, Body};

/// `--http_credentials user:password` (shared with the other framework).
pub use meseta_auth::basic::from_user_password_flag as from_flags;

/// The `401` answer when `auth` is on and `headers` do not carry its credentials.
pub fn refuse(
    auth: Option<&BasicAuthenticator>,
    path: &str,
    headers: &HeaderMap,
) -> Option<Response<Body>> {
    let auth = auth?;
    if path == "/ping" {
        return None;
    }
    let err = auth.authenticate(headers).err()?;
    let mut r = if crate::ui::owns(path.trim_end_matches('/')) {
        crate::ui::unauthorized(auth.realm())
    } else {
        json(
            StatusCode::UNAUTHORIZED,
            &serde_json::json!({
                "status": "Unauthorized",
                "message": "Invalid username or password (HTTP Basic authentication is on).",
            }),
        )
    };
    if let Ok(v) = HeaderValue::from_str(&err.challenge()) {
        r.headers_mut().insert(header::WWW_AUTHENTICATE, v);
    }
    Some(r)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_flag_is_user_colon_password() {
        assert!(from_flags(None, "r").unwrap().is_none());
        assert!(from_flags(Some("nocolon"), "r").is_err());
        let a = from_flags(Some("ops:pa:ss"), "Mesosphere")
            .unwrap()
            .unwrap();
        let mut h = HeaderMap::new();
        assert!(refuse(Some(&a), "/ping", &h).is_none());
        assert_eq!(
            refuse(Some(&a), "/v1/scheduler/jobs", &h).unwrap().status(),
            401
        );
        assert_eq!(refuse(Some(&a), "/", &h).unwrap().status(), 401);
        h.insert(
            header::AUTHORIZATION,
            HeaderValue::from_static("Basic b3BzOnBhOnNz"),
        );
        assert!(refuse(Some(&a), "/v1/scheduler/jobs", &h).is_none());
    }
}
