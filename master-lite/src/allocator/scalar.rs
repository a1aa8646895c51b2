//! Fixed-point scalar resource values.
//!
//! Mesos stores scalar resources with three decimal places of precision
//! (MESOS-4687): every value is rounded to the nearest 0.001 and all
//! arithmetic is exact. We store `value × 1000` in an `i64`, so
//! `0.1 + 0.2 == 0.3` and subtracting `0.1` ten times from `1.0` is `0`.

use std::fmt;
use std::iter::Sum;
use std::ops::{Add, AddAssign, Neg, Sub, SubAssign};
use std::str::FromStr;

use thiserror::Error;

/// Number of fixed-point units per whole unit (three decimal places).
pub const SCALE: i64 = 1000;

/// Error returned when a scalar value cannot be parsed or represented.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ScalarError {
    /// The text is not a decimal number.
    #[error("invalid scalar value '{0}'")]
    Invalid(String),
    /// The value is NaN, infinite or too large for the fixed-point range.
    #[error("scalar value out of range: {0}")]
    OutOfRange(String),
}

/// An exact scalar quantity with three decimal places (stored as milli-units).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Scalar(i64);

impl Scalar {
    /// The zero value.
    pub const ZERO: Scalar = Scalar(0);

    /// Builds a scalar from raw milli-units (`value × 1000`).
    pub const fn from_milli(milli: i64) -> Self {
        Scalar(milli)
    }

    /// Builds a scalar from a whole number of units.
    pub const fn from_units(units: i64) -> Self {
        Scalar(units.saturating_mul(SCALE))
    }

    /// Converts a float, rounding to the nearest 0.001 like Mesos does.
    pub fn from_f64(value: f64) -> Result<Self, ScalarError> {
        let milli = (value * SCALE as f64).round();
        // 2^62 keeps headroom for additions without overflow.
        if !milli.is_finite() || milli.abs() > 4.6e18 {
            return Err(ScalarError::OutOfRange(value.to_string()));
        }
        #[allow(clippy::cast_possible_truncation)] // range checked above
        Ok(Scalar(milli as i64))
    }

    /// Raw milli-units.
    pub const fn milli(self) -> i64 {
        self.0
    }

    /// Lossy conversion to `f64` (for shares and display only).
    pub fn as_f64(self) -> f64 {
        self.0 as f64 / SCALE as f64
    }

    /// True if the value is exactly zero.
    pub const fn is_zero(self) -> bool {
        self.0 == 0
    }

    /// True if the value is strictly positive.
    pub const fn is_positive(self) -> bool {
        self.0 > 0
    }

    /// Subtraction clamped at zero.
    pub fn saturating_sub_zero(self, other: Scalar) -> Scalar {
        Scalar((self.0 - other.0).max(0))
    }
}

impl FromStr for Scalar {
    type Err = ScalarError;

    /// Parses a decimal string exactly (no float round-trip for up to three
    /// decimals); extra digits are rounded half away from zero.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let t = s.trim();
        let invalid = || ScalarError::Invalid(s.to_string());
        let (neg, body) = match t.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, t.strip_prefix('+').unwrap_or(t)),
        };
        if body.is_empty() {
            return Err(invalid());
        }
        if body.contains(['e', 'E']) {
            let f: f64 = t.parse().map_err(|_| invalid())?;
            return Scalar::from_f64(f);
        }
        let (int, frac) = body.split_once('.').unwrap_or((body, ""));
        if (int.is_empty() && frac.is_empty())
            || !int.bytes().all(|b| b.is_ascii_digit())
            || !frac.bytes().all(|b| b.is_ascii_digit())
        {
            return Err(invalid());
        }
        let range = || ScalarError::OutOfRange(s.to_string());
        let mut milli: i64 = 0;
        for b in int.bytes() {
            milli = milli
                .checked_mul(10)
                .and_then(|m| m.checked_add(i64::from(b - b'0')))
                .ok_or_else(range)?;
        }
        milli = milli.checked_mul(SCALE).ok_or_else(range)?;
        let digits = frac.as_bytes();
        let mut place = SCALE / 10;
        for &d in digits.iter().take(3) {
            milli = milli
                .checked_add(i64::from(d - b'0') * place)
                .ok_or_else(range)?;
            place /= 10;
        }
        if digits.len() > 3 && digits[3] >= b'5' {
            milli = milli.checked_add(1).ok_or_else(range)?;
        }
        if milli > 4_600_000_000_000_000_000 {
            return Err(range());
        }
        Ok(Scalar(if neg { -milli } else { milli }))
    }
}

impl fmt::Display for Scalar {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sign = if self.0 < 0 { "-" } else { "" };
        let abs = self.0.unsigned_abs();
        let (int, frac) = (abs / 1000, abs % 1000);
        if frac == 0 {
            write!(f, "{sign}{int}")
        } else {
            let s = format!("{frac:03}");
            write!(f, "{sign}{int}.{}", s.trim_end_matches('0'))
        }
    }
}

impl Add for Scalar {
    type Output = Scalar;
    fn add(self, rhs: Scalar) -> Scalar {
        Scalar(self.0.saturating_add(rhs.0))
    }
}

impl Sub for Scalar {
    type Output = Scalar;
    fn sub(self, rhs: Scalar) -> Scalar {
        Scalar(self.0.saturating_sub(rhs.0))
    }
}

impl AddAssign for Scalar {
    fn add_assign(&mut self, rhs: Scalar) {
        *self = *self + rhs;
    }
}

impl SubAssign for Scalar {
    fn sub_assign(&mut self, rhs: Scalar) {
        *self = *self - rhs;
    }
}

impl Neg for Scalar {
    type Output = Scalar;
    fn neg(self) -> Scalar {
        Scalar(self.0.saturating_neg())
    }
}

impl Sum for Scalar {
    fn sum<I: Iterator<Item = Scalar>>(iter: I) -> Scalar {
        iter.fold(Scalar::ZERO, |a, b| a + b)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &str) -> Scalar {
        v.parse().unwrap()
    }

    #[test]
    fn no_float_drift() {
        assert_eq!(s("0.1") + s("0.2"), s("0.3"));
        let mut x = s("1.0");
        for _ in 0..10 {
            x -= s("0.1");
        }
        assert!(x.is_zero());
        assert_eq!(Scalar::from_f64(0.1 + 0.2).unwrap(), s("0.3"));
    }

    #[test]
    fn parse_and_display() {
        assert_eq!(s("1.5").milli(), 1500);
        assert_eq!(s("0.0005").milli(), 1);
        assert_eq!(s("-2.25").to_string(), "-2.25");
        assert_eq!(s("24").to_string(), "24");
        assert_eq!(s(".5").milli(), 500);
        assert_eq!(s("1e3").milli(), 1_000_000);
        assert!("abc".parse::<Scalar>().is_err());
        assert!("".parse::<Scalar>().is_err());
        assert!("1.2.3".parse::<Scalar>().is_err());
        assert!(Scalar::from_f64(f64::NAN).is_err());
        assert!("99999999999999999999".parse::<Scalar>().is_err());
    }
}
