//! `meseta-bench statistics`: how long the agent's `/monitor/statistics` takes to answer with
//! many running containers (Mesos rate-limits this endpoint to 2 requests/s because it is
//! slow there). A real master and agent; N `sleep` tasks, each in its own container with its
//! command executor; then the endpoint is timed from request to last byte.

use std::time::{Duration, Instant};

use anyhow::{ensure, Result};
use meseta_tests::{http, Cluster, ClusterOptions};

use crate::report::{ms, summarize};
use crate::sched::{launch_running, subscribe, Sleepers};

/// Options of `meseta-bench statistics`.
#[derive(Debug, Clone)]
pub struct Options {
    /// Running containers.
    pub containers: usize,
    /// Timed requests.
    pub requests: usize,
    /// The agent's `--isolation`.
    pub isolation: String,
}

/// Enough for 500 tasks of `cpus:0.01;mem:16` plus their executors' `cpus:0.1;mem:32`.
const RESOURCES: &str = "cpus:128;mem:262144;disk:100000;ports:[31000-32000]";

/// Runs the benchmark; returns the table and the RESULT line.
pub fn run(opts: &Options) -> Result<String> {
    let mut copts = ClusterOptions::new(RESOURCES);
    copts.isolation = opts.isolation.clone();
    copts.allocation_interval = "50ms".into();
    let cluster = Cluster::start_with(&copts);
    let mut sched = subscribe(cluster.master_port, "meseta-bench-statistics", |_| {})?;
    let started = Instant::now();
    let sleepers = Sleepers {
        // Each task's command executor takes `cpus:0.1;mem:32` of the offer too.
        footprint: (0.11, 48.0),
        batch: 100,
        ..Sleepers::new(opts.containers, "st-", "sleep 600")
    };
    launch_running(&mut sched, &sleepers)?;
    let launch_secs = started.elapsed().as_secs_f64();
    // Let the launch burst settle (executors' first updates, acknowledgements).
    std::thread::sleep(Duration::from_secs(2));

    let mut samples = Vec::with_capacity(opts.requests);
    let mut bytes = 0;
    let mut with_usage = 0;
    for _ in 0..opts.requests {
        let t0 = Instant::now();
        let (status, body) = http("GET", cluster.agent_port, "/monitor/statistics", None)?;
        samples.push(t0.elapsed());
        ensure!(
            status == 200,
            "/monitor/statistics answered {status}: {body}"
        );
        let list: Vec<serde_json::Value> = serde_json::from_str(&body)?;
        ensure!(
            list.len() == opts.containers,
            "{} entries for {} containers",
            list.len(),
            opts.containers
        );
        bytes = body.len();
        with_usage = list
            .iter()
            .filter(|e| e["statistics"]["mem_rss_bytes"].is_u64())
            .count();
        // Spaced like a monitoring agent polling, not back to back.
        std::thread::sleep(Duration::from_millis(100));
    }
    sched.block_on(sched.scheduler().teardown())?;
    // With posix isolation the containers are in no cgroup that the cluster's drop could
    // empty: wait for the agent to kill them, or they outlive the benchmark.
    let drained = meseta_tests::wait_until(Duration::from_secs(180), || {
        meseta_tests::get_json(cluster.agent_port, "/state")["frameworks"]
            .as_array()
            .is_some_and(|fs| {
                fs.iter()
                    .all(|f| f["executors"].as_array().is_none_or(Vec::is_empty))
            })
    });
    ensure!(
        drained,
        "the agent still ran executors 180 s after TEARDOWN"
    );

    let s = summarize(&samples);
    let p99 = p99(&samples);
    let n = opts.containers;
    let mut out = format!(
        "`GET /monitor/statistics` of a release `mesos-agent` (`--isolation={}`) with {n} running \
         `sleep` tasks, each in its own container with its command executor (launched in \
         {launch_secs:.1} s); {} requests 100 ms apart, timed to the last byte on loopback.\n\n\
         | measure | value |\n|---|---|\n\
         | p50 | {} ms |\n| p90 | {} ms |\n| p99 | {} ms |\n| min | {} ms |\n\
         | response | {} KiB, {with_usage} of {n} entries with `mem_rss_bytes` |\n",
        opts.isolation,
        s.n,
        ms(s.p50),
        ms(s.p90),
        ms(p99),
        ms(s.min),
        bytes / 1024,
    );
    out.push_str(&format!(
        "\nRESULT statistics containers={n} p50_ms={:.2} p99_ms={:.2}\n",
        s.p50.as_secs_f64() * 1000.0,
        p99.as_secs_f64() * 1000.0
    ));
    Ok(out)
}

/// The 99th percentile (nearest rank).
fn p99(samples: &[Duration]) -> Duration {
    let mut s = samples.to_vec();
    s.sort();
    match s.len() {
        0 => Duration::ZERO,
        n => s[(99 * n).div_ceil(100).clamp(1, n) - 1],
    }
}
