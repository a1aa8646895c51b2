//! Quota configuration (Mesos 1.9+ `QuotaConfig`, `docs/quota.md`).
//!
//! A role's quota has *guarantees* (resources held back as headroom for it
//! until it consumes them) and *limits* (it is never allocated beyond them).
//! Consumed quota = reservations + unreserved allocations of the role and
//! its sub-roles. Only scalar resources can have quota.

use thiserror::Error;

use super::quantities::{Limits, Quantities};
use super::roles::{self, RoleError};
use super::scalar::Scalar;

/// Largest `mem`/`disk` quota accepted (1 exabyte in megabytes).
pub const MAX_MEM_MB: i64 = 1024 * 1024 * 1024 * 1024;

/// Largest quota accepted for other resources (1 trillion).
pub const MAX_OTHER: i64 = 1_000_000_000_000;

/// A role's quota: guarantees and limits.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct QuotaConfig {
    /// Guaranteed amounts (default: none).
    pub guarantees: Quantities,
    /// Upper bounds (default: unlimited).
    pub limits: Limits,
}

impl QuotaConfig {
    /// Default quota: no guarantees, no limits.
    pub fn none() -> Self {
        Self::default()
    }

    /// Builds a config from float amounts, rejecting NaN, infinite or
    /// negative values.
    pub fn from_f64(
        guarantees: &[(&str, f64)],
        limits: &[(&str, f64)],
    ) -> Result<Self, QuotaError> {
        let conv = |n: &str, v: f64| -> Result<Scalar, QuotaError> {
            if !v.is_finite() || v < 0.0 {
                return Err(QuotaError::InvalidValue {
                    name: n.to_string(),
                    value: v.to_string(),
                });
            }
            Scalar::from_f64(v).map_err(|_| QuotaError::InvalidValue {
                name: n.to_string(),
                value: v.to_string(),
            })
        };
        let mut g = Quantities::new();
        for &(n, v) in guarantees {
            g.add_named(n, conv(n, v)?);
        }
        let mut l = Limits::unlimited();
        for &(n, v) in limits {
            l.set(n, conv(n, v)?);
        }
        Ok(QuotaConfig {
            guarantees: g,
            limits: l,
        })
    }

    /// True if this is the default (no guarantees, no limits).
    pub fn is_default(&self) -> bool {
        self.guarantees.is_empty() && self.limits.is_empty()
    }
}

/// Reasons a quota update is rejected.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum QuotaError {
    /// The role name is invalid.
    #[error("invalid 'QuotaConfig.role': {0}")]
    InvalidRole(#[from] RoleError),
    /// Quota on the default role `*` is not supported.
    #[error("setting quota for the default '*' role is not supported")]
    DefaultRole,
    /// Only top-level roles can have quota in this implementation.
    #[error("quota on nested role '{0}' is not supported")]
    NestedRole(String),
    /// A value is negative, NaN or infinite.
    #[error("invalid quota value {name}:{value}")]
    InvalidValue {
        /// Resource name.
        name: String,
        /// Offending value.
        value: String,
    },
    /// A value exceeds Mesos's supported maximum.
    #[error("quota value for '{0}' is too large")]
    TooLarge(String),
    /// Guarantees exceed limits.
    #[error(
        "'QuotaConfig.guarantees' {guarantees} is not contained within the 'QuotaConfig.limits'"
    )]
    GuaranteesAboveLimits {
        /// The guarantees.
        guarantees: String,
    },
}

/// Validates a quota config for `role` (Mesos `quota::validate`).
pub fn validate(role: &str, config: &QuotaConfig) -> Result<(), QuotaError> {
    roles::validate(role)?;
    if role == roles::DEFAULT_ROLE {
        return Err(QuotaError::DefaultRole);
    }
    if role.contains('/') {
        return Err(QuotaError::NestedRole(role.to_string()));
    }
    let too_large = |name: &str, v: Scalar| {
        let max = if name == "mem" || name == "disk" {
            MAX_MEM_MB
        } else {
            MAX_OTHER
        };
        v > Scalar::from_units(max)
    };
    for (n, v) in config.guarantees.iter().chain(config.limits.iter()) {
        if v.milli() < 0 {
            return Err(QuotaError::InvalidValue {
                name: n.to_string(),
                value: v.to_string(),
            });
        }
        if too_large(n, v) {
            return Err(QuotaError::TooLarge(n.to_string()));
        }
    }
    if !config.limits.covers(&config.guarantees) {
        return Err(QuotaError::GuaranteesAboveLimits {
            guarantees: config.guarantees.to_string(),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validation() {
        let ok = QuotaConfig::from_f64(&[("cpus", 1.0)], &[("cpus", 2.0)]).unwrap();
        assert_eq!(validate("a", &ok), Ok(()));
        assert_eq!(validate("*", &ok), Err(QuotaError::DefaultRole));
        assert!(matches!(
            validate("..", &ok),
            Err(QuotaError::InvalidRole(_))
        ));
        assert!(matches!(
            validate("a/b", &ok),
            Err(QuotaError::NestedRole(_))
        ));
        let bad = QuotaConfig::from_f64(&[("cpus", 3.0)], &[("cpus", 2.0)]).unwrap();
        assert!(matches!(
            validate("a", &bad),
            Err(QuotaError::GuaranteesAboveLimits { .. })
        ));
        assert!(QuotaConfig::from_f64(&[("cpus", f64::NAN)], &[]).is_err());
        assert!(QuotaConfig::from_f64(&[], &[("cpus", -1.0)]).is_err());
        let big = QuotaConfig::from_f64(&[("cpus", 2e12)], &[]).unwrap();
        assert!(matches!(validate("a", &big), Err(QuotaError::TooLarge(_))));
    }
}
