//! Identifier messages of `mesos.proto` (`FrameworkID`, `OfferID`, `AgentID`, `TaskID`,
//! `ExecutorID`, `ContainerID`, `ResourceProviderID`, `OperationID`).
//!
//! Every one is a JSON object `{"value": "..."}`; `ContainerID` may also carry a `parent`
//! for nested containers.

use std::fmt;

use serde::{Deserialize, Serialize};

macro_rules! string_id {
    ($(#[$doc:meta])* $name:ident, $proto:literal) => {
        $(#[$doc])*
        #[doc = concat!("\n\nWire form of `mesos.v1.", $proto, "`: `{\"value\": \"...\"}`.")]
        #[derive(Debug, Clone, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        pub struct $name {
            /// The identifier text.
            pub value: String,
        }

        impl $name {
            /// Wraps an identifier.
            pub fn new(value: impl Into<String>) -> Self {
                Self { value: value.into() }
            }

            /// The identifier text.
            pub fn as_str(&self) -> &str {
                &self.value
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.value)
            }
        }

        impl From<&str> for $name {
            fn from(value: &str) -> Self {
                Self::new(value)
            }
        }

        impl From<String> for $name {
            fn from(value: String) -> Self {
                Self { value }
            }
        }
    };
}

string_id!(
    /// A framework's ID, assigned by the master (`<master-id>-0000`).
    FrameworkId,
    "FrameworkID"
);
string_id!(
    /// An offer's ID, assigned by the master (`<master-id>-O<n>`).
    OfferId,
    "OfferID"
);
string_id!(
    /// An agent's ID, assigned by the master (`<master-id>-S<n>`).
    AgentId,
    "AgentID"
);
string_id!(
    /// A framework-chosen task ID.
    TaskId,
    "TaskID"
);
string_id!(
    /// A framework-chosen executor ID.
    ExecutorId,
    "ExecutorID"
);
string_id!(
    /// A resource provider's ID.
    ResourceProviderId,
    "ResourceProviderID"
);
string_id!(
    /// A framework-chosen offer operation ID (operation feedback).
    OperationId,
    "OperationID"
);

/// A container's ID: a UUID chosen by the agent, nested containers name their `parent`.
///
/// Wire form of `mesos.v1.ContainerID`: `{"value": "...", "parent": {...}}`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct ContainerId {
    /// This container's own ID component.
    pub value: String,
    /// The enclosing container, for nested containers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent: Option<Box<ContainerId>>,
}

impl ContainerId {
    /// A top-level container ID.
    pub fn new(value: impl Into<String>) -> Self {
        Self {
            value: value.into(),
            parent: None,
        }
    }

    /// A container nested inside `parent`.
    pub fn nested(parent: ContainerId, value: impl Into<String>) -> Self {
        Self {
            value: value.into(),
            parent: Some(Box::new(parent)),
        }
    }

    /// The outermost ancestor (the executor's container), or `self` if not nested.
    pub fn root(&self) -> &ContainerId {
        let mut current = self;
        while let Some(parent) = current.parent.as_deref() {
            current = parent;
        }
        current
    }

    /// Nesting depth: 0 for a top-level container.
    pub fn depth(&self) -> usize {
        let mut depth = 0;
        let mut current = self;
        while let Some(parent) = current.parent.as_deref() {
            depth += 1;
            current = parent;
        }
        depth
    }
}

impl fmt::Display for ContainerId {
    /// Renders as Mesos does: `root.child.grandchild`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(parent) = &self.parent {
            write!(f, "{parent}.")?;
        }
        f.write_str(&self.value)
    }
}

/// Longest ID (`NAME_MAX`: IDs become directory names in the agent's work dir).
pub const MAX_ID_LENGTH: usize = 255;

/// Mesos' `common::validation::validateID`: IDs that become path components must not be
/// empty, longer than [`MAX_ID_LENGTH`], `.` or `..`, or contain `/`, `\\` or control
/// characters (NUL included). The error is Mesos' text, e.g. `'..' is disallowed`.
pub fn validate_id(id: &str) -> Result<(), String> {
    if id.is_empty() {
        return Err("ID must not be empty".into());
    }
    if id.len() > MAX_ID_LENGTH {
        return Err(format!(
            "ID must not be greater than {MAX_ID_LENGTH} characters"
        ));
    }
    if id == "." || id == ".." {
        return Err(format!("'{id}' is disallowed"));
    }
    if id.chars().any(|c| c.is_control() || c == '/' || c == '\\') {
        return Err(format!(
            "'{}' contains invalid characters",
            id.escape_default()
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_like_ids_are_invalid() {
        for bad in [
            "",
            ".",
            "..",
            "a/b",
            "a\\b",
            "a\0b",
            "tab\there",
            &"x".repeat(256),
        ] {
            assert!(validate_id(bad).is_err(), "{bad:?}");
        }
        for good in ["a", "...", "a.b", "fw-0000", "ünïcode", &"x".repeat(255)] {
            assert!(validate_id(good).is_ok(), "{good:?}");
        }
        assert_eq!(validate_id("..").unwrap_err(), "'..' is disallowed");
    }

    #[test]
    fn ids_are_value_objects() {
        let id = FrameworkId::new("abc-0000");
        assert_eq!(
            serde_json::to_string(&id).unwrap(),
            r#"{"value":"abc-0000"}"#
        );
        let back: FrameworkId = serde_json::from_str(r#"{"value":"abc-0000","x":1}"#).unwrap();
        assert_eq!(back, id);
        assert_eq!(id.to_string(), "abc-0000");
        assert!(serde_json::from_str::<TaskId>("{}").is_err());
    }

    #[test]
    fn nested_container_ids() {
        let json = r#"{"value":"child","parent":{"value":"root"}}"#;
        let id: ContainerId = serde_json::from_str(json).unwrap();
        assert_eq!(id.root().value, "root");
        assert_eq!(id.depth(), 1);
        assert_eq!(id.to_string(), "root.child");
        assert_eq!(serde_json::to_string(&id).unwrap(), json);
        let top = ContainerId::new("root");
        assert_eq!(serde_json::to_string(&top).unwrap(), r#"{"value":"root"}"#);
        assert_eq!(ContainerId::nested(top, "child"), id);
    }
}
