//! Conversions between wire resources (`meseta_api::Resource`, what agents
//! report and schedulers send) and the allocator's exact [`Resources`].

use std::collections::BTreeSet;
use std::sync::Arc;

use meseta_api::{
    AllocationInfo, Attribute, ReservationInfo, ReservationType, Resource as WireResource,
    ValueType,
};

use crate::allocator::{Ranges, Reservation, ReservationKind, Resource, Resources, Scalar, Value};

/// A wire resource the allocator cannot represent.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid resource '{name}': {reason}")]
pub struct ConvertError {
    /// Resource name.
    pub name: String,
    /// Why.
    pub reason: String,
}

/// Wire → allocator. Allocation tags on the wire are ignored (the caller tags
/// with the offer's role).
pub fn from_wire(resources: &[WireResource]) -> Result<Resources, ConvertError> {
    let mut out = Resources::new();
    for r in resources {
        let err = |reason: &str| ConvertError {
            name: r.name.clone(),
            reason: reason.to_string(),
        };
        if r.name.is_empty() {
            return Err(err("empty name"));
        }
        let value = match r.r#type {
            ValueType::Scalar => {
                let v = r
                    .scalar
                    .ok_or_else(|| err("SCALAR without 'scalar'"))?
                    .value;
                if !v.is_finite() || v < 0.0 {
                    return Err(err("scalar must be a non-negative number"));
                }
                Value::Scalar(Scalar::from_f64(v).map_err(|e| err(&e.to_string()))?)
            }
            ValueType::Ranges => {
                let rs = r
                    .ranges
                    .as_ref()
                    .ok_or_else(|| err("RANGES without 'ranges'"))?;
                if rs.range.iter().any(|x| x.begin > x.end) {
                    return Err(err("range begin is after its end"));
                }
                Value::Ranges(Ranges::from_spans(
                    rs.range.iter().map(|x| (x.begin, x.end)),
                ))
            }
            ValueType::Set => {
                let s = r.set.as_ref().ok_or_else(|| err("SET without 'set'"))?;
                Value::Set(s.item.iter().cloned().collect::<BTreeSet<_>>())
            }
            ValueType::Text => return Err(err("TEXT is not a resource type")),
        };
        let reservation = r.reservation_role().map(|role| Reservation {
            role: Arc::from(role),
            kind: if r.is_dynamically_reserved() {
                ReservationKind::Dynamic {
                    principal: r
                        .reservations
                        .last()
                        .and_then(|x| x.principal.as_deref())
                        .map(Arc::from),
                }
            } else {
                ReservationKind::Static
            },
        });
        out.add_resource(&Resource {
            name: Arc::from(r.name.as_str()),
            value,
            reservation,
            allocation_role: None,
        });
    }
    Ok(out)
}

/// Allocator → wire, with `role` (`"*"` when unreserved) and the allocation
/// role as `allocation_info`, the shape Mesos puts in offers.
pub fn to_wire(resources: &Resources) -> Vec<WireResource> {
    resources
        .iter()
        .map(|r| {
            let mut w = match &r.value {
                Value::Scalar(s) => WireResource::scalar(&*r.name, s.as_f64()),
                Value::Ranges(rs) => WireResource::ranges(&*r.name, rs.spans().iter().copied()),
                Value::Set(s) => WireResource::set(&*r.name, s.iter().cloned()),
            };
            match &r.reservation {
                None => w.role = Some("*".into()),
                Some(res) => {
                    w.role = Some(res.role.to_string());
                    let (t, principal) = match &res.kind {
                        ReservationKind::Static => (ReservationType::Static, None),
                        ReservationKind::Dynamic { principal } => (
                            ReservationType::Dynamic,
                            principal.as_deref().map(str::to_string),
                        ),
                    };
                    w.reservations.push(ReservationInfo {
                        r#type: Some(t),
                        role: Some(res.role.to_string()),
                        principal,
                        ..ReservationInfo::default()
                    });
                }
            }
            w.allocation_info = r.allocation_role.as_deref().map(|role| AllocationInfo {
                role: Some(role.to_string()),
            });
            w
        })
        .collect()
}

/// Attributes as the allocator's `(name, text)` pairs.
pub fn attributes_to_pairs(attrs: &[Attribute]) -> Vec<(String, String)> {
    let json = meseta_api::resource_format::attributes_to_state_json(attrs);
    json.into_iter()
        .map(|(k, v)| match v {
            serde_json::Value::String(s) => (k, s),
            other => (k, other.to_string()),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_through_the_allocator() {
        let wire = meseta_api::resource_parse::parse_resources(
            "cpus:2;mem:1024;disk:10;ports:[31000-32000];gpus(ml):1",
            "*",
        )
        .unwrap();
        let mut a = from_wire(&wire).unwrap();
        a.allocate("web");
        let back = to_wire(&a);
        assert_eq!(from_wire(&back).unwrap(), a.unallocated());
        assert!(back
            .iter()
            .all(|r| r.allocation_info.as_ref().unwrap().role.as_deref() == Some("web")));
        assert!(from_wire(&[WireResource::scalar("cpus", -1.0)]).is_err());
    }
}
