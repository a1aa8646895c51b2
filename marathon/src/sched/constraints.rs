//! Placement constraints (upstream `docs/docs/constraints.md`, `Constraints.scala`):
//! `UNIQUE`, `CLUSTER`, `GROUP_BY`, `LIKE`, `UNLIKE`, `MAX_PER` and `IS` on `hostname` or an
//! agent attribute, judged against an offer and the app's running instances.

use std::collections::{BTreeMap, HashMap};

use meseta_api::{Attribute, Offer};

/// The value of an agent attribute as Marathon compares it (text, scalar, `[a-b]` ranges,
/// `{a,b}` sets).
pub fn attribute_value(a: &Attribute) -> String {
    if let Some(t) = &a.text {
        return t.value.clone();
    }
    if let Some(s) = &a.scalar {
        return s.value.to_string();
    }
    if let Some(r) = &a.ranges {
        let parts: Vec<String> = r
            .range
            .iter()
            .map(|r| format!("{}-{}", r.begin, r.end))
            .collect();
        return format!("[{}]", parts.join(","));
    }
    if let Some(s) = &a.set {
        return format!("{{{}}}", s.item.join(","));
    }
    String::new()
}

/// The agent attributes of an offer by name.
pub fn offer_attributes(offer: &Offer) -> BTreeMap<String, String> {
    offer
        .attributes
        .iter()
        .map(|a| (a.name.clone(), attribute_value(a)))
        .collect()
}

/// Where an instance runs, for constraint checks.
#[derive(Debug, Clone)]
pub struct Placement<'a> {
    /// Agent hostname.
    pub host: &'a str,
    /// Agent attributes.
    pub attributes: &'a BTreeMap<String, String>,
}

impl Placement<'_> {
    fn field(&self, field: &str) -> Option<String> {
        match field {
            "hostname" | "@hostname" => Some(self.host.to_owned()),
            f => self.attributes.get(f.trim_start_matches('@')).cloned(),
        }
    }
}

fn full_match(re: &str, value: &str) -> bool {
    regex::Regex::new(&format!("^(?:{re})$")).is_ok_and(|r| r.is_match(value))
}

/// Whether `offer` satisfies every constraint given the app's current placements.
pub fn satisfied(
    constraints: &[Vec<String>],
    offer: &Placement<'_>,
    running: &[Placement<'_>],
) -> bool {
    constraints.iter().all(|c| one(c, offer, running))
}

fn one(c: &[String], offer: &Placement<'_>, running: &[Placement<'_>]) -> bool {
    let (Some(field), Some(op)) = (c.first(), c.get(1)) else {
        return true;
    };
    let value = c.get(2).map(String::as_str);
    let mine = offer.field(field);
    let others: Vec<Option<String>> = running.iter().map(|p| p.field(field)).collect();
    match op.as_str() {
        "UNIQUE" => mine.is_some() && !others.contains(&mine),
        "CLUSTER" => match value {
            Some(v) if !v.is_empty() => mine.as_deref() == Some(v),
            // Without a value, every instance goes where the first one went.
            _ => mine.is_some() && others.iter().flatten().all(|o| Some(o) == mine.as_ref()),
        },
        "IS" => mine.as_deref() == value,
        "LIKE" => mine.is_some_and(|m| value.is_some_and(|re| full_match(re, &m))),
        "UNLIKE" => mine.is_none_or(|m| value.is_some_and(|re| !full_match(re, &m))),
        "MAX_PER" => {
            let max: usize = value.and_then(|v| v.parse().ok()).unwrap_or(usize::MAX);
            mine.is_some() && others.iter().filter(|o| **o == mine).count() < max
        }
        "GROUP_BY" => {
            let Some(mine) = mine else {
                return false;
            };
            let mut counts: HashMap<String, usize> = HashMap::new();
            for o in others.into_iter().flatten() {
                *counts.entry(o).or_default() += 1;
            }
            let groups: usize = value.and_then(|v| v.parse().ok()).unwrap_or(0);
            let here = counts.get(&mine).copied().unwrap_or(0);
            // A value not seen yet is fine while fewer groups than expected are in use.
            if here == 0 && counts.len() < groups.max(1) {
                return true;
            }
            let min = counts.values().copied().min().unwrap_or(0);
            here <= min
        }
        _ => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p<'a>(host: &'a str, attrs: &'a BTreeMap<String, String>) -> Placement<'a> {
        Placement {
            host,
            attributes: attrs,
        }
    }

    #[test]
    fn operators() {
        let none = BTreeMap::new();
        let rack1: BTreeMap<String, String> = [("rack".to_string(), "r1".to_string())].into();
        let c = |f: &str, o: &str, v: Option<&str>| {
            let mut c = vec![f.to_string(), o.to_string()];
            c.extend(v.map(str::to_string));
            vec![c]
        };
        assert!(satisfied(
            &c("hostname", "UNIQUE", None),
            &p("a", &none),
            &[p("b", &none)]
        ));
        assert!(!satisfied(
            &c("hostname", "UNIQUE", None),
            &p("a", &none),
            &[p("a", &none)]
        ));
        assert!(satisfied(
            &c("rack", "CLUSTER", Some("r1")),
            &p("a", &rack1),
            &[]
        ));
        assert!(!satisfied(
            &c("rack", "CLUSTER", Some("r2")),
            &p("a", &rack1),
            &[]
        ));
        assert!(satisfied(
            &c("hostname", "LIKE", Some("a.*")),
            &p("ab", &none),
            &[]
        ));
        assert!(!satisfied(
            &c("hostname", "UNLIKE", Some("a.*")),
            &p("ab", &none),
            &[]
        ));
        assert!(!satisfied(
            &c("hostname", "MAX_PER", Some("2")),
            &p("a", &none),
            &[p("a", &none), p("a", &none)]
        ));
        assert!(satisfied(
            &c("hostname", "MAX_PER", Some("2")),
            &p("a", &none),
            &[p("a", &none)]
        ));
        let two_on_a = [p("a", &none), p("a", &none), p("b", &none)];
        assert!(!satisfied(
            &c("hostname", "GROUP_BY", Some("2")),
            &p("a", &none),
            &two_on_a
        ));
        assert!(satisfied(
            &c("hostname", "GROUP_BY", Some("2")),
            &p("b", &none),
            &[p("a", &none)]
        ));
    }
}
