//! `--credentials` (master) and `--http_credentials` (agent): a file of principals and
//! secrets. As in Mesos (`src/credentials/credentials.hpp`) the flag is a *path*, plain or
//! `file:///path`, never the secrets themselves, so `/flags` and `ps` show only the path. The
//! file holds Mesos's JSON (`{"credentials":[{"principal":"p","secret":"s"}]}`) or the older
//! text form, one `principal secret` per line. An empty file means "no credentials".
//!
//! Secrets are kept as SHA-256 digests and compared in constant time ([`Credentials::verify`]);
//! nothing here formats a secret, and [`Credentials`]'s `Debug` lists principals only.

use std::collections::BTreeMap;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// Why a credentials file cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum CredentialsError {
    /// The file could not be read.
    #[error("Failed to read credentials file '{path}': {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The value looks like inline JSON; Mesos takes a path here.
    #[error(
        "expects a path to a credentials file (or file:///path), not inline JSON: secrets on the \
         command line would show in /flags and ps"
    )]
    Inline,
    /// The JSON does not have Mesos's shape.
    #[error("Invalid json format in '{path}': {reason}")]
    Json {
        /// The file.
        path: PathBuf,
        /// What is wrong (never contains a secret).
        reason: String,
    },
    /// A line of the text form is not `principal secret`.
    #[error("'{path}' line {line}: expected 'principal secret'")]
    Text {
        /// The file.
        path: PathBuf,
        /// 1-based line number.
        line: usize,
    },
}

/// Principals and (digests of) their secrets.
#[derive(Clone, Default)]
pub struct Credentials {
    secrets: BTreeMap<String, [u8; 32]>,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials")
            .field("principals", &self.secrets.keys().collect::<Vec<_>>())
            .finish()
    }
}

fn digest(secret: &[u8]) -> [u8; 32] {
    Sha256::digest(secret).into()
}

impl Credentials {
    /// Loads the flag value: `/path` or `file:///path`. `Ok(None)` for an empty file.
    pub fn load(flag_value: &str) -> Result<Option<Self>, CredentialsError> {
        let value = flag_value.trim();
        if value.starts_with('{') {
            return Err(CredentialsError::Inline);
        }
        let path = Path::new(value.strip_prefix("file://").unwrap_or(value));
        let text = std::fs::read_to_string(path).map_err(|source| CredentialsError::Read {
            path: path.to_owned(),
            source,
        })?;
        if let Ok(meta) = std::fs::metadata(path) {
            if meta.permissions().mode() & 0o007 != 0 {
                tracing::warn!(
                    path = %path.display(),
                    "Permissions on credentials file are too open; it is recommended that your \
                     credentials file is NOT accessible by others"
                );
            }
        }
        Self::parse(&text, path)
    }

    /// Parses the file's content (`path` is only used in errors).
    pub fn parse(text: &str, path: &Path) -> Result<Option<Self>, CredentialsError> {
        let trimmed = text.trim();
        if trimmed.is_empty() {
            return Ok(None);
        }
        if trimmed.starts_with('{') {
            return Self::parse_json(trimmed, path).map(Some);
        }
        let mut creds = Credentials::default();
        for (i, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let mut words = line.split_whitespace();
            match (words.next(), words.next(), words.next()) {
                (Some(p), Some(s), None) => creds.insert(p, s),
                _ => {
                    return Err(CredentialsError::Text {
                        path: path.to_owned(),
                        line: i + 1,
                    })
                }
            }
        }
        Ok(Some(creds))
    }

    fn parse_json(text: &str, path: &Path) -> Result<Self, CredentialsError> {
        let bad = |reason: &str| CredentialsError::Json {
            path: path.to_owned(),
            reason: reason.to_owned(),
        };
        // serde_json's error text can quote input (a secret): report only its position.
        let json: serde_json::Value =
            serde_json::from_str(text).map_err(|e| CredentialsError::Json {
                path: path.to_owned(),
                reason: format!("syntax error at line {} column {}", e.line(), e.column()),
            })?;
        let list = json
            .get("credentials")
            .and_then(|c| c.as_array())
            .ok_or_else(|| bad("expected {\"credentials\": [...]}"))?;
        let mut creds = Credentials::default();
        for entry in list {
            let principal = entry
                .get("principal")
                .and_then(|p| p.as_str())
                .ok_or_else(|| bad("a credential has no string 'principal'"))?;
            // Mesos's `Credential.secret` is a plain string (mesos.proto), not base64.
            let secret = entry
                .get("secret")
                .and_then(|p| p.as_str())
                .ok_or_else(|| bad("a credential has no string 'secret'"))?;
            creds.insert(principal, secret);
        }
        Ok(creds)
    }

    /// Adds (or replaces) a principal.
    pub fn insert(&mut self, principal: &str, secret: &str) {
        self.secrets
            .insert(principal.to_owned(), digest(secret.as_bytes()));
    }

    /// Whether `secret` is `principal`'s. Digests of equal length are compared in constant
    /// time; an unknown principal costs the same comparison.
    pub fn verify(&self, principal: &str, secret: &str) -> bool {
        let given = digest(secret.as_bytes());
        match self.secrets.get(principal) {
            Some(expected) => bool::from(expected.ct_eq(&given)),
            None => {
                let _ = [0u8; 32].ct_eq(&given);
                false
            }
        }
    }

    /// The principals, sorted.
    pub fn principals(&self) -> impl Iterator<Item = &str> {
        self.secrets.keys().map(String::as_str)
    }

    /// How many principals there are.
    pub fn len(&self) -> usize {
        self.secrets.len()
    }

    /// True without principals.
    pub fn is_empty(&self) -> bool {
        self.secrets.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_text_and_empty_forms() {
        let p = Path::new("c");
        let c = Credentials::parse(
            r#"{"credentials":[{"principal":"ops","secret":"s3cr:et"},{"principal":"fw","secret":"x"}]}"#,
            p,
        )
        .unwrap()
        .unwrap();
        assert!(c.verify("ops", "s3cr:et"));
        assert!(!c.verify("ops", "s3cr"));
        assert!(!c.verify("nobody", "s3cr:et"));
        assert_eq!(c.principals().collect::<Vec<_>>(), ["fw", "ops"]);
        let t = Credentials::parse("# comment\nops secret1\n\nfw  secret2\n", p)
            .unwrap()
            .unwrap();
        assert!(t.verify("fw", "secret2") && t.verify("ops", "secret1"));
        assert!(Credentials::parse("  \n", p).unwrap().is_none());
        assert!(matches!(
            Credentials::parse("ops\n", p),
            Err(CredentialsError::Text { line: 1, .. })
        ));
    }

    #[test]
    fn errors_and_debug_never_show_secrets() {
        let p = Path::new("c");
        let err = Credentials::parse(r#"{"credentials":[{"principal":"a","secret":"hunter2"}"#, p)
            .unwrap_err()
            .to_string();
        assert!(!err.contains("hunter2"), "{err}");
        let c = Credentials::parse("a hunter2", p).unwrap().unwrap();
        assert!(!format!("{c:?}").contains("hunter2"));
        assert!(matches!(
            Credentials::load(r#"{"credentials":[]}"#),
            Err(CredentialsError::Inline)
        ));
    }

    #[test]
    fn loads_paths_and_file_urls() {
        let d = tempfile::tempdir().unwrap();
        let f = d.path().join("creds");
        std::fs::write(&f, "a b\n").unwrap();
        let c = Credentials::load(&f.display().to_string())
            .unwrap()
            .unwrap();
        assert!(c.verify("a", "b"));
        let c = Credentials::load(&format!("file://{}", f.display()))
            .unwrap()
            .unwrap();
        assert_eq!(c.len(), 1);
        let err = Credentials::load("/nonexistent/creds").unwrap_err();
        assert!(err.to_string().contains("/nonexistent/creds"), "{err}");
    }
}
