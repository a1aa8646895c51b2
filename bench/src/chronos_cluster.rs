//! `meseta-bench chronos` on a real cluster: the `chronos` binary (local state dir) on a real
//! `mesos-master` and `mesos-agent` (full isolation), every run a real `true` task.
//!
//! All the jobs are defined and on staggered `PT1M` schedules, but a single agent on a 2-core
//! machine cannot start a task for each of 10,000 jobs a minute (166 a second), so only
//! `rate × window` of them are due during the window: those start one every `1 / rate`
//! seconds from just after the last POST, and the others an hour later (they are in the timer
//! heap and in `GET /jobs` all along). For every run due in the window two delays are taken
//! from its planned instant (the `ct:<planned ms>:...` task id): to chronos sending the LAUNCH
//! to the master (its `launched` log line, written when the master has taken the ACCEPT), and
//! to the task's `TASK_RUNNING` on the agent (the status timestamp in the master's `/tasks`).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use chrono::{DateTime, TimeDelta, Utc};
use meseta_tests::{free_port, http, wait_until, Cluster, ClusterOptions};

use crate::chronos::job;

/// What the real-cluster run measured.
#[derive(Debug, Default)]
pub struct ClusterRun {
    /// Planned instant → LAUNCH sent, ms, one per run due in the window.
    pub launch_ms: Vec<f64>,
    /// Planned instant → `TASK_RUNNING` on the agent, ms.
    pub running_ms: Vec<f64>,
    /// `GET /v1/scheduler/jobs` with every job defined, ms.
    pub get_ms: Vec<f64>,
    /// Runs planned in the window.
    pub due: usize,
}

/// Defines `jobs` jobs, lets `rate` of them a second come due for `window_secs`, measures.
pub fn run(chronos: &Path, jobs: usize, rate: u32, window_secs: u64) -> anyhow::Result<ClusterRun> {
    let mut opts = ClusterOptions::new("cpus:64;mem:65536;disk:100000");
    // Mesos's default: offers come from the periodic allocation or a REVIVE.
    opts.allocation_interval = "1secs".into();
    let cluster = Cluster::start_with(&opts);
    let dir = tempfile::tempdir_in(shm_or_tmp())?;
    let port = free_port();
    let log = dir.path().join("chronos.log");
    let mut child = std::process::Command::new(chronos)
        .arg(format!("--master=127.0.0.1:{}", cluster.master_port))
        .arg(format!(
            "--state_dir={}",
            dir.path().join("state").display()
        ))
        .arg(format!("--http_port={port}"))
        .arg("--http_address=127.0.0.1")
        .arg("--hostname=127.0.0.1")
        .env("CHRONOS_LOG", "info,meseta_chronos::framework=debug")
        .env("NO_COLOR", "1")
        .stderr(std::fs::File::create(&log)?)
        .spawn()?;
    let result = measure(&cluster, port, &log, jobs, rate, window_secs);
    let _ = child.kill();
    let _ = child.wait();
    result.with_context(|| {
        let text = std::fs::read_to_string(&log).unwrap_or_default();
        let tail: Vec<&str> = text.lines().rev().take(30).collect();
        format!(
            "chronos log (last lines, newest first):\n{}",
            tail.join("\n")
        )
    })
}

fn shm_or_tmp() -> PathBuf {
    let shm = Path::new("/dev/shm");
    if shm.is_dir() {
        shm.to_owned()
    } else {
        std::env::temp_dir()
    }
}

fn post(port: u16, body: &str) -> anyhow::Result<()> {
    let (s, text) = http("POST", port, "/v1/scheduler/iso8601", Some(body))?;
    if s != 204 {
        bail!("POST job: {s} {text}");
    }
    Ok(())
}

fn small(mut j: meseta_chronos::job::Job) -> meseta_chronos::job::Job {
    j.cpus = 0.01;
    j.mem = 16.0;
    j.disk = 0.0;
    j
}

fn measure(
    cluster: &Cluster,
    port: u16,
    log: &Path,
    jobs: usize,
    rate: u32,
    window_secs: u64,
) -> anyhow::Result<ClusterRun> {
    if !wait_until(Duration::from_secs(20), || {
        http("GET", port, "/ping", None).is_ok_and(|(s, _)| s == 200)
    }) {
        bail!("chronos did not start");
    }
    // A window under a minute: each due job runs once in it.
    let window_secs = window_secs.min(55);
    let due = usize::try_from(u64::from(rate) * window_secs)
        .unwrap_or(usize::MAX)
        .min(jobs);
    let step = TimeDelta::milliseconds(1000 / i64::from(rate.max(1)));
    // The jobs not due in the window: staggered over a minute, an hour from now.
    let later = Utc::now() + TimeDelta::hours(1);
    let filler = i64::try_from(jobs - due).unwrap_or(1).max(1);
    for i in due..jobs {
        let at =
            later + TimeDelta::milliseconds(i64::try_from(i - due).unwrap_or(0) * 60_000 / filler);
        post(port, &serde_json::to_string(&small(job(i, at)))?)?;
    }
    // The due ones, one every `step` from 3 s after they are all in.
    let t0 = Utc::now() + TimeDelta::milliseconds(3_000 + 5 * i64::try_from(due).unwrap_or(0));
    for i in 0..due {
        let at = t0 + step * i32::try_from(i).unwrap_or(i32::MAX);
        post(port, &serde_json::to_string(&small(job(i, at)))?)?;
    }
    if Utc::now() >= t0 {
        bail!("posting the due jobs took past their first instant");
    }
    let end = t0 + step * i32::try_from(due).unwrap_or(i32::MAX);
    if let Ok(wait) = (end - Utc::now()).to_std() {
        std::thread::sleep(wait);
    }
    // Let the last ones reach TASK_RUNNING.
    let planned_window = |ms: i64| ms >= t0.timestamp_millis() && ms < end.timestamp_millis();
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut running = HashMap::new();
    while Instant::now() < deadline {
        running = running_at(cluster.master_port)?;
        if running.keys().filter(|ms| planned_window(**ms)).count() >= due {
            break;
        }
        std::thread::sleep(Duration::from_millis(500));
    }
    let launched = launched_at(log)?;
    let mut out = ClusterRun {
        due,
        ..ClusterRun::default()
    };
    for (planned, at) in launched.iter().filter(|(p, _)| planned_window(*p)) {
        out.launch_ms.push(ms_between(*planned, *at));
    }
    for (planned, at) in running.iter().filter(|(p, _)| planned_window(**p)) {
        out.running_ms.push(ms_between(*planned, *at));
    }
    for _ in 0..20 {
        let t = Instant::now();
        let (s, body) = http("GET", port, "/v1/scheduler/jobs", None)?;
        if s != 200 || body.len() < jobs {
            bail!("GET /jobs: {s}");
        }
        out.get_ms.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    Ok(out)
}

fn ms_between(planned_ms: i64, at: DateTime<Utc>) -> f64 {
    #[allow(clippy::cast_precision_loss)]
    let us = (at.timestamp_micros() - planned_ms * 1000) as f64;
    us / 1000.0
}

/// The planned instant of a `ct:<planned ms>:...` task id.
fn planned_ms(task_id: &str) -> Option<i64> {
    task_id.strip_prefix("ct:")?.split(':').next()?.parse().ok()
}

/// Planned ms → when chronos logged the run's LAUNCH as sent.
fn launched_at(log: &Path) -> anyhow::Result<Vec<(i64, DateTime<Utc>)>> {
    let text = std::fs::read_to_string(log)?;
    let mut out = Vec::new();
    for line in text
        .lines()
        .map(strip_ansi)
        .filter(|l| l.contains(" launched "))
    {
        let Some(ts) = line.split_whitespace().next() else {
            continue;
        };
        let Ok(at) = DateTime::parse_from_rfc3339(ts) else {
            continue;
        };
        for id in line.split('"').filter(|s| s.starts_with("ct:")) {
            if let Some(p) = planned_ms(id) {
                out.push((p, at.with_timezone(&Utc)));
            }
        }
    }
    Ok(out)
}

/// A log line without its colour escapes (`ESC [ ... m`).
fn strip_ansi(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    let mut rest = line;
    while let Some(i) = rest.find('\u{1b}') {
        out.push_str(&rest[..i]);
        rest = &rest[i..];
        rest = rest.find('m').map_or("", |j| &rest[j + 1..]);
    }
    out.push_str(rest);
    out
}

/// Planned ms → the first `TASK_RUNNING` timestamp of each chronos task the master knows.
fn running_at(master_port: u16) -> anyhow::Result<HashMap<i64, DateTime<Utc>>> {
    let (s, body) = http("GET", master_port, "/tasks", None)?;
    if s != 200 {
        bail!("master /tasks: {s}");
    }
    let v: serde_json::Value = serde_json::from_str(&body)?;
    let mut out = HashMap::new();
    for t in v["tasks"].as_array().into_iter().flatten() {
        let Some(p) = t["id"].as_str().and_then(planned_ms) else {
            continue;
        };
        let ts = t["statuses"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|st| st["state"] == "TASK_RUNNING")
            .and_then(|st| st["timestamp"].as_f64());
        if let Some(ts) = ts {
            #[allow(clippy::cast_possible_truncation)]
            let us = (ts * 1e6) as i64;
            if let Some(at) = DateTime::from_timestamp_micros(us) {
                out.insert(p, at);
            }
        }
    }
    Ok(out)
}
