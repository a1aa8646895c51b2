//! Parsing the agent's `--resources` and `--attributes` flags the way Mesos does
//! (`src/v1/values.cpp` `parse`, `src/v1/resources.cpp` `Resources::parse`,
//! `src/v1/attributes.cpp` `Attributes::parse`).
//!
//! * `--resources` is either a JSON array of `Resource` or `name(role):value;...`, e.g.
//!   `cpus:2;mem:1024;disk:4096;ports:[31000-32000];gpus(gpu-role):1;zones:{a,b}`;
//! * values: `[a-b,c-d]` ranges, `{x,y}` sets, non-negative numbers scalars, anything else
//!   text (spaces are removed first);
//! * `--attributes` is `name:value;...` with the same inference; Mesos rejects set-valued
//!   attributes (it aborts), so do we (with an error).
//!
//! Results are in Mesos' "post-reservation-refinement" form (`reservations`, no `role`),
//! validated like `Resources::validate` plus the command-line checks, and resources that
//! differ only in value are merged.

#[cfg(test)]
mod tests;

use crate::resources::{ReservationInfo, ReservationType, Resource};
use crate::value::{Attribute, Ranges, Scalar, Set, Text, Value, ValueType};

/// A `--resources` / `--attributes` / value text that Mesos would reject.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    /// A value text could not be parsed.
    #[error("invalid value '{text}': {reason}")]
    Value {
        /// The value text.
        text: String,
        /// What is wrong.
        reason: String,
    },
    /// A `name:value` token without exactly one `:` (resources) or with an empty side.
    #[error("bad value for {what}, missing or extra ':' in '{token}'")]
    Pair {
        /// `resources` or `attributes`.
        what: &'static str,
        /// The token.
        token: String,
    },
    /// `name(role` without a matching `)`.
    #[error("bad value for resources, mismatched parentheses in '{0}'")]
    Parentheses(String),
    /// The JSON form did not parse as an array of `Resource`.
    #[error("some JSON resources were not formatted properly: {0}")]
    Json(String),
    /// A resource that fails Mesos' validation.
    #[error("invalid resource '{name}': {reason}")]
    Resource {
        /// Resource name.
        name: String,
        /// What is wrong.
        reason: String,
    },
    /// A resource reserved for a role name Mesos rejects (`roles::validate`).
    #[error("invalid resource '{name}': invalid role: {source}")]
    Role {
        /// Resource name.
        name: String,
        /// Why the role is rejected.
        source: crate::roles::RoleError,
    },
    /// An attribute with a set value (Mesos does not support set attributes).
    #[error("attribute '{0}' has a set value; set attributes are not supported")]
    SetAttribute(String),
}

fn value_err(text: &str, reason: impl Into<String>) -> ParseError {
    ParseError::Value {
        text: text.to_string(),
        reason: reason.into(),
    }
}

/// Splits on any of `delims`, dropping empty pieces (stout `strings::tokenize`).
fn tokenize<'a>(text: &'a str, delims: &'a [char]) -> impl Iterator<Item = &'a str> + 'a {
    text.split(move |c| delims.contains(&c))
        .filter(|t| !t.is_empty())
}

/// Whether every `open` is closed, never closing more than opened.
fn brackets_match(text: &str, open: char, close: char) -> bool {
    let mut depth: i64 = 0;
    for c in text.chars() {
        if c == open {
            depth += 1;
        } else if c == close {
            depth -= 1;
            if depth < 0 {
                return false;
            }
        }
    }
    depth == 0
}

/// Parses a value text with Mesos' inference rules (`values::parse`).
pub fn parse_value(text: &str) -> Result<Value, ParseError> {
    let temp: String = text.chars().filter(|c| *c != ' ').collect();
    if temp.is_empty() {
        return Err(value_err(text, "expecting non-empty string"));
    }
    if !brackets_match(&temp, '{', '}')
        || !brackets_match(&temp, '[', ']')
        || !brackets_match(&temp, '(', ')')
    {
        return Err(value_err(text, "mismatched brackets"));
    }
    match (temp.find('['), temp.find('{')) {
        (Some(0), _) => {
            let tokens: Vec<&str> = tokenize(&temp, &['[', ']', '-', ',', '\n']).collect();
            if tokens.len() % 2 != 0 {
                return Err(value_err(text, "expecting one or more \"ranges\""));
            }
            let mut pairs = Vec::with_capacity(tokens.len() / 2);
            for pair in tokens.chunks(2) {
                let parse = |t: &str| {
                    t.parse::<u64>().map_err(|_| {
                        value_err(text, format!("expecting non-negative integers in '{t}'"))
                    })
                };
                let (begin, end) = (parse(pair[0])?, parse(pair[1])?);
                if begin > end {
                    return Err(value_err(
                        text,
                        format!("range {begin}-{end} has begin > end"),
                    ));
                }
                pairs.push((begin, end));
            }
            let mut ranges = Ranges::new(pairs);
            ranges.coalesce();
            Ok(Value {
                r#type: ValueType::Ranges,
                ranges: Some(ranges),
                ..Value::default()
            })
        }
        (Some(_), _) => Err(value_err(text, "unexpected '[' found")),
        (None, Some(0)) => {
            let item = tokenize(&temp, &['{', '}', ',', '\n'])
                .map(str::to_string)
                .collect();
            Ok(Value {
                r#type: ValueType::Set,
                set: Some(Set { item }),
                ..Value::default()
            })
        }
        (None, Some(_)) => Err(value_err(text, "unexpected '{' found")),
        (None, None) => match temp.parse::<f64>() {
            Ok(v) if v != 0.0 && v.is_finite() && !v.is_normal() => {
                Err(value_err(text, "subnormal values not supported"))
            }
            // Non-negative finite numbers are scalars; NaN, infinities and negative
            // numbers fall back to text, as in Mesos.
            Ok(v) if v.is_finite() && v >= 0.0 => Ok(Value {
                r#type: ValueType::Scalar,
                scalar: Some(Scalar::new(v)),
                ..Value::default()
            }),
            _ => Ok(Value {
                r#type: ValueType::Text,
                text: Some(Text { value: temp }),
                ..Value::default()
            }),
        },
    }
}

/// Parses `--attributes` text (`rack:2;zone:a;ids:[1-3]`).
pub fn parse_attributes(text: &str) -> Result<Vec<Attribute>, ParseError> {
    let mut attributes = Vec::new();
    for token in tokenize(text, &[';', '\n']) {
        let (name, value) = match token.split_once(':') {
            Some((n, v)) if !n.is_empty() && !v.is_empty() => (n, v),
            _ => {
                return Err(ParseError::Pair {
                    what: "attributes",
                    token: token.to_string(),
                })
            }
        };
        let v = parse_value(value)?;
        if v.r#type == ValueType::Set {
            return Err(ParseError::SetAttribute(name.to_string()));
        }
        attributes.push(Attribute {
            name: name.to_string(),
            r#type: v.r#type,
            scalar: v.scalar,
            ranges: v.ranges,
            set: None,
            text: v.text,
        });
    }
    Ok(attributes)
}

/// Parses one `name` / `value` pair reserved for `role` (`"*"` = unreserved).
pub fn parse_resource(name: &str, value: &str, role: &str) -> Result<Resource, ParseError> {
    let v = parse_value(value)?;
    if v.r#type == ValueType::Text {
        return Err(ParseError::Resource {
            name: name.to_string(),
            reason: format!("bad type for value '{value}': TEXT"),
        });
    }
    let mut resource = Resource {
        name: name.to_string(),
        r#type: v.r#type,
        scalar: v.scalar,
        ranges: v.ranges,
        set: v.set,
        ..Resource::default()
    };
    if role != "*" {
        resource = resource.reserved_static(role);
    }
    Ok(resource)
}

/// Parses the agent's `--resources` flag (JSON array or text form), with `default_role`
/// (`--default_role`, normally `"*"`) for resources that name no role.
pub fn parse_resources(text: &str, default_role: &str) -> Result<Vec<Resource>, ParseError> {
    let raw = if text.trim_start().starts_with('[') {
        let mut list: Vec<Resource> =
            serde_json::from_str(text).map_err(|e| ParseError::Json(e.to_string()))?;
        for r in &mut list {
            if r.role.is_none() && r.reservations.is_empty() {
                r.role = Some(default_role.to_string());
            }
        }
        list
    } else {
        parse_simple(text, default_role)?
    };

    let mut result: Vec<Resource> = Vec::with_capacity(raw.len());
    for mut resource in raw {
        validate(&resource)?;
        to_post_refinement(&mut resource);
        validate_command_line(&resource, &result)?;
        match result.iter_mut().find(|r| r.is_addable_with(&resource)) {
            Some(existing) => add_value(existing, &resource),
            None => result.push(resource),
        }
    }
    Ok(result)
}

fn parse_simple(text: &str, default_role: &str) -> Result<Vec<Resource>, ParseError> {
    let mut out = Vec::new();
    for token in tokenize(text, &[';']) {
        let pair: Vec<&str> = tokenize(token, &[':']).collect();
        let [key, value] = pair.as_slice() else {
            return Err(ParseError::Pair {
                what: "resources",
                token: token.to_string(),
            });
        };
        let (name, role) = match key.find('(') {
            None => (key.trim(), default_role.trim()),
            Some(open) => match key.find(')') {
                Some(close) if close > open => (key[..open].trim(), key[open + 1..close].trim()),
                _ => return Err(ParseError::Parentheses(token.to_string())),
            },
        };
        out.push(parse_resource(name, value, role)?);
    }
    Ok(out)
}

fn invalid(resource: &Resource, reason: impl Into<String>) -> ParseError {
    ParseError::Resource {
        name: resource.name.clone(),
        reason: reason.into(),
    }
}

/// Mesos' `Resources::validate` for the parts that apply to flag input.
fn validate(r: &Resource) -> Result<(), ParseError> {
    if r.name.is_empty() {
        return Err(invalid(r, "empty resource name"));
    }
    let roles = r
        .role
        .iter()
        .chain(r.reservations.iter().filter_map(|x| x.role.as_ref()));
    for role in roles {
        crate::roles::validate(role).map_err(|source| ParseError::Role {
            name: r.name.clone(),
            source,
        })?;
    }
    let (s, g, t) = (r.scalar.is_some(), r.ranges.is_some(), r.set.is_some());
    match r.r#type {
        ValueType::Scalar => {
            if !s || g || t {
                return Err(invalid(r, "invalid scalar resource"));
            }
            let v = r.scalar_value();
            if v < 0.0 || !v.is_finite() {
                return Err(invalid(r, "invalid scalar resource: value < 0"));
            }
        }
        ValueType::Ranges => {
            if s || !g || t {
                return Err(invalid(r, "invalid ranges resource"));
            }
            let ranges = r.range_slice();
            for (i, a) in ranges.iter().enumerate() {
                if a.begin > a.end {
                    return Err(invalid(r, "invalid ranges resource: begin > end"));
                }
                if ranges[i + 1..]
                    .iter()
                    .any(|b| a.begin <= b.begin && b.begin <= a.end)
                {
                    return Err(invalid(r, "invalid ranges resource: overlapping ranges"));
                }
            }
        }
        ValueType::Set => {
            if s || g || !t {
                return Err(invalid(r, "invalid set resource"));
            }
            let items = r.set.as_ref().map_or(&[][..], |x| x.item.as_slice());
            for (i, item) in items.iter().enumerate() {
                if items[i + 1..].contains(item) {
                    return Err(invalid(r, "invalid set resource: duplicated elements"));
                }
            }
        }
        ValueType::Text => return Err(invalid(r, "unsupported resource type")),
    }
    if r.disk.is_some() && r.name != "disk" {
        return Err(invalid(
            r,
            format!("DiskInfo should not be set for {} resource", r.name),
        ));
    }
    Ok(())
}

/// Converts the deprecated `role`/`reservation` fields into `reservations`.
fn to_post_refinement(r: &mut Resource) {
    if !r.reservations.is_empty() {
        r.role = None;
        r.reservation = None;
        return;
    }
    match r.role.take().as_deref() {
        None | Some("*") => r.reservation = None,
        Some(role) => {
            let reservation = match r.reservation.take() {
                Some(mut dynamic) => {
                    dynamic.r#type = Some(ReservationType::Dynamic);
                    dynamic.role = Some(role.to_string());
                    dynamic
                }
                None => ReservationInfo {
                    r#type: Some(ReservationType::Static),
                    role: Some(role.to_string()),
                    ..ReservationInfo::default()
                },
            };
            r.reservations.push(reservation);
        }
    }
}

/// Mesos' `validateCommandLineResources`.
fn validate_command_line(r: &Resource, seen: &[Resource]) -> Result<(), ParseError> {
    if r.is_persistent_volume() {
        return Err(invalid(
            r,
            "persistent volumes cannot be specified at the command line",
        ));
    }
    if r.is_revocable() {
        return Err(invalid(
            r,
            "revocable resources cannot be specified at the command line",
        ));
    }
    if r.is_dynamically_reserved() {
        return Err(invalid(
            r,
            "dynamic reservations cannot be specified at the command line",
        ));
    }
    if seen
        .iter()
        .any(|s| s.name == r.name && s.r#type != r.r#type)
    {
        return Err(invalid(
            r,
            "resources with the same name but different types",
        ));
    }
    Ok(())
}

/// Adds `from`'s value into `into` (same name and type).
fn add_value(into: &mut Resource, from: &Resource) {
    match into.r#type {
        ValueType::Scalar => {
            let sum = crate::value::round_scalar(into.scalar_value() + from.scalar_value());
            into.scalar = Some(Scalar::new(sum));
        }
        ValueType::Ranges => {
            if let (Some(a), Some(b)) = (into.ranges.as_mut(), from.ranges.as_ref()) {
                a.add(b);
            }
        }
        ValueType::Set => {
            if let (Some(a), Some(b)) = (into.set.as_mut(), from.set.as_ref()) {
                a.add(b);
            }
        }
        ValueType::Text => {}
    }
}
