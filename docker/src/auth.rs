//! Registry credentials for pulls through dockerd. Mesos's docker containerizer pulls with
//! the agent's `--docker_config` (a Docker `config.json`, or the legacy `~/.dockercfg` host
//! map); over the Engine API the credentials for the image's registry travel in the
//! `X-Registry-Auth` header of `POST /images/create`: base64url of
//! `{"username", "password", "serveraddress"}`.

use base64::engine::general_purpose::URL_SAFE;
use base64::Engine as _;
use meseta_api::docker_config;
use serde::Serialize;

use crate::DockerError;

/// Docker Hub's key in `config.json` (what `docker login` writes for it).
pub const DOCKER_HUB: &str = "https://index.docker.io/v1/";

/// Credentials for one registry, as dockerd takes them.
#[derive(Clone, PartialEq, Eq, Serialize)]
pub struct RegistryAuth {
    /// The user.
    pub username: String,
    /// The password.
    pub password: String,
    /// The registry (`host[:port]`, or [`DOCKER_HUB`]).
    pub serveraddress: String,
}

impl std::fmt::Debug for RegistryAuth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RegistryAuth")
            .field("username", &self.username)
            .field("password", &"<redacted>")
            .field("serveraddress", &self.serveraddress)
            .finish()
    }
}

impl RegistryAuth {
    /// The `X-Registry-Auth` header value.
    pub fn header(&self) -> String {
        let json = serde_json::to_vec(self).unwrap_or_default();
        URL_SAFE.encode(json)
    }

    /// The credentials for `image`'s registry in the Docker config document `config`;
    /// `Ok(None)` when it has none for that registry. A document that is not a Docker
    /// config is an error naming `--docker_config`.
    pub fn for_image(config: &str, image: &str) -> Result<Option<Self>, DockerError> {
        let registry = registry_of(image);
        let found = docker_config::credentials(config, &registry).map_err(DockerError::Invalid)?;
        Ok(found.map(|c| Self {
            username: c.username,
            password: c.password,
            serveraddress: if registry == "docker.io" {
                DOCKER_HUB.to_owned()
            } else {
                registry
            },
        }))
    }
}

/// The registry an image reference pulls from, by Docker's rule: the first path component
/// when it has a `.` or `:` or is `localhost`, else Docker Hub (`docker.io`).
pub fn registry_of(image: &str) -> String {
    match image.split_once('/') {
        Some((first, _)) if first.contains('.') || first.contains(':') || first == "localhost" => {
            docker_config::registry_host(first)
        }
        _ => "docker.io".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn images_name_their_registry_as_docker_does() {
        assert_eq!(registry_of("busybox"), "docker.io");
        assert_eq!(registry_of("team/app:v1"), "docker.io");
        assert_eq!(registry_of("127.0.0.1:5000/team/app:v1"), "127.0.0.1:5000");
        assert_eq!(registry_of("localhost/app"), "localhost");
        assert_eq!(registry_of("Quay.io/x/y@sha256:00"), "quay.io");
    }

    #[test]
    fn credentials_come_from_every_docker_config_shape() {
        let want = |server: &str| RegistryAuth {
            username: "u".into(),
            password: "p:q".into(),
            serveraddress: server.into(),
        };
        // base64("u:p:q")
        let cfg = r#"{"auths": {"http://127.0.0.1:5000": {"auth": "dTpwOnE="}}}"#;
        let got = RegistryAuth::for_image(cfg, "127.0.0.1:5000/a:b").unwrap();
        assert_eq!(got, Some(want("127.0.0.1:5000")));
        let split =
            r#"{"auths": {"https://index.docker.io/v1/": {"username": "u", "password": "p:q"}}}"#;
        let got = RegistryAuth::for_image(split, "busybox").unwrap();
        assert_eq!(got, Some(want(DOCKER_HUB)));
        let legacy = r#"{"127.0.0.1:5000": {"auth": "dTpwOnE=", "email": "a@b"}}"#;
        assert!(RegistryAuth::for_image(legacy, "127.0.0.1:5000/a")
            .unwrap()
            .is_some());
        assert_eq!(RegistryAuth::for_image(cfg, "busybox").unwrap(), None);
        assert!(RegistryAuth::for_image("nope", "busybox").is_err());
        let bad = r#"{"auths": {"h.io": {"auth": "!!"}}}"#;
        let err = RegistryAuth::for_image(bad, "h.io/a").unwrap_err();
        assert!(err.to_string().contains("--docker_config: h.io"), "{err}");
    }

    #[test]
    fn the_header_is_base64url_json_and_debug_hides_the_password() {
        let auth = RegistryAuth {
            username: "u".into(),
            password: "secret>?".into(),
            serveraddress: "h:1".into(),
        };
        let json = URL_SAFE.decode(auth.header()).unwrap();
        let v: serde_json::Value = serde_json::from_slice(&json).unwrap();
        assert_eq!(v["username"], "u");
        assert_eq!(v["password"], "secret>?");
        assert_eq!(v["serveraddress"], "h:1");
        assert!(!format!("{auth:?}").contains("secret"));
    }
}
