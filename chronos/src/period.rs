//! ISO 8601 durations as Chronos reads them: Joda-Time's `ISOPeriodFormat.standard()`,
//! `PnYnMnWnDTnHnMnS` with any subset of the fields, weeks mixed with days, and seconds with
//! up to three decimals (`PT1.5S`). Hand-written because the `iso8601` crates reject the week and
//! day mix that Joda accepts, and the grammar is eight fields.
//!
//! Adding a period to a wall-clock time follows Joda's zoned chronology: years, months, weeks and
//! days move the *local* date (so `P1D` keeps 02:30 at 02:30 across a daylight-saving change),
//! hours, minutes and seconds move the instant (so `PT24H` is always 86,400 s).

use std::fmt;

use chrono::{Days, Months, NaiveDateTime, TimeDelta};

/// A parsed ISO 8601 duration.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Period {
    /// Calendar years.
    pub years: u32,
    /// Calendar months.
    pub months: u32,
    /// Weeks (7 local days).
    pub weeks: u32,
    /// Local days.
    pub days: u32,
    /// Hours (exact).
    pub hours: u32,
    /// Minutes (exact).
    pub minutes: u32,
    /// Seconds (exact).
    pub seconds: u32,
    /// Milliseconds (exact), from a fractional seconds field.
    pub millis: u32,
}

/// Why a duration did not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "invalid ISO 8601 duration '{0}': expected PnYnMnWnDTnHnMnS with at least one non-zero field"
)]
pub struct PeriodError(pub String);

impl Period {
    /// Parses `P…` as Joda's standard ISO period format does; a zero period is refused, since a
    /// schedule repeating every 0 s has no next run.
    pub fn parse(text: &str) -> Result<Self, PeriodError> {
        let err = || PeriodError(text.to_owned());
        let body = text.strip_prefix('P').ok_or_else(err)?;
        let (date, time) = match body.split_once('T') {
            Some((d, t)) if !t.is_empty() => (d, Some(t)),
            Some(_) => return Err(err()),
            None => (body, None),
        };
        let mut p = Self::default();
        let mut any = false;
        for (value, unit) in fields(date).ok_or_else(err)? {
            let slot = match unit {
                'Y' => &mut p.years,
                'M' => &mut p.months,
                'W' => &mut p.weeks,
                'D' => &mut p.days,
                _ => return Err(err()),
            };
            *slot = whole(value).ok_or_else(err)?;
            any = true;
        }
        for (value, unit) in fields(time.unwrap_or("")).ok_or_else(err)? {
            match unit {
                'H' => p.hours = whole(value).ok_or_else(err)?,
                'M' => p.minutes = whole(value).ok_or_else(err)?,
                'S' => (p.seconds, p.millis) = seconds(value).ok_or_else(err)?,
                _ => return Err(err()),
            }
            any = true;
        }
        if !any || p.is_zero() {
            return Err(err());
        }
        Ok(p)
    }

    /// Whether every field is zero.
    pub fn is_zero(&self) -> bool {
        *self == Self::default()
    }

    /// Whether the period moves the local date (years, months, weeks or days).
    pub fn has_date_part(&self) -> bool {
        self.years != 0 || self.months != 0 || self.weeks != 0 || self.days != 0
    }

    /// The exact (time) part: hours, minutes, seconds, milliseconds.
    pub fn time_part(&self) -> TimeDelta {
        TimeDelta::milliseconds(
            ((i64::from(self.hours) * 60 + i64::from(self.minutes)) * 60 + i64::from(self.seconds))
                * 1000
                + i64::from(self.millis),
        )
    }

    /// A rough length, for estimating how many periods fit in an interval.
    pub fn approx_millis(&self) -> i64 {
        let days = f64::from(self.years) * 365.2425
            + f64::from(self.months) * 30.436_875
            + f64::from(self.weeks) * 7.0
            + f64::from(self.days);
        // Truncation is fine: this only seeds a search that then steps exactly.
        #[allow(clippy::cast_possible_truncation)]
        let date_ms = (days * 86_400_000.0) as i64;
        date_ms + self.time_part().num_milliseconds()
    }

    /// Moves the local date `local` by `k` times the date part (years, months, weeks, days);
    /// `None` when the result is out of range.
    pub fn add_date_part(&self, local: NaiveDateTime, k: u32) -> Option<NaiveDateTime> {
        let months = (u64::from(self.years) * 12 + u64::from(self.months)) * u64::from(k);
        let days = (u64::from(self.weeks) * 7 + u64::from(self.days)) * u64::from(k);
        local
            .checked_add_months(Months::new(u32::try_from(months).ok()?))?
            .checked_add_days(Days::new(days))
    }
}

/// Splits `12Y3M` into `[("12",'Y'), ("3",'M')]`; `None` on a stray character.
fn fields(s: &str) -> Option<Vec<(&str, char)>> {
    let mut out = Vec::new();
    let mut start = 0;
    for (i, c) in s.char_indices() {
        if c.is_ascii_digit() || c == '.' || c == ',' {
            continue;
        }
        if i == start {
            return None;
        }
        out.push((&s[start..i], c));
        start = i + c.len_utf8();
    }
    (start == s.len()).then_some(out)
}

fn whole(v: &str) -> Option<u32> {
    if v.is_empty() || !v.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    v.parse().ok()
}

fn seconds(v: &str) -> Option<(u32, u32)> {
    let v = v.replace(',', ".");
    let (s, frac) = v.split_once('.').unwrap_or((&v, ""));
    if frac.len() > 3 || (v.contains('.') && frac.is_empty()) {
        return None;
    }
    let millis = if frac.is_empty() {
        0
    } else {
        whole(&format!("{frac:0<3}"))?
    };
    Some((whole(s)?, millis))
}

impl fmt::Display for Period {
    /// Joda's standard printing: `P1Y2M3W4DT5H6M7.008S`, zero fields left out.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("P")?;
        for (v, u) in [
            (self.years, 'Y'),
            (self.months, 'M'),
            (self.weeks, 'W'),
            (self.days, 'D'),
        ] {
            if v != 0 {
                write!(f, "{v}{u}")?;
            }
        }
        if self.time_part() != TimeDelta::zero() {
            f.write_str("T")?;
            for (v, u) in [(self.hours, 'H'), (self.minutes, 'M')] {
                if v != 0 {
                    write!(f, "{v}{u}")?;
                }
            }
            match (self.seconds, self.millis) {
                (0, 0) => {}
                (s, 0) => write!(f, "{s}S")?,
                (s, ms) => write!(f, "{s}.{ms:03}S")?,
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_field_and_prints_back() {
        let p = Period::parse("P1Y2M3W4DT5H6M7.5S").unwrap();
        assert_eq!(
            (p.years, p.months, p.weeks, p.days, p.hours, p.minutes, p.seconds, p.millis),
            (1, 2, 3, 4, 5, 6, 7, 500)
        );
        assert_eq!(p.to_string(), "P1Y2M3W4DT5H6M7.500S");
        assert_eq!(Period::parse("PT2S").unwrap().to_string(), "PT2S");
        assert_eq!(Period::parse("P1D").unwrap().days, 1);
        assert_eq!(Period::parse("PT1M").unwrap().minutes, 1);
        assert_eq!(Period::parse("P1M").unwrap().months, 1);
    }

    #[test]
    fn refuses_malformed_and_zero() {
        for bad in [
            "",
            "P",
            "PT",
            "1D",
            "P1",
            "PT1D",
            "P1H",
            "PXD",
            "P-1D",
            "PT1.S",
            "PT1.0001S",
            "P0D",
            "PT0S",
            "P1DT",
            "pt1s",
            "P1D2",
        ] {
            assert!(Period::parse(bad).is_err(), "{bad} parsed");
        }
    }

    #[test]
    fn date_part_moves_the_calendar() {
        let t = NaiveDateTime::parse_from_str("2027-01-31T02:30:00", "%Y-%m-%dT%H:%M:%S").unwrap();
        let m = Period::parse("P1M").unwrap();
        assert_eq!(
            m.add_date_part(t, 1).unwrap().to_string(),
            "2027-02-28 02:30:00"
        );
        assert_eq!(
            m.add_date_part(t, 2).unwrap().to_string(),
            "2027-03-31 02:30:00"
        );
        let w = Period::parse("P1W1D").unwrap();
        assert_eq!(
            w.add_date_part(t, 1).unwrap().to_string(),
            "2027-02-08 02:30:00"
        );
    }
}
