//! `OfferConstraints` / `AttributeConstraint` of `scheduler.proto` (SUBSCRIBE and
//! UPDATE_FRAMEWORK). The proto `oneof`s are plain optional fields in JSON, and are
//! modelled that way: exactly one should be set.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::encoding::{lenient_enum, null_as_default};

/// Per-role offer constraints (`scheduler.OfferConstraints`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct OfferConstraints {
    /// Role → constraints.
    #[serde(default, deserialize_with = "null_as_default")]
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub role_constraints: BTreeMap<String, RoleConstraints>,
}

/// `OfferConstraints.RoleConstraints`: an agent matches if any group matches.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoleConstraints {
    /// Alternatives (OR).
    #[serde(default, deserialize_with = "null_as_default")]
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub groups: Vec<ConstraintGroup>,
}

/// `OfferConstraints.RoleConstraints.Group`: all constraints must match.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConstraintGroup {
    /// Conjunction (AND).
    #[serde(default, deserialize_with = "null_as_default")]
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub attribute_constraints: Vec<AttributeConstraint>,
}

/// `scheduler.AttributeConstraint`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AttributeConstraint {
    /// What to look at (required).
    pub selector: Selector,
    /// What must hold (required).
    pub predicate: Predicate,
}

/// `AttributeConstraint.Selector.PseudoattributeType`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum PseudoattributeType {
    /// Unrecognised.
    Unknown,
    /// The agent's host name.
    Hostname,
    /// The agent's region.
    Region,
    /// The agent's zone.
    Zone,
}

/// `AttributeConstraint.Selector` (oneof).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Selector {
    /// A pseudo-attribute.
    #[serde(default, deserialize_with = "lenient_enum")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pseudoattribute_type: Option<PseudoattributeType>,
    /// An agent attribute name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attribute_name: Option<String>,
}

/// An empty predicate body (`Exists` / `NotExists`), `{}` on the wire.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Empty {}

/// `{"value": "..."}` predicate body (`TextEquals` / `TextNotEquals`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TextValue {
    /// Text to compare (required).
    pub value: String,
}

/// `{"regex": "..."}` predicate body (`TextMatches` / `TextNotMatches`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TextRegex {
    /// RE2 regular expression (required).
    pub regex: String,
}

/// `AttributeConstraint.Predicate` (oneof).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Predicate {
    /// Attribute exists.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exists: Option<Empty>,
    /// Attribute does not exist.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub not_exists: Option<Empty>,
    /// Text attribute equals.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text_equals: Option<TextValue>,
    /// Not (exists and equals).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text_not_equals: Option<TextValue>,
    /// Text attribute matches the regex.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text_matches: Option<TextRegex>,
    /// Not (exists and matches).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text_not_matches: Option<TextRegex>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn constraints_round_trip() {
        let json = r#"{"role_constraints":{"web":{"groups":[{"attribute_constraints":[
            {"selector":{"attribute_name":"rack"},"predicate":{"text_equals":{"value":"r1"}}},
            {"selector":{"pseudoattribute_type":"HOSTNAME"},"predicate":{"exists":{}}}]}]}}}"#;
        let c: OfferConstraints = serde_json::from_str(json).unwrap();
        let group = &c.role_constraints["web"].groups[0];
        assert_eq!(
            group.attribute_constraints[1].selector.pseudoattribute_type,
            Some(PseudoattributeType::Hostname)
        );
        let back = serde_json::to_value(&c).unwrap();
        assert_eq!(
            back,
            serde_json::from_str::<serde_json::Value>(json).unwrap()
        );
    }
}
