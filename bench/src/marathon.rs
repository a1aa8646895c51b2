//! `meseta-bench marathon`: the `marathon` binary deploying and scaling a large app on one
//! real agent, next to the raw launch rate of the same agent, and its `/v2/apps` render time
//! with 10,000 tasks in its state.
//!
//! 1. One real single-node cluster (`mesos-master` + `mesos-agent`, the same isolation and
//!    resources as `meseta-bench e2e`) and one real ZooKeeper.
//! 2. Raw rate: a framework on the `meseta-scheduler` driver launches N `sleep` tasks with the
//!    same Mesos-native `COMMAND` health check as the app, as fast as the offers allow; timed
//!    from the first ACCEPT to the last `healthy: true` update. Then it tears down.
//! 3. `marathon` (state in that ZooKeeper) deploys an app of N such instances: timed from the
//!    POST to `tasksHealthy == N` with no deployment left; then scaled to 0 (to no task and no
//!    deployment) and back to N (to all healthy).
//! 4. Marathon alone: a `marathon` with default flags on a fake master ([`FakeMaster`]) that
//!    offers huge resources and reports every launched task `TASK_RUNNING` at once deploys N
//!    instances: its own pace (offer matching, ZooKeeper writes, status updates), which
//!    bounds the deployment of step 3 whatever the agent's rate.
//! 5. 10,000 tasks in state: another `marathon` on a fake master, throttling off. The
//!    marathon side is real (offers matched, instances stored in ZooKeeper, status updates
//!    applied); the Mesos side is simulated. 10 apps × 1,000 instances are deployed, then
//!    `GET /v2/apps?embed=apps.tasks` is timed.

mod real;
mod sim;

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use meseta_tests::{free_port, http, wait_until};
use serde_json::Value;

pub use crate::chronos_fake_master::FakeMaster;

/// Options of `meseta-bench marathon`.
#[derive(Debug, Clone)]
pub struct Options {
    /// Instances of the deployed app (and raw tasks).
    pub instances: usize,
    /// Simulated tasks in state for the `/v2/apps` timing.
    pub sim_tasks: usize,
    /// The `marathon` binary (default: next to this one).
    pub marathon_bin: Option<PathBuf>,
}

/// A `marathon` process (killed on drop).
#[derive(Debug)]
pub struct Marathon {
    child: Child,
    /// Its HTTP port on 127.0.0.1.
    pub port: u16,
    log: PathBuf,
}

impl Marathon {
    /// Starts `bin --master=<master> --zk=<zk> <extra>` with its log in `dir`; waits until it
    /// leads.
    pub fn start(bin: &Path, master: &str, zk: &str, extra: &[&str], dir: &Path) -> Result<Self> {
        let port = free_port();
        // MESETA_BENCH_LOG_DIR keeps the logs (the cluster's directory is removed).
        let dir =
            std::env::var_os("MESETA_BENCH_LOG_DIR").map_or_else(|| dir.to_owned(), PathBuf::from);
        let log = dir.join(format!("marathon-{port}.log"));
        let child = Command::new(bin)
            .arg(format!("--master={master}"))
            .arg(format!("--zk={zk}"))
            .arg(format!("--http_port={port}"))
            .args(["--http_address=127.0.0.1", "--hostname=127.0.0.1"])
            .args(extra)
            .env(
                "RUST_LOG",
                std::env::var("MESETA_BENCH_MARATHON_LOG").unwrap_or_else(|_| "info".into()),
            )
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log)?)
            .spawn()
            .with_context(|| format!("starting {}", bin.display()))?;
        let m = Self { child, port, log };
        if !wait_until(Duration::from_secs(30), || {
            m.get("/v2/info").is_some_and(|i| i["elected"] == true)
        }) {
            bail!("marathon was not elected in 30 s:\n{}", m.logs());
        }
        Ok(m)
    }

    /// `GET` a JSON document (`None` unless 200).
    pub fn get(&self, path: &str) -> Option<Value> {
        let (s, b) = http("GET", self.port, path, None).ok()?;
        (s == 200).then(|| serde_json::from_str(&b).ok()).flatten()
    }

    /// A request that must answer 2xx.
    pub fn send(&self, method: &str, path: &str, body: &Value) -> Result<Value> {
        let (s, b) = http(method, self.port, path, Some(&body.to_string()))?;
        if !(200..300).contains(&s) {
            bail!("{method} {path}: {s} {b}");
        }
        Ok(serde_json::from_str(&b).unwrap_or(Value::Null))
    }

    /// Waits until `cond` holds for the app document `/v2/apps<id>` (its counts and
    /// deployments: polled every 50 ms, the default embed of all its tasks would cost
    /// marathon a render of every task under its state lock each time, which no deployment
    /// does by itself); returns the time taken from `since`.
    pub fn wait_app(
        &self,
        id: &str,
        since: Instant,
        timeout: Duration,
        what: &str,
        cond: impl Fn(&Value) -> bool,
    ) -> Result<Duration> {
        let path = format!("/v2/apps{id}?embed=app.deployments");
        loop {
            if let Some(a) = self.get(&path) {
                if cond(&a["app"]) {
                    return Ok(since.elapsed());
                }
            }
            if since.elapsed() > timeout {
                bail!("{id}: not {what} within {timeout:?}:\n{}", self.logs());
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// The last lines of its log.
    pub fn logs(&self) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().rev().take(40).collect();
        lines.into_iter().rev().collect::<Vec<_>>().join("\n")
    }
}

impl Drop for Marathon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The `marathon` binary to run.
fn marathon_bin(opts: &Options) -> Result<PathBuf> {
    let bin = opts
        .marathon_bin
        .clone()
        .unwrap_or_else(|| meseta_tests::bin_dir().join("marathon"));
    if !bin.exists() {
        bail!(
            "{} is missing: cargo build --release -p meseta-marathon",
            bin.display()
        );
    }
    Ok(bin)
}

/// Runs every part; returns the table and the RESULT line.
pub fn run(opts: &Options) -> Result<String> {
    let bin = marathon_bin(opts)?;
    let real = real::run(&bin, opts.instances)?;
    let sim = sim::run(&bin, opts.instances, opts.sim_tasks)?;
    let n = opts.instances as f64;
    let raw_rate = n / real.raw.as_secs_f64().max(1e-9);
    let rate = n / real.deploy.as_secs_f64().max(1e-9);
    let mut out = String::new();
    writeln!(
        out,
        "One real agent (release `mesos-master` + `mesos-agent`, isolation as in `e2e`), one \
         ZooKeeper, the release `marathon` with default flags (launch tokens 100 per 30 s, \
         returned as tasks start; 5 instances per offer). Tasks: `sleep`, 0.01 cpus, 16 MB, a \
         Mesos-native `COMMAND` health check (`true`, delay 0 s, interval 10 s) run by the \
         command executor; \"healthy\" = the executor's first `healthy: true` update. Before \
         the timed deployment an untimed 20-instance app is deployed and deleted (a warm-up: \
         the ZooKeeper JVM was just started).\n"
    )?;
    writeln!(out, "| measure | value |\n|---|---|")?;
    writeln!(
        out,
        "| raw: {} tasks on the `meseta-scheduler` driver (checkpointing, as marathon), first ACCEPT → all healthy | {:.2} s ({raw_rate:.0} tasks/s) |",
        opts.instances,
        real.raw.as_secs_f64()
    )?;
    writeln!(
        out,
        "| marathon: POST app of {} instances → all healthy, no deployment | {:.2} s ({rate:.0} tasks/s, {:.0} % of raw) |",
        opts.instances,
        real.deploy.as_secs_f64(),
        100.0 * rate / raw_rate.max(1e-9)
    )?;
    writeln!(
        out,
        "| marathon: scale {} → 0, all killed, no deployment | {:.2} s |",
        opts.instances,
        real.scale_down.as_secs_f64()
    )?;
    writeln!(
        out,
        "| marathon: scale 0 → {} → all healthy, no deployment | {:.2} s ({:.0} tasks/s) |",
        opts.instances,
        real.scale_up.as_secs_f64(),
        n / real.scale_up.as_secs_f64().max(1e-9)
    )?;
    writeln!(
        out,
        "| marathon alone (simulated Mesos: every task RUNNING at once), default flags: POST app of {} instances → all running | {:.2} s ({:.0} tasks/s) |",
        opts.instances,
        sim.alone.as_secs_f64(),
        n / sim.alone.as_secs_f64().max(1e-9)
    )?;
    writeln!(
        out,
        "| simulated Mesos: {} tasks RUNNING in state (10 apps), deployed in | {:.2} s ({:.0} tasks/s) |",
        opts.sim_tasks,
        sim.deploy.as_secs_f64(),
        opts.sim_tasks as f64 / sim.deploy.as_secs_f64().max(1e-9)
    )?;
    writeln!(
        out,
        "| `GET /v2/apps?embed=apps.tasks` at {} tasks ({} KB), p50 / p90 / max of {} | {:.1} / {:.1} / {:.1} ms |",
        opts.sim_tasks,
        sim.body_bytes / 1024,
        sim.samples,
        sim.p50_ms,
        sim.p90_ms,
        sim.max_ms
    )?;
    writeln!(
        out,
        "\nTargets: deploy rate within 20 % of the raw rate; `GET /v2/apps?embed=apps.tasks` at \
         10,000 tasks ≤ 100 ms. Anchors: Marathon 0.15 needed 14.2 s for 500 instances \
         (~35 tasks/s); `/v2/apps` took 12 s at 1,000 tasks (marathon#1274).\n"
    )?;
    writeln!(
        out,
        "RESULT marathon deploy_500_s={:.2} tasks_per_s={rate:.1} apps_embed_10k_ms={:.1}",
        real.deploy.as_secs_f64(),
        sim.p50_ms
    )?;
    Ok(out)
}
