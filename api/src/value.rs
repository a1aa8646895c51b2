//! `mesos.v1.Value` and its parts (scalar, ranges, set, text) plus `Attribute`.
//!
//! Also the arithmetic Mesos applies to values: scalars are compared and summed in
//! fixed point with three decimals, ranges are coalesced, and `Display` renders values the
//! way Mesos' `stringify` does (`[31000-32000, 33000-33010]`, `{a, b}`).

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::encoding::{null_as_default, LenientF64};

/// The kind of a [`Value`] (`Value.Type`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ValueType {
    /// A floating point number (cpus, mem, disk, gpus).
    #[default]
    Scalar,
    /// Inclusive integer ranges (ports).
    Ranges,
    /// A set of strings.
    Set,
    /// Free text (attributes only).
    Text,
}

/// `Value.Scalar`: `{"value": 2.5}`.
///
/// Like Mesos, `value` may also be given as a string (`"2.5"`, `"Infinity"`,
/// `"-Infinity"`) and infinities are written as those strings (JSON has no infinity;
/// `TaskInfo.limits` uses it for "unlimited"). As a convenience a bare number or string
/// is accepted in place of the whole object (the `limits` example in Mesos' docs).
#[derive(Debug, Clone, Copy, Default, PartialEq, PartialOrd, Serialize)]
pub struct Scalar {
    /// The number.
    #[serde(serialize_with = "crate::encoding::ser_f64")]
    pub value: f64,
}

impl Scalar {
    /// Wraps a number.
    pub fn new(value: f64) -> Self {
        Self { value }
    }
}

impl<'de> Deserialize<'de> for Scalar {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        struct Object {
            value: LenientF64,
        }
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Form {
            Object(Object),
            Bare(LenientF64),
        }
        match Form::deserialize(deserializer) {
            Ok(Form::Object(o)) => Ok(Scalar::new(o.value.0)),
            Ok(Form::Bare(v)) => Ok(Scalar::new(v.0)),
            Err(_) => Err(serde::de::Error::custom(
                "invalid Value.Scalar: expected {\"value\": <number>}",
            )),
        }
    }
}

/// Rounds to the three decimals Mesos keeps for scalar resources (it converts to fixed
/// point `value * 1000` for arithmetic and comparisons).
pub fn round_scalar(value: f64) -> f64 {
    (value * 1000.0).round() / 1000.0
}

/// `Value.Range`: an inclusive `[begin, end]` interval.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize,
)]
pub struct Range {
    /// First value in the range.
    #[serde(deserialize_with = "crate::encoding::lenient_u64")]
    pub begin: u64,
    /// Last value in the range (inclusive).
    #[serde(deserialize_with = "crate::encoding::lenient_u64")]
    pub end: u64,
}

/// `Value.Ranges`: `{"range": [{"begin": 31000, "end": 32000}]}`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Ranges {
    /// The intervals, not necessarily sorted or disjoint on the wire.
    #[serde(default, deserialize_with = "null_as_default")]
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub range: Vec<Range>,
}

impl Ranges {
    /// Builds from `(begin, end)` pairs, without coalescing.
    pub fn new(ranges: impl IntoIterator<Item = (u64, u64)>) -> Self {
        Self {
            range: ranges
                .into_iter()
                .map(|(begin, end)| Range { begin, end })
                .collect(),
        }
    }

    /// Sorts and merges overlapping or adjacent ranges, as Mesos' `coalesce` does.
    pub fn coalesce(&mut self) {
        self.range.sort();
        let mut merged: Vec<Range> = Vec::with_capacity(self.range.len());
        for r in self.range.drain(..) {
            match merged.last_mut() {
                Some(last) if r.begin <= last.end.saturating_add(1) => {
                    last.end = last.end.max(r.end);
                }
                _ => merged.push(r),
            }
        }
        self.range = merged;
    }

    /// Union with `other`, coalesced.
    pub fn add(&mut self, other: &Ranges) {
        self.range.extend_from_slice(&other.range);
        self.coalesce();
    }

    /// Number of integers covered (after coalescing a copy).
    pub fn count(&self) -> u64 {
        let mut c = self.clone();
        c.coalesce();
        c.range
            .iter()
            .map(|r| r.end.saturating_sub(r.begin).saturating_add(1))
            .fold(0u64, u64::saturating_add)
    }

    /// Whether `value` lies in one of the ranges.
    pub fn contains(&self, value: u64) -> bool {
        self.range
            .iter()
            .any(|r| r.begin <= value && value <= r.end)
    }
}

impl fmt::Display for Ranges {
    /// `[a-b, c-d]`, the form `/state` uses.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[")?;
        for (i, r) in self.range.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            write!(f, "{}-{}", r.begin, r.end)?;
        }
        f.write_str("]")
    }
}

/// `Value.Set`: `{"item": ["a", "b"]}`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Set {
    /// The items, in order.
    #[serde(default, deserialize_with = "null_as_default")]
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub item: Vec<String>,
}

impl Set {
    /// Union with `other`, keeping first-seen order.
    pub fn add(&mut self, other: &Set) {
        for item in &other.item {
            if !self.item.contains(item) {
                self.item.push(item.clone());
            }
        }
    }
}

impl fmt::Display for Set {
    /// `{a, b}`, the form `/state` uses.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{{{}}}", self.item.join(", "))
    }
}

/// `Value.Text`: `{"value": "ubuntu"}`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Text {
    /// The text.
    pub value: String,
}

/// `mesos.v1.Value`: a tagged union of the value kinds.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Value {
    /// Which of the fields below is meaningful.
    pub r#type: ValueType,
    /// Set when `type` is `SCALAR`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scalar: Option<Scalar>,
    /// Set when `type` is `RANGES`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ranges: Option<Ranges>,
    /// Set when `type` is `SET`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub set: Option<Set>,
    /// Set when `type` is `TEXT`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<Text>,
}

/// An agent attribute (`mesos.v1.Attribute`), e.g. `rack:2` or `os:ubuntu`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Attribute {
    /// Attribute name.
    pub name: String,
    /// Which value field is meaningful.
    pub r#type: ValueType,
    /// Set for `SCALAR`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scalar: Option<Scalar>,
    /// Set for `RANGES`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ranges: Option<Ranges>,
    /// Set for `SET`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub set: Option<Set>,
    /// Set for `TEXT`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<Text>,
}

impl Attribute {
    /// A text attribute.
    pub fn text(name: impl Into<String>, value: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            r#type: ValueType::Text,
            text: Some(Text {
                value: value.into(),
            }),
            ..Self::default()
        }
    }

    /// A scalar attribute.
    pub fn scalar(name: impl Into<String>, value: f64) -> Self {
        Self {
            name: name.into(),
            r#type: ValueType::Scalar,
            scalar: Some(Scalar::new(value)),
            ..Self::default()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn coalesce_merges_adjacent_and_overlapping() {
        let mut r = Ranges::new([(10, 20), (1, 5), (6, 8), (15, 30), (40, 40)]);
        r.coalesce();
        assert_eq!(r, Ranges::new([(1, 8), (10, 30), (40, 40)]));
        assert_eq!(r.to_string(), "[1-8, 10-30, 40-40]");
        assert_eq!(r.count(), 8 + 21 + 1);
        assert!(r.contains(25) && !r.contains(9));
    }

    #[test]
    fn set_display_and_union() {
        let mut s = Set {
            item: vec!["a".into(), "b".into()],
        };
        s.add(&Set {
            item: vec!["b".into(), "c".into()],
        });
        assert_eq!(s.to_string(), "{a, b, c}");
    }

    #[test]
    fn value_type_is_required_and_strict() {
        assert!(serde_json::from_str::<Attribute>(r#"{"name":"x"}"#).is_err());
        assert!(serde_json::from_str::<Attribute>(r#"{"name":"x","type":"BLOB"}"#).is_err());
        let a: Attribute =
            serde_json::from_str(r#"{"name":"os","type":"TEXT","text":{"value":"ubuntu"}}"#)
                .unwrap();
        assert_eq!(a, Attribute::text("os", "ubuntu"));
    }

    #[test]
    fn scalar_forms() {
        let s: Scalar = serde_json::from_str(r#"{"value":"Infinity"}"#).unwrap();
        assert_eq!(s.value, f64::INFINITY);
        assert_eq!(
            serde_json::to_string(&s).unwrap(),
            r#"{"value":"Infinity"}"#
        );
        let s: Scalar = serde_json::from_str(r#"{"value":"1.5"}"#).unwrap();
        assert_eq!(s.value, 1.5);
        let s: Scalar = serde_json::from_str("512.0").unwrap();
        assert_eq!(s.value, 512.0);
        assert!(serde_json::from_str::<Scalar>("{}").is_err());
        assert!(serde_json::from_str::<Scalar>(r#"{"value":"lots"}"#).is_err());
        assert_eq!(
            serde_json::to_string(&Scalar::new(2.0)).unwrap(),
            r#"{"value":2.0}"#
        );
    }

    #[test]
    fn scalar_rounding() {
        assert_eq!(round_scalar(0.1 + 0.2), 0.3);
        assert_eq!(round_scalar(1.00049), 1.0);
    }
}
