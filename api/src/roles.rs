//! Role names (Mesos `src/common/roles.cpp`, `docs/roles.md`), as the master's allocator and
//! the agent's `--resources` parser validate them.
//!
//! A role is `*` (the default role) or a `/`-separated path of components.
//! Components may not be empty, `.`, `..` or `*`, may not start with `-`,
//! and may not contain whitespace or backspace/DEL characters.

use thiserror::Error;

/// The default role.
pub const DEFAULT_ROLE: &str = "*";

/// Characters Mesos rejects inside a role component.
const INVALID_CHARACTERS: &[char] = &[
    '\x09', '\x0a', '\x0b', '\x0c', '\x0d', '\x20', '\x7f', '\x08',
];

/// Reasons a role name is rejected.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum RoleError {
    /// The name is the empty string.
    #[error("role names cannot be the empty string")]
    Empty,
    /// The name starts with `/`.
    #[error("role '{0}' cannot start with a slash")]
    LeadingSlash(String),
    /// The name ends with `/`.
    #[error("role '{0}' cannot end with a slash")]
    TrailingSlash(String),
    /// The name contains `//`.
    #[error("role '{0}' cannot contain two adjacent slashes")]
    AdjacentSlashes(String),
    /// A component is `.`, `..` or `*`.
    #[error("role '{role}' cannot include '{component}' as a component")]
    ReservedComponent {
        /// Whole role name.
        role: String,
        /// Offending component.
        component: String,
    },
    /// A component starts with `-`.
    #[error("role component '{0}' is invalid because it starts with a dash")]
    LeadingDash(String),
    /// A component contains whitespace or backspace.
    #[error("role component '{0}' is invalid because it contains backspace or whitespace")]
    InvalidCharacter(String),
}

/// Validates a role name with Mesos rules.
pub fn validate(role: &str) -> Result<(), RoleError> {
    if role == DEFAULT_ROLE {
        return Ok(());
    }
    if role.is_empty() {
        return Err(RoleError::Empty);
    }
    if role.starts_with('/') {
        return Err(RoleError::LeadingSlash(role.to_string()));
    }
    if role.ends_with('/') {
        return Err(RoleError::TrailingSlash(role.to_string()));
    }
    if role.contains("//") {
        return Err(RoleError::AdjacentSlashes(role.to_string()));
    }
    for component in role.split('/') {
        if matches!(component, "." | ".." | "*") {
            return Err(RoleError::ReservedComponent {
                role: role.to_string(),
                component: component.to_string(),
            });
        }
        if component.starts_with('-') {
            return Err(RoleError::LeadingDash(component.to_string()));
        }
        if component.contains(INVALID_CHARACTERS) {
            return Err(RoleError::InvalidCharacter(component.to_string()));
        }
    }
    Ok(())
}

/// Validates every role of a list.
pub fn validate_all<'a>(roles: impl IntoIterator<Item = &'a str>) -> Result<(), RoleError> {
    roles.into_iter().try_for_each(validate)
}

/// Strict ancestors of `role`, nearest first (`a/b/c` → `a/b`, `a`).
pub fn ancestors(role: &str) -> impl Iterator<Item = &str> {
    let mut rest = role;
    std::iter::from_fn(move || {
        let idx = rest.rfind('/')?;
        rest = &rest[..idx];
        Some(rest)
    })
}

/// The top-level ancestor of `role` (the role itself if it has no `/`).
pub fn top_level(role: &str) -> &str {
    role.split('/').next().unwrap_or(role)
}

/// True if `role` is a strict sub-role of `parent` (`a/b` of `a`).
pub fn is_strict_subrole(role: &str, parent: &str) -> bool {
    role.len() > parent.len() + 1
        && role.starts_with(parent)
        && role.as_bytes()[parent.len()] == b'/'
}

/// True if `role` may receive resources reserved to `reservation_role`
/// (the same role or a sub-role of it).
pub fn can_use_reservation(role: &str, reservation_role: &str) -> bool {
    role == reservation_role || is_strict_subrole(role, reservation_role)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mesos_rules() {
        for ok in ["*", "a", "a/b", "dev-ops", "a.b", "a/b/c", "x-", "é"] {
            assert_eq!(validate(ok), Ok(()), "{ok}");
        }
        for bad in [
            "", ".", "..", "-x", "/a", "a/", "a//b", "a/./b", "a/../b", "a/*", "*/a", "a b",
            "a\tb", "a\nb", "a/-b", "a\x7f", "a\x08",
        ] {
            assert!(validate(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn hierarchy() {
        assert_eq!(ancestors("a/b/c").collect::<Vec<_>>(), vec!["a/b", "a"]);
        assert_eq!(ancestors("a").count(), 0);
        assert_eq!(top_level("a/b/c"), "a");
        assert!(is_strict_subrole("a/b", "a"));
        assert!(!is_strict_subrole("ab", "a"));
        assert!(!is_strict_subrole("a", "a"));
        assert!(can_use_reservation("a/b", "a"));
        assert!(!can_use_reservation("a", "a/b"));
    }
}
