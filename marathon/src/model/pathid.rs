//! Marathon path ids (`/prod/web`): segments of lowercase letters, digits, dashes and dots
//! (`PathId` in upstream `state/PathId.scala`; the regex of `v2/types/pathId.raml`), resolved
//! against a base group, `..` allowed while resolving.

use std::fmt;

/// An absolute, normalised path id such as `/prod/web` (the root group is `/`).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PathId(Vec<String>);

/// Why a string is not a valid path id.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("must fully match regular expression '^(([a-z0-9]|[a-z0-9][a-z0-9\\-]*[a-z0-9])\\.)*([a-z0-9]|[a-z0-9][a-z0-9\\-]*[a-z0-9])|(\\.|\\.\\.)$'")]
pub struct InvalidPathId;

fn valid_segment(s: &str) -> bool {
    // Dot-separated labels, each alphanumeric with inner dashes (DNS-label like).
    !s.is_empty()
        && s.split('.').all(|label| {
            !label.is_empty()
                && label
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
                && !label.starts_with('-')
                && !label.ends_with('-')
        })
}

impl PathId {
    /// The root group `/`.
    pub fn root() -> Self {
        Self(Vec::new())
    }

    /// Parses `s` relative to `base` (absolute when it starts with `/`).
    pub fn parse_in(s: &str, base: &PathId) -> Result<Self, InvalidPathId> {
        let mut parts = if s.starts_with('/') {
            Vec::new()
        } else {
            base.0.clone()
        };
        for seg in s.split('/').filter(|s| !s.is_empty()) {
            match seg {
                "." => {}
                ".." => {
                    parts.pop().ok_or(InvalidPathId)?;
                }
                seg if valid_segment(seg) => parts.push(seg.to_owned()),
                _ => return Err(InvalidPathId),
            }
        }
        Ok(Self(parts))
    }

    /// Parses an id given without a base (relative ids are taken from the root).
    pub fn parse(s: &str) -> Result<Self, InvalidPathId> {
        Self::parse_in(s, &Self::root())
    }

    /// Whether this is the root group.
    pub fn is_root(&self) -> bool {
        self.0.is_empty()
    }

    /// The enclosing group (`/prod` for `/prod/web`).
    pub fn parent(&self) -> Self {
        let mut p = self.0.clone();
        p.pop();
        Self(p)
    }

    /// Whether `self` is `other` or lies below it.
    pub fn starts_with(&self, other: &PathId) -> bool {
        self.0.starts_with(&other.0)
    }

    /// The segments.
    pub fn segments(&self) -> &[String] {
        &self.0
    }

    /// Marathon's "safe path": segments joined by `_`, the task id prefix (`prod_web`).
    pub fn safe_path(&self) -> String {
        self.0.join("_")
    }

    /// The id as a single znode name (`_prod_web`); `_` never occurs in a segment.
    pub fn key(&self) -> String {
        format!("_{}", self.safe_path())
    }

    /// Inverse of [`PathId::key`].
    pub fn from_key(key: &str) -> Option<Self> {
        let rest = key.strip_prefix('_')?;
        Self::parse(&rest.replace('_', "/")).ok()
    }
}

impl fmt::Display for PathId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "/{}", self.0.join("/"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_normalises() {
        assert_eq!(PathId::parse("/prod/web").unwrap().to_string(), "/prod/web");
        assert_eq!(PathId::parse("web").unwrap().to_string(), "/web");
        assert_eq!(PathId::parse("/a/../b/").unwrap().to_string(), "/b");
        let base = PathId::parse("/prod").unwrap();
        assert_eq!(
            PathId::parse_in("web", &base).unwrap().to_string(),
            "/prod/web"
        );
        assert_eq!(PathId::parse("/").unwrap(), PathId::root());
        assert_eq!(PathId::parse("/my.app-1").unwrap().safe_path(), "my.app-1");
    }

    #[test]
    fn rejects_marathons_invalid_ids() {
        for bad in ["/Bad_ID", "/a b", "/-x", "/x-", "/a_b", "/..", "/x..y"] {
            assert!(PathId::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn key_round_trips() {
        let p = PathId::parse("/prod/web.x").unwrap();
        assert_eq!(p.key(), "_prod_web.x");
        assert_eq!(PathId::from_key(&p.key()), Some(p));
    }
}
