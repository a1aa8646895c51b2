//! `meseta-bench failover`: master failover on a real ZooKeeper. Three `mesos-master`s share
//! a private ZooKeeper (`--zk_session_timeout`, 2 s by default), one `mesos-agent` and a
//! framework (meseta-scheduler, checkpointing) find the leader through ZooKeeper, and the
//! framework runs 100 `sleep` tasks. The leader is killed with SIGKILL, and later the next
//! one with SIGTERM; from each signal the bench measures (polling every 5 ms): a new master
//! elected and recovered (its `/state` names itself leader), the agent re-registered with it
//! (active in its `/state`), and the framework re-subscribed (the driver's SUBSCRIBED, stamped
//! on arrival); then counts the tasks the new leader reports RUNNING.
//!
//! With kill -9 the old leader's znode lives until its session expires, so the session
//! timeout bounds the failover; SIGTERM deletes the znode at once.

mod rig;

use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use meseta_api::FrameworkInfo;
use meseta_scheduler::{BlockingScheduler, Config, Event};
use rig::Rig;

use crate::sched::{launch_running, Sleepers};

/// Options of `meseta-bench failover`.
#[derive(Debug, Clone)]
pub struct Options {
    /// Running tasks kept through the failovers.
    pub tasks: usize,
    /// The masters' `--zk_session_timeout` (Mesos syntax).
    pub session_timeout: String,
}

/// One failover's figures, from the signal.
struct Figures {
    how: &'static str,
    elected: Duration,
    agent: Duration,
    framework: Duration,
    kept: usize,
}

/// Runs the benchmark; returns the table and the RESULT line.
pub fn run(opts: &Options) -> Result<String> {
    let mut rig = Rig::start(&opts.session_timeout)?;
    let framework = FrameworkInfo {
        user: "root".into(),
        name: "meseta-bench-failover".into(),
        checkpoint: Some(true),
        failover_timeout: Some(3600.0),
        ..FrameworkInfo::default()
    };
    // `zk://`: the driver follows the leader with meseta-scheduler's ZkDetector.
    let mut config = Config::new(rig.url.clone(), framework);
    // A framework that wants to be back fast retries fast.
    config.backoff_min = Duration::from_millis(50);
    config.backoff_max = Duration::from_secs(1);
    let (mut sched, _) =
        BlockingScheduler::connect(config, Duration::from_secs(30)).context("subscribing")?;
    let sleepers = Sleepers::new(opts.tasks, "f-", "sleep 3600");
    let agent_id = launch_running(&mut sched, &sleepers).with_context(|| rig.logs())?;
    std::thread::sleep(Duration::from_secs(1)); // acknowledgements reach the agent

    let mut figures = Vec::new();
    for (how, signal) in [("kill -9", "KILL"), ("SIGTERM", "TERM")] {
        let leader = rig.leader(None).context("no leader before the failover")?;
        drain(&mut sched)?;
        let t0 = Instant::now();
        rig.signal(leader, signal)?;
        let (new, elected) = rig
            .wait_leader(Some(leader), Duration::from_secs(60))
            .with_context(|| format!("no new leader within 60 s after {how}{}", rig.logs()))?;
        let agent = rig
            .wait_agent(new, &agent_id, Duration::from_secs(60))
            .with_context(|| format!("the agent did not re-register with the new leader (does mesos-agent follow --master=zk://?){}", rig.logs()))?;
        let framework = resubscribed(&mut sched, Duration::from_secs(60))?;
        let mut kept = 0;
        meseta_tests::wait_until(Duration::from_secs(10), || {
            kept = rig.running_tasks(new);
            kept >= opts.tasks
        });
        figures.push(Figures {
            how,
            elected: elected - t0,
            agent: agent - t0,
            framework: framework.saturating_duration_since(t0),
            kept,
        });
    }
    Ok(report(opts, &figures))
}

/// Reads and drops the events already queued.
fn drain(sched: &mut BlockingScheduler) -> Result<()> {
    while sched.next_event(Duration::from_millis(1))?.is_some() {}
    Ok(())
}

/// The arrival instant of the next SUBSCRIBED.
fn resubscribed(sched: &mut BlockingScheduler, timeout: Duration) -> Result<Instant> {
    let deadline = Instant::now() + timeout;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match sched.next_event(left)? {
            Some((at, Event::Subscribed { .. })) => return Ok(at),
            Some(_) => {}
            None => bail!("the framework did not re-subscribe within {timeout:?}"),
        }
    }
}

fn report(opts: &Options, figures: &[Figures]) -> String {
    let secs = |d: Duration| format!("{:.2}", d.as_secs_f64());
    let profile = if cfg!(debug_assertions) {
        "Debug"
    } else {
        "Release"
    };
    let mut out = format!(
        "{profile} binaries on loopback: three `mesos-master`s on one ZooKeeper (`--zk_session_timeout={}`), one `mesos-agent --master=zk://...` (`posix/cpu,posix/mem`), one checkpointing meseta-scheduler framework following the leader through ZooKeeper (retry backoff 50 ms doubling to 1 s) with {} running `sleep` tasks. The leader gets the signal; times are from the signal, polled every 5 ms (the framework's SUBSCRIBED is stamped on arrival). With kill -9 the old leader's znode lives until ZooKeeper expires its session; SIGTERM deletes it at once. The agent re-registers after a random delay in [0, 1 s) as Mesos agents do.\n\n",
        opts.session_timeout, opts.tasks
    );
    out.push_str("| leader stopped by | new leader elected (s) | agent re-registered (s) | framework re-subscribed (s) | tasks still RUNNING |\n");
    out.push_str("|---|---:|---:|---:|---:|\n");
    for f in figures {
        out.push_str(&format!(
            "| {} | {} | {} | {} | {}/{} |\n",
            f.how,
            secs(f.elected),
            secs(f.agent),
            secs(f.framework),
            f.kept,
            opts.tasks
        ));
    }
    let kill9 = figures.first().map_or(Duration::ZERO, |f| f.framework);
    let sigterm = figures.get(1).map_or(Duration::ZERO, |f| f.framework);
    let kept = figures.iter().map(|f| f.kept).min().unwrap_or(0);
    out.push_str(&format!(
        "\nRESULT failover kill9_s={:.2} sigterm_s={:.2} tasks_kept={kept}\n",
        kill9.as_secs_f64(),
        sigterm.as_secs_f64()
    ));
    out
}
