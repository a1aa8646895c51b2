//! Registry credentials for the puller: the `auths` of a Docker `config.json` (or the
//! legacy `~/.dockercfg` host map, which Mesos's `--docker_config` also accepts), matched to
//! the registry's host; and the token request of a `WWW-Authenticate: Bearer` challenge.

use serde::Deserialize;

use super::PullError;

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

/// The basic credentials (base64 `user:password`) for `host` in a Docker config document;
/// `None` when it has none for that registry.
pub fn credentials_for(config: &str, host: &str) -> Result<Option<String>, PullError> {
    let bad = |why: String| PullError::Malformed(format!("--docker_config: {why}"));
    let doc: serde_json::Value = serde_json::from_str(config).map_err(|e| bad(e.to_string()))?;
    let map = doc.get("auths").unwrap_or(&doc);
    let map = map
        .as_object()
        .ok_or_else(|| bad("expected a JSON object of registries".into()))?;
    let wanted = registry_host(host);
    for (key, value) in map {
        if registry_host(key) != wanted {
            continue;
        }
        let entry: Entry =
            serde_json::from_value(value.clone()).map_err(|e| bad(format!("{key}: {e}")))?;
        if let Some(auth) = entry.auth.filter(|a| !a.trim().is_empty()) {
            return Ok(Some(auth.trim().to_owned()));
        }
        if let (Some(user), Some(password)) = (entry.username, entry.password) {
            return Ok(Some(super::basic_auth(&user, &password)));
        }
    }
    Ok(None)
}

/// A registry's host as config keys name it: without scheme or path, and Docker Hub's many
/// names (`https://index.docker.io/v1/`, `registry-1.docker.io`) as `docker.io`.
fn registry_host(key: &str) -> String {
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

/// The token request for pulling `repo`: the challenge's `realm` with `scope` and `service`.
pub fn token_url(realm: &str, service: Option<&String>, repo: &str) -> String {
    let sep = if realm.contains('?') { '&' } else { '?' };
    let mut url = format!(
        "{realm}{sep}scope={}",
        encode(&format!("repository:{repo}:pull"))
    );
    if let Some(service) = service {
        url.push_str(&format!("&service={}", encode(service)));
    }
    url
}

/// Percent-encodes a query value. Hand-written: a few lines, no URL crate in oci-bundles.
fn encode(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for b in value.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// A response body as one short line for an error message.
pub fn one_line(body: &str) -> String {
    let text = body.split_whitespace().collect::<Vec<_>>().join(" ");
    match text.char_indices().nth(300) {
        Some((i, _)) => format!("{}...", &text[..i]),
        None => text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_credentials_in_every_docker_config_shape() {
        let dtpw = Some("dTpw".to_owned());
        let json = r#"{"auths": {"https://reg.example:5000/v1/": {"auth": "dTpw"}}}"#;
        assert_eq!(credentials_for(json, "reg.example:5000").unwrap(), dtpw);
        let split = r#"{"auths": {"reg.example:5000": {"username": "u", "password": "p"}}}"#;
        assert_eq!(credentials_for(split, "reg.example:5000").unwrap(), dtpw);
        let legacy = r#"{"reg.example:5000": {"auth": "dTpw", "email": "x@y"}}"#;
        assert_eq!(credentials_for(legacy, "reg.example:5000").unwrap(), dtpw);
        let hub = r#"{"auths": {"https://index.docker.io/v1/": {"auth": "dTpw"}}}"#;
        assert_eq!(credentials_for(hub, "registry-1.docker.io").unwrap(), dtpw);
        assert_eq!(credentials_for(json, "other:5000").unwrap(), None);
        assert!(credentials_for("[1]", "h").is_err());
        assert!(credentials_for(r#"{"auths": {"h": {"auth": 5}}}"#, "h").is_err());
    }

    #[test]
    fn token_requests_encode_scope_and_service() {
        let service = "my registry".to_owned();
        assert_eq!(
            token_url("https://auth.example/token", Some(&service), "team/app"),
            "https://auth.example/token?scope=repository%3Ateam%2Fapp%3Apull&service=my%20registry"
        );
        assert_eq!(
            token_url("http://a/t?x=1", None, "app"),
            "http://a/t?x=1&scope=repository%3Aapp%3Apull"
        );
        assert_eq!(one_line("a\n  b"), "a b");
    }
}
