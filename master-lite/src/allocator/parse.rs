//! Text form of resources, as accepted by `mesos-agent --resources`:
//! `cpus:24;mem:4096;disk:4096;ports:[31000-32000];cpus(role):2;zones:{a,b}`.
//!
//! Parsing is `meseta_api::resource_parse` (the agent's parser, Mesos'
//! `Resources::parse`) followed by [`crate::convert::from_wire`], plus the role
//! name check the allocator applies everywhere. `name(role)` is a static
//! reservation to `role` (`name(*)` is unreserved). `Display` for [`Resource`]
//! and [`Resources`] produces the same form, with dynamic reservations and
//! allocation roles spelled out Mesos-style.

use std::fmt;

use meseta_api::resource_parse;
use thiserror::Error;

use super::resources::{Reservation, ReservationKind, Resource, Resources, Value};
use super::roles::{self, RoleError};
use crate::convert::{self, ConvertError};

/// Error returned when resource text is malformed.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ParseError {
    /// The text is not valid Mesos resource text.
    #[error(transparent)]
    Text(#[from] resource_parse::ParseError),
    /// A reservation role is invalid.
    #[error("bad role for resource '{name}': {source}")]
    Role {
        /// Resource name.
        name: String,
        /// Why the role is invalid.
        source: RoleError,
    },
    /// A value the allocator cannot represent exactly (e.g. a scalar out of range).
    #[error(transparent)]
    Convert(#[from] ConvertError),
}

/// Parses a `;`-separated resource list (resources naming no role are unreserved).
pub fn parse(text: &str) -> Result<Resources, ParseError> {
    let wire = resource_parse::parse_resources(text, roles::DEFAULT_ROLE)?;
    for r in &wire {
        if let Some(role) = r.reservation_role() {
            roles::validate(role).map_err(|source| ParseError::Role {
                name: r.name.clone(),
                source,
            })?;
        }
    }
    Ok(convert::from_wire(&wire)?)
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
    use crate::allocator::scalar::Scalar;

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
