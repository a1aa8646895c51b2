//! TLS for every Meseta server, opt-in as in libprocess: `LIBPROCESS_SSL_ENABLED=true` (or `1`)
//! with `LIBPROCESS_SSL_CERT_FILE` (PEM, the certificate chain) and `LIBPROCESS_SSL_KEY_FILE`
//! (PEM, PKCS#8, PKCS#1 or SEC1 key). `LIBPROCESS_SSL_SUPPORT_DOWNGRADE=true` also accepts
//! plain HTTP on the same port (the first byte of a TLS ClientHello, `0x16`, tells them apart),
//! as libprocess does.
//!
//! rustls with the `ring` provider; PEM through rustls's own `pki_types` (what the deprecated
//! `rustls-pemfile` now forwards to).

use std::path::PathBuf;
use std::sync::Arc;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::ServerConfig;

#[path = "tls_pinned.rs"]
mod pinned;

/// The TLS side of a listener.
#[derive(Debug, Clone)]
pub struct Tls {
    /// Certificates and key, ALPN `http/1.1`.
    pub config: Arc<ServerConfig>,
    /// Plain HTTP is accepted too (`LIBPROCESS_SSL_SUPPORT_DOWNGRADE`).
    pub downgrade: bool,
}

/// Why TLS could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    /// A required variable is missing.
    #[error("LIBPROCESS_SSL_ENABLED is set but {0} is not")]
    Missing(&'static str),
    /// The certificate file.
    #[error("cannot read the certificates in {path}: {reason}")]
    Cert {
        /// `LIBPROCESS_SSL_CERT_FILE`.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// The key file.
    #[error("cannot read the private key in {path}: {reason}")]
    Key {
        /// `LIBPROCESS_SSL_KEY_FILE`.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// rustls refused the pair (the key does not match the certificate, ...).
    #[error("invalid certificate or key: {0}")]
    Rustls(#[from] rustls::Error),
}

/// Whether a libprocess boolean variable is on (`true`/`1`, any case).
pub fn env_flag(value: Option<&str>) -> bool {
    value.is_some_and(|v| matches!(v.trim().to_ascii_lowercase().as_str(), "true" | "1" | "yes"))
}

impl Tls {
    /// The TLS settings of `env` (`None` when `LIBPROCESS_SSL_ENABLED` is off).
    pub fn from_env(env: impl Fn(&str) -> Option<String>) -> Result<Option<Self>, TlsError> {
        if !env_flag(env("LIBPROCESS_SSL_ENABLED").as_deref()) {
            return Ok(None);
        }
        let path = |name: &'static str| env(name).map(PathBuf::from).ok_or(TlsError::Missing(name));
        let cert = path("LIBPROCESS_SSL_CERT_FILE")?;
        let key = path("LIBPROCESS_SSL_KEY_FILE")?;
        let downgrade = env_flag(env("LIBPROCESS_SSL_SUPPORT_DOWNGRADE").as_deref());
        Self::from_files(cert, key, downgrade).map(Some)
    }

    /// [`Tls::from_env`] on the process environment.
    pub fn from_process_env() -> Result<Option<Self>, TlsError> {
        Self::from_env(|name| std::env::var(name).ok())
    }

    /// Loads a PEM certificate chain and key.
    pub fn from_files(cert: PathBuf, key: PathBuf, downgrade: bool) -> Result<Self, TlsError> {
        let certs = CertificateDer::pem_file_iter(&cert)
            .and_then(|it| it.collect::<Result<Vec<_>, _>>())
            .map_err(|e| TlsError::Cert {
                path: cert.clone(),
                reason: e.to_string(),
            })?;
        if certs.is_empty() {
            return Err(TlsError::Cert {
                path: cert,
                reason: "no CERTIFICATE block".into(),
            });
        }
        let key = PrivateKeyDer::from_pem_file(&key).map_err(|e| TlsError::Key {
            path: key,
            reason: e.to_string(),
        })?;
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut config = ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()?
            .with_no_client_auth()
            .with_single_cert(certs, key)?;
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        Ok(Self {
            config: Arc::new(config),
            downgrade,
        })
    }
}

/// The client side of libprocess TLS: with `LIBPROCESS_SSL_ENABLED`, connections a daemon
/// opens (the agent to the master) use TLS too. The server's certificate is verified against
/// `LIBPROCESS_SSL_CA_FILE`, or, when that is unset, against the daemon's own
/// `LIBPROCESS_SSL_CERT_FILE` (one self-signed certificate shared by a cluster). Unlike
/// libprocess (whose `LIBPROCESS_SSL_VERIFY_CERT` defaults to false) it always verifies.
#[derive(Debug, Clone)]
pub struct ClientTls {
    /// Trusted roots, no client certificate, ALPN `http/1.1`.
    pub config: Arc<rustls::ClientConfig>,
}

impl ClientTls {
    /// The client TLS settings of `env` (`None` when `LIBPROCESS_SSL_ENABLED` is off).
    pub fn from_env(env: impl Fn(&str) -> Option<String>) -> Result<Option<Self>, TlsError> {
        if !env_flag(env("LIBPROCESS_SSL_ENABLED").as_deref()) {
            return Ok(None);
        }
        let ca = env("LIBPROCESS_SSL_CA_FILE")
            .or_else(|| env("LIBPROCESS_SSL_CERT_FILE"))
            .map(PathBuf::from)
            .ok_or(TlsError::Missing("LIBPROCESS_SSL_CA_FILE"))?;
        let certs = CertificateDer::pem_file_iter(&ca)
            .and_then(|it| it.collect::<Result<Vec<_>, _>>())
            .map_err(|e| TlsError::Cert {
                path: ca.clone(),
                reason: e.to_string(),
            })?;
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let verifier = pinned::Verifier::new(certs, Arc::clone(&provider))?;
        let mut config = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()?
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(verifier))
            .with_no_client_auth();
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        Ok(Some(Self {
            config: Arc::new(config),
        }))
    }

    /// [`ClientTls::from_env`] on the process environment.
    pub fn from_process_env() -> Result<Option<Self>, TlsError> {
        Self::from_env(|name| std::env::var(name).ok())
    }

    /// Runs the TLS handshake on `stream` to `host` (a DNS name or an IP address).
    pub async fn connect(
        &self,
        host: &str,
        stream: tokio::net::TcpStream,
    ) -> std::io::Result<tokio_rustls::client::TlsStream<tokio::net::TcpStream>> {
        let name = rustls::pki_types::ServerName::try_from(host.to_owned())
            .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidInput, e))?;
        tokio_rustls::TlsConnector::from(Arc::clone(&self.config))
            .connect(name, stream)
            .await
    }
}
