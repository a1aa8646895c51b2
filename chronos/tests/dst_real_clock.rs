//! A daily 02:30 `Europe/Berlin` job across both daylight-saving changes, on the real clock
//! path: the real `chronos` binary reads the system clock through glibc's `clock_gettime`,
//! which libfaketime (`LD_PRELOAD`) sets to the days of the change. The fake clock runs at the
//! real rate (×1) around each instant that matters and is stepped forward over the quiet
//! stretches in between (as an NTP step would), through the change itself at 01:00 UTC. The
//! monotonic clock stays real (`FAKETIME_DONT_FAKE_MONOTONIC`), so the Mesos connection's
//! heartbeats and timeouts behave as on any day. Each run is a real task (`true`) on a real
//! master and agent; the planned instant is read back from the master's task ids, the instant
//! of the run from `lastSuccess` (taken on chronos's clock when the task finished).

#![allow(clippy::tests_outside_test_module)]

mod common;

use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono::{DateTime, Utc};
use common::Chronos;
use meseta_tests::{free_port, get_json, http, root_or_skip, wait_until, Cluster};

const LIBFAKETIME: &str = "/usr/lib/x86_64-linux-gnu/faketime/libfaketimeMT.so.1";
/// Longest time from a planned instant to the run's end on chronos's clock (a loaded 2-core
/// test machine; the launch itself takes well under a second when idle).
const LATE_MAX_S: i64 = 20;

fn utc(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

/// The fake clock: a libfaketime spec file holding the offset from the real clock.
struct FakeClock {
    spec: PathBuf,
}

impl FakeClock {
    fn new(dir: &Path) -> Self {
        Self {
            spec: dir.join("faketime.spec"),
        }
    }

    /// Steps the fake clock so that it reads `at` now; from here it runs at the real rate.
    fn set(&self, at: DateTime<Utc>) {
        let offset_ms = at.timestamp_millis() - Utc::now().timestamp_millis();
        // libfaketime reads "+/-<seconds>" with a fraction.
        #[allow(clippy::cast_precision_loss)]
        let text = format!("{:+.3}\n", offset_ms as f64 / 1000.0);
        let tmp = self.spec.with_extension("tmp");
        std::fs::write(&tmp, text).unwrap();
        std::fs::rename(&tmp, &self.spec).unwrap();
    }

    /// What the fake clock reads.
    fn now(&self) -> DateTime<Utc> {
        let text = std::fs::read_to_string(&self.spec).unwrap();
        let secs: f64 = text.trim().parse().unwrap();
        #[allow(clippy::cast_possible_truncation)]
        let ms = (secs * 1000.0) as i64;
        Utc::now() + chrono::Duration::milliseconds(ms)
    }

    /// Waits (really) until the fake clock reads `at`.
    fn sleep_until(&self, at: DateTime<Utc>) {
        if let Ok(d) = (at - self.now()).to_std() {
            std::thread::sleep(d);
        }
    }

    fn env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("LD_PRELOAD", LIBFAKETIME.into()),
            ("FAKETIME_TIMESTAMP_FILE", self.spec.display().to_string()),
            ("FAKETIME_NO_CACHE", "1".into()),
            ("FAKETIME_DONT_FAKE_MONOTONIC", "1".into()),
        ]
    }
}

/// A chronos on the fake clock, a real cluster, and the daily 02:30 Berlin job `berlin`
/// starting on `start` (local date).
struct Setup {
    cluster: Cluster,
    chronos: Chronos,
    clock: FakeClock,
    _work: tempfile::TempDir,
}

fn setup(first_run: DateTime<Utc>, start: &str) -> Setup {
    let cluster = Cluster::start("cpus:4;mem:4096;disk:20000");
    let work = tempfile::tempdir().unwrap();
    let clock = FakeClock::new(work.path());
    clock.set(first_run - chrono::Duration::seconds(15));
    let args = vec![
        format!("--master=127.0.0.1:{}", cluster.master_port),
        format!("--state_dir={}", work.path().join("state").display()),
    ];
    let chronos = Chronos::start_with_env(work.path(), "chronos", free_port(), &args, &clock.env());
    // The process really reads the fake clock (its log lines carry its time).
    let log = std::fs::read_to_string(&chronos.log).unwrap();
    let day = first_run.format("%Y-%m-%d").to_string();
    assert!(
        log.contains(&day),
        "chronos is not on the fake clock:\n{log}"
    );
    let body = serde_json::json!({
        "name": "berlin",
        "command": "true",
        "schedule": format!("R/{start}T02:30:00/P1D"),
        "scheduleTimeZone": "Europe/Berlin",
        "owner": "ops@example.com",
        "cpus": 0.1,
        "mem": 32,
    })
    .to_string();
    let (status, text) = http("POST", chronos.port, "/v1/scheduler/iso8601", Some(&body)).unwrap();
    assert_eq!(status, 204, "{text}");
    Setup {
        cluster,
        chronos,
        clock,
        _work: work,
    }
}

impl Setup {
    fn job(&self) -> serde_json::Value {
        self.chronos.job("berlin").expect("job berlin")
    }

    fn successes(&self) -> u64 {
        self.chronos
            .job("berlin")
            .and_then(|j| j["successCount"].as_u64())
            .unwrap_or(0)
    }

    /// The planned instants of every task the master saw for the job, sorted.
    fn planned(&self) -> Vec<DateTime<Utc>> {
        let tasks = get_json(self.cluster.master_port, "/tasks");
        let mut out: Vec<DateTime<Utc>> = tasks["tasks"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|t| t["id"].as_str())
            .filter(|id| id.starts_with("ct:") && id.contains(":berlin:"))
            .map(|id| {
                let ms: i64 = id.split(':').nth(1).unwrap().parse().unwrap();
                DateTime::from_timestamp_millis(ms).unwrap()
            })
            .collect();
        out.sort();
        out
    }

    /// Waits for run number `n` and checks it ran at `planned` (on chronos's clock).
    fn expect_run(&self, n: u64, planned: DateTime<Utc>) {
        assert!(
            wait_until(Duration::from_secs(60), || self.successes() >= n),
            "run {n} (planned {planned}) did not happen; fake now {}: {}\n{}",
            self.clock.now(),
            self.chronos.logs(),
            self.cluster.logs()
        );
        let job = self.job();
        assert_eq!(job["successCount"], n, "{job}");
        assert_eq!(job["errorCount"], 0, "{job}");
        let last = utc(job["lastSuccess"].as_str().unwrap());
        let late = (last - planned).num_milliseconds();
        assert!(
            (0..=LATE_MAX_S * 1000).contains(&late),
            "run {n} planned for {planned} ended at {last} ({late} ms late): {job}"
        );
    }

    /// Lets the fake clock run from `from` to `to` and checks nothing ran meanwhile.
    fn expect_quiet(&self, from: DateTime<Utc>, to: DateTime<Utc>) {
        let before = self.successes();
        let tasks = self.planned().len();
        self.clock.set(from);
        self.clock.sleep_until(to);
        // A launch just before `to` would still be in flight: give it time to show.
        std::thread::sleep(Duration::from_secs(3));
        assert_eq!(self.successes(), before, "a run between {from} and {to}");
        assert_eq!(
            self.planned().len(),
            tasks,
            "a task between {from} and {to}"
        );
    }
}

fn faketime_or_skip(test: &str) -> bool {
    if Path::new(LIBFAKETIME).exists() {
        return true;
    }
    eprintln!("SKIPPED {test}: libfaketime is not installed (run scripts/setup.sh)");
    false
}

#[test]
fn daily_0230_berlin_runs_once_at_the_first_0230_when_clocks_fall_back() {
    let name = "daily_0230_berlin_runs_once_at_the_first_0230_when_clocks_fall_back";
    if !root_or_skip(name) || !faketime_or_skip(name) {
        return;
    }
    // 2026-10-25: 03:00 CEST → 02:00 CET at 01:00 UTC, so 02:30 happens at 00:30 and 01:30 UTC.
    let day1 = utc("2026-10-24T00:30:00Z"); // 02:30 CEST
    let day2 = utc("2026-10-25T00:30:00Z"); // the first 02:30 (CEST)
    let s = setup(day1, "2026-10-24");
    s.expect_run(1, day1);
    s.clock.set(day2 - chrono::Duration::seconds(10));
    s.expect_run(2, day2);
    // Through the change, then through the second 02:30 (CET).
    s.expect_quiet(utc("2026-10-25T00:59:50Z"), utc("2026-10-25T01:00:10Z"));
    s.expect_quiet(utc("2026-10-25T01:29:50Z"), utc("2026-10-25T01:30:15Z"));
    assert_eq!(s.planned(), vec![day1, day2]);
    let job = s.job();
    assert_eq!(
        job["schedule"], "R/2026-10-26T02:30:00.000+01:00/P1D",
        "the next run is 02:30 CET the day after: {job}"
    );
}

#[test]
fn daily_0230_berlin_runs_once_at_0330_when_clocks_spring_forward() {
    let name = "daily_0230_berlin_runs_once_at_0330_when_clocks_spring_forward";
    if !root_or_skip(name) || !faketime_or_skip(name) {
        return;
    }
    // 2026-03-29: 02:00 CET → 03:00 CEST at 01:00 UTC; 02:30 does not exist that day and the
    // run comes the gap's hour later, at 03:30 CEST (01:30 UTC), as the schedule unit test says.
    let day1 = utc("2026-03-28T01:30:00Z"); // 02:30 CET
    let day2 = utc("2026-03-29T01:30:00Z"); // 03:30 CEST
    let s = setup(day1, "2026-03-28");
    s.expect_run(1, day1);
    // Through the change: nothing at 01:00 UTC (the instant local time jumps past 02:00).
    s.expect_quiet(utc("2026-03-29T00:59:50Z"), utc("2026-03-29T01:00:15Z"));
    s.clock.set(day2 - chrono::Duration::seconds(10));
    s.expect_run(2, day2);
    s.clock
        .sleep_until(day2 + chrono::Duration::seconds(LATE_MAX_S));
    assert_eq!(s.successes(), 2);
    assert_eq!(s.planned(), vec![day1, day2]);
    let job = s.job();
    assert_eq!(
        job["schedule"], "R/2026-03-30T02:30:00.000+02:00/P1D",
        "the next run is 02:30 CEST the day after: {job}"
    );
}
