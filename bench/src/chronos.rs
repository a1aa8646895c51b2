//! `meseta-bench chronos`: 10,000 jobs on staggered `PT1M` schedules.
//!
//! 1. In-process, on a simulated clock: the engine's timer heap fires each due job, and the
//!    queued runs are placed on an offer (the `TaskInfo` built) as the framework does. Jitter is
//!    the wall time from the timer's instant (the clock jumps exactly there) to the launch
//!    being built; CPU per run is the process's CPU time over the runs.
//! 2. Through the real API and process: a `chronos` binary (local state dir) on a fake Mesos
//!    master (`chronos_fake_master`) that offers on REVIVE and finishes each task as soon as
//!    it is launched. 10,000 jobs are POSTed, `GET /v1/scheduler/jobs` is timed, and the
//!    jitter is each ACCEPT's arrival minus the run's planned instant (from its task id
//!    `ct:<planned ms>:...`): the scheduler under 166 runs a second.
//! 3. On a real `mesos-master` and `mesos-agent` (`chronos_cluster`): all the jobs defined,
//!    the ones due in the window launched for real. Its LAUNCH jitter and `GET /jobs` time are
//!    the RESULT line's figures.

use std::fmt::Write as _;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use chrono::{DateTime, TimeDelta, Utc};
use meseta_api::{AgentId, Offer, OfferId, Resource};
use meseta_chronos::engine::{Engine, EngineConfig, Outcome};
use meseta_chronos::job::Job;
use meseta_chronos::mesos::{task_info, TaskDefaults};

use crate::chronos_fake_master::FakeMaster;

/// Options.
#[derive(Debug, Clone)]
pub struct Options {
    /// Jobs.
    pub jobs: usize,
    /// Simulated minutes in-process.
    pub sim_minutes: i64,
    /// Real seconds of scheduling measured through the API.
    pub real_secs: u64,
    /// The `chronos` binary (default: next to this one).
    pub chronos_bin: Option<std::path::PathBuf>,
    /// Runs a second due on the real cluster.
    pub cluster_rate: u32,
    /// Seconds of runs due on the real cluster (at most 55).
    pub cluster_secs: u64,
}

fn cpu_time() -> Duration {
    let mut ru = std::mem::MaybeUninit::<libc::rusage>::zeroed();
    // SAFETY: getrusage writes a rusage into the valid pointer we pass.
    let ru = unsafe {
        libc::getrusage(libc::RUSAGE_SELF, ru.as_mut_ptr());
        ru.assume_init()
    };
    let tv = |t: libc::timeval| {
        Duration::from_secs(u64::try_from(t.tv_sec).unwrap_or(0))
            + Duration::from_micros(u64::try_from(t.tv_usec).unwrap_or(0))
    };
    tv(ru.ru_utime) + tv(ru.ru_stime)
}

fn pct(sorted: &[f64], p: usize) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    sorted[(p * sorted.len()).div_ceil(100).clamp(1, sorted.len()) - 1]
}

/// Job `i` of the benchmark, `PT1M` from `start`.
pub(crate) fn job(i: usize, start: DateTime<Utc>) -> Job {
    Job {
        name: format!("job-{i:05}"),
        command: "true".into(),
        owner: "bench@example.com".into(),
        schedule: Some(format!("R/{}/PT1M", meseta_chronos::engine::iso(start))),
        ..Job::default()
    }
}

/// Staggered starts: job `i` at `t0 + i × 60 s / jobs`.
fn start_of(t0: DateTime<Utc>, i: usize, jobs: usize) -> DateTime<Utc> {
    let step = 60_000 / i64::try_from(jobs.max(1)).unwrap_or(1);
    t0 + TimeDelta::milliseconds(i64::try_from(i).unwrap_or(0) * step.max(1))
}

/// In-process: (jitter ms samples, runs, CPU per run).
fn in_process(opts: &Options) -> anyhow::Result<(Vec<f64>, usize, Duration)> {
    let mut e = Engine::new(EngineConfig::default());
    let t0 = DateTime::parse_from_rfc3339("2027-01-01T00:00:00Z")?.with_timezone(&Utc);
    for i in 0..opts.jobs {
        e.put_scheduled(job(i, start_of(t0, i, opts.jobs)), t0)
            .map_err(|err| anyhow::anyhow!("{err}"))?;
    }
    e.take_dirty();
    let offer = Offer {
        id: OfferId::new("o"),
        agent_id: AgentId::new("a"),
        hostname: "h".into(),
        resources: vec![Resource::scalar("cpus", 1e6), Resource::scalar("mem", 1e9)],
        ..Offer::default()
    };
    let defaults = TaskDefaults::default();
    let end = t0 + TimeDelta::minutes(opts.sim_minutes);
    let mut jitter = Vec::new();
    let cpu0 = cpu_time();
    while let Some(now) = e.next_wake() {
        if now > end {
            break;
        }
        let woke = Instant::now();
        e.tick(now);
        let queued: Vec<String> = e.queued().map(|r| r.task_id.clone()).collect();
        for id in &queued {
            let run = e.run(id).cloned().context("run")?;
            let j = e.job(&run.job).context("job")?;
            std::hint::black_box(task_info(j, &run, &offer, &defaults));
            e.mark_launched(id, "a", now);
            jitter.push(woke.elapsed().as_secs_f64() * 1000.0);
        }
        for id in &queued {
            e.on_status(id, Outcome::Finished, now);
        }
        std::hint::black_box(e.take_dirty());
    }
    let runs = jitter.len();
    let per_run = (cpu_time() - cpu0) / u32::try_from(runs.max(1)).unwrap_or(u32::MAX);
    Ok((jitter, runs, per_run))
}

/// Through the API: (jitter ms samples, GET /jobs ms samples, POST ms per job, CPU per run).
fn through_api(opts: &Options) -> anyhow::Result<(Vec<f64>, Vec<f64>, f64, Duration)> {
    // The state on tmpfs when there is one: the figure is the scheduler's, not the disk's
    // (every accepted job and every run is fsync'ed before it counts).
    let shm = std::path::Path::new("/dev/shm");
    let dir = if shm.is_dir() {
        tempfile::tempdir_in(shm)?
    } else {
        tempfile::tempdir()?
    };
    let master = FakeMaster::start()?;
    let port = meseta_tests::free_port();
    let chronos = chronos_bin(opts)?;
    let mut child = std::process::Command::new(chronos)
        .arg(format!("--master=127.0.0.1:{}", master.port))
        .arg(format!(
            "--state_dir={}",
            dir.path().join("state").display()
        ))
        .arg(format!("--http_port={port}"))
        .arg("--http_address=127.0.0.1")
        .arg("--hostname=127.0.0.1")
        .env("CHRONOS_LOG", "info")
        .stderr(std::fs::File::create(dir.path().join("chronos.log"))?)
        .spawn()?;
    let result = (|| -> anyhow::Result<_> {
        if !meseta_tests::wait_until(Duration::from_secs(20), || {
            meseta_tests::http("GET", port, "/ping", None).is_ok_and(|(s, _)| s == 200)
        }) {
            bail!("chronos did not start");
        }
        // Start the staggered minute after every job is in (POSTs take well under 2 ms each).
        let lead_ms = 5_000 + 2 * i64::try_from(opts.jobs).unwrap_or(0);
        let t0 = Utc::now() + TimeDelta::milliseconds(lead_ms);
        let posted = Instant::now();
        for i in 0..opts.jobs {
            let body = serde_json::to_string(&job(i, start_of(t0, i, opts.jobs)))?;
            let (s, text) = meseta_tests::http("POST", port, "/v1/scheduler/iso8601", Some(&body))?;
            if s != 204 {
                bail!("POST job {i}: {s} {text}");
            }
        }
        let post_ms = posted.elapsed().as_secs_f64() * 1000.0 / opts.jobs.max(1) as f64;
        if let Ok(wait) = (t0 - Utc::now()).to_std() {
            std::thread::sleep(wait);
        }
        let cpu0 = crate::chronos_fake_master::process_cpu(child.id())?;
        master.reset();
        std::thread::sleep(Duration::from_secs(opts.real_secs));
        let jitter = master.jitter_ms();
        if jitter.is_empty() {
            let log = std::fs::read_to_string(dir.path().join("chronos.log")).unwrap_or_default();
            bail!(
                "no run reached the fake master in {} s; chronos log:\n{log}",
                opts.real_secs
            );
        }
        let cpu = crate::chronos_fake_master::process_cpu(child.id())? - cpu0;
        let mut get = Vec::new();
        for _ in 0..20 {
            let t = Instant::now();
            let (s, body) = meseta_tests::http("GET", port, "/v1/scheduler/jobs", None)?;
            if s != 200 || body.len() < opts.jobs {
                bail!("GET /jobs: {s}");
            }
            get.push(t.elapsed().as_secs_f64() * 1000.0);
        }
        let per_run = cpu / u32::try_from(jitter.len().max(1)).unwrap_or(u32::MAX);
        Ok((jitter, get, post_ms, per_run))
    })();
    let _ = child.kill();
    let _ = child.wait();
    result
}

/// The `chronos` binary to measure.
fn chronos_bin(opts: &Options) -> anyhow::Result<std::path::PathBuf> {
    let chronos = opts
        .chronos_bin
        .clone()
        .unwrap_or_else(|| meseta_tests::bin_dir().join("chronos"));
    if !chronos.exists() {
        bail!(
            "{} is missing: cargo build --release -p meseta-chronos",
            chronos.display()
        );
    }
    Ok(chronos)
}

/// Runs the three parts; returns the table and the RESULT line.
pub fn run(opts: &Options) -> anyhow::Result<String> {
    let (mut sim, runs, sim_cpu) = in_process(opts)?;
    sim.sort_by(f64::total_cmp);
    let (mut real, mut fake_get, post_ms, real_cpu) = through_api(opts)?;
    real.sort_by(f64::total_cmp);
    fake_get.sort_by(f64::total_cmp);
    let mut c = crate::chronos_cluster::run(
        &chronos_bin(opts)?,
        opts.jobs,
        opts.cluster_rate,
        opts.cluster_secs,
    )?;
    for v in [&mut c.launch_ms, &mut c.running_ms, &mut c.get_ms] {
        v.sort_by(f64::total_cmp);
    }
    let mut out = String::new();
    writeln!(out, "{} jobs on staggered `PT1M` schedules.\n", opts.jobs)?;
    writeln!(out, "| measure | p50 | p99 | max | runs | CPU per run |")?;
    writeln!(out, "|---|---|---|---|---|---|")?;
    writeln!(
        out,
        "| in-process jitter, simulated clock ({} min) | {:.3} ms | {:.3} ms | {:.3} ms | {runs} | {:.1} µs |",
        opts.sim_minutes,
        pct(&sim, 50),
        pct(&sim, 99),
        sim.last().copied().unwrap_or(0.0),
        sim_cpu.as_secs_f64() * 1e6
    )?;
    writeln!(
        out,
        "| `chronos` process on a fake master (166 runs/s), planned → ACCEPT at the master ({} s) | {:.1} ms | {:.1} ms | {:.1} ms | {} | {:.1} µs |",
        opts.real_secs,
        pct(&real, 50),
        pct(&real, 99),
        real.last().copied().unwrap_or(0.0),
        real.len(),
        real_cpu.as_secs_f64() * 1e6
    )?;
    for (what, v) in [
        ("planned → LAUNCH sent to the master", &c.launch_ms),
        ("planned → `TASK_RUNNING` on the agent", &c.running_ms),
    ] {
        writeln!(
            out,
            "| `chronos` on a real master + agent ({}/s due, {} due), {what} | {:.1} ms | {:.1} ms | {:.1} ms | {} | |",
            opts.cluster_rate,
            c.due,
            pct(v, 50),
            pct(v, 99),
            v.last().copied().unwrap_or(0.0),
            v.len(),
        )?;
    }
    for (what, get) in [("fake master", &fake_get), ("real cluster", &c.get_ms)] {
        writeln!(
            out,
            "| `GET /v1/scheduler/jobs` ({} jobs, 20 requests, {what}) | {:.1} ms | {:.1} ms | {:.1} ms | | |",
            opts.jobs,
            pct(get, 50),
            pct(get, 99),
            get.last().copied().unwrap_or(0.0)
        )?;
    }
    writeln!(
        out,
        "\n`POST /v1/scheduler/iso8601`: {post_ms:.2} ms per job (stored before the 204)."
    )?;
    writeln!(
        out,
        "\nTargets: p99 jitter ≤ 50 ms, `GET /jobs` at 10,000 jobs ≤ 100 ms. Chronos degraded \
         beyond ~1,000 jobs (mesos/chronos#803) and reloads every job each loop.\n"
    )?;
    writeln!(
        out,
        "RESULT chronos jitter_p99_ms={:.1} jobs={} get_jobs_ms={:.1}",
        pct(&c.launch_ms, 99),
        opts.jobs,
        pct(&c.get_ms, 99)
    )?;
    Ok(out)
}
