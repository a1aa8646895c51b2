//! The authentication and authorization flags of `mesos-master` and `mesos-agent`, with
//! Mesos's names, defaults and start-up errors (`src/master/master.cpp` `initialize`,
//! `src/common/http.cpp` `initializeHttpAuthenticators`). Each daemon flattens its struct
//! into its own flags and calls `to_http_auth` once at start-up.
//!
//! `/flags` shows `--credentials`/`--http_credentials` as the path given, never the secrets
//! (Mesos's flag is a `Path`), so flag sources must not expand `file://` for [`PATH_FLAGS`].

use crate::acls::{Acls, AclsError};
use crate::credentials::{Credentials, CredentialsError};
use crate::realm;
use crate::{Authorizer, BasicAuthenticator, HttpAuth};

/// The only HTTP authenticator built in (`DEFAULT_BASIC_HTTP_AUTHENTICATOR`).
pub const BASIC: &str = "basic";

/// Flags whose value is a path even when written `file:///path` (never read into the value).
pub const PATH_FLAGS: &[&str] = &["credentials", "http_credentials"];

/// Why the flags cannot be used; the daemon prints it and exits non-zero.
#[derive(Debug, thiserror::Error)]
pub enum AuthFlagsError {
    /// `--credentials` / `--http_credentials`.
    #[error("--{flag}: {source}")]
    Credentials {
        /// The flag.
        flag: &'static str,
        /// Why.
        source: CredentialsError,
    },
    /// `--acls`.
    #[error("--acls: {0}")]
    Acls(#[from] AclsError),
    /// A combination Mesos refuses at start-up.
    #[error("{0}")]
    Invalid(String),
}

/// `mesos-master`'s flags.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct MasterAuthFlags {
    /// Require credentials (HTTP Basic, realm `mesos-master-readonly`) on read-only endpoints
    /// such as /state, /flags and /metrics/snapshot. /health and /version stay open.
    #[arg(long = "authenticate_http_readonly", default_value = "false", num_args = 0..=1,
          default_missing_value = "true", action = clap::ArgAction::Set)]
    pub authenticate_http_readonly: bool,
    /// Require credentials (realm `mesos-master-readwrite`) on read-write endpoints: the
    /// operator API /api/v1, /quota, /weights.
    #[arg(long = "authenticate_http_readwrite", default_value = "false", num_args = 0..=1,
          default_missing_value = "true", action = clap::ArgAction::Set)]
    pub authenticate_http_readwrite: bool,
    /// Only authenticated HTTP frameworks may use /api/v1/scheduler (realm
    /// `mesos-master-scheduler`); needs --http_framework_authenticators=basic.
    #[arg(long = "authenticate_http_frameworks", default_value = "false", num_args = 0..=1,
          default_missing_value = "true", action = clap::ArgAction::Set)]
    pub authenticate_http_frameworks: bool,
    /// HTTP authenticator for the read-only and read-write realms (only `basic`).
    #[arg(long = "http_authenticators", default_value = BASIC)]
    pub http_authenticators: String,
    /// HTTP authenticator for frameworks (only `basic`); required with
    /// --authenticate_http_frameworks.
    #[arg(long = "http_framework_authenticators")]
    pub http_framework_authenticators: Option<String>,
    /// Path (or file:///path) to the credentials: JSON
    /// {"credentials":[{"principal":"p","secret":"s"}]} or lines of "principal secret".
    #[arg(long = "credentials")]
    pub credentials: Option<String>,
    /// ACLs for authorization: inline JSON, or a path / file:///path to it (see Mesos's
    /// acls.proto). Without it every authenticated or anonymous request is authorized.
    #[arg(long = "acls")]
    pub acls: Option<String>,
    /// Authorizer to use (only `local`, which evaluates --acls).
    #[arg(long = "authorizers", default_value = "local")]
    pub authorizers: String,
}

/// `mesos-agent`'s flags.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct AgentAuthFlags {
    /// Require credentials (HTTP Basic, realm `mesos-agent-readonly`) on /state, /flags,
    /// /containers, /monitor/statistics, /metrics/snapshot and /files/*.
    #[arg(long = "authenticate_http_readonly", default_value = "false", num_args = 0..=1,
          default_missing_value = "true", action = clap::ArgAction::Set)]
    pub authenticate_http_readonly: bool,
    /// Require credentials (realm `mesos-agent-readwrite`) on the operator API /api/v1.
    #[arg(long = "authenticate_http_readwrite", default_value = "false", num_args = 0..=1,
          default_missing_value = "true", action = clap::ArgAction::Set)]
    pub authenticate_http_readwrite: bool,
    /// HTTP authenticator (only `basic`).
    #[arg(long = "http_authenticators", default_value = BASIC)]
    pub http_authenticators: String,
    /// Path (or file:///path) to the credentials for HTTP authentication: JSON
    /// {"credentials":[{"principal":"p","secret":"s"}]} or lines of "principal secret".
    #[arg(long = "http_credentials")]
    pub http_credentials: Option<String>,
    /// ACLs for authorization (access_sandboxes, view_*, get_endpoints, view_flags): inline
    /// JSON, or a path / file:///path to it.
    #[arg(long = "acls")]
    pub acls: Option<String>,
    /// Authorizer to use (only `local`).
    #[arg(long = "authorizer", default_value = "local")]
    pub authorizer: String,
}

fn load_credentials(
    flag: &'static str,
    value: Option<&str>,
) -> Result<Option<Credentials>, AuthFlagsError> {
    match value {
        None => Ok(None),
        Some(v) => {
            tracing::info!(path = %v, "loading credentials for HTTP authentication");
            Credentials::load(v).map_err(|source| AuthFlagsError::Credentials { flag, source })
        }
    }
}

/// `createBasicAuthenticator` for one realm, when it is enabled.
fn basic(
    enabled: bool,
    authenticators: &str,
    realm: &'static str,
    credentials: Option<&Credentials>,
) -> Result<Option<BasicAuthenticator>, AuthFlagsError> {
    if !enabled {
        return Ok(None);
    }
    let names: Vec<&str> = authenticators.split(',').map(str::trim).collect();
    if names.iter().any(|n| *n != BASIC) {
        return Err(AuthFlagsError::Invalid(format!(
            "Failed to create HTTP authenticator module '{authenticators}' for realm '{realm}': \
             only the default 'basic' authenticator is supported (no --modules)"
        )));
    }
    let credentials = credentials.ok_or_else(|| {
        AuthFlagsError::Invalid(format!(
            "No credentials provided for the default 'basic' HTTP authenticator for realm \
             '{realm}'"
        ))
    })?;
    Ok(Some(BasicAuthenticator::new(realm, credentials.clone())))
}

fn authorizer(name: &str, acls: Option<&str>) -> Result<Option<Authorizer>, AuthFlagsError> {
    if name != "local" {
        return Err(AuthFlagsError::Invalid(format!(
            "Authorizer '{name}' is not supported; only 'local' (--acls) is available"
        )));
    }
    Ok(acls.map(Acls::load).transpose()?.map(Authorizer::new))
}

impl MasterAuthFlags {
    /// Validates the flags and loads credentials and ACLs.
    pub fn to_http_auth(&self) -> Result<HttpAuth, AuthFlagsError> {
        let framework_authenticators = match (
            self.authenticate_http_frameworks,
            &self.http_framework_authenticators,
        ) {
            (true, None) => {
                return Err(AuthFlagsError::Invalid(
                    "Missing `--http_framework_authenticators` flag. This must be used in \
                     conjunction with `--authenticate_http_frameworks`"
                        .into(),
                ))
            }
            (_, Some(a)) => a.as_str(),
            (false, None) => BASIC,
        };
        let creds = load_credentials("credentials", self.credentials.as_deref())?;
        Ok(HttpAuth::new(
            basic(
                self.authenticate_http_readonly,
                &self.http_authenticators,
                realm::MASTER_READONLY,
                creds.as_ref(),
            )?,
            basic(
                self.authenticate_http_readwrite,
                &self.http_authenticators,
                realm::MASTER_READWRITE,
                creds.as_ref(),
            )?,
            basic(
                self.authenticate_http_frameworks,
                framework_authenticators,
                realm::MASTER_SCHEDULER,
                creds.as_ref(),
            )?,
            authorizer(&self.authorizers, self.acls.as_deref())?,
        ))
    }

    /// `(flag, value)` for `/flags`: credentials as their path.
    pub fn as_pairs(&self) -> Vec<(&'static str, String)> {
        let mut v = vec![
            (
                "authenticate_http_readonly",
                self.authenticate_http_readonly.to_string(),
            ),
            (
                "authenticate_http_readwrite",
                self.authenticate_http_readwrite.to_string(),
            ),
            (
                "authenticate_http_frameworks",
                self.authenticate_http_frameworks.to_string(),
            ),
            ("http_authenticators", self.http_authenticators.clone()),
            ("authorizers", self.authorizers.clone()),
        ];
        let optional = [
            (
                "http_framework_authenticators",
                &self.http_framework_authenticators,
            ),
            ("credentials", &self.credentials),
            ("acls", &self.acls),
        ];
        v.extend(
            optional
                .into_iter()
                .filter_map(|(k, o)| o.clone().map(|val| (k, val))),
        );
        v
    }
}

impl AgentAuthFlags {
    /// Validates the flags and loads credentials and ACLs.
    pub fn to_http_auth(&self) -> Result<HttpAuth, AuthFlagsError> {
        let creds = load_credentials("http_credentials", self.http_credentials.as_deref())?;
        Ok(HttpAuth::new(
            basic(
                self.authenticate_http_readonly,
                &self.http_authenticators,
                realm::AGENT_READONLY,
                creds.as_ref(),
            )?,
            basic(
                self.authenticate_http_readwrite,
                &self.http_authenticators,
                realm::AGENT_READWRITE,
                creds.as_ref(),
            )?,
            None,
            authorizer(&self.authorizer, self.acls.as_deref())?,
        ))
    }

    /// `(flag, value)` for `/flags`: credentials as their path.
    pub fn as_pairs(&self) -> Vec<(&'static str, String)> {
        let mut v = vec![
            (
                "authenticate_http_readonly",
                self.authenticate_http_readonly.to_string(),
            ),
            (
                "authenticate_http_readwrite",
                self.authenticate_http_readwrite.to_string(),
            ),
            ("http_authenticators", self.http_authenticators.clone()),
            ("authorizer", self.authorizer.clone()),
        ];
        if let Some(c) = &self.http_credentials {
            v.push(("http_credentials", c.clone()));
        }
        if let Some(a) = &self.acls {
            v.push(("acls", a.clone()));
        }
        v
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::EndpointClass;

    #[test]
    fn mesos_start_up_errors() {
        let f = MasterAuthFlags {
            authenticate_http_readwrite: true,
            http_authenticators: BASIC.into(),
            authorizers: "local".into(),
            ..Default::default()
        };
        let err = f.to_http_auth().unwrap_err().to_string();
        assert!(err.contains("No credentials provided") && err.contains("mesos-master-readwrite"));
        let f = MasterAuthFlags {
            authenticate_http_frameworks: true,
            http_authenticators: BASIC.into(),
            authorizers: "local".into(),
            ..Default::default()
        };
        let err = f.to_http_auth().unwrap_err().to_string();
        assert!(err.contains("--http_framework_authenticators"), "{err}");
    }

    #[test]
    fn realms_follow_the_flags() {
        let d = tempfile::tempdir().unwrap();
        let c = d.path().join("c");
        std::fs::write(&c, "ops secret\n").unwrap();
        let f = MasterAuthFlags {
            authenticate_http_readwrite: true,
            http_authenticators: BASIC.into(),
            credentials: Some(format!("file://{}", c.display())),
            authorizers: "local".into(),
            ..Default::default()
        };
        let auth = f.to_http_auth().unwrap();
        assert!(auth.is_authenticated(EndpointClass::ReadWrite));
        assert!(!auth.is_authenticated(EndpointClass::ReadOnly));
        let headers = http::HeaderMap::new();
        assert_eq!(
            auth.authenticate(EndpointClass::ReadOnly, &headers),
            Ok(None)
        );
        let err = auth
            .authenticate(EndpointClass::ReadWrite, &headers)
            .unwrap_err();
        assert_eq!(err.realm, "mesos-master-readwrite");
        let pairs = f.as_pairs();
        let shown = pairs.iter().find(|(k, _)| *k == "credentials").unwrap();
        assert_eq!(shown.1, format!("file://{}", c.display()));
    }
}
