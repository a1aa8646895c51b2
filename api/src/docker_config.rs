//! Registry credentials from Mesos's `--docker_config`: a Docker `config.json` (`auths`) or
//! the legacy `~/.dockercfg` host map, as Mesos's `spec::parseAuthConfig` reads them. Shared
//! by the image puller (registry API) and the docker containerizer (dockerd's
//! `X-Registry-Auth`).

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use serde::Deserialize;

/// A user and password for one registry.
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    /// The user.
    pub username: String,
    /// The password.
    pub password: String,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials")
            .field("username", &self.username)
            .field("password", &"<redacted>")
            .finish()
    }
}

/// One registry's entry: `auth` (base64 `user:password`, as `docker login` writes it) or
/// `username` and `password`.
#[derive(Debug, Default, Deserialize)]
struct Entry {
    #[serde(default)]
    auth: Option<String>,
    #[serde(default)]
    username: Option<String>,
    #[serde(default)]
    password: Option<String>,
}

/// The credentials for `registry` (a host, `host:port` or URL) in the config document
/// `config`; `Ok(None)` when it has none for that registry. The error (a document that is
/// not a Docker config, an entry that cannot be read) names `--docker_config` and the entry,
/// never a secret.
pub fn credentials(config: &str, registry: &str) -> Result<Option<Credentials>, String> {
    let bad = |why: String| format!("--docker_config: {why}");
    let doc: serde_json::Value = serde_json::from_str(config).map_err(|e| bad(e.to_string()))?;
    let map = doc.get("auths").unwrap_or(&doc);
    let map = map
        .as_object()
        .ok_or_else(|| bad("expected a JSON object of registries".into()))?;
    let wanted = registry_host(registry);
    for (key, value) in map {
        if registry_host(key) != wanted {
            continue;
        }
        let entry: Entry =
            serde_json::from_value(value.clone()).map_err(|e| bad(format!("{key}: {e}")))?;
        match (entry.auth, entry.username, entry.password) {
            (Some(auth), _, _) if !auth.trim().is_empty() => {
                let decoded = STANDARD
                    .decode(auth.trim())
                    .ok()
                    .and_then(|b| String::from_utf8(b).ok())
                    .ok_or_else(|| bad(format!("{key}: `auth` is not base64 text")))?;
                let (user, password) = decoded
                    .split_once(':')
                    .ok_or_else(|| bad(format!("{key}: `auth` is not user:password")))?;
                return Ok(Some(Credentials {
                    username: user.to_owned(),
                    password: password.to_owned(),
                }));
            }
            (_, Some(username), Some(password)) => {
                return Ok(Some(Credentials { username, password }))
            }
            _ => continue,
        }
    }
    Ok(None)
}

/// A registry as config keys name it: without scheme or path, lower case, and Docker Hub's
/// many names (`https://index.docker.io/v1/`, `registry-1.docker.io`) as `docker.io`.
pub fn registry_host(key: &str) -> String {
    let host = key
        .trim()
        .trim_start_matches("https://")
        .trim_start_matches("http://");
    let host = host
        .split('/')
        .next()
        .unwrap_or_default()
        .to_ascii_lowercase();
    match host.as_str() {
        "index.docker.io" | "registry-1.docker.io" | "registry.hub.docker.com" => {
            "docker.io".to_owned()
        }
        _ => host,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn up(u: &str, p: &str) -> Option<Credentials> {
        Some(Credentials {
            username: u.into(),
            password: p.into(),
        })
    }

    #[test]
    fn credentials_come_from_every_docker_config_shape() {
        // base64("u:p:q"): the password may contain ':'.
        let json = r#"{"auths": {"https://reg.example:5000/v1/": {"auth": "dTpwOnE="}}}"#;
        assert_eq!(credentials(json, "reg.example:5000"), Ok(up("u", "p:q")));
        let split = r#"{"auths": {"reg.example:5000": {"username": "u", "password": "p"}}}"#;
        assert_eq!(
            credentials(split, "http://reg.example:5000"),
            Ok(up("u", "p"))
        );
        let legacy = r#"{"reg.example:5000": {"auth": "dTpw", "email": "x@y"}}"#;
        assert_eq!(credentials(legacy, "reg.example:5000"), Ok(up("u", "p")));
        let hub = r#"{"auths": {"https://index.docker.io/v1/": {"auth": "dTpw"}}}"#;
        assert_eq!(credentials(hub, "registry-1.docker.io"), Ok(up("u", "p")));
        assert_eq!(credentials(json, "other:5000"), Ok(None));
        assert!(credentials("[1]", "h").is_err());
        assert!(credentials(r#"{"auths": {"h": {"auth": 5}}}"#, "h").is_err());
        let err = credentials(r#"{"auths": {"h.io": {"auth": "!!"}}}"#, "h.io").unwrap_err();
        assert!(err.contains("--docker_config: h.io"), "{err}");
        assert!(!format!("{:?}", up("u", "secret")).contains("secret"));
    }
}
