//! HTTP Basic authentication for one realm (libprocess `BasicAuthenticator`,
//! `3rdparty/libprocess/src/authenticator.cpp`): `Authorization: Basic base64(principal:secret)`
//! checked against [`Credentials`]; anything else is a 401 carrying
//! `WWW-Authenticate: Basic realm="<realm>"`.
//!
//! Two deliberate differences from libprocess: the decoded value is split on the *first* `:`
//! (RFC 7617; libprocess splits on every `:`, so secrets containing one never worked), and
//! secrets are compared in constant time.

use base64::Engine;
use http::HeaderMap;

use crate::credentials::Credentials;

/// An authenticated principal (libprocess `Principal` with a value and no claims).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Principal(pub String);

impl std::fmt::Display for Principal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// A request without valid credentials for `realm`: answer `401` with [`Self::challenge`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("Unauthorized: valid credentials are required for realm '{realm}'")]
pub struct Unauthorized {
    /// The realm.
    pub realm: &'static str,
}

impl Unauthorized {
    /// The `WWW-Authenticate` header value.
    pub fn challenge(&self) -> String {
        format!("Basic realm=\"{}\"", self.realm)
    }
}

/// The `basic` authenticator of one realm.
#[derive(Debug, Clone)]
pub struct BasicAuthenticator {
    realm: &'static str,
    credentials: Credentials,
}

/// Splits `Basic <base64>` into principal and secret.
pub fn parse_basic(value: &str) -> Option<(String, String)> {
    let (scheme, token) = value.trim().split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("Basic") {
        return None;
    }
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(token.trim())
        .ok()?;
    let decoded = String::from_utf8(decoded).ok()?;
    let (principal, secret) = decoded.split_once(':')?;
    Some((principal.to_owned(), secret.to_owned()))
}

impl BasicAuthenticator {
    /// An authenticator for `realm`.
    pub fn new(realm: &'static str, credentials: Credentials) -> Self {
        BasicAuthenticator { realm, credentials }
    }

    /// The realm.
    pub fn realm(&self) -> &'static str {
        self.realm
    }

    /// Checks the `Authorization` header.
    pub fn authenticate(&self, headers: &HeaderMap) -> Result<Principal, Unauthorized> {
        let unauthorized = Unauthorized { realm: self.realm };
        let value = headers
            .get(http::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .ok_or_else(|| unauthorized.clone())?;
        let (principal, secret) = parse_basic(value).ok_or_else(|| unauthorized.clone())?;
        if self.credentials.verify(&principal, &secret) {
            Ok(Principal(principal))
        } else {
            Err(unauthorized)
        }
    }
}

/// Why `--http_credentials` is unusable.
#[derive(Debug, thiserror::Error)]
#[error("--http_credentials must be 'user:password' with a non-empty user")]
pub struct CredentialsFlagError;

/// The authenticator for a `--http_credentials user:password` flag, as Marathon and Chronos
/// take it (`None`: authentication is off).
pub fn from_user_password_flag(
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

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(value: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(http::header::AUTHORIZATION, value.parse().unwrap());
        h
    }

    fn basic(user: &str, pass: &str) -> String {
        let token = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{pass}"));
        format!("Basic {token}")
    }

    #[test]
    fn accepts_only_the_right_secret() {
        let mut c = Credentials::default();
        c.insert("ops", "pa:ss");
        let a = BasicAuthenticator::new("mesos-master-readwrite", c);
        assert_eq!(
            a.authenticate(&headers(&basic("ops", "pa:ss"))),
            Ok(Principal("ops".into()))
        );
        for bad in [
            basic("ops", "pa"),
            basic("other", "pa:ss"),
            "Basic !!!".into(),
            "Bearer abc".into(),
            "Basic".into(),
        ] {
            let err = a.authenticate(&headers(&bad)).unwrap_err();
            assert_eq!(err.challenge(), "Basic realm=\"mesos-master-readwrite\"");
        }
        assert!(a.authenticate(&HeaderMap::new()).is_err());
    }

    #[test]
    fn parses_rfc7617() {
        assert_eq!(
            parse_basic(&basic("a", "b:c")),
            Some(("a".into(), "b:c".into()))
        );
        assert_eq!(parse_basic("basic YTpi"), Some(("a".into(), "b".into())));
        assert_eq!(parse_basic("Basic YWI="), None);
    }
}
