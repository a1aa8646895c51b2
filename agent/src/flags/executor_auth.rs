//! Executor authentication flags: Mesos's `--authenticate_http_executors` and
//! `--jwt_secret_key` (deprecated name `--executor_secret_key`), and Meseta's
//! `--executor_peer_check`. Flattened into [`super::AgentFlags`].

use std::path::{Path, PathBuf};

use clap::Args;

use super::{invalid, FlagError};

/// The command-line group.
#[derive(Debug, Clone, Args)]
pub struct ExecutorAuthFlags {
    /// If true, only authenticated requests for the HTTP executor API are allowed: each
    /// executor gets a JWT in MESOS_EXECUTOR_AUTHENTICATION_TOKEN, scoped to its framework,
    /// executor and container, and must send it as `Authorization: Bearer <token>`.
    /// Requires --jwt_secret_key.
    #[arg(long = "authenticate_http_executors", default_value = "false", num_args = 0..=1,
          default_missing_value = "true", action = clap::ArgAction::Set)]
    pub authenticate_http_executors: bool,
    /// Path to a file containing the key used when generating JWT secrets for executors
    /// (`file://` prefix allowed). Its whole content is the key; keep it unreadable by others.
    #[arg(long = "jwt_secret_key", alias = "executor_secret_key")]
    pub jwt_secret_key: Option<String>,
    /// Refuse (403) executor API calls whose TCP peer is not a process of that executor's
    /// container (its cgroup, or the executor's process tree without cgroup isolators).
    /// Needs no change in executors; on by default.
    #[arg(long = "executor_peer_check", default_value = "true", num_args = 0..=1,
          default_missing_value = "true", action = clap::ArgAction::Set)]
    pub executor_peer_check: bool,
}

/// The key executor tokens are signed with; never printed.
#[derive(Clone, PartialEq, Eq)]
pub struct JwtKey(pub Vec<u8>);

impl std::fmt::Debug for JwtKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("JwtKey(<redacted>)")
    }
}

/// The validated group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExecutorAuthConfig {
    /// `--authenticate_http_executors`.
    pub authenticate: bool,
    /// The content of `--jwt_secret_key`: executors get tokens whenever it is set.
    pub key: Option<JwtKey>,
    /// `--executor_peer_check`.
    pub peer_check: bool,
}

impl ExecutorAuthFlags {
    /// Reads the key file and checks the combination.
    pub fn to_config(&self) -> Result<ExecutorAuthConfig, FlagError> {
        let key = match &self.jwt_secret_key {
            Some(path) => Some(read_key(path)?),
            None => None,
        };
        if self.authenticate_http_executors && key.is_none() {
            return Err(invalid(
                "authenticate_http_executors",
                "--jwt_secret_key must be specified when --authenticate_http_executors is set \
                 to true",
            ));
        }
        Ok(ExecutorAuthConfig {
            authenticate: self.authenticate_http_executors,
            key,
            peer_check: self.executor_peer_check,
        })
    }

    /// The flags as `/flags` shows them (the key's path, never its content).
    pub fn as_pairs(&self) -> Vec<(&'static str, String)> {
        vec![
            (
                "authenticate_http_executors",
                self.authenticate_http_executors.to_string(),
            ),
            (
                "jwt_secret_key",
                self.jwt_secret_key.clone().unwrap_or_default(),
            ),
            ("executor_peer_check", self.executor_peer_check.to_string()),
        ]
    }
}

fn read_key(flag: &str) -> Result<JwtKey, FlagError> {
    let path = PathBuf::from(flag.strip_prefix("file://").unwrap_or(flag));
    let key = std::fs::read(&path).map_err(|e| {
        invalid(
            "jwt_secret_key",
            format!("Failed to read the file {}: {e}", path.display()),
        )
    })?;
    if key.is_empty() {
        return Err(invalid(
            "jwt_secret_key",
            format!("{} is empty", path.display()),
        ));
    }
    warn_if_open(&path);
    Ok(JwtKey(key))
}

/// Mesos warns, and does not refuse, when others may read the key.
fn warn_if_open(path: &Path) {
    use std::os::unix::fs::PermissionsExt;
    if let Ok(meta) = std::fs::metadata(path) {
        if meta.permissions().mode() & 0o007 != 0 {
            tracing::warn!(
                path = %path.display(),
                "Permissions on executor secret key file are too open; it is recommended that \
                 your key file is NOT accessible by others"
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;

    #[derive(Debug, Parser)]
    struct Cli {
        #[command(flatten)]
        auth: ExecutorAuthFlags,
    }

    #[test]
    fn requires_a_readable_key_when_authenticating() {
        let cli = Cli::parse_from(["x", "--authenticate_http_executors"]);
        let err = cli.auth.to_config().unwrap_err().to_string();
        assert!(err.contains("--jwt_secret_key must be specified"), "{err}");
        let dir = tempfile::tempdir().unwrap();
        let key = dir.path().join("key");
        std::fs::write(&key, "s3cret").unwrap();
        let old_name = format!("--executor_secret_key=file://{}", key.display());
        let cli = Cli::parse_from(["x", "--authenticate_http_executors=true", &old_name]);
        let config = cli.auth.to_config().unwrap();
        assert!(config.authenticate && config.peer_check);
        assert_eq!(config.key, Some(JwtKey(b"s3cret".to_vec())));
        assert!(!format!("{config:?}").contains("s3cret"));
        let missing = Cli::parse_from(["x", "--jwt_secret_key=/nonexistent/key"]);
        assert!(missing.auth.to_config().is_err());
    }
}
