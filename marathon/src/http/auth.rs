//! HTTP Basic authentication of the API and the web UI, as Marathon's
//! `--http_credentials user:password` and `--http_realm` switch it on: every request but
//! `/ping` needs `Authorization: Basic`; anything else gets `401` with
//! `WWW-Authenticate: Basic realm="<realm>"` (JSON `{"message"}` for the API, an explanation
//! page for the UI, whose browser then asks for the same credentials and sends them with every
//! later request, htmx's included).

use http::{header, HeaderMap, HeaderValue, Response};
use meseta_auth::{BasicAuthenticator, Credentials};
use serde_json::json;

use super::{json, Body};

/// Why `--http_credentials` is unusable.
#[derive(Debug, thiserror::Error)]
#[error("--http_credentials must be 'user:password' with a non-empty user")]
pub struct CredentialsFlagError;

/// The authenticator for `--http_credentials` (`None`: authentication is off).
pub fn from_flags(
    credentials: Option<&str>,
    realm: &str,
) -> Result<Option<BasicAuthenticator>, CredentialsFlagError> {
    let Some(value) = credentials.filter(|c| !c.is_empty()) else {
        return Ok(None);
    };
    let (user, password) = value.split_once(':').ok_or(CredentialsFlagError)?;
    if user.is_empty() {
        return Err(CredentialsFlagError);
    }
    let mut creds = Credentials::default();
    creds.insert(user, password);
    // The realm is set once per process; the authenticator wants it for the process's life.
    let realm: &'static str = Box::leak(realm.to_owned().into_boxed_str());
    Ok(Some(BasicAuthenticator::new(realm, creds)))
}

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
            401,
            &json!({"message": "Invalid username or password (HTTP Basic authentication is on)."}),
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
        assert!(from_flags(Some(""), "r").unwrap().is_none());
        assert!(from_flags(Some("nocolon"), "r").is_err());
        assert!(from_flags(Some(":pw"), "r").is_err());
        let a = from_flags(Some("ops:pa:ss"), "Mesosphere")
            .unwrap()
            .unwrap();
        let mut h = HeaderMap::new();
        assert!(refuse(Some(&a), "/ping", &h).is_none());
        assert_eq!(refuse(Some(&a), "/v2/apps", &h).unwrap().status(), 401);
        h.insert(
            header::AUTHORIZATION,
            HeaderValue::from_static("Basic b3BzOnBhOnNz"),
        );
        assert!(refuse(Some(&a), "/v2/apps", &h).is_none());
    }
}
