//! Chronos schedules: `R[n]/<start|empty = now>/<ISO 8601 duration>` with an optional IANA
//! `scheduleTimeZone` (mesos/chronos `Iso8601Expressions.scala`, `JobUtils.skipForward`).
//!
//! The start is kept as a *local* wall-clock time in its zone. With `scheduleTimeZone` set, the
//! start's own offset is dropped and its fields are read in that zone (Joda's
//! `withZoneRetainFields`, as Chronos does); without one, the start's offset (or UTC) is a fixed
//! zone. Occurrence `k` is `start + k × period`, computed from the anchor each time, never by
//! repeated addition, so no drift accumulates. A local time in a daylight-saving gap runs at the
//! instant the gap's length later (02:30 on the spring-forward day is 03:30 summer time); a local
//! time that happens twice runs once, at the earlier instant.

use std::fmt;

use chrono::{DateTime, FixedOffset, LocalResult, NaiveDateTime, Offset, TimeDelta, TimeZone, Utc};
use chrono_tz::Tz;

use crate::period::{Period, PeriodError};

/// The zone a schedule's wall-clock times are read in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Zone {
    /// An IANA zone (`scheduleTimeZone`), daylight-saving aware.
    Iana(Tz),
    /// A fixed offset from the start's text (UTC when it has none).
    Fixed(FixedOffset),
}

impl Zone {
    /// The instant a local wall-clock time names in this zone (see the module doc for gaps and
    /// repeated hours).
    pub fn resolve(&self, local: NaiveDateTime) -> DateTime<Utc> {
        match self {
            Self::Fixed(off) => {
                (local - TimeDelta::seconds(i64::from(off.local_minus_utc()))).and_utc()
            }
            Self::Iana(tz) => match tz.from_local_datetime(&local) {
                LocalResult::Single(t) => t.with_timezone(&Utc),
                LocalResult::Ambiguous(earlier, _) => earlier.with_timezone(&Utc),
                LocalResult::None => {
                    // In a gap: use the offset in force before it, which moves the time
                    // forward by the gap's length.
                    let before = tz.offset_from_utc_datetime(&(local - TimeDelta::days(1)));
                    let secs = i64::from(before.fix().local_minus_utc());
                    (local - TimeDelta::seconds(secs)).and_utc()
                }
            },
        }
    }

    /// The wall-clock time of `instant` in this zone.
    pub fn local(&self, instant: DateTime<Utc>) -> NaiveDateTime {
        match self {
            Self::Fixed(off) => instant.with_timezone(off).naive_local(),
            Self::Iana(tz) => instant.with_timezone(tz).naive_local(),
        }
    }
}

/// A parsed schedule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Schedule {
    /// Runs left: `None` repeats forever (`R/…`), `Some(0)` never runs (`R0/…`).
    pub repeat: Option<u64>,
    /// The first run, as a local wall-clock time in `zone`.
    pub start: NaiveDateTime,
    /// Where `start` is read.
    pub zone: Zone,
    /// Time between runs.
    pub period: Period,
}

/// Why a schedule was refused (each becomes a 400 with this text).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ScheduleError {
    /// Not `R[n]/start/period`.
    #[error(
        "cannot parse schedule '{0}': expected R[n]/<ISO 8601 start or empty>/<ISO 8601 duration>"
    )]
    Shape(String),
    /// The start is not an ISO 8601 date-time.
    #[error("cannot parse the start '{0}' of the schedule as an ISO 8601 date-time")]
    Start(String),
    /// The period.
    #[error(transparent)]
    Period(#[from] PeriodError),
    /// `scheduleTimeZone` is not an IANA zone name.
    #[error("unknown scheduleTimeZone '{0}': expected an IANA zone name such as Europe/Berlin")]
    TimeZone(String),
    /// Chronos refuses starts before the epoch.
    #[error("scheduled start date '{0}' is before 1970")]
    BeforeEpoch(String),
}

/// Date-time shapes Joda's `DateTime.parse` accepts that Chronos users write.
const NAIVE_FORMATS: &[&str] = &["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%dT%H:%M"];
const OFFSET_FORMATS: &[&str] = &["%Y-%m-%dT%H:%M:%S%.f%#z", "%Y-%m-%dT%H:%M%#z"];

/// Reads a start: its local fields and its offset, if written.
fn parse_start(text: &str) -> Option<(NaiveDateTime, Option<FixedOffset>)> {
    let t = text.trim();
    let zulu = t.strip_suffix('Z').or_else(|| t.strip_suffix('z'));
    if let Some(rest) = zulu {
        return NAIVE_FORMATS
            .iter()
            .find_map(|f| NaiveDateTime::parse_from_str(rest, f).ok())
            .map(|n| (n, FixedOffset::east_opt(0)));
    }
    if let Some(dt) = OFFSET_FORMATS
        .iter()
        .find_map(|f| DateTime::parse_from_str(t, f).ok())
    {
        return Some((dt.naive_local(), Some(*dt.offset())));
    }
    if let Some(n) = NAIVE_FORMATS
        .iter()
        .find_map(|f| NaiveDateTime::parse_from_str(t, f).ok())
    {
        return Some((n, None));
    }
    chrono::NaiveDate::parse_from_str(t, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|n| (n, None))
}

/// Parses an IANA zone name; the empty string is no zone.
pub fn parse_time_zone(name: &str) -> Result<Option<Tz>, ScheduleError> {
    let name = name.trim();
    if name.is_empty() {
        return Ok(None);
    }
    name.parse::<Tz>()
        .map(Some)
        .map_err(|_| ScheduleError::TimeZone(name.to_owned()))
}

impl Schedule {
    /// Parses `text` with `time_zone` (may be empty); an empty start means one second before
    /// `now`, as in Chronos, so a new job runs right away.
    pub fn parse(text: &str, time_zone: &str, now: DateTime<Utc>) -> Result<Self, ScheduleError> {
        let shape = || ScheduleError::Shape(text.to_owned());
        let mut parts = text.splitn(3, '/');
        let (r, start, period) = match (parts.next(), parts.next(), parts.next()) {
            (Some(r), Some(s), Some(p)) => (r, s, p),
            _ => return Err(shape()),
        };
        let digits = r.strip_prefix('R').ok_or_else(shape)?;
        let repeat = if digits.is_empty() {
            None
        } else if digits.bytes().all(|b| b.is_ascii_digit()) {
            Some(digits.parse::<u64>().map_err(|_| shape())?)
        } else {
            return Err(shape());
        };
        let period = Period::parse(period)?;
        let tz = parse_time_zone(time_zone)?;
        let (local, offset) = if start.is_empty() {
            let at = now - TimeDelta::seconds(1);
            match tz {
                Some(tz) => (at.with_timezone(&tz).naive_local(), None),
                None => (at.naive_utc(), None),
            }
        } else {
            parse_start(start).ok_or_else(|| ScheduleError::Start(start.to_owned()))?
        };
        let utc = FixedOffset::east_opt(0).ok_or_else(shape)?;
        let zone = match tz {
            Some(tz) => Zone::Iana(tz),
            None => Zone::Fixed(offset.unwrap_or(utc)),
        };
        let s = Self {
            repeat,
            start: local,
            zone,
            period,
        };
        if s.first().timestamp() < 1 {
            return Err(ScheduleError::BeforeEpoch(start.to_owned()));
        }
        Ok(s)
    }

    /// The instant of occurrence `k` (0 is the start); `None` past the calendar's range.
    pub fn occurrence(&self, k: u32) -> Option<DateTime<Utc>> {
        let local = self.period.add_date_part(self.start, k)?;
        let exact = self
            .period
            .time_part()
            .checked_mul(i32::try_from(k).ok()?)?;
        self.zone.resolve(local).checked_add_signed(exact)
    }

    /// The first run's instant.
    pub fn first(&self) -> DateTime<Utc> {
        self.zone.resolve(self.start)
    }

    /// The smallest `k` whose occurrence is strictly after `after`, with its instant.
    pub fn next_after(&self, after: DateTime<Utc>) -> Option<(u32, DateTime<Utc>)> {
        let span = (after - self.first()).num_milliseconds();
        let approx = self.period.approx_millis().max(1);
        // Start a little below the estimate (months differ in length, and DST moves by an
        // hour), then step exactly: a handful of steps at most.
        let mut k = u32::try_from((span / approx - 2).max(0)).unwrap_or(u32::MAX);
        loop {
            let at = self.occurrence(k)?;
            if at > after {
                return Some((k, at));
            }
            k = k.checked_add(1)?;
        }
    }

    /// The schedule that starts at occurrence `k`, same repeat count (after a run Chronos stores
    /// `R{n-1}/<next start>/<period>`; the caller counts down).
    pub fn advanced(&self, k: u32) -> Option<Self> {
        let start = if self.period.time_part().is_zero() {
            // Date-only periods keep the wall-clock fields even through a gap.
            self.period.add_date_part(self.start, k)?
        } else {
            self.zone.local(self.occurrence(k)?)
        };
        Some(Self { start, ..*self })
    }

    /// Whether runs are left.
    pub fn has_runs_left(&self) -> bool {
        self.repeat != Some(0)
    }
}

impl fmt::Display for Schedule {
    /// `R[n]/2027-03-28T02:30:00.000+01:00/P1D`; the offset is chosen so that the text names
    /// the right instant *and* keeps the wall-clock fields (before a gap, its earlier offset).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.repeat {
            Some(n) => write!(f, "R{n}/")?,
            None => f.write_str("R/")?,
        }
        let offset = (self.start.and_utc() - self.first()).num_seconds();
        let stamp = self.start.format("%Y-%m-%dT%H:%M:%S%.3f");
        if offset == 0 {
            write!(f, "{stamp}Z")?;
        } else {
            let sign = if offset < 0 { '-' } else { '+' };
            let a = offset.abs();
            write!(f, "{stamp}{sign}{:02}:{:02}", a / 3600, (a % 3600) / 60)?;
        }
        write!(f, "/{}", self.period)
    }
}

#[cfg(test)]
#[path = "schedule_tests.rs"]
mod tests;
