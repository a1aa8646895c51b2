//! Rendering resources and attributes the way Mesos' `/state`-style endpoints do
//! (`src/common/http.cpp` `json(JSON::ObjectWriter*, Resources)` and `model(Attributes)`):
//!
//! * resources become one object: scalars summed per name (with `cpus`, `gpus`, `mem`,
//!   `disk` always present, 0 if absent), ranges as `"[31000-32000, 33000-33010]"`, sets as
//!   `"{a, b}"`, and revocable resources under `<name>_revocable`;
//! * attributes become `{name: number | "text" | "[ranges]" | "{set}"}`.
//!
//! Also the text form Mesos logs and accepts (`cpus:2;mem:1024;ports:[31000-32000]`).

use std::collections::BTreeMap;

use serde_json::{Map, Value as Json};

use crate::resources::Resource;
use crate::value::{round_scalar, Attribute, Ranges, Set, ValueType};

/// Scalars Mesos always reports, even when the agent has none.
const ALWAYS_PRESENT: [&str; 4] = ["cpus", "gpus", "mem", "disk"];

fn scalar_json(value: f64) -> Json {
    serde_json::Number::from_f64(round_scalar(value)).map_or(Json::Null, Json::Number)
}

/// Renders resources as `/state` does, e.g. `{"cpus":2.0,"disk":0.0,"gpus":0.0,
/// "mem":1024.0,"ports":"[31000-32000]"}`. Keys are sorted.
pub fn resources_to_state_json(resources: &[Resource]) -> Map<String, Json> {
    let mut scalars: BTreeMap<String, f64> = ALWAYS_PRESENT
        .iter()
        .map(|n| (n.to_string(), 0.0))
        .collect();
    let mut ranges: BTreeMap<String, Ranges> = BTreeMap::new();
    let mut sets: BTreeMap<String, Set> = BTreeMap::new();

    for r in resources {
        let name = if r.is_revocable() {
            format!("{}_revocable", r.name)
        } else {
            r.name.clone()
        };
        match r.r#type {
            ValueType::Scalar => {
                let total = scalars.entry(name).or_insert(0.0);
                *total = round_scalar(*total + r.scalar_value());
            }
            ValueType::Ranges => {
                if let Some(v) = &r.ranges {
                    ranges.entry(name).or_default().add(v);
                }
            }
            ValueType::Set => {
                if let Some(v) = &r.set {
                    sets.entry(name).or_default().add(v);
                }
            }
            ValueType::Text => {}
        }
    }

    let mut out = Map::new();
    for (name, value) in scalars {
        out.insert(name, scalar_json(value));
    }
    for (name, value) in ranges {
        out.insert(name, Json::String(value.to_string()));
    }
    for (name, value) in sets {
        out.insert(name, Json::String(value.to_string()));
    }
    out
}

/// Renders attributes as `/state` does: `{"rack": 2.0, "os": "ubuntu", "ids": "[1-3]"}`.
pub fn attributes_to_state_json(attributes: &[Attribute]) -> Map<String, Json> {
    let mut out = Map::new();
    for a in attributes {
        let value = match a.r#type {
            ValueType::Scalar => scalar_json(a.scalar.map_or(0.0, |s| s.value)),
            ValueType::Ranges => Json::String(a.ranges.clone().unwrap_or_default().to_string()),
            ValueType::Set => Json::String(a.set.clone().unwrap_or_default().to_string()),
            ValueType::Text => {
                Json::String(a.text.as_ref().map(|t| t.value.clone()).unwrap_or_default())
            }
        };
        out.insert(a.name.clone(), value);
    }
    out
}

/// Splits resources by reservation role for `/state`'s `reserved_resources`
/// (`{role: {...}}`) and `unreserved_resources` (`{...}`).
pub fn reserved_and_unreserved_state_json(
    resources: &[Resource],
) -> (Map<String, Json>, Map<String, Json>) {
    let mut by_role: BTreeMap<String, Vec<Resource>> = BTreeMap::new();
    let mut unreserved = Vec::new();
    for r in resources {
        match r.reservation_role() {
            Some(role) => by_role.entry(role.to_string()).or_default().push(r.clone()),
            None => unreserved.push(r.clone()),
        }
    }
    let reserved = by_role
        .into_iter()
        .map(|(role, rs)| (role, Json::Object(resources_to_state_json(&rs))))
        .collect();
    (reserved, resources_to_state_json(&unreserved))
}

/// Sum of the scalar resources named `name` (fixed-point, as Mesos adds them).
pub fn scalar_total(resources: &[Resource], name: &str) -> f64 {
    resources
        .iter()
        .filter(|r| r.name == name)
        .fold(0.0, |acc, r| round_scalar(acc + r.scalar_value()))
}

/// Text form, `name(role):value` joined by `;` (e.g. `cpus:2;gpus(ml):1;ports:[1-2]`),
/// which [`crate::resource_parse::parse_resources`] reads back for unreserved and
/// statically reserved resources.
pub fn resources_to_text(resources: &[Resource]) -> String {
    resources
        .iter()
        .map(|r| {
            let value = match r.r#type {
                ValueType::Scalar => format!("{}", round_scalar(r.scalar_value())),
                ValueType::Ranges => r.ranges.clone().unwrap_or_default().to_string(),
                ValueType::Set => r.set.clone().unwrap_or_default().to_string(),
                ValueType::Text => String::new(),
            };
            match r.reservation_role() {
                Some(role) => format!("{}({role}):{value}", r.name),
                None => format!("{}:{value}", r.name),
            }
        })
        .collect::<Vec<_>>()
        .join(";")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resource_parse::{parse_attributes, parse_resources};
    use crate::resources::RevocableInfo;

    #[test]
    fn state_rendering_matches_mesos() {
        let r = parse_resources("cpus:2;mem:1024;ports:[31000-32000]", "*").unwrap();
        let json = Json::Object(resources_to_state_json(&r));
        assert_eq!(
            json.to_string(),
            r#"{"cpus":2.0,"disk":0.0,"gpus":0.0,"mem":1024.0,"ports":"[31000-32000]"}"#
        );
    }

    #[test]
    fn sums_ranges_sets_and_revocable() {
        let mut revocable = Resource::scalar("cpus", 1.0);
        revocable.revocable = Some(RevocableInfo {});
        let r = vec![
            Resource::scalar("cpus", 0.1),
            Resource::scalar("cpus", 0.2).reserved_static("a"),
            revocable,
            Resource::ranges("ports", [(1, 5)]),
            Resource::ranges("ports", [(6, 8), (10, 12)]),
            Resource::set("zones", ["a", "b"]),
        ];
        let json = resources_to_state_json(&r);
        assert_eq!(json["cpus"], 0.3);
        assert_eq!(json["cpus_revocable"], 1.0);
        assert_eq!(json["ports"], "[1-8, 10-12]");
        assert_eq!(json["zones"], "{a, b}");
        let (reserved, unreserved) = reserved_and_unreserved_state_json(&r);
        assert_eq!(reserved["a"]["cpus"], 0.2);
        assert_eq!(unreserved["cpus"], 0.1);
        assert_eq!(scalar_total(&r, "cpus"), 1.3);
    }

    #[test]
    fn attributes_rendering() {
        let a = parse_attributes("rack:2;zone:a;ids:[1-3]").unwrap();
        let json = Json::Object(attributes_to_state_json(&a));
        assert_eq!(json.to_string(), r#"{"ids":"[1-3]","rack":2.0,"zone":"a"}"#);
    }

    #[test]
    fn text_round_trip() {
        let text = "cpus:2.5;gpus(ml):1;ports:[31000-32000];zones:{a, b}";
        let r = parse_resources(text, "*").unwrap();
        assert_eq!(
            resources_to_text(&r),
            "cpus:2.5;gpus(ml):1;ports:[31000-32000];zones:{a, b}"
        );
        assert_eq!(parse_resources(&resources_to_text(&r), "*").unwrap(), r);
    }
}
