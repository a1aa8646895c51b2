//! The simulated part of `meseta-bench marathon`: a real `marathon` (state in a real
//! ZooKeeper) on a fake Mesos master that reports every launched task `TASK_RUNNING` at once.
//! First marathon's own pace with its default flags (N instances of one app, no agent to
//! wait for); then, throttling off, 10 apps of `tasks / 10` instances and
//! `GET /v2/apps?embed=apps.tasks` timed.

use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{bail, Result};
use meseta_tests::http;
use meseta_tests::zookeeper::ZooKeeper;
use serde_json::json;

use super::{FakeMaster, Marathon};

/// Apps the simulated tasks are spread over.
const APPS: usize = 10;
/// Timed requests.
const SAMPLES: usize = 20;

/// The simulated part's figures.
#[derive(Debug)]
pub struct Figures {
    /// Marathon alone with its default flags: POST of `instances` → all running.
    pub alone: Duration,
    /// POST of the apps → all their tasks running.
    pub deploy: Duration,
    /// Size of the `/v2/apps?embed=apps.tasks` answer.
    pub body_bytes: usize,
    /// Timed requests.
    pub samples: usize,
    /// Latency percentiles, ms.
    pub p50_ms: f64,
    /// 90th percentile, ms.
    pub p90_ms: f64,
    /// Slowest, ms.
    pub max_ms: f64,
}

/// Marathon with its default flags (launch tokens, instances per offer) deploying
/// `instances` on the fake master: its own pace, which bounds the real deployment's.
fn alone(bin: &Path, zk: &ZooKeeper, instances: usize) -> Result<Duration> {
    let master = FakeMaster::start_reporting("TASK_RUNNING")?;
    let zk_url = zk.url(&ZooKeeper::unique_path("bench-marathon-alone"));
    let dir = tempfile::tempdir()?;
    let m = Marathon::start(
        bin,
        &format!("127.0.0.1:{}", master.port),
        &zk_url,
        &[],
        dir.path(),
    )?;
    let t0 = Instant::now();
    m.send(
        "POST",
        "/v2/apps",
        &json!({"id": "/sim/alone", "cmd": "sleep 100000", "cpus": 0.01, "mem": 16,
            "instances": instances, "portDefinitions": []}),
    )?;
    m.wait_app(
        "/sim/alone",
        t0,
        Duration::from_secs(300),
        "all running",
        |a| {
            a["tasksRunning"] == instances && a["deployments"].as_array().is_some_and(Vec::is_empty)
        },
    )
}

/// Runs the simulated part: `instances` with marathon's defaults, then `tasks` tasks.
pub fn run(bin: &Path, instances: usize, tasks: usize) -> Result<Figures> {
    let zk = ZooKeeper::start();
    let alone = alone(bin, &zk, instances)?;
    let master = FakeMaster::start_reporting("TASK_RUNNING")?;
    let zk_url = zk.url(&ZooKeeper::unique_path("bench-marathon-sim"));
    let dir = tempfile::tempdir()?;
    // Throttling off: the figure wanted here is the render time, not the launch pacing.
    let m = Marathon::start(
        bin,
        &format!("127.0.0.1:{}", master.port),
        &zk_url,
        &["--launch_tokens=1000000", "--max_instances_per_offer=1000"],
        dir.path(),
    )?;
    let per_app = tasks.div_ceil(APPS);
    let t0 = Instant::now();
    for i in 0..APPS {
        m.send(
            "POST",
            "/v2/apps",
            &json!({"id": format!("/sim/app-{i}"), "cmd": "sleep 100000", "cpus": 0.01,
                "mem": 16, "instances": per_app, "portDefinitions": [],
                "labels": {"bench": "marathon"}, "env": {"ROLE": "web"}}),
        )?;
    }
    let limit = Duration::from_secs(900);
    for i in 0..APPS {
        m.wait_app(&format!("/sim/app-{i}"), t0, limit, "all running", |a| {
            a["tasksRunning"] == per_app && a["deployments"].as_array().is_some_and(Vec::is_empty)
        })?;
    }
    let deploy = t0.elapsed();

    let mut ms = Vec::new();
    let mut body_bytes = 0;
    for _ in 0..SAMPLES {
        let t = Instant::now();
        let (s, body) = http("GET", m.port, "/v2/apps?embed=apps.tasks", None)?;
        ms.push(t.elapsed().as_secs_f64() * 1000.0);
        if s != 200 {
            bail!("GET /v2/apps?embed=apps.tasks: {s}");
        }
        let n = body.matches("\"stagedAt\"").count();
        if n != per_app * APPS {
            bail!(
                "GET /v2/apps?embed=apps.tasks listed {n} tasks, not {}",
                per_app * APPS
            );
        }
        body_bytes = body.len();
    }
    ms.sort_by(f64::total_cmp);
    let pct = |p: usize| ms[(p * ms.len()).div_ceil(100).clamp(1, ms.len()) - 1];
    Ok(Figures {
        alone,
        deploy,
        body_bytes,
        samples: SAMPLES,
        p50_ms: pct(50),
        p90_ms: pct(90),
        max_ms: ms.last().copied().unwrap_or(0.0),
    })
}
