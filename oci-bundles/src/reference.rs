//! Image references as operators write them: `busybox`, `busybox:1.36`,
//! `localhost:5000/team/app:v2`, `app@sha256:<hex>`.

/// A parsed image reference.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reference {
    /// Registry host (and port), when one is named.
    pub registry: Option<String>,
    /// Repository path, e.g. `busybox` or `team/app`.
    pub repository: String,
    /// Tag (default `latest`), unless a digest is given.
    pub tag: Option<String>,
    /// Pinned manifest digest.
    pub digest: Option<String>,
}

/// A reference that cannot name an image.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("invalid image reference {0:?}")]
pub struct BadReference(pub String);

impl Reference {
    /// Parses a reference.
    pub fn parse(s: &str) -> Result<Self, BadReference> {
        let bad = || BadReference(s.to_owned());
        if s.is_empty() || s.len() > 512 || s.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(bad());
        }
        let (rest, digest) = match s.split_once('@') {
            Some((r, d)) => (
                r,
                Some(
                    crate::digest::Digest::parse(d)
                        .map_err(|_| bad())?
                        .as_str()
                        .to_owned(),
                ),
            ),
            None => (s, None),
        };
        let (registry, path) = match rest.split_once('/') {
            Some((first, path))
                if first.contains('.') || first.contains(':') || first == "localhost" =>
            {
                (Some(first.to_owned()), path)
            }
            _ => (None, rest),
        };
        let (repository, tag) = match path.rsplit_once(':') {
            Some((repo, tag)) if !tag.contains('/') => (repo, Some(tag.to_owned())),
            _ => (path, None),
        };
        let tag = if digest.is_none() {
            Some(tag.unwrap_or_else(|| "latest".into()))
        } else {
            tag
        };
        if let Some(r) = &registry {
            let host_ok = !r.starts_with(['.', '-', ':'])
                && !r.contains("..")
                && r.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b".-:".contains(&b));
            if !host_ok {
                return Err(bad());
            }
        }
        let valid_part = |p: &str| {
            !p.is_empty()
                && p != "."
                && p != ".."
                && p.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-".contains(&b))
        };
        if repository.is_empty() || !repository.split('/').all(valid_part) {
            return Err(bad());
        }
        if let Some(t) = &tag {
            if t.is_empty()
                || t.len() > 128
                || !t
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b))
                || t.starts_with(['.', '-'])
            {
                return Err(bad());
            }
        }
        Ok(Self {
            registry,
            repository: repository.to_owned(),
            tag,
            digest,
        })
    }

    /// `repository:tag` (or `repository@digest`), without the registry: the name of a
    /// `docker save` tarball in a `--docker_registry` directory, minus `.tar`.
    pub fn name(&self) -> String {
        match (&self.digest, &self.tag) {
            (Some(d), _) => format!("{}@{d}", self.repository),
            (None, Some(t)) => format!("{}:{t}", self.repository),
            (None, None) => self.repository.clone(),
        }
    }
}

impl std::fmt::Display for Reference {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.registry {
            Some(r) => write!(f, "{r}/{}", self.name()),
            None => f.write_str(&self.name()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_usual_forms() {
        let r = Reference::parse("busybox").unwrap();
        assert_eq!(
            (r.registry, r.repository.as_str(), r.tag.as_deref()),
            (None, "busybox", Some("latest"))
        );
        let r = Reference::parse("localhost:5000/team/app:v2").unwrap();
        assert_eq!(r.registry.as_deref(), Some("localhost:5000"));
        assert_eq!(r.repository, "team/app");
        assert_eq!(r.name(), "team/app:v2");
        let d = format!("sha256:{}", "a".repeat(64));
        let r = Reference::parse(&format!("app@{d}")).unwrap();
        assert_eq!(r.digest.as_deref(), Some(d.as_str()));
        assert_eq!(r.tag, None);
    }

    #[test]
    fn rejects_paths_and_junk() {
        for bad in [
            "",
            "../etc",
            "a/../b",
            "Busybox",
            "bad tag",
            "app:",
            "app:../x",
            "app@sha256:zz",
            "a//b",
        ] {
            assert!(Reference::parse(bad).is_err(), "{bad}");
        }
    }
}
