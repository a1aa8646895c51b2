//! Text form of resources, as accepted by `mesos-agent --resources`:
//! `cpus:24;mem:4096;disk:4096;ports:[31000-32000];cpus(role):2;zones:{a,b}`.
//!
//! `name(role)` is a static reservation to `role` (`name(*)` is unreserved).
//! `Display` for [`Resource`] and [`Resources`] produces the same form, with
//! dynamic reservations and allocation roles spelled out Mesos-style.

use std::collections::BTreeSet;
use std::fmt;
use std::sync::Arc;

use thiserror::Error;

use super::ranges::Ranges;
use super::resources::{Reservation, ReservationKind, Resource, Resources, Value};
use super::roles::{self, RoleError};
use super::scalar::Scalar;

/// Error returned when resource text is malformed.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ParseError {
    /// A `name:value` pair is malformed.
    #[error("bad resource '{0}'")]
    Malformed(String),
    /// A scalar is negative, too large or not a number.
    #[error("bad scalar in '{0}'")]
    Scalar(String),
    /// A reservation role is invalid.
    #[error("bad role in '{item}': {source}")]
    Role {
        /// Offending entry.
        item: String,
        /// Why the role is invalid.
        source: RoleError,
    },
}

/// Parses a `;`-separated resource list.
pub fn parse(text: &str) -> Result<Resources, ParseError> {
    let mut out = Resources::new();
    for item in text.split(';').map(str::trim).filter(|s| !s.is_empty()) {
        out.add_resource(&parse_one(item)?);
    }
    Ok(out)
}

fn parse_one(item: &str) -> Result<Resource, ParseError> {
    let bad = || ParseError::Malformed(item.to_string());
    let (head, value) = item.split_once(':').ok_or_else(bad)?;
    let head = head.trim();
    let (name, reservation) = match head.split_once('(') {
        Some((n, rest)) => {
            let role = rest.strip_suffix(')').ok_or_else(bad)?.trim();
            roles::validate(role).map_err(|source| ParseError::Role {
                item: item.to_string(),
                source,
            })?;
            let res = (role != roles::DEFAULT_ROLE).then(|| Reservation {
                role: Arc::from(role),
                kind: ReservationKind::Static,
            });
            (n.trim(), res)
        }
        None => (head, None),
    };
    if name.is_empty() || name.contains([' ', ')', '[', '{']) {
        return Err(bad());
    }
    let value = value.trim();
    let value = if value.starts_with('[') {
        Value::Ranges(value.parse::<Ranges>().map_err(|_| bad())?)
    } else if let Some(inner) = value.strip_prefix('{') {
        let inner = inner.strip_suffix('}').ok_or_else(bad)?;
        let set: BTreeSet<String> = inner
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(String::from)
            .collect();
        Value::Set(set)
    } else {
        let s: Scalar = value
            .parse()
            .map_err(|_| ParseError::Scalar(item.to_string()))?;
        if s.milli() < 0 {
            return Err(ParseError::Scalar(item.to_string()));
        }
        Value::Scalar(s)
    };
    Ok(Resource {
        name: Arc::from(name),
        value,
        reservation,
        allocation_role: None,
    })
}

impl fmt::Display for Resource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name)?;
        if let Some(a) = &self.allocation_role {
            write!(f, "(allocated: {a})")?;
        }
        match &self.reservation {
            Some(Reservation {
                role,
                kind: ReservationKind::Static,
            }) => write!(f, "({role})")?,
            Some(Reservation { role, .. }) => write!(f, "(reservations: [(DYNAMIC,{role})])")?,
            None => {}
        }
        match &self.value {
            Value::Scalar(s) => write!(f, ":{s}"),
            Value::Ranges(r) => write!(f, ":{r}"),
            Value::Set(s) => {
                let v: Vec<&str> = s.iter().map(String::as_str).collect();
                write!(f, ":{{{}}}", v.join(","))
            }
        }
    }
}

impl fmt::Display for Resources {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, r) in self.iter().enumerate() {
            if i > 0 {
                f.write_str("; ")?;
            }
            write!(f, "{r}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::allocator::quantities::{Limits, Quantities};

    fn r(s: &str) -> Resources {
        parse(s).unwrap()
    }

    #[test]
    fn parse_and_arithmetic() {
        let total = r("cpus:24;mem:4096;disk:4096;ports:[31000-32000];cpus(web):2");
        assert_eq!(total.scalar("cpus"), Scalar::from_units(26));
        assert!(total.contains(&r("cpus:1;ports:[31000-31010]")));
        assert!(!total.contains(&r("cpus:25")));
        assert!(total.contains(&r("cpus(web):2")));
        assert!(!total.contains(&r("cpus(db):1")));
        assert_eq!(
            total.allocatable_to("db").scalar("cpus"),
            Scalar::from_units(24)
        );
        assert_eq!(
            total.allocatable_to("web/a").scalar("cpus"),
            Scalar::from_units(26)
        );

        let mut a = r("cpus:0.1");
        a.add(&r("cpus:0.2"));
        assert_eq!(a, r("cpus:0.3"));
        let mut b = r("cpus:1;mem:10");
        for _ in 0..10 {
            b.subtract(&r("cpus:0.1;mem:1"));
        }
        assert!(b.is_empty(), "{b}");

        let mut c = total.clone();
        c.allocate("web");
        assert!(!c.contains(&total));
        assert_eq!(c.unallocated(), total);
        assert_eq!(c.allocation_roles().len(), 1);

        assert!(parse("cpus:-1").is_err());
        assert!(parse("cpus(..):1").is_err());
        assert!(parse("cpus").is_err());
        assert!(parse("ports:[2-1]").is_err());
        assert_eq!(r("zones:{a,b}").to_string(), "zones:{a,b}");
    }

    #[test]
    fn shrink() {
        let res = r("cpus:4;mem:100;ports:[1-2]");
        let q: Quantities = "cpus:1.5".parse().unwrap();
        assert_eq!(res.shrink_to_quantities(&q), r("cpus:1.5"));
        let l = Limits::from_pairs([("mem", Scalar::from_units(10))]);
        assert_eq!(res.shrink_to_limits(&l), r("cpus:4;mem:10;ports:[1-2]"));
    }
}
