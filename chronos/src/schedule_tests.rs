//! Schedule parsing, occurrences and daylight-saving behaviour.

use chrono::{DateTime, Utc};

use super::*;

fn utc(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

#[test]
fn parses_the_forms_chronos_documents() {
    let now = utc("2026-12-06T12:00:00Z");
    let s = Schedule::parse("R10/2012-10-01T05:52:00Z/PT2S", "", now).unwrap();
    assert_eq!(s.repeat, Some(10));
    assert_eq!(s.first(), utc("2012-10-01T05:52:00Z"));
    let s = Schedule::parse("R/2014-03-08T20:00:00.000Z/PT2H", "", now).unwrap();
    assert_eq!(s.repeat, None);
    assert_eq!(s.to_string(), "R/2014-03-08T20:00:00.000Z/PT2H");
    let s = Schedule::parse("R5/2014-03-08T20:00:00.000+01:00/P1D", "", now).unwrap();
    assert_eq!(s.first(), utc("2014-03-08T19:00:00Z"));
    assert_eq!(s.to_string(), "R5/2014-03-08T20:00:00.000+01:00/P1D");
    let s = Schedule::parse("R//PT10S", "", now).unwrap();
    assert_eq!(s.first(), utc("2026-12-06T11:59:59Z"));
    let s = Schedule::parse("R0/2030-01-01/P1D", "", now).unwrap();
    assert!(!s.has_runs_left());
}

#[test]
fn time_zone_retains_the_fields_of_the_start() {
    let now = utc("2026-12-06T12:00:00Z");
    let s = Schedule::parse("R/2027-01-10T02:30:00Z/P1D", "Europe/Berlin", now).unwrap();
    assert_eq!(s.first(), utc("2027-01-10T01:30:00Z"));
    assert_eq!(s.to_string(), "R/2027-01-10T02:30:00.000+01:00/P1D");
}

#[test]
fn refuses_bad_schedules() {
    let now = utc("2026-12-06T12:00:00Z");
    for (sched, tz) in [
        ("", ""),
        ("R/2027-01-01T00:00:00Z", ""),
        ("X/2027-01-01T00:00:00Z/P1D", ""),
        ("R-1/2027-01-01T00:00:00Z/P1D", ""),
        ("R/yesterday/P1D", ""),
        ("R/2027-01-01T00:00:00Z/1D", ""),
        ("R/2027-01-01T00:00:00Z/P0D", ""),
        ("R/2027-01-01T00:00:00Z/P1D", "Mars/Olympus"),
        ("R/1969-12-31T00:00:00Z/P1D", ""),
    ] {
        assert!(
            Schedule::parse(sched, tz, now).is_err(),
            "{sched} {tz} parsed"
        );
    }
}

#[test]
fn next_after_steps_from_the_anchor() {
    let now = utc("2026-12-06T12:00:00Z");
    let s = Schedule::parse("R/2026-12-06T00:00:00Z/PT1M", "", now).unwrap();
    let (k, at) = s.next_after(utc("2026-12-06T11:59:30Z")).unwrap();
    assert_eq!((k, at), (720, utc("2026-12-06T12:00:00Z")));
    let (k, at) = s.next_after(utc("2026-12-06T12:00:00Z")).unwrap();
    assert_eq!((k, at), (721, utc("2026-12-06T12:01:00Z")));
    let (k, _) = s.next_after(utc("2026-12-05T00:00:00Z")).unwrap();
    assert_eq!(k, 0);
    let m = Schedule::parse("R/2027-01-31T10:00:00Z/P1M", "", now).unwrap();
    let (_, at) = m.next_after(utc("2027-03-01T00:00:00Z")).unwrap();
    assert_eq!(at, utc("2027-03-31T10:00:00Z"));
    let a = m.advanced(1).unwrap();
    assert_eq!(a.to_string(), "R/2027-02-28T10:00:00.000Z/P1M");
}

/// Every run instant of a daily 02:30 Europe/Berlin job from `from`, for `days` days.
fn berlin_runs(from: &str, days: u32) -> Vec<DateTime<Utc>> {
    let now = utc("2026-12-06T12:00:00Z");
    let s = Schedule::parse(&format!("R/{from}/P1D"), "Europe/Berlin", now).unwrap();
    (0..days).map(|k| s.occurrence(k).unwrap()).collect()
}

#[test]
fn daily_0230_berlin_across_spring_forward_runs_once_at_0330_summer_time() {
    // 2027-03-28: clocks go 02:00 CET → 03:00 CEST; 02:30 does not exist that day.
    let runs = berlin_runs("2027-03-27T02:30:00", 3);
    assert_eq!(
        runs,
        vec![
            utc("2027-03-27T01:30:00Z"), // 02:30 CET
            utc("2027-03-28T01:30:00Z"), // 03:30 CEST: the gap's hour later
            utc("2027-03-29T00:30:00Z"), // 02:30 CEST
        ]
    );
}

#[test]
fn daily_0230_berlin_across_fall_back_runs_once_at_the_first_0230() {
    // 2027-10-31: clocks go 03:00 CEST → 02:00 CET; 02:30 happens twice.
    let runs = berlin_runs("2027-10-30T02:30:00", 3);
    assert_eq!(
        runs,
        vec![
            utc("2027-10-30T00:30:00Z"), // 02:30 CEST
            utc("2027-10-31T00:30:00Z"), // the first 02:30 (CEST), not also 01:30Z
            utc("2027-11-01T01:30:00Z"), // 02:30 CET
        ]
    );
}

#[test]
fn rewriting_the_start_through_the_gap_keeps_0230() {
    let now = utc("2026-12-06T12:00:00Z");
    let s = Schedule::parse("R3/2027-03-27T02:30:00Z/P1D", "Europe/Berlin", now).unwrap();
    let gap_day = s.advanced(1).unwrap();
    assert_eq!(gap_day.to_string(), "R3/2027-03-28T02:30:00.000+01:00/P1D");
    assert_eq!(gap_day.first(), utc("2027-03-28T01:30:00Z"));
    // Stored and read back, the text still means 02:30 local from then on.
    let again = Schedule::parse(&gap_day.to_string(), "Europe/Berlin", now).unwrap();
    assert_eq!(again.occurrence(1).unwrap(), utc("2027-03-29T00:30:00Z"));
    assert_eq!(again.advanced(1).unwrap().repeat, Some(3));
}

#[test]
fn pt24h_is_exact_hours_not_a_local_day() {
    let now = utc("2026-12-06T12:00:00Z");
    let s = Schedule::parse("R/2027-03-27T02:30:00Z/PT24H", "Europe/Berlin", now).unwrap();
    assert_eq!(s.occurrence(1).unwrap(), utc("2027-03-28T01:30:00Z"));
    assert_eq!(s.occurrence(2).unwrap(), utc("2027-03-29T01:30:00Z"));
}
