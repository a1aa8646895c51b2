//! Small general-purpose messages of `mesos.proto`: time and durations, addresses and
//! URLs, labels, parameters, fault domains, unavailability windows and offer `Filters`.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::encoding::null_as_default;

/// A point in time, nanoseconds since the epoch (`mesos.v1.TimeInfo`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct TimeInfo {
    /// Nanoseconds since the Unix epoch.
    #[serde(deserialize_with = "crate::encoding::lenient_i64")]
    pub nanoseconds: i64,
}

impl TimeInfo {
    /// From a [`Duration`] since the epoch (e.g. `SystemTime::now().duration_since(UNIX_EPOCH)`),
    /// saturating at `i64::MAX` nanoseconds.
    pub fn from_since_epoch(d: Duration) -> Self {
        Self {
            nanoseconds: i64::try_from(d.as_nanos()).unwrap_or(i64::MAX),
        }
    }

    /// Fractional seconds since the epoch.
    pub fn as_secs_f64(&self) -> f64 {
        self.nanoseconds as f64 / 1e9
    }
}

/// A duration in nanoseconds (`mesos.v1.DurationInfo`), e.g. `KillPolicy.grace_period`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct DurationInfo {
    /// Length in nanoseconds; negative values are possible on the wire.
    #[serde(deserialize_with = "crate::encoding::lenient_i64")]
    pub nanoseconds: i64,
}

impl DurationInfo {
    /// Converts a [`Duration`], saturating at `i64::MAX` nanoseconds.
    pub fn from_duration(d: Duration) -> Self {
        Self {
            nanoseconds: i64::try_from(d.as_nanos()).unwrap_or(i64::MAX),
        }
    }

    /// As a [`Duration`]; negative values become zero.
    pub fn to_duration(&self) -> Duration {
        Duration::from_nanos(u64::try_from(self.nanoseconds).unwrap_or(0))
    }
}

impl From<Duration> for DurationInfo {
    fn from(d: Duration) -> Self {
        Self::from_duration(d)
    }
}

/// A network address (`mesos.v1.Address`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Address {
    /// Host name, if known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hostname: Option<String>,
    /// IP address in text form.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ip: Option<String>,
    /// TCP port (required).
    pub port: i32,
}

/// A URL (`mesos.v1.URL`), e.g. `Offer.url`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Url {
    /// `http` or `https`.
    pub scheme: String,
    /// Host and port.
    pub address: Address,
    /// Path, starting with `/`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// Query parameters.
    #[serde(default, deserialize_with = "null_as_default")]
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub query: Vec<Parameter>,
    /// Fragment without `#`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fragment: Option<String>,
}

/// A key/value pair (`mesos.v1.Parameter`), e.g. a docker `--key=value` parameter.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Parameter {
    /// Parameter name.
    pub key: String,
    /// Parameter value.
    pub value: String,
}

/// A list of parameters (`mesos.v1.Parameters`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Parameters {
    /// The parameters, in order.
    #[serde(default, deserialize_with = "null_as_default")]
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub parameter: Vec<Parameter>,
}

/// One label (`mesos.v1.Label`); the value is optional.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Label {
    /// Label key.
    pub key: String,
    /// Label value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
}

/// A collection of labels (`mesos.v1.Labels`): `{"labels": [{"key": .., "value": ..}]}`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Labels {
    /// The labels, in order (keys may repeat).
    #[serde(default, deserialize_with = "null_as_default")]
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub labels: Vec<Label>,
}

impl Labels {
    /// The value of the first label named `key`.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.labels
            .iter()
            .find(|l| l.key == key)
            .and_then(|l| l.value.as_deref())
    }
}

impl FromIterator<(String, String)> for Labels {
    fn from_iter<I: IntoIterator<Item = (String, String)>>(iter: I) -> Self {
        Self {
            labels: iter
                .into_iter()
                .map(|(key, value)| Label {
                    key,
                    value: Some(value),
                })
                .collect(),
        }
    }
}

/// A window of unavailability (maintenance), `mesos.v1.Unavailability`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Unavailability {
    /// Start of the window.
    pub start: TimeInfo,
    /// Length; open-ended if absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration: Option<DurationInfo>,
}

/// A machine, identified by hostname and/or IP (`mesos.v1.MachineID`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MachineId {
    /// Host name (case-insensitive).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hostname: Option<String>,
    /// IP address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ip: Option<String>,
}

/// A fault domain (`mesos.v1.DomainInfo`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DomainInfo {
    /// Region and zone.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fault_domain: Option<FaultDomain>,
}

/// `DomainInfo.FaultDomain`: a region and a zone.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FaultDomain {
    /// The region.
    pub region: NamedDomain,
    /// The zone within the region.
    pub zone: NamedDomain,
}

/// `FaultDomain.RegionInfo` / `FaultDomain.ZoneInfo`: `{"name": "..."}`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NamedDomain {
    /// Region or zone name.
    pub name: String,
}

/// Offer filters set by ACCEPT/DECLINE (`mesos.v1.Filters`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct Filters {
    /// Seconds the agent's resources are not re-offered; proto default 5.0.
    #[serde(default, deserialize_with = "crate::encoding::lenient_f64_opt")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refuse_seconds: Option<f64>,
}

impl Filters {
    /// Proto default for `refuse_seconds`.
    pub const DEFAULT_REFUSE_SECONDS: f64 = 5.0;
    /// Mesos caps `refuse_seconds` at one year.
    pub const MAX_REFUSE_SECONDS: f64 = 31_536_000.0;

    /// `refuse_seconds` as the allocator applies it: proto default when unset, capped at
    /// 365 days (also for `Infinity`), default for negative or NaN values.
    pub fn effective_refuse_seconds(&self) -> f64 {
        match self.refuse_seconds {
            Some(s) if s > Self::MAX_REFUSE_SECONDS => Self::MAX_REFUSE_SECONDS,
            Some(s) if s >= 0.0 => s,
            _ => Self::DEFAULT_REFUSE_SECONDS,
        }
    }
}

/// A scalar keyed by resource name, the form of `TaskInfo.limits` and `OfferFilters`
/// quantities (`map<string, Value.Scalar>`).
pub type ScalarMap = BTreeMap<String, crate::Scalar>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn duration_conversions() {
        let d = DurationInfo::from(Duration::from_secs(3));
        assert_eq!(d.nanoseconds, 3_000_000_000);
        assert_eq!(d.to_duration(), Duration::from_secs(3));
        assert_eq!(
            DurationInfo { nanoseconds: -1 }.to_duration(),
            Duration::ZERO
        );
        let t = TimeInfo::from_since_epoch(Duration::from_millis(1500));
        assert_eq!(t.nanoseconds, 1_500_000_000);
        assert!((t.as_secs_f64() - 1.5).abs() < 1e-9);
    }

    #[test]
    fn filters_defaults_and_cap() {
        assert_eq!(Filters::default().effective_refuse_seconds(), 5.0);
        let f: Filters = serde_json::from_str(r#"{"refuse_seconds":1e12}"#).unwrap();
        assert_eq!(f.effective_refuse_seconds(), 31_536_000.0);
        let f = Filters {
            refuse_seconds: Some(f64::INFINITY),
        };
        assert_eq!(f.effective_refuse_seconds(), 31_536_000.0);
        for bad in [-1.0, f64::NAN] {
            let f = Filters {
                refuse_seconds: Some(bad),
            };
            assert_eq!(f.effective_refuse_seconds(), 5.0);
        }
        let f = Filters {
            refuse_seconds: Some(0.0),
        };
        assert_eq!(f.effective_refuse_seconds(), 0.0);
        assert_eq!(serde_json::to_string(&Filters::default()).unwrap(), "{}");
    }

    #[test]
    fn labels_lookup_and_required_key() {
        let l: Labels =
            serde_json::from_str(r#"{"labels":[{"key":"a","value":"1"},{"key":"b"}]}"#).unwrap();
        assert_eq!(l.get("a"), Some("1"));
        assert_eq!(l.get("b"), None);
        assert!(serde_json::from_str::<Labels>(r#"{"labels":[{"value":"x"}]}"#).is_err());
    }

    #[test]
    fn address_requires_port() {
        assert!(serde_json::from_str::<Address>(r#"{"hostname":"h"}"#).is_err());
        let a: Address = serde_json::from_str(r#"{"ip":"10.0.0.1","port":5050}"#).unwrap();
        assert_eq!(a.port, 5050);
    }
}
