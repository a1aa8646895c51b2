//! `meseta-bench e2e`: what a scheduler sees of a real single-node cluster (the release
//! `mesos-master` and `mesos-agent` with full isolation): ACCEPT → TASK_RUNNING latency, and
//! the wall time for 1000 `true` tasks to reach TASK_FINISHED on one agent.

use std::collections::HashSet;
use std::time::{Duration, Instant};

use anyhow::{bail, Result};
use meseta_api::{Offer, TaskState};
use meseta_scheduler::{command_task as task, scalar as offered, Event};
use meseta_tests::{Cluster, ClusterOptions};

use crate::report::{ms, summarize};
use crate::sched::subscribe;

/// Options of `meseta-bench e2e`.
#[derive(Debug, Clone)]
pub struct Options {
    /// Tasks launched one at a time to time ACCEPT → TASK_RUNNING.
    pub latency_samples: usize,
    /// Tasks for the throughput run.
    pub tasks: usize,
    /// Log and report each stage of ACCEPT → TASK_RUNNING (debug logs in master and agent).
    pub stages: bool,
    /// Keep the agent's runtime dir in the cluster's temporary directory rather than on the
    /// tmpfs `/dev/shm`.
    pub runtime_on_disk: bool,
}

/// Declared resources: the throughput run keeps many small tasks in flight.
const RESOURCES: &str = "cpus:64;mem:131072;disk:100000;ports:[31000-32000]";

/// Runs the benchmark; returns the table and the RESULT line.
pub fn run(opts: &Options) -> Result<String> {
    if opts.stages {
        // Inherited by the master and the agent started below; nothing else runs yet.
        std::env::set_var("RUST_LOG", crate::stages::RUST_LOG);
    }
    let mut copts = ClusterOptions::new(RESOURCES);
    copts.allocation_interval = "10ms".into();
    // The runtime dir on a tmpfs, as Mesos expects it (see `ClusterOptions`); `--runtime-on-disk` keeps it beside
    // the work dir, on this VM an ext4 without a journal, where creating a file shortly after
    // thousands were deleted costs a scan of the recently deleted inodes.
    copts.runtime_dir_on_tmpfs = !opts.runtime_on_disk;
    let cluster = Cluster::start_with(&copts);
    let mut stages = crate::stages::Stages::default();
    let mut latency_tasks = Vec::new();
    let mut sched = subscribe(cluster.master_port, "meseta-bench-e2e", |_| {})?;

    // 1. Latency, one task at a time. Offers that arrive while waiting are kept for the next
    // task: the master does not re-send an offer that is outstanding.
    let mut latencies = Vec::new();
    let mut offers: std::collections::VecDeque<Offer> = std::collections::VecDeque::new();
    let mut i = 0;
    while latencies.len() < opts.latency_samples {
        let offer = match offers.pop_front() {
            Some(o) => o,
            None => {
                match sched.next_event(Duration::from_secs(10))? {
                    Some((_, Event::Offers(o))) => offers.extend(o),
                    Some(_) => {}
                    None => bail!("no offer within 10s"),
                }
                continue;
            }
        };
        let id = format!("lat-{i}");
        i += 1;
        let t0 = Instant::now();
        let wall0 = std::time::SystemTime::now();
        stages.mark(&id, "sched.accept", wall0);
        latency_tasks.push(id.clone());
        let batch = vec![task(&id, &offer, "sleep 600", 0.01, 16.0)];
        sched.block_on(sched.scheduler().launch(&offer.id, batch))?;
        loop {
            let Some((t, ev)) = sched.next_event(Duration::from_secs(30))? else {
                bail!("{id}: no TASK_RUNNING in 30s")
            };
            match ev {
                Event::Offers(o) => offers.extend(o),
                Event::Update(st) if st.task_id.value == id => match st.state {
                    TaskState::Running => {
                        latencies.push(t.duration_since(t0));
                        stages.mark(&id, "sched.running", wall0 + t.duration_since(t0));
                        break;
                    }
                    TaskState::Starting | TaskState::Staging => {}
                    other => bail!("{id}: {other:?}: {:?}", st.message),
                },
                _ => {}
            }
        }
    }
    sched.block_on(sched.scheduler().teardown())?;
    drop(sched);
    let stage_table = opts.stages.then(|| {
        stages.read_log(&cluster.dir.path().join("master.err"));
        stages.read_log(&cluster.dir.path().join("agent.err"));
        stages.table(&latency_tasks)
    });
    // The stage log lines cost the daemons ~5-10 % of the throughput run: with `--stages` it
    // runs on a new cluster that does not write them.
    // The first cluster's files are removed only after the run: on a filesystem without a
    // journal (ext4 here) every inode created within minutes of a deletion scans past the
    // recently deleted ones, which would charge the harness's cleanup to the tasks.
    let (cluster, _first_dir) = if opts.stages {
        let mut first = cluster;
        let kept = std::mem::replace(&mut first.dir, tempfile::tempdir()?);
        drop(first);
        std::env::remove_var("RUST_LOG");
        (Cluster::start_with(&copts), Some(kept))
    } else {
        (cluster, None)
    };

    // 2. Throughput: as many `true` tasks as the offers allow, until all have finished.
    let mut sched = subscribe(cluster.master_port, "meseta-bench-e2e-throughput", |_| {})?;
    let busy0 = cpu_busy();
    let start = Instant::now();
    let mut launched = 0usize;
    let mut finished = HashSet::new();
    let mut failed = 0usize;
    let mut last = start;
    while finished.len() + failed < opts.tasks {
        if start.elapsed() > Duration::from_secs(300) {
            bail!(
                "only {} of {} tasks finished in 300s",
                finished.len(),
                opts.tasks
            );
        }
        let Some((t, ev)) = sched.next_event(Duration::from_secs(30))? else {
            bail!("no event for 30s")
        };
        match ev {
            Event::Offers(offers) => {
                for offer in offers {
                    let (mut cpus, mut mem) = (offered(&offer, "cpus"), offered(&offer, "mem"));
                    let mut batch = Vec::new();
                    while launched < opts.tasks && cpus >= 0.01 && mem >= 16.0 && batch.len() < 100
                    {
                        batch.push(task(&format!("t-{launched}"), &offer, "true", 0.01, 16.0));
                        launched += 1;
                        cpus -= 0.01;
                        mem -= 16.0;
                    }
                    sched.block_on(sched.scheduler().launch(&offer.id, batch))?;
                }
            }
            Event::Update(st) => match st.state {
                TaskState::Finished => {
                    finished.insert(st.task_id.value);
                    last = t;
                }
                TaskState::Failed | TaskState::Lost | TaskState::Error | TaskState::Killed => {
                    failed += 1;
                    eprintln!("task {} {:?}: {:?}", st.task_id.value, st.state, st.message);
                }
                _ => {}
            },
            _ => {}
        }
    }
    let wall = last.duration_since(start);
    // Every process on the machine (master, agent, supervisors, executors, tasks, this
    // scheduler), until the last TASK_FINISHED arrived here.
    let busy = cpu_busy().zip(busy0).map(|(b1, b0)| b1.saturating_sub(b0));
    sched.block_on(sched.scheduler().teardown())?;
    if failed > 0 {
        bail!("{failed} of {} tasks did not finish", opts.tasks);
    }

    let s = summarize(&latencies);
    let mut out = String::new();
    out.push_str(&format!(
        "Single-node cluster on loopback (release `mesos-master` + `mesos-agent`, isolation cgroups/cpu,mem,pids + namespaces/pid,ipc + filesystem/linux; command executor per task, talking to the agent on its Unix socket (the default; agent flags as shipped); `--runtime_dir` {}), scheduler = the `meseta-scheduler` driver (implicit acknowledgements).\n\n\
         | measure | value |\n|---|---|\n\
         | ACCEPT → TASK_RUNNING p50 ({} tasks, one at a time) | {} ms |\n\
         | ACCEPT → TASK_RUNNING p90 | {} ms |\n\
         | ACCEPT → TASK_RUNNING min | {} ms |\n\
         | {} `true` tasks, first ACCEPT → last TASK_FINISHED | {:.2} s ({:.0} tasks/s) |\n\
         | CPU busy during that run, all processes, per task | {} |\n",
        if opts.runtime_on_disk {
            "in the cluster's temporary directory, on disk"
        } else {
            "on the tmpfs /dev/shm, as Mesos expects it"
        },
        s.n,
        ms(s.p50),
        ms(s.p90),
        ms(s.min),
        opts.tasks,
        wall.as_secs_f64(),
        opts.tasks as f64 / wall.as_secs_f64().max(1e-9),
        busy.map_or("-".to_owned(), |b| format!(
            "{:.2} ms ({:.2} s over {} cores)",
            b.as_secs_f64() * 1000.0 / opts.tasks as f64,
            b.as_secs_f64(),
            std::thread::available_parallelism().map_or(0, |n| n.get())
        ))
    ));
    if let Some(table) = stage_table {
        out.push_str(&format!(
            "\nWhere ACCEPT → TASK_RUNNING goes (`--stages`: debug timestamps of master and agent, median per stage over the {} latency tasks; the 1,000-task run above used a second cluster, without them):\n\n{table}",
            s.n
        ));
    }
    out.push_str(&format!(
        "\nRESULT e2e accept_to_running_p50_ms={:.2} tasks_1000_s={:.2}\n",
        s.p50.as_secs_f64() * 1000.0,
        wall.as_secs_f64() * 1000.0 / opts.tasks as f64
    ));
    Ok(out)
}

/// CPU time spent outside idle and iowait since boot, all CPUs: user + nice + system + irq +
/// softirq of `/proc/stat` (not steal: that is another guest's; guest time is already inside
/// user and nice).
fn cpu_busy() -> Option<Duration> {
    use procfs::CurrentSI;
    let t = procfs::KernelStats::current().ok()?.total;
    let ticks = t.user + t.nice + t.system + t.irq.unwrap_or(0) + t.softirq.unwrap_or(0);
    Some(Duration::from_secs_f64(
        ticks as f64 / procfs::ticks_per_second() as f64,
    ))
}

#[cfg(test)]
mod tests {
    #[test]
    fn busy_time_is_read_and_never_goes_back() {
        let a = super::cpu_busy().expect("/proc/stat");
        let b = super::cpu_busy().expect("/proc/stat");
        assert!(a > std::time::Duration::ZERO && b >= a, "{a:?} then {b:?}");
    }
}
