//! `--reconfiguration_policy`: whether a restarted agent may recover its checkpointed agent id
//! although its `--hostname`, `--resources` or `--attributes` changed (Mesos
//! `src/slave/compatibility.cpp`). `equal` allows no change; `additive` allows more resources
//! and new attributes, never less, nor a different hostname, port or fault domain.

use meseta_api::{AgentInfo, Attribute, Resource};
use meseta_api::{Ranges, Set, ValueType};

/// Mesos's `compatibility::equal`: the agent info must not change at all (its id aside).
pub fn equal(previous: &AgentInfo, current: &AgentInfo) -> Result<(), String> {
    let same = previous.hostname == current.hostname
        && previous.port == current.port
        && previous.domain == current.domain
        && sorted(&previous.resources) == sorted(&current.resources)
        && sorted(&previous.attributes) == sorted(&current.attributes);
    if same {
        return Ok(());
    }
    Err(format!(
        "Incompatible agent info detected. Old agent info: {}; new agent info: {}",
        describe(previous),
        describe(current)
    ))
}

/// Mesos's `compatibility::additive`: resources may grow and attributes be added.
pub fn additive(previous: &AgentInfo, current: &AgentInfo) -> Result<(), String> {
    let refuse = |what: String| {
        Err(format!(
            "Configuration change not permitted under 'additive' policy: {what}"
        ))
    };
    if previous.hostname != current.hostname {
        return refuse(format!(
            "Hostname changed from {} to {}",
            previous.hostname, current.hostname
        ));
    }
    if previous.port != current.port {
        return refuse(format!(
            "Port changed from {} to {}",
            previous.port.unwrap_or_default(),
            current.port.unwrap_or_default()
        ));
    }
    if previous.domain.is_some() && previous.domain != current.domain {
        return refuse("Domain changed".into());
    }
    for old in &previous.resources {
        let Some(new) = current.resources.iter().find(|r| same_kind(old, r)) else {
            return refuse(format!("Resource not found: {}", resource(old)));
        };
        if !grown(old, new) {
            return refuse(format!(
                "Resource '{}' shrank from {} to {}",
                old.name,
                resource(old),
                resource(new)
            ));
        }
    }
    for old in &previous.attributes {
        let Some(new) = current.attributes.iter().find(|a| a.name == old.name) else {
            return refuse(format!("Couldn't find attribute {}", attribute(old)));
        };
        if new.r#type != old.r#type || !attribute_kept(old, new) {
            return refuse(format!(
                "Attribute '{}' changed from {} to {}",
                old.name,
                attribute(old),
                attribute(new)
            ));
        }
    }
    Ok(())
}

/// Same name, type and role/reservation (Mesos `Resources::match` ignores only the value).
fn same_kind(a: &Resource, b: &Resource) -> bool {
    a.name == b.name
        && a.r#type == b.r#type
        && a.role == b.role
        && a.reservations == b.reservations
        && a.disk == b.disk
}

/// `new` holds at least what `old` did.
fn grown(old: &Resource, new: &Resource) -> bool {
    match old.r#type {
        ValueType::Scalar => scalar(old) <= scalar(new) + 1e-9,
        ValueType::Ranges => ranges_within(old.ranges.as_ref(), new.ranges.as_ref()),
        ValueType::Set => set_within(old.set.as_ref(), new.set.as_ref()),
        _ => old == new,
    }
}

/// Scalars and texts must be equal; ranges may grow (Mesos).
fn attribute_kept(old: &Attribute, new: &Attribute) -> bool {
    match old.r#type {
        ValueType::Ranges => ranges_within(old.ranges.as_ref(), new.ranges.as_ref()),
        _ => old == new,
    }
}

fn scalar(r: &Resource) -> f64 {
    r.scalar.map(|s| s.value).unwrap_or_default()
}

fn ranges_within(old: Option<&Ranges>, new: Option<&Ranges>) -> bool {
    let (Some(old), Some(new)) = (old, new) else {
        return old.is_none();
    };
    let mut new = new.clone();
    new.coalesce();
    old.range.iter().all(|o| {
        new.range
            .iter()
            .any(|n| n.begin <= o.begin && o.end <= n.end)
    })
}

fn set_within(old: Option<&Set>, new: Option<&Set>) -> bool {
    let empty = Set::default();
    let new = new.unwrap_or(&empty);
    old.unwrap_or(&empty)
        .item
        .iter()
        .all(|i| new.item.contains(i))
}

/// Order-insensitive comparison key: the JSON text of each item, sorted.
fn sorted<T: serde::Serialize>(items: &[T]) -> Vec<String> {
    let mut keys: Vec<String> = items
        .iter()
        .map(|i| serde_json::to_string(i).unwrap_or_default())
        .collect();
    keys.sort();
    keys
}

/// `hostname=h port=5051 resources=cpus:4;mem:1024 attributes=rack:a`.
fn describe(info: &AgentInfo) -> String {
    let resources: Vec<String> = info.resources.iter().map(resource).collect();
    let attributes: Vec<String> = info.attributes.iter().map(attribute).collect();
    format!(
        "hostname={} port={} resources={} attributes={}",
        info.hostname,
        info.port.unwrap_or_default(),
        resources.join(";"),
        attributes.join(";")
    )
}

fn resource(r: &Resource) -> String {
    let value = match r.r#type {
        ValueType::Scalar => scalar(r).to_string(),
        ValueType::Ranges => r.ranges.clone().unwrap_or_default().to_string(),
        ValueType::Set => r.set.clone().unwrap_or_default().to_string(),
        _ => String::new(),
    };
    match r.role.as_deref() {
        Some(role) if role != "*" => format!("{}({role}):{value}", r.name),
        _ => format!("{}:{value}", r.name),
    }
}

fn attribute(a: &Attribute) -> String {
    let value = match a.r#type {
        ValueType::Scalar => a.scalar.map(|s| s.value.to_string()).unwrap_or_default(),
        ValueType::Ranges => a.ranges.clone().unwrap_or_default().to_string(),
        ValueType::Set => a.set.clone().unwrap_or_default().to_string(),
        _ => a.text.clone().map(|t| t.value).unwrap_or_default(),
    };
    format!("{}:{value}", a.name)
}

#[cfg(test)]
mod tests {
    use meseta_api::Scalar;

    use super::*;

    fn info(resources: &[(&str, f64)], attributes: &[(&str, &str)]) -> AgentInfo {
        AgentInfo {
            hostname: "h".into(),
            port: Some(5051),
            resources: resources
                .iter()
                .map(|(n, v)| Resource {
                    name: (*n).into(),
                    r#type: ValueType::Scalar,
                    scalar: Some(Scalar::new(*v)),
                    ..Resource::default()
                })
                .collect(),
            attributes: attributes
                .iter()
                .map(|(n, v)| Attribute::text(*n, *v))
                .collect(),
            ..AgentInfo::default()
        }
    }

    #[test]
    fn equal_refuses_any_change_and_ignores_order() {
        let a = info(&[("cpus", 2.0), ("mem", 512.0)], &[("rack", "a")]);
        let b = info(&[("mem", 512.0), ("cpus", 2.0)], &[("rack", "a")]);
        assert_eq!(equal(&a, &b), Ok(()));
        let c = info(&[("cpus", 4.0), ("mem", 512.0)], &[("rack", "a")]);
        let err = equal(&a, &c).unwrap_err();
        assert!(
            err.starts_with("Incompatible agent info detected."),
            "{err}"
        );
        assert!(
            err.contains("cpus:2;mem:512") && err.contains("cpus:4;mem:512"),
            "{err}"
        );
    }

    #[test]
    fn additive_allows_growth_and_new_attributes_only() {
        let a = info(&[("cpus", 2.0)], &[("rack", "a")]);
        let more = info(
            &[("cpus", 4.0), ("gpus", 1.0)],
            &[("rack", "a"), ("os", "x")],
        );
        assert_eq!(additive(&a, &more), Ok(()));
        let less = info(&[("cpus", 1.0)], &[("rack", "a")]);
        assert!(additive(&a, &less).unwrap_err().contains("'cpus' shrank"));
        let gone = info(&[], &[("rack", "a")]);
        assert!(additive(&a, &gone)
            .unwrap_err()
            .contains("Resource not found"));
        let changed = info(&[("cpus", 2.0)], &[("rack", "b")]);
        assert!(additive(&a, &changed)
            .unwrap_err()
            .contains("Attribute 'rack' changed"));
        let mut moved = a.clone();
        moved.hostname = "other".into();
        assert!(additive(&a, &moved)
            .unwrap_err()
            .contains("Hostname changed"));
    }
}
