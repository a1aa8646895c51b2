//! Mesos's HTTP authentication and local authorization, shared by `mesos-master` and
//! `mesos-agent`.
//!
//! * [`credentials`]: `--credentials` / `--http_credentials` files, secrets kept as digests;
//! * [`basic`]: the `basic` HTTP authenticator (401 with `WWW-Authenticate: Basic realm=...`);
//! * [`realm`]: the realms and endpoint classes;
//! * [`acls`]: `--acls` and the local authorizer (first match wins, `permissive`);
//! * [`flags`]: the flags of both daemons, turned into an [`HttpAuth`].
//!
//! A server asks [`HttpAuth::authenticate`] once per request with the endpoint's class, and
//! [`HttpAuth::approved`] for each authorization decision; with no flag given, everything is
//! allowed and no principal is known, exactly as in Mesos.

pub mod acls;
pub mod basic;
pub mod credentials;
pub mod flags;
pub mod realm;

use std::sync::Arc;

pub use acls::authorizer::{Action, Authorizer};
pub use acls::Acls;
pub use basic::{BasicAuthenticator, Principal, Unauthorized};
pub use credentials::Credentials;
pub use realm::EndpointClass;

/// A server's authentication and authorization settings (cheap to clone).
#[derive(Debug, Clone, Default)]
pub struct HttpAuth {
    inner: Arc<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    readonly: Option<BasicAuthenticator>,
    readwrite: Option<BasicAuthenticator>,
    framework: Option<BasicAuthenticator>,
    authorizer: Option<Authorizer>,
}

impl HttpAuth {
    /// Nothing authenticated, everything allowed.
    pub fn disabled() -> Self {
        HttpAuth::default()
    }

    /// Builds the settings; `None` leaves a class unauthenticated.
    pub fn new(
        readonly: Option<BasicAuthenticator>,
        readwrite: Option<BasicAuthenticator>,
        framework: Option<BasicAuthenticator>,
        authorizer: Option<Authorizer>,
    ) -> Self {
        HttpAuth {
            inner: Arc::new(Inner {
                readonly,
                readwrite,
                framework,
                authorizer,
            }),
        }
    }

    /// Authenticates a request to an endpoint of `class`: `Ok(None)` when that class is not
    /// authenticated (whatever the request carries, as libprocess does), `Ok(Some)` with valid
    /// credentials, [`Unauthorized`] otherwise.
    pub fn authenticate(
        &self,
        class: EndpointClass,
        headers: &http::HeaderMap,
    ) -> Result<Option<Principal>, Unauthorized> {
        let authenticator = match class {
            EndpointClass::Open => None,
            EndpointClass::ReadOnly => self.inner.readonly.as_ref(),
            EndpointClass::ReadWrite => self.inner.readwrite.as_ref(),
            EndpointClass::Framework => self.inner.framework.as_ref(),
        };
        authenticator.map(|a| a.authenticate(headers)).transpose()
    }

    /// Whether `class` requires credentials.
    pub fn is_authenticated(&self, class: EndpointClass) -> bool {
        match class {
            EndpointClass::Open => false,
            EndpointClass::ReadOnly => self.inner.readonly.is_some(),
            EndpointClass::ReadWrite => self.inner.readwrite.is_some(),
            EndpointClass::Framework => self.inner.framework.is_some(),
        }
    }

    /// The authorizer, when `--acls` was given.
    pub fn authorizer(&self) -> Option<&Authorizer> {
        self.inner.authorizer.as_ref()
    }

    /// Whether `principal` may do `action` on `object` (`None`: any); always true without
    /// `--acls`.
    pub fn approved(
        &self,
        principal: Option<&Principal>,
        action: Action,
        object: Option<&str>,
    ) -> bool {
        self.authorizer()
            .is_none_or(|a| a.approved(principal.map(|p| p.0.as_str()), action, object))
    }

    /// Whether `principal` may do a role `action` on every role of `roles`.
    pub fn approved_roles<'a>(
        &self,
        principal: Option<&Principal>,
        action: Action,
        roles: impl IntoIterator<Item = &'a str>,
    ) -> bool {
        self.authorizer()
            .is_none_or(|a| a.approved_roles(principal.map(|p| p.0.as_str()), action, roles))
    }
}
